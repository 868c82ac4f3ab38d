"""Hotspots (热点) and 每月一题 topics: the hotspot page with its heat table, trend chart,
rising list, recurring places and repeat reporters; the topics list with the month's
proposals; a topic's page with its plan, progress and cases; and every table as a ledger."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from minsheng.cases.errors import ActionNotAllowed, InvalidInput
from minsheng.desk.views.common import client_ip

from .. import hotspots_ledgers as ledgers
from .. import services
from ..hotspots_forms import (
    HotspotFilterForm,
    TopicAdoptForm,
    TopicEditForm,
    TopicFilterForm,
    TopicLinkForm,
    TopicNoteForm,
    TopicStatusForm,
)
from ..models import TOPIC_TRANSITIONS, Topic, TopicStatus
from ..selectors import hotspots as hs
from ..selectors import topics as topic_selectors

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TREND_SERIES = 6
PAGE_SIZE = 50


def _xlsx(content: bytes, name: str, title: str) -> HttpResponse:
    filename = f"{title}-{timezone.localdate():%Y%m%d}.xlsx"
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename=\"{name}.xlsx\"; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store"
    return response


def _forbidden(request, message: str):
    return render(request, "desk/forbidden.html", {"message": message}, status=403)


# ---------------------------------------------------------------- hotspots


def _hotspot_data(user, values: dict, *, need: str | None = None) -> dict:
    """The page's tables for the filters (`need`: only the one being exported)."""
    start, end, category, street = values["start"], values["end"], values["category"], values["street"]
    place = "community" if street else "street"
    by = "subcategory" if category is not None else "category"  # a chosen category is split into its subcategories
    out: dict = {}
    if need in (None, "heat", "weekly"):
        out["counts"] = hs.weekly_counts(user=user, start=start, end=end, by=by, place=place, category=category, street=street)
    if need == "weekly":
        out["detail"] = hs.weekly_counts(user=user, start=start, end=end, by="subcategory", place="community", category=category, street=street)
    if need in (None, "rising"):
        out["rising"] = hs.rising_places(user=user, week=end, category=category, street=street)
    if need in (None, "recurring"):
        out["recurring"] = hs.recurring_places(user=user, end=end, category=category, street=street)
    if need in (None, "reporters"):
        out["reporters"] = hs.repeat_reporters(user=user, start=start, end=end, category=category, street=street)
    return out


def _trend_chart(counts: hs.WeeklyCounts) -> dict:
    """Weekly appeals of the largest categories (the rest summed as 其他), for ECharts."""
    by_cat: dict = {}
    totals: dict = {}
    for row in counts.rows:
        series = by_cat.setdefault(row.category, {})
        for week, n in row.weeks.items():
            series[week] = series.get(week, 0) + n
        totals[row.category] = totals.get(row.category, 0) + row.total
    top = sorted(totals, key=lambda c: -totals[c])[:TREND_SERIES]
    series = [{"name": name, "data": [by_cat[name].get(w, 0) for w in counts.weeks]} for name in top]
    rest = [c for c in by_cat if c not in top]
    if rest:
        series.append({"name": _("其他"), "data": [sum(by_cat[c].get(w, 0) for c in rest) for w in counts.weeks]})
    return {"weeks": [f"{w:%m-%d}" for w in counts.weeks], "series": series, "title": _("每周诉求量")}


@login_required
@require_GET
def hotspots(request):
    form = HotspotFilterForm(request.GET or None)
    values = form.values()
    data = _hotspot_data(request.user, values)
    counts = data["counts"]
    return render(request, "analytics/hotspots.html", {
        "form": form,
        "filters": values,
        "counts": counts,
        "heat": hs.heat_table(counts),
        "chart": _trend_chart(counts),
        "place_label": _("社区") if values["street"] else _("街道"),
        "by_label": _("小类") if values["category"] else _("大类"),
        "rising": data["rising"],
        "rising_week": hs.week_start(values["end"]),
        "recurring": data["recurring"],
        "recurring_weeks": hs.RECURRING_WEEKS,
        "recurring_min_weeks": hs.RECURRING_MIN_WEEKS,
        "may_see_reporters": hs.may_see_repeat_reporters(request.user),
        "reporters": data["reporters"],
        "repeat_min": hs.REPEAT_MIN_CASES,
        "active_tool": "hotspots",
    })


