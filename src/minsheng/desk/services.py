"""Writes the workbench makes beyond a single case transition: several cases at once, a call
taken on the hotline, an export (which is audited), an unmasked phone number (audited), and
the inbox. Every case change still goes through `minsheng.cases.services`."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.intake.services import route_new_case
from minsheng.cases import services as case_services
from minsheng.cases.choices import CaseState, Channel
from minsheng.cases.errors import ActionNotAllowed, CaseError, InvalidInput
from minsheng.cases.models import Case, Category
from minsheng.cases.privacy import case_personal_data_reveal
from minsheng.core.calendar import CalendarOutOfRange
from minsheng.core.choices import Role
from minsheng.core.models import Notification, Unit, User
from minsheng.core.services import audit_record

from . import selectors
from .export import audit_workbook, cases_workbook

EXPORT_MAX_ROWS = 50_000


# ---------------------------------------------------------------- bulk dispatch

@dataclass
class BulkResult:
    done: list[Case] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (tracking code or id, why)


def cases_bulk_dispatch(*, acting_user: User, items: list[tuple[int, int]], unit: Unit) -> BulkResult:
    """Dispatch several cases to one unit, each through `case_dispatch` in its own
    transaction: one case that cannot go (already dispatched, changed meanwhile) does not
    hold back the others, and is reported with the reason."""
    result = BulkResult()
    found = {c.pk: c for c in Case.objects.visible_to(acting_user).filter(pk__in=[pk for pk, _v in items])}
    for pk, version in items:
        case = found.get(pk)
        if case is None:
            result.failed.append((f"#{pk}", _("案件不存在或无权访问。")))
            continue
        try:
            case_services.case_dispatch(case=case, acting_user=acting_user, unit=unit, expected_version=version)
        except CaseError as exc:
            result.failed.append((case.tracking_code, exc.message))
        except CalendarOutOfRange as exc:
            result.failed.append((case.tracking_code, str(exc)))
        else:
            result.done.append(case)
    return result


# ---------------------------------------------------------------- hotline

def hotline_case_create(
    *,
    acting_user: User,
    token: str,
    text: str,
    reporter_phone: str,
    address: str = "",
    reporter_name: str = "",
    category: Category | None = None,
    urgency: str = "normal",
    reporter_id_number: str = "",
) -> Case:
    """Register a call and accept it at once: the operator has heard the caller, so the
    case is a real appeal. The form token is the idempotency key, so a double submit (or a
    retry after a timeout) returns the same case instead of creating a second one."""
    if acting_user.role not in (Role.OPERATOR, Role.DISPATCHER, Role.ADMIN) and not acting_user.is_superuser:
        raise ActionNotAllowed(_("只有话务员和派单员可以登记来电。"))
    with transaction.atomic():
        case = case_services.case_submit(
            text=text, channel=Channel.HOTLINE, address=address, reporter_name=reporter_name, reporter_phone=reporter_phone,
            category=category, urgency=urgency, acting_user=acting_user, idempotency_key=f"hotline:{token}",
            reporter_id_number=reporter_id_number,
        )
        created = case.state == CaseState.SUBMITTED and case.created_by_id == acting_user.pk
        if created:
            case_services.case_accept(case=case, acting_user=acting_user, expected_version=case.version)
    if created:
        route_new_case(case)
    case.refresh_from_db()
    return case


# ---------------------------------------------------------------- export

def queue_export(*, acting_user: User, queue: str, filters: dict, sort: str, ip: str | None) -> tuple[bytes, int]:
    """The queue as filtered on screen, as an Excel ledger, recorded in the audit log."""
    rows = selectors.queue_rows(user=acting_user, queue=queue, filters=filters, sort=sort)
    content, count = cases_workbook(rows.iterator(chunk_size=2000), title=queue, max_rows=EXPORT_MAX_ROWS)
    audit_record(
        action="export", actor=acting_user, target=f"desk.queue:{queue}", ip=ip,
        detail={"queue": queue, "filters": {k: str(v) for k, v in filters.items()}, "sort": sort, "rows": count, "format": "xlsx"},
    )
    return content, count


def audit_export(*, acting_user: User, filters: dict, ip: str | None) -> tuple[bytes, int]:
    """The audit log as filtered on screen, as an Excel file; the export is itself audited."""
    from minsheng.core.selectors import audit_entries

    if not may_see_audit(acting_user):
        raise ActionNotAllowed(_("只有系统管理员可以查看审计日志。"))
    content, count = audit_workbook(audit_entries(**filters).iterator(chunk_size=2000), max_rows=EXPORT_MAX_ROWS)
    audit_record(action="export", actor=acting_user, target="audit", ip=ip,
                 detail={"filters": {k: str(v) for k, v in filters.items() if v}, "rows": count, "format": "xlsx"})
    return content, count


def may_see_audit(user) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.role == Role.ADMIN))


def audit_verify(*, acting_user: User, ip: str | None) -> list[int]:
    """Check the whole hash chain; the check is recorded too (after it, so it is not judged)."""
    from minsheng.core.services import audit_verify_chain

    if not may_see_audit(acting_user):
        raise ActionNotAllowed(_("只有系统管理员可以查看审计日志。"))
    broken = audit_verify_chain()
    audit_record(action="audit.verify", actor=acting_user, target="audit", ip=ip, detail={"broken": broken[:100]})
    return broken


# ---------------------------------------------------------------- personal data

def case_phone_reveal(*, acting_user: User, case: Case, ip: str | None) -> str:
    """The reporter's full phone number for someone who must call back; every reveal is
    audited. Leaders read dashboards and never need it."""
    return case_personal_data_reveal(acting_user=acting_user, case=case, field="reporter_phone", ip=ip)


# ---------------------------------------------------------------- inbox

def notification_open(*, acting_user: User, notification_id: int) -> Notification:
    """Mark one message of the user's inbox read and return it (for its link)."""
    notification = selectors.notifications_for(acting_user).get(pk=notification_id)
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    return notification


def notifications_mark_all_read(*, acting_user: User) -> int:
    return selectors.notifications_for(acting_user).filter(read_at__isnull=True).update(read_at=timezone.now())
