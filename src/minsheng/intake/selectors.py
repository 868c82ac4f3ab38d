"""What a resident may see of their own appeal, in their words.

The tracking page shows the public events only, names units only as the handling unit, and
never shows staff names, internal notes, a unit's reason for returning a case or anything
about other reporters. Everything shown is assembled here, so the template cannot show more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.cases.choices import CaseState, Feedback
from minsheng.cases.models import Case, CaseEvent
from minsheng.cases.selectors import case_timeline

#: The state as a resident would say it: (headline, what happens next).
STATUS_WORDS = {
    CaseState.SUBMITTED: (_("已提交，等待受理"), _("工作人员会尽快查看并受理您的诉求。")),
    CaseState.ACCEPTED: (_("已受理，正在转交"), _("指挥中心正在确定负责办理的单位。")),
    CaseState.DISPATCHED: (_("已转交承办单位"), _("承办单位签收后开始办理，可能会电话联系您了解情况。")),
    CaseState.IN_PROGRESS: (_("正在办理"), _("承办单位正在处理您反映的问题。")),
    CaseState.REPLIED: (_("办理完毕，答复审核中"), _("承办单位已提交办理结果，审核通过后将答复您。")),
    CaseState.AWAITING_FEEDBACK: (_("已答复，请您评价"), _("请看下面的答复，并告诉我们问题是否真正解决。")),
    CaseState.CLOSED: (_("已办结"), _("感谢您的反映和评价。")),
    CaseState.REJECTED: (_("未予受理"), _("您的诉求不在受理范围内，原因见下方记录。")),
    CaseState.MERGED: (_("已合并办理"), _("有其他群众反映了同一问题，将一并办理，进度见下方。")),
}


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    text: str
    detail: str = ""


@dataclass
class Progress:
    """The resident's view of an appeal: where it stands and what happened so far."""

    case: Case
    headline: str
    next_step: str
    handling_unit: str
    timeline: list[TimelineEntry] = field(default_factory=list)
    reply: str = ""
    resolve_due_at: dt.datetime | None = None
    overdue: bool = False
    feedback_due_at: dt.datetime | None = None
    can_rate: bool = False

    @property
    def category(self) -> str:
        category = self.case.category
        return str(category) if category else ""


def appeal_for_resident(*, tracking_code: str) -> Case | None:
    return (
        Case.objects.select_related("category", "category__parent", "main_unit", "merged_into", "merged_into__main_unit")
        .filter(tracking_code=tracking_code)
        .first()
    )


def appeal_progress(*, case: Case, now: dt.datetime | None = None) -> Progress:
    """Status, public timeline, approved reply and deadlines of a resident's appeal.

    A merged appeal is handled through its master case, so its progress after the merge is
    the master's (its state, unit, public events and reply — not its text or reporter).
    """
    now = now or timezone.now()
    handled = case.merged_into if case.state == CaseState.MERGED and case.merged_into_id else case
    headline, next_step = STATUS_WORDS[CaseState(case.state)]
    if handled is not case:
        master_headline, master_next = STATUS_WORDS[CaseState(handled.state)]
        headline, next_step = f"{headline} · {master_headline}", master_next
    timeline = _entries(case_timeline(case=case, public=True))
    if handled is not case:
        merged_at = timeline[-1].at if timeline else case.submitted_at
        timeline += [e for e in _entries(case_timeline(case=handled, public=True)) if e.at > merged_at]
    in_handling = handled.state in (CaseState.DISPATCHED, CaseState.IN_PROGRESS)
    answered = handled.state in (CaseState.AWAITING_FEEDBACK, CaseState.CLOSED) and handled.approved_at
    return Progress(
        case=case,
        headline=headline,
        next_step=next_step,
        handling_unit=handled.main_unit.name if handled.main_unit_id else "",
        timeline=timeline,
        reply=handled.reply_text if answered else "",
        resolve_due_at=handled.resolve_due_at if in_handling else None,
        overdue=bool(in_handling and handled.resolve_due_at and handled.resolve_due_at <= now),
        feedback_due_at=_feedback_due(case) if case.state == CaseState.AWAITING_FEEDBACK else None,
        can_rate=case.state == CaseState.AWAITING_FEEDBACK,
    )


def _feedback_due(case: Case) -> dt.datetime | None:
    if case.approved_at is None:
        return None
    return case.approved_at + dt.timedelta(days=settings.MINSHENG_FEEDBACK_DAYS)


#: Public events in the resident's words. Actions not listed are left out, never shown raw.
EVENT_WORDS = {
    "submit": _("您提交了诉求"),
    "accept": _("诉求已受理"),
    "reject": _("诉求未予受理"),
    "merge": _("与反映同一问题的诉求合并办理"),
    "approve": _("办理结果已答复"),
    "close_no_feedback": _("评价期已过，诉求自动办结"),
}
#: Events that name the handling unit: (wording with the unit, wording without one).
UNIT_EVENT_WORDS = {
    "dispatch": (_("已转交%(unit)s办理"), _("已转交承办单位办理")),
    "acknowledge": (_("%(unit)s已签收，开始办理"), _("承办单位已签收，开始办理")),
}
RATING_EVENT_WORDS = {
    "feedback_close": _("您的评价：%(rating)s。诉求办结"),
    "feedback_reopen": _("您的评价：%(rating)s。已要求重新办理"),
}


def _entries(events) -> list[TimelineEntry]:
    entries = []
    for event in events:
        text = _event_text(event)
        if text is None:
            continue
        # The reason for refusing an appeal is written for the resident; other reasons
        # (a unit's reason for returning a case, a dispatcher's note) are not.
        detail = event.reason if event.action == "reject" else ""
        entries.append(TimelineEntry(at=event.at, text=text, detail=detail))
    return entries


def _event_text(event: CaseEvent) -> str | None:
    action = event.action
    if action in EVENT_WORDS:
        return str(EVENT_WORDS[action])
    if action in UNIT_EVENT_WORDS:
        named, unnamed = UNIT_EVENT_WORDS[action]
        return named % {"unit": event.unit.name} if event.unit_id else str(unnamed)
    if action in RATING_EVENT_WORDS:
        return RATING_EVENT_WORDS[action] % {"rating": _rating_label(event)}
    return None


def _rating_label(event: CaseEvent) -> str:
    rating = (event.data or {}).get("rating", "")
    return str(Feedback(rating).label) if rating in Feedback.values else ""