HOTSPOT_TABLES = ("heat", "weekly", "rising", "recurring", "reporters")


@login_required
@require_GET
def hotspots_export(request, table: str):
    if table not in HOTSPOT_TABLES:
        raise Http404("unknown table")
    if table == "reporters" and not hs.may_see_repeat_reporters(request.user):
        return _forbidden(request, _("您的角色无需查看群众个人信息。"))
    form = HotspotFilterForm(request.GET or None)
    values = form.values()
    data = _hotspot_data(request.user, values, need=table)
    sheet = {
        "heat": lambda: ledgers.heat_table(hs.heat_table(data["counts"], max_categories=100)),
        "weekly": lambda: ledgers.weekly_table(data["detail"]),
        "rising": lambda: ledgers.rising_table(data["rising"]),
        "recurring": lambda: ledgers.recurring_table(data["recurring"]),
        "reporters": lambda: ledgers.reporters_table(data["reporters"]),
    }[table]()
    content, rows = ledgers.workbook(sheet)
    services.ledger_export_record(acting_user=request.user, target=f"analytics.hotspots:{table}", filters=values, rows=rows,
                                  ip=client_ip(request))
    return _xlsx(content, f"hotspots-{table}", sheet.title)


@login_required
@require_GET
def reporter_cases(request, token: str):
    if not hs.may_see_repeat_reporters(request.user):
        return _forbidden(request, _("您的角色无需查看群众个人信息。"))
    rows = hs.reporter_cases(user=request.user, token=token)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    first = page.object_list[0] if page.object_list else None
    return render(request, "analytics/hotspots_reporter.html", {
        "page": page, "token": token, "phone_masked": first.phone_masked if first else "", "active_tool": "hotspots",
    })


@login_required
@require_GET
def reporter_cases_export(request, token: str):
    if not hs.may_see_repeat_reporters(request.user):
        return _forbidden(request, _("您的角色无需查看群众个人信息。"))
    rows = hs.reporter_cases(user=request.user, token=token).select_related("category__parent")
    content, count = ledgers.workbook(ledgers.cases_table(rows.iterator(chunk_size=1000), title=_("重复来电")))
    services.ledger_export_record(acting_user=request.user, target="analytics.hotspots:reporter_cases", filters={}, rows=count,
                                  ip=client_ip(request))
    return _xlsx(content, "repeat-reporter-cases", _("重复来电"))


# ---------------------------------------------------------------- topics


@login_required
@require_GET
def topics(request):
    form = TopicFilterForm(request.GET or None)
    values = form.values()
    month = values["month"] or hs.month_start(timezone.localdate())
    rows = topic_selectors.topics_for(request.user, month=values["month"], status=values["status"])
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "analytics/topics.html", {
        "form": form,
        "page": page,
        "proposal_month": month,
        "proposals": topic_selectors.proposals(user=request.user, month=month),
        "may_adopt": services.may_manage_topics(request.user),
        "active_tool": "topics",
    })


@login_required
@require_GET
def topics_export(request):
    form = TopicFilterForm(request.GET or None)
    values = form.values()
    rows = topic_selectors.topics_for(request.user, month=values["month"], status=values["status"])
    content, count = ledgers.workbook(ledgers.topics_table(rows.iterator(chunk_size=500)))
    services.ledger_export_record(acting_user=request.user, target="analytics.topics", filters=values, rows=count, ip=client_ip(request))
    return _xlsx(content, "topics", _("每月一题"))


