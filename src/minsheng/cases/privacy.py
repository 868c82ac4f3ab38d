"""Residents' personal data on cases (PIPL): showing it unmasked, erasing it after the
retention period, and erasing it when a resident asks.

Names, phones, ID numbers and addresses are encrypted at rest (core/crypto.py) and masked on
every screen. These services are the only ways past the mask or to remove the data, and each
one writes to the audit log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from minsheng.core.choices import Role
from minsheng.core.crypto import blind_index, mask_phone, normalise_phone, redact_text
from minsheng.core.models import User
from minsheng.core.services import audit_record

from .choices import FINAL_STATES
from .errors import ActionNotAllowed, InvalidInput
from .models import Attachment, Case, CaseEvent, CoReporter

#: What may be shown unmasked: field name on Case → the label in the audit log and on screen.
REVEALABLE = {
    "reporter_phone": "联系电话",
    "reporter_name": "姓名",
    "reporter_id_number": "身份证号",
    "address": "详细地址",
}

#: Roles whose work needs the resident's details: the hotline calls back, the command centre
#: checks a report, the handling unit visits and calls. Leaders read figures, never details.
REVEAL_ROLES = frozenset({Role.OPERATOR, Role.DISPATCHER, Role.HANDLER, Role.ADMIN})


def may_reveal(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and (user.is_superuser or user.role in REVEAL_ROLES))


def case_personal_data_reveal(*, acting_user: User, case: Case, field: str, ip: str | None = None) -> str:
    """One personal field of a case, unmasked, for someone whose work needs it; audited."""
    if field not in REVEALABLE:
        raise InvalidInput("未知的字段。")
    if not may_reveal(acting_user):
        raise ActionNotAllowed("您的角色无需查看完整的个人信息。")
    if not Case.objects.visible_to(acting_user).filter(pk=case.pk).exists():
        raise ActionNotAllowed("无权访问该案件。")
    value = getattr(case, field)
    if not value:
        raise InvalidInput(f"该案件没有{REVEALABLE[field]}。")
    audit_record(action="unmask", actor=acting_user, target=f"case:{case.tracking_code}", ip=ip, detail={"field": field})
    return value


# ---------------------------------------------------------------- erasure


def _erase_cases(cases: Iterable[Case], *, now: dt.datetime, delete_uploads: bool) -> int:
    """Blank the personal fields of `cases` (locked by the caller), their co-reporters and
    the phones, ID numbers and names inside their free text. Statistics keep everything they
    use: category, place down to the community, units, times, ratings."""
    count = 0
    for case in cases:
        names = tuple(n for n in [case.reporter_name, *case.co_reporters.values_list("name", flat=True)] if n)
        Case.objects.filter(pk=case.pk).update(
            reporter_name="", reporter_phone="", reporter_id_number="", address="",
            reporter_phone_index="", reporter_phone_last4="", personal_data_erased_at=now,
            text=redact_text(case.text, names=names), feedback_comment=redact_text(case.feedback_comment, names=names),
            reply_text=redact_text(case.reply_text, names=names),
        )
        for co in case.co_reporters.all():
            CoReporter.objects.filter(pk=co.pk).update(name="", phone="", phone_index="", phone_last4="", text=redact_text(co.text, names=names))
        for event in CaseEvent.objects.filter(case=case).exclude(reason="").only("id", "reason"):
            cleaned = redact_text(event.reason, names=names)
            if cleaned != event.reason:
                CaseEvent.objects.filter(pk=event.pk).update(reason=cleaned)
        if delete_uploads:
            # What the resident uploaded (staff uploads are the units' work records).
            for attachment in Attachment.objects.filter(case=case, uploaded_by__isnull=True):
                attachment.file.delete(save=False)
                attachment.delete()
        count += 1
    return count


# ---------------------------------------------------------------- other records holding residents' data


class PersonalDataHolder(Protocol):
    """Records outside the case engine that hold residents' personal data (a listening
    channel's answers, notes, visits…). Their app registers one at start-up, so the retention
    purge and an erasure request reach them without the engine importing a higher floor.
    Each method returns {what (a label for people): how many records}."""

    def count_for_phone(self, phone_index: str) -> dict[str, int]: ...

    def erase(self, *, phone_index: str, case_ids: Sequence[int], now: dt.datetime) -> dict[str, int]: ...

    def purge(self, *, cutoff: dt.datetime, now: dt.datetime, dry_run: bool) -> dict[str, int]: ...


_HOLDERS: dict[str, PersonalDataHolder] = {}


def personal_data_holder_register(name: str, holder: PersonalDataHolder) -> None:
    _HOLDERS[name] = holder


def _merged(results: Iterable[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for result in results:
        for label, n in result.items():
            if n:
                total[str(label)] = total.get(str(label), 0) + n
    return total


# ---------------------------------------------------------------- retention


@dataclass(frozen=True)
class PurgeResult:
    cases: int
    records: dict[str, int] = field(default_factory=dict)


def cases_purge_personal_data(*, retention_days: int | None = None, now: dt.datetime | None = None, batch_size: int = 500,
                              dry_run: bool = False) -> int:
    """Erase the personal data of cases finished (closed, rejected or merged) longer than the
    retention period ago (MINSHENG_RETENTION_DAYS), and of the other records that hold
    residents' data (see `personal_data_purge`). Returns how many cases were erased (or would be)."""
    return personal_data_purge(retention_days=retention_days, now=now, batch_size=batch_size, dry_run=dry_run).cases


