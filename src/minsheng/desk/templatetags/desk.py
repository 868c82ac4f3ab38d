"""Template helpers of the workbench: the navigation, deadline badges, event details."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.cases.choices import CaseState, Channel, DueFlag, Feedback
from minsheng.cases.workflow import STAFF_INTAKE, TRANSITIONS

from .. import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def desk_nav_data(context) -> dict:
    """What the layout shows around every page: the user's queues with counts and the
    number of unread notifications. A fixed number of queries, whatever the page."""
    user = context["request"].user
    if not user.is_authenticated:
        return {"queues": [], "unread": 0, "may_take_calls": False, "may_see_quality": False, "may_see_audit": False}
    return {
        "queues": selectors.nav_queues(user),
        "unread": selectors.notifications_for(user).filter(read_at__isnull=True).count(),
        "may_take_calls": user.is_superuser or user.role in STAFF_INTAKE,
        "may_see_quality": user.is_superuser or user.role in ("admin", "dispatcher", "leader"),
        "may_see_audit": user.is_superuser or user.role == "admin",
    }


@register.filter
def current_due(case):
    """The deadline that matters now: acknowledge-by while waiting to be signed for, else
    resolve-by (None before dispatch and once the unit has answered)."""
    if case.state == CaseState.DISPATCHED and case.acknowledge_due_at:
        return case.acknowledge_due_at
    if case.state in (CaseState.DISPATCHED, CaseState.IN_PROGRESS):
        return case.resolve_due_at
    return None


@register.inclusion_tag("desk/_due_badge.html")
def due_badge(case):
    flag = case.due_flag
    label = {DueFlag.YELLOW: _("黄牌"), DueFlag.RED: _("红牌")}.get(flag, "")
    title = {DueFlag.YELLOW: _("临近期限"), DueFlag.RED: _("已超期限")}.get(flag, "")
    return {"flag": flag, "label": label, "title": title}


@register.filter
def is_past(value) -> bool:
    return bool(value) and value <= timezone.now()


@register.filter
def event_details(event, unit_names=None) -> list[str]:
    """The parts of an event's data worth a line on the timeline."""
    data = event.data or {}
    unit_names = unit_names or {}
    out = []
    if "rating" in data:
        out.append(_("评价：%(r)s") % {"r": Feedback(data["rating"]).label if data["rating"] in Feedback.values else data["rating"]})
    if "level" in data:
        out.append(_("督办级别：%(n)s") % {"n": data["level"]})
    if "working_days" in data and event.action == "request_extension":
        out.append(_("申请延期 %(n)s 个工作日") % {"n": data["working_days"]})
    if event.action == "decide_extension":
        out.append(_("同意延期") if data.get("approved") else _("不同意延期"))
    if data.get("co_units"):
        out.append(_("协办：%(u)s") % {"u": "、".join(unit_names.get(k, k) for k in data["co_units"])})
    if "master" in data:
        out.append(_("并入 %(c)s") % {"c": data["master"]})
    if event.action == "flag" and "flag" in data:
        out.append(_("红牌（超期）") if data["flag"] == DueFlag.RED else _("黄牌（临期）"))
    if "channel" in data and event.action == "submit":
        channel = data["channel"]
        out.append(_("渠道：%(c)s") % {"c": Channel(channel).label if channel in Channel.values else channel})
    return out


@register.filter
def state_label(value: str) -> str:
    if not value:
        return ""
    try:
        return CaseState(value).label
    except ValueError:
        return value


@register.filter
def minutes(value) -> int:
    """A timedelta in whole minutes (rounded up), for "try again in N minutes"."""
    try:
        return max(1, -int(-value.total_seconds() // 60))
    except AttributeError:
        return value


@register.filter
def action_label(action: str) -> str:
    transition = TRANSITIONS.get(action)
    if transition is not None:
        return transition.label
    return {"submit": _("提交")}.get(action, action)


@register.simple_tag
def login_failure_limit() -> int:
    from django.conf import settings

    return settings.AXES_FAILURE_LIMIT
