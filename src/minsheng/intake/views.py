"""The residents' pages (H5): raise an appeal, track it, rate the answer.

No accounts: a resident proves an appeal is theirs by submitting it from this browser or by
its tracking code plus the last four phone digits (see access.py). GETs only read.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from minsheng.cases.errors import ActionNotAllowed, InvalidInput, StaleCase
from minsheng.cases.selectors import case_by_tracking, proves_reporter
from minsheng.cases.services import case_record_feedback
from minsheng.cases.workflow import RESIDENT
from minsheng.data import GAZETTEER_PATH
from minsheng.dispatch.engine.gazetteer import Gazetteer

from .access import appeal_is_remembered, appeal_may_rate, appeal_remember
from .forms import AppealForm, FeedbackForm, JoinForm, SimilarForm, TrackForm, submission_token_new
from .selectors import appeal_for_resident, appeal_progress
from .services import appeal_join, appeal_submit_online
from .throttle import rate_limited

PLACE_SUGGESTIONS = 8


@require_GET
def home(request):
    return render(request, "intake/home.html")


@require_http_methods(["GET", "POST"])
@rate_limited("intake.submit")
def submit(request):
    if request.method == "POST":
        form = AppealForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                case = appeal_submit_online(
                    text=form.cleaned_data["text"],
                    address=form.cleaned_data["address"],
                    category=form.cleaned_data["category"],
                    reporter_name=form.cleaned_data["reporter_name"],
                    reporter_phone=form.cleaned_data["reporter_phone"],
                    is_anonymous=form.cleaned_data["is_anonymous"],
                    photos=form.cleaned_data["photos"],
                    idempotency_key=form.idempotency_key,
                )
            except InvalidInput as exc:
                form.add_error(None, exc.message)
            else:
                appeal_remember(request, case.tracking_code)
                return redirect("intake:submitted", tracking_code=case.tracking_code)
    else:
        form = AppealForm(initial={"token": submission_token_new()})
    return render(request, "intake/submit.html", {"form": form, "photos_lost": _photos_lost(request, form)})


def _photos_lost(request, form) -> bool:
    """Browsers cannot refill a file input: tell the resident to pick the photos again."""
    return form.is_bound and bool(request.FILES.getlist("photos")) and bool(form.errors)


@require_GET
def submitted(request, tracking_code: str):
    if not appeal_is_remembered(request, tracking_code):
        return _to_track(tracking_code)
    return render(request, "intake/submitted.html", {"case": _remembered_appeal(tracking_code)})


@require_http_methods(["GET", "POST"])
@rate_limited("intake.track")
def track(request):
    if request.method == "POST":
        form = TrackForm(request.POST)
        if form.is_valid():
            case = case_by_tracking(tracking_code=form.cleaned_data["tracking_code"], phone_last4=form.cleaned_data["phone_last4"])
            if case is not None:
                digits = form.cleaned_data["phone_last4"]
                appeal_remember(request, case.tracking_code, as_reporter=proves_reporter(case=case, phone_last4=digits))
                return redirect("intake:case", tracking_code=case.tracking_code)
            # One message for an unknown code and a wrong phone: never say which part was wrong.
            form.add_error(None, _("没有找到对应的诉求。请核对查询码和手机号后四位后重试。"))
    else:
        form = TrackForm(initial={"tracking_code": request.GET.get("code", "")[:20]})
    return render(request, "intake/track.html", {"form": form})


@require_GET
def case(request, tracking_code: str):
    if not appeal_is_remembered(request, tracking_code):
        return _to_track(tracking_code)
    appeal = _remembered_appeal(tracking_code)
    return _render_case(request, appeal, FeedbackForm(initial={"version": appeal.version}))


@require_POST
@rate_limited("intake.rate")
def rate(request, tracking_code: str):
    if not appeal_is_remembered(request, tracking_code):
        return _to_track(tracking_code)
    appeal = _remembered_appeal(tracking_code)
    if not appeal_may_rate(request, tracking_code):
        messages.error(request, _("评价须由反映人本人作出：请用提交诉求时留的手机号后四位查询后再评价。"))
        return redirect("intake:case", tracking_code=tracking_code)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        return _render_case(request, appeal, form, status=400)
    try:
        case_record_feedback(
            case=appeal,
            rating=form.cleaned_data["rating"],
            resolved=form.cleaned_data["resolved"],
            comment=form.cleaned_data["comment"],
            acting_user=RESIDENT,
            expected_version=form.cleaned_data["version"],
        )
    except StaleCase:
        messages.error(request, _("这件诉求刚刚有了新的进展，请查看最新情况后再评价。"))
    except ActionNotAllowed:
        messages.error(request, _("这件诉求现在不能评价：只有答复之后、办结之前才可以评价。"))
    except InvalidInput as exc:
        form.add_error(None, exc.message)
        return _render_case(request, appeal, form, status=400)
    else:
        messages.success(request, _("感谢您的评价！"))
    return redirect("intake:case", tracking_code=tracking_code)


@require_POST
@rate_limited("intake.places")
def similar(request):
    """Open cases that look like the problem being typed ("others already reported this"),
    as a fragment for the appeal form. Reads only; nothing is stored."""
    from minsheng.dispatch.services import similar_open_cases

    form = SimilarForm(request.POST)
    rows = []
    if form.is_valid() and len(form.cleaned_data["text"].strip()) >= 8:
        try:
            rows = similar_open_cases(text=form.cleaned_data["text"], address=form.cleaned_data["address"])
        except Exception:  # a suggestion box must never break the form
            rows = []
    return render(request, "intake/_similar.html", {"similar": rows})


@require_POST
@rate_limited("intake.submit")
def join(request):
    form = JoinForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("加入失败：页面已失效，请重新提交。"))
        return redirect("intake:submit")
    joined = request.session.setdefault("joined_tokens", [])
    code = form.cleaned_data["tracking_code"].strip().upper()
    if form.cleaned_data["token"] not in joined:
        case = appeal_join(
            tracking_code=code,
            reporter_name=form.cleaned_data["reporter_name"],
            reporter_phone=form.cleaned_data["reporter_phone"],
            text=form.cleaned_data["text"],
        )
        if case is None:
            messages.error(request, _("该诉求已办结或不存在，请直接提交您的诉求。"))
            return redirect("intake:submit")
        request.session["joined_tokens"] = [*joined[-20:], form.cleaned_data["token"]]
    appeal_remember(request, code, as_reporter=False)
    messages.success(request, _("您已加入该诉求，办理进展会同步告知。以后可凭查询码和您的手机号后四位查询。"))
    return redirect("intake:case", tracking_code=code)


@require_GET
@rate_limited("intake.places", method="GET")
@cache_control(max_age=300)
def places(request):
    """Address suggestions from the gazetteer, as JSON, for the appeal form's place box."""
    query = request.GET.get("q", "").strip()[:40]
    suggestions = gazetteer().suggest(query, PLACE_SUGGESTIONS) if query else []
    results = [
        {"label": s["label"], "street": s["street_name"], "community": s["community_name"]}
        for s in suggestions
    ]
    return JsonResponse({"results": results}, json_dumps_params={"ensure_ascii": False})


@cache
def gazetteer() -> Gazetteer:
    """The district's gazetteer, loaded once per process (the file ships with the release)."""
    return Gazetteer.from_yaml(GAZETTEER_PATH)


def _remembered_appeal(tracking_code: str):
    appeal = appeal_for_resident(tracking_code=tracking_code)
    if appeal is None:
        raise Http404
    return appeal


def _render_case(request, appeal, feedback_form, status: int = 200):
    context = {"progress": appeal_progress(case=appeal), "feedback_form": feedback_form,
               "may_rate": appeal_may_rate(request, appeal.tracking_code)}
    return render(request, "intake/case.html", context, status=status)


def _to_track(tracking_code: str):
    """Not proven in this session: ask for the code and phone digits, saying nothing more."""
    return redirect(f"{reverse('intake:track')}?{urlencode({'code': tracking_code})}")
