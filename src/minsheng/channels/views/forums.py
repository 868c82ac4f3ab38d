"""Staff pages of forums (座谈会): record a meeting and its issues, follow their appeals, print
the meeting ledger."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import rules, selectors, services
from ..exports import forum_ledger_workbook
from ..forms import ForumForm, IssueFormSet, PhotosField, issues_from
from ..services.forums import MAX_PHOTOS
from .common import channels_staff, forbidden, object_or_404, run, xlsx_response


@channels_staff
@require_GET
def forum_list(request):
    forums = selectors.forums_visible_to(request.user).order_by("-held_on", "-id")
    kind = request.GET.get("kind", "")
    if kind in ("community", "enterprise"):
        forums = forums.filter(kind=kind)
    page = Paginator(forums, 30).get_page(request.GET.get("page"))
    return render(request, "channels/forum_list.html", {
        "page": page, "kind": kind, "can_record": rules.can_record_forums(request.user), "active_tool": "forums",
    })


def _record_kwargs(form: ForumForm) -> dict:
    c = form.cleaned_data
    return {k: c[k] for k in ("kind", "title", "held_on", "start_time", "place", "host_unit", "minutes", "attendees")}


@channels_staff
@require_http_methods(["GET", "POST"])
def forum_create(request):
    if not rules.can_record_forums(request.user):
        return forbidden(request, _("您的角色不能登记座谈会。"))
    form = ForumForm(request.POST or None, request.FILES or None, user=request.user, initial={"kind": request.GET.get("kind", "community")})
    formset = IssueFormSet(request.POST or None, prefix="issues")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        forum = run(request, lambda: services.forum_record(acting_user=request.user, issues=issues_from(formset),
                                                           photos=form.cleaned_data["photos"], **_record_kwargs(form)))
        if forum:
            messages.success(request, _("座谈会已登记，%(n)d 个问题已转为诉求。") % {"n": forum.issues.count()})
            return redirect("channels:forum", pk=forum.pk)
    return render(request, "channels/forum_form.html", {"form": form, "formset": formset, "active_tool": "forums"})


def _forum(request, pk: int):
    return object_or_404(selectors.forums_visible_to(request.user), pk=pk)


@channels_staff
@require_http_methods(["GET", "POST"])
def forum_edit(request, pk: int):
    forum = _forum(request, pk)
    if not rules.can_manage(request.user, forum.host_unit):
        return forbidden(request, _("您无权修改该座谈会。"))
    initial = {"kind": forum.kind, "title": forum.title, "held_on": forum.held_on, "start_time": forum.start_time, "place": forum.place,
               "host_unit": forum.host_unit_id, "minutes": forum.minutes, "attendees": ForumForm.attendees_text(forum)}
    form = ForumForm(request.POST or None, user=request.user, initial=initial)
    form.fields.pop("photos")
    if request.method == "POST" and form.is_valid():
        if run(request, lambda: services.forum_update(forum=forum, acting_user=request.user, **_record_kwargs(form)), _("会议记录已保存。")):
            return redirect("channels:forum", pk=forum.pk)
    return render(request, "channels/forum_form.html", {"form": form, "forum": forum, "active_tool": "forums"})


def _forum_context(request, forum) -> dict:
    issues = selectors.forum_issues(forum)
    return {"forum": forum, "issues": issues, "summary": selectors.forum_status_summary(issues), "now": timezone.now()}


@channels_staff
@require_GET
def forum_detail(request, pk: int):
    forum = _forum(request, pk)
    context = _forum_context(request, forum)
    can_manage = rules.can_manage(request.user, forum.host_unit)
    context.update({
        "attendees": forum.attendees.all(), "photos": forum.photos.order_by("created_at"), "can_manage": can_manage,
        "formset": IssueFormSet(prefix="issues") if can_manage else None, "photo_field": PhotosField(max_files=MAX_PHOTOS),
        "active_tool": "forums",
    })
    return render(request, "channels/forum_detail.html", context)


@channels_staff
@require_GET
def forum_status(request, pk: int):
    """The live status of the issues raised (polled by the meeting page)."""
    forum = _forum(request, pk)
    return render(request, "channels/_forum_issues.html", _forum_context(request, forum))


@channels_staff
@require_POST
def forum_issues_add(request, pk: int):
    forum = _forum(request, pk)
    if not rules.can_manage(request.user, forum.host_unit):
        return forbidden(request, _("您无权为该座谈会登记问题。"))
    formset = IssueFormSet(request.POST, prefix="issues")
    if formset.is_valid():
        issues = issues_from(formset)
        if not issues:
            messages.error(request, _("请至少填写一个问题。"))
        elif run(request, lambda: services.forum_add_issues(forum=forum, acting_user=request.user, issues=issues)):
            messages.success(request, _("%(n)d 个问题已转为诉求。") % {"n": len(issues)})
    else:
        messages.error(request, _("问题填写有误：%(errors)s") % {"errors": "；".join(str(e) for f in formset.errors for es in f.values() for e in es)})
    return redirect("channels:forum", pk=forum.pk)


@channels_staff
@require_POST
def forum_photos_add(request, pk: int):
    forum = _forum(request, pk)
    if not rules.can_manage(request.user, forum.host_unit):
        return forbidden(request, _("您无权为该座谈会上传照片。"))
    field = PhotosField(max_files=MAX_PHOTOS)
    try:
        photos = field.clean(request.FILES.getlist("photos"))
    except Exception as exc:  # a ValidationError with the reasons
        messages.error(request, "；".join(getattr(exc, "messages", [str(exc)])))
        return redirect("channels:forum", pk=forum.pk)
    if photos:
        run(request, lambda: services.forum_add_photos(forum=forum, acting_user=request.user, photos=photos), _("照片已上传。"))
    return redirect("channels:forum", pk=forum.pk)


@channels_staff
@require_GET
def forum_ledger(request, pk: int):
    """The printable meeting ledger (会议台账)."""
    forum = _forum(request, pk)
    context = _forum_context(request, forum)
    context.update({"attendees": forum.attendees.all(), "photos": forum.photos.order_by("created_at"), "printed_by": request.user})
    return render(request, "channels/forum_ledger.html", context)


@channels_staff
@require_GET
def forum_export(request):
    forums = (selectors.forums_visible_to(request.user).order_by("-held_on", "-id")
              .prefetch_related("issues", "issues__case", "issues__case__main_unit", "attendees")[:2000])
    return xlsx_response(forum_ledger_workbook(_("座谈会台账"), forums), f"{_('座谈会台账')}-{timezone.localdate():%Y%m%d}.xlsx")
