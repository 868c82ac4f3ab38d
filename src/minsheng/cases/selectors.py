"""Reads of cases that need care: scoping, work queues, search, timelines."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.core.choices import Role
from minsheng.core.crypto import blind_index
from minsheng.core.models import Unit

from .choices import AssignmentRole, CaseState, DueFlag, ExtensionStatus, OPEN_STATES
from .models import Attachment, Case, CaseEvent, Category

# Work queues: key → (label, which roles see it, how to filter the visible cases).
QUEUES: dict[str, tuple[str, tuple[str, ...]]] = {
    "to_accept": (_("待受理"), (Role.OPERATOR, Role.DISPATCHER, Role.ADMIN)),
    "to_dispatch": (_("待派单"), (Role.DISPATCHER, Role.ADMIN)),
    "returned": (_("退单待处理"), (Role.DISPATCHER, Role.ADMIN)),
    "to_review": (_("待审核"), (Role.DISPATCHER, Role.ADMIN)),
    "extensions": (_("延期待审批"), (Role.DISPATCHER, Role.ADMIN)),
    "to_acknowledge": (_("待签收"), (Role.HANDLER,)),
    "in_progress": (_("办理中"), (Role.HANDLER, Role.DISPATCHER, Role.ADMIN, Role.LEADER)),
    "due_soon": (_("即将超期"), (Role.HANDLER, Role.DISPATCHER, Role.ADMIN, Role.LEADER)),
    "overdue": (_("已超期"), (Role.HANDLER, Role.DISPATCHER, Role.ADMIN, Role.LEADER)),
    "awaiting_feedback": (_("待评价"), (Role.OPERATOR, Role.DISPATCHER, Role.ADMIN)),
    "supervised": (_("督办件"), (Role.HANDLER, Role.DISPATCHER, Role.ADMIN, Role.LEADER)),
    "all": (_("全部案件"), (Role.OPERATOR, Role.DISPATCHER, Role.ADMIN, Role.LEADER, Role.HANDLER)),
}


def queues_for(user) -> list[tuple[str, str]]:
    role = Role.ADMIN if user.is_superuser else user.role
    return [(key, label) for key, (label, roles) in QUEUES.items() if role in roles]


def _main_unit_filter(user) -> Q:
    """For a handler, the cases its unit handles as main unit now."""
    return Q(assignments__unit=user.unit, assignments__active=True, assignments__role=AssignmentRole.MAIN)


def queue_cases(*, user, queue: str) -> QuerySet[Case]:
    """The cases of one work queue, already scoped to `user`."""
    if queue not in QUEUES:
        raise KeyError(queue)
    qs = Case.objects.visible_to(user)
    handler = user.role == Role.HANDLER and not user.is_superuser
    if handler and queue in ("to_acknowledge", "in_progress", "due_soon", "overdue"):
        qs = qs.filter(_main_unit_filter(user))
    if queue == "to_accept":
        return qs.filter(state=CaseState.SUBMITTED)
    if queue == "to_dispatch":
        return qs.filter(state__in=[CaseState.SUBMITTED, CaseState.ACCEPTED])
    if queue == "returned":
        return qs.filter(state=CaseState.ACCEPTED, events__action="return").distinct()
    if queue == "to_review":
        return qs.filter(state=CaseState.REPLIED)
    if queue == "extensions":
        return qs.filter(extensions__status=ExtensionStatus.PENDING).distinct()
    if queue == "to_acknowledge":
        return qs.filter(state=CaseState.DISPATCHED)
    if queue == "in_progress":
        return qs.filter(state__in=[CaseState.DISPATCHED, CaseState.IN_PROGRESS])
    if queue == "due_soon":
        return qs.filter(state__in=[CaseState.DISPATCHED, CaseState.IN_PROGRESS], due_flag=DueFlag.YELLOW)
    if queue == "overdue":
        return qs.filter(state__in=[CaseState.DISPATCHED, CaseState.IN_PROGRESS], due_flag=DueFlag.RED)
    if queue == "awaiting_feedback":
        return qs.filter(state=CaseState.AWAITING_FEEDBACK)
    if queue == "supervised":
        return qs.filter(supervision_level__gt=0, state__in=OPEN_STATES)
    return qs


def case_search(qs: QuerySet[Case], *, q: str = "", state: str = "", category: str = "", street: str = "", unit: str = "",
                channel: str = "", urgency: str = "", date_from: dt.date | None = None, date_to: dt.date | None = None,
                flag: str = "") -> QuerySet[Case]:
    """Filter a case list. `q` matches every whitespace-separated term (AND) against the text
    and the tracking code: substring search suits Chinese, which has no spaces between words
    to index on. (The address is encrypted and cannot be searched; the place a resident
    describes is nearly always in the text too, and the street/community filters cover the rest.)"""
    for term in q.split()[:5]:
        qs = qs.filter(Q(text__icontains=term) | Q(tracking_code__iexact=term))
    if state:
        qs = qs.filter(state=state)
    if category:
        qs = qs.filter(Q(category__code=category) | Q(category__parent__code=category))
    if street:
        qs = qs.filter(street__code=street)
    if unit:
        kind, _, code = unit.partition(":")
        qs = qs.filter(main_unit__kind=kind, main_unit__code=code)
    if channel:
        qs = qs.filter(channel=channel)
    if urgency:
        qs = qs.filter(urgency=urgency)
    if flag:
        qs = qs.filter(due_flag=flag)
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(submitted_at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=tz))
    if date_to:
        qs = qs.filter(submitted_at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    return qs


def case_for_user(*, user, pk: int) -> Case:
    """One case, or Case.DoesNotExist when `user` may not see it (the view answers 404)."""
    return Case.objects.visible_to(user).select_related("category", "category__parent", "street", "community", "main_unit").get(pk=pk)


def attachment_for_user(*, user, pk: int) -> Attachment:
    """One attachment of a case `user` may see (public or internal: every staff member who
    sees the case sees both, as its page does), or Attachment.DoesNotExist — also for another
    unit's file, so the view answers 404 and ids cannot be probed."""
    return Attachment.objects.select_related("case").get(pk=pk, case__in=Case.objects.visible_to(user))