@login_required
@require_GET
def proposals_export(request):
    form = TopicFilterForm(request.GET or None)
    month = form.values()["month"] or hs.month_start(timezone.localdate())
    table = ledgers.proposals_table(topic_selectors.proposals(user=request.user, month=month), month=month)
    content, count = ledgers.workbook(table)
    services.ledger_export_record(acting_user=request.user, target="analytics.topic_proposals", filters={"month": month}, rows=count,
                                  ip=client_ip(request))
    return _xlsx(content, "topic-proposals", table.title)


def _adopt_initial(request) -> dict:
    """The proposal's filter from the link on the proposals list; the owner suggested from
    the category's routing: the street office for territorial matters, else the department."""
    initial = {key: request.GET.get(key) for key in ("month", "category", "street", "community") if request.GET.get(key)}
    form = TopicAdoptForm(initial=initial)
    category = form.fields["category"].queryset.filter(pk=initial.get("category")).first() if initial.get("category", "").isdigit() else None
    street = form.fields["street"].queryset.filter(pk=initial.get("street")).first() if initial.get("street", "").isdigit() else None
    community = form.fields["community"].queryset.filter(pk=initial.get("community")).first() if initial.get("community", "").isdigit() else None
    if category is not None:
        if category.routing == "department" and category.department_id:
            initial["owner_unit"] = category.department_id
        elif street is not None:
            initial["owner_unit"] = street.pk
        place = community.name if community else (street.name if street else "")
        initial.setdefault("title", f"{place}{category.name}问题"[:120])
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def topic_adopt(request):
    if not services.may_manage_topics(request.user):
        return _forbidden(request, _("只有领导或系统管理员可以采纳每月一题。"))
    if request.method == "GET":
        form = TopicAdoptForm(initial=_adopt_initial(request))
        return render(request, "analytics/topic_adopt.html", {"form": form, "active_tool": "topics"})
    form = TopicAdoptForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            topic = services.topic_adopt(
                acting_user=request.user, month=data["month"], category=data["category"], street=data["street"],
                community=data["community"], owner_unit=data["owner_unit"], title=data["title"], plan=data["plan"], ip=client_ip(request),
            )
        except ActionNotAllowed as exc:
            return _forbidden(request, exc.message)
        except InvalidInput as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已采纳为每月一题，关联案件 %(n)d 件。") % {"n": topic.proposed_count})
            return redirect("analytics:topic", pk=topic.pk)
    return render(request, "analytics/topic_adopt.html", {"form": form, "active_tool": "topics"}, status=400)


def _visible_topic(request, pk: int) -> Topic:
    return get_object_or_404(Topic.objects.visible_to(request.user).select_related(
        "category", "category__parent", "street", "community", "place", "owner_unit", "adopted_by"), pk=pk)


def _topic_page(request, topic: Topic, *, status: int = 200, **forms):
    status_counts = topic_selectors.topic_cases(topic, user=request.user)
    page = Paginator(status_counts.visible.select_related("category__parent"), PAGE_SIZE).get_page(request.GET.get("page"))
    manage = services.may_manage_topic(request.user, topic)
    now = timezone.now()
    return render(request, "analytics/topic_detail.html", {
        "topic": topic,
        "status": status_counts,
        "page": page,
        "overdue_ids": {c.pk for c in page.object_list if topic_selectors.is_overdue(c, now)},
        "notes": topic.notes.select_related("author", "author_unit"),
        "may_manage": manage,
        "may_note": services.may_add_note(request.user, topic),
        "next_statuses": [(s, TopicStatus(s).label) for s in TOPIC_TRANSITIONS[TopicStatus(topic.status)]],
        "edit_form": forms.get("edit_form") or TopicEditForm(initial={"title": topic.title, "plan": topic.plan, "owner_unit": topic.owner_unit_id}),
        "status_form": forms.get("status_form") or TopicStatusForm(),
        "note_form": forms.get("note_form") or TopicNoteForm(),
        "link_form": forms.get("link_form") or TopicLinkForm(),
        "active_tool": "topics",
    }, status=status)


@login_required
@require_GET
def topic_detail(request, pk: int):
    return _topic_page(request, _visible_topic(request, pk))