def personal_data_purge(*, retention_days: int | None = None, now: dt.datetime | None = None, batch_size: int = 500,
                        dry_run: bool = False) -> PurgeResult:
    """The retention purge: cases first (batched, each batch its own transaction, so it can
    be stopped and run again), then every registered holder's records older than the
    retention period whose appeals, if any, are erased by now."""
    days = settings.MINSHENG_RETENTION_DAYS if retention_days is None else retention_days
    if days <= 0:
        raise InvalidInput("保存期限未设置（MINSHENG_RETENTION_DAYS 应为正数）。")
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=days)
    due = Case.objects.filter(state__in=FINAL_STATES, closed_at__lt=cutoff, personal_data_erased_at__isnull=True)
    if dry_run:
        return PurgeResult(cases=due.count(), records=_merged(h.purge(cutoff=cutoff, now=now, dry_run=True) for h in _HOLDERS.values()))
    total = 0
    while True:
        with transaction.atomic():
            ids = list(due.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            batch = Case.objects.select_for_update().filter(pk__in=ids, personal_data_erased_at__isnull=True)
            total += _erase_cases(list(batch), now=now, delete_uploads=False)
    records = _merged(h.purge(cutoff=cutoff, now=now, dry_run=False) for h in _HOLDERS.values())
    if total or records:
        audit_record(action="privacy.purge", actor_name="system", target=f"cases closed before {cutoff:%Y-%m-%d}",
                     detail={"cases": total, "retention_days": days, **({"records": records} if records else {})})
    return PurgeResult(cases=total, records=records)


@dataclass
class ErasureMatch:
    """What a resident's erasure request covers: cases they reported, and other cases they
    joined as a co-reporter (only their own entry there is erased)."""

    cases: list[Case] = field(default_factory=list)
    co_reports: list[CoReporter] = field(default_factory=list)
    records: dict[str, int] = field(default_factory=dict)  # other records with their phone (see PersonalDataHolder)

    @property
    def empty(self) -> bool:
        return not self.cases and not self.co_reports and not self.records


def erasure_match(*, phone: str = "", tracking_code: str = "") -> ErasureMatch:
    """The resident's data, found by their phone (through the blind index) or by one
    tracking code."""
    match = ErasureMatch()
    if tracking_code:
        match.cases = list(Case.objects.filter(tracking_code=tracking_code.strip().upper(), personal_data_erased_at__isnull=True))
    index = blind_index(phone) if phone else ""
    if index:
        seen = {c.pk for c in match.cases}
        match.cases += [c for c in Case.objects.filter(reporter_phone_index=index).order_by("submitted_at") if c.pk not in seen]
        match.co_reports = list(CoReporter.objects.filter(phone_index=index).select_related("case"))
        match.records = _merged(h.count_for_phone(index) for h in _HOLDERS.values())
    return match


@dataclass(frozen=True)
class ErasureResult:
    cases: list[str]
    co_reports: int
    records: dict[str, int] = field(default_factory=dict)


def resident_data_erase(*, acting_user: User, reason: str, phone: str = "", tracking_code: str = "", ip: str | None = None) -> ErasureResult:
    """Honour a resident's request to erase their personal data (PIPL art. 47): every case
    they reported (found by phone or tracking code) is erased as the retention purge would,
    their uploaded photos deleted too; where they only joined another resident's case, their
    own entry is erased. Admin only; the request's reference goes into the audit log."""
    if not (acting_user.is_superuser or acting_user.role == Role.ADMIN):
        raise ActionNotAllowed("只有系统管理员可以处理个人信息删除申请。")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写删除依据（如申请编号、来电记录）。")
    if not (phone or tracking_code):
        raise InvalidInput("请填写手机号或查询码。")
    now = timezone.now()
    with transaction.atomic():
        match = erasure_match(phone=phone, tracking_code=tracking_code)
        if match.empty:
            raise InvalidInput("没有找到该群众的个人信息。")
        locked = list(Case.objects.select_for_update().filter(pk__in=[c.pk for c in match.cases]))
        _erase_cases(locked, now=now, delete_uploads=True)
        names = tuple(co.name for co in match.co_reports if co.name)
        for co in match.co_reports:
            CoReporter.objects.filter(pk=co.pk).update(name="", phone="", phone_index="", phone_last4="", text=redact_text(co.text, names=names))
        codes = [c.tracking_code for c in locked]
        # The records their appeals came from, and any other record with their phone.
        records = _merged(h.erase(phone_index=blind_index(phone) if phone else "", case_ids=[c.pk for c in locked], now=now)
                          for h in _HOLDERS.values())
        audit_record(
            action="privacy.erase", actor=acting_user, ip=ip,
            target=f"phone:{mask_phone(normalise_phone(phone))}" if phone else f"case:{tracking_code.strip().upper()}",
            detail={"reason": reason[:200], "cases": codes, "co_reports": [co.case.tracking_code for co in match.co_reports],
                    "records": records},
        )
    return ErasureResult(cases=codes, co_reports=len(match.co_reports), records=records)