def case_timeline(*, case: Case, public: bool) -> QuerySet[CaseEvent]:
    events = case.events.select_related("actor", "actor_unit", "unit").order_by("at", "id")
    if public:
        events = events.filter(is_public=True)
    return events


def case_by_tracking(*, tracking_code: str, phone_last4: str = "") -> Case | None:
    """A resident's own case: the tracking code, plus the last four digits of the phone given
    at submission (when one was given). Returns None rather than saying which part was wrong."""
    case = Case.objects.filter(tracking_code=(tracking_code or "").strip().upper()).first()
    if case is None:
        return None
    digits = (phone_last4 or "").strip()
    if proves_reporter(case=case, phone_last4=digits):
        return case
    # A co-reporter who joined the case (多人同诉) tracks it with their own phone.
    if len(digits) == 4 and case.co_reporters.filter(phone_last4=digits).exists():
        return case
    return None


def proves_reporter(*, case: Case, phone_last4: str) -> bool:
    """Whether the digits prove the resident who raised the case — not a co-reporter, whose
    own phone follows the progress but whose word is not the case's verdict (rating)."""
    # The plain last-4 column, so tracking never decrypts anything. An appeal filed without a
    # phone is open to its code alone; one whose data was erased is not open to anyone.
    last4 = case.reporter_phone_last4
    digits = (phone_last4 or "").strip()
    return bool(last4 and last4 == digits) or (not last4 and case.personal_data_erased_at is None)


def caller_history(*, user, phone: str, exclude_pk: int | None = None, limit: int = 10) -> QuerySet[Case]:
    """A caller's earlier cases that `user` may see, for the operator taking a new call (a
    handler must not learn of another unit's cases through a shared caller). Found through the
    phone's blind index (the phone itself is encrypted), so the number must match as a whole
    — a mobile by its 11 digits, a landline by its last 8."""
    index = blind_index(phone or "")
    if not index:
        return Case.objects.none()
    qs = Case.objects.visible_to(user).filter(reporter_phone_index=index).select_related("category", "main_unit")
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.order_by("-submitted_at")[:limit]


def subcategories() -> QuerySet[Category]:
    return Category.objects.filter(parent__isnull=False, active=True).select_related("parent", "department")


def handling_units() -> QuerySet[Unit]:
    return Unit.objects.handling_units().select_related("parent")