def _act(request, pk: int, form_class, form_key: str, action, *, allowed=services.may_manage_topic):
    """Run one service on a topic from a posted form: not allowed → 403 (before the input is
    looked at); success → back to the topic; bad input → the page again with the input kept
    and the reason (400)."""
    topic = _visible_topic(request, pk)
    if not allowed(request.user, topic):
        return _forbidden(request, _("只有领导或系统管理员可以修改每月一题。") if allowed is services.may_manage_topic
                          else _("只有责任单位或领导可以填写进展。"))
    form = form_class(request.POST)
    if form.is_valid():
        try:
            message = action(topic, form.cleaned_data)
        except ActionNotAllowed as exc:
            return _forbidden(request, exc.message)
        except InvalidInput as exc:
            form.add_error(None, exc.message)
        else:
            if message:
                messages.success(request, message)
            return redirect("analytics:topic", pk=topic.pk)
    topic.refresh_from_db()
    return _topic_page(request, topic, status=400, **{form_key: form})


@login_required
@require_POST
def topic_edit(request, pk: int):
    def action(topic, data):
        services.topic_update(acting_user=request.user, topic=topic, title=data["title"], plan=data["plan"],
                              owner_unit=data["owner_unit"], ip=client_ip(request))
        return _("已保存。")
    return _act(request, pk, TopicEditForm, "edit_form", action)


@login_required
@require_POST
def topic_status(request, pk: int):
    def action(topic, data):
        topic = services.topic_set_status(acting_user=request.user, topic=topic, status=data["status"], note=data["note"], ip=client_ip(request))
        return _("状态已改为“%(s)s”。") % {"s": topic.get_status_display()}
    return _act(request, pk, TopicStatusForm, "status_form", action)


@login_required
@require_POST
def topic_note(request, pk: int):
    def action(topic, data):
        services.topic_add_note(acting_user=request.user, topic=topic, text=data["text"])
        return _("进展已记录。")
    return _act(request, pk, TopicNoteForm, "note_form", action, allowed=services.may_add_note)


@login_required
@require_POST
def topic_link(request, pk: int):
    def action(topic, data):
        case = services.topic_link_case(acting_user=request.user, topic=topic, tracking_code=data["tracking_code"])
        return _("已关联案件 %(code)s。") % {"code": case.tracking_code}
    return _act(request, pk, TopicLinkForm, "link_form", action)


@login_required
@require_POST
def topic_unlink(request, pk: int, case_id: int):
    topic = _visible_topic(request, pk)
    if not services.may_manage_topic(request.user, topic):
        return _forbidden(request, _("只有领导或系统管理员可以修改每月一题。"))
    try:
        services.topic_unlink_case(acting_user=request.user, topic=topic, case_id=case_id)
    except ActionNotAllowed as exc:
        return _forbidden(request, exc.message)
    except InvalidInput as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已取消关联。"))
    return redirect("analytics:topic", pk=topic.pk)


@login_required
@require_POST
def topic_refresh(request, pk: int):
    topic = _visible_topic(request, pk)
    if not services.may_manage_topic(request.user, topic):
        return _forbidden(request, _("只有领导或系统管理员可以修改每月一题。"))
    try:
        added = services.topic_refresh_links(acting_user=request.user, topic=topic)
    except ActionNotAllowed as exc:
        return _forbidden(request, exc.message)
    messages.success(request, _("新关联案件 %(n)d 件。") % {"n": added})
    return redirect("analytics:topic", pk=topic.pk)


@login_required
@require_GET
def topic_cases_export(request, pk: int):
    topic = _visible_topic(request, pk)
    rows = topic_selectors.topic_cases(topic, user=request.user).visible.select_related("category__parent")
    title = f"{topic.month:%Y-%m} {topic.title}"
    content, count = ledgers.workbook(ledgers.cases_table(rows.iterator(chunk_size=1000), title=title))
    services.ledger_export_record(acting_user=request.user, target=f"analytics.topic:{topic.pk}", filters={}, rows=count, ip=client_ip(request))
    return _xlsx(content, f"topic-{topic.pk}-cases", title)
