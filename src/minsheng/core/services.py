"""Writes to the core tables: the org tree, the calendar, the outbox and the audit log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from .calendar import invalidate_calendar, official_exceptions, official_years
from .choices import UnitKind
from .models import AuditEntry, CalendarDay, CalendarYear, OutboxMessage, Unit, User


# ---------------------------------------------------------------- outbox

def outbox_enqueue(*, topic: str, payload: dict[str, Any], delay: dt.timedelta | None = None) -> OutboxMessage:
    """Record a side effect to run after the surrounding transaction commits.

    Must be called inside the transaction that makes the change, so the change and its side
    effect are committed (or rolled back) together.
    """
    now = timezone.now()
    return OutboxMessage.objects.create(topic=topic, payload=payload, created_at=now, available_at=now + (delay or dt.timedelta(0)))


# ---------------------------------------------------------------- audit

@transaction.atomic
def audit_record(*, action: str, actor: User | None = None, target: str = "", detail: dict | None = None, ip: str | None = None) -> AuditEntry:
    """Append an entry to the hash-chained audit log.

    The predecessor is read under a row lock (PostgreSQL) so two concurrent writers cannot
    both chain onto the same entry.
    """
    previous = AuditEntry.objects.select_for_update().order_by("-id").only("hash").first()
    entry = AuditEntry(
        at=timezone.now(),
        actor=actor if actor and actor.pk else None,
        actor_name=actor.username if actor and actor.pk else "",
        action=action,
        target=target[:200],
        detail=detail or {},
        ip=ip,
        prev_hash=previous.hash if previous else "",
    )
    entry.hash = entry.compute_hash()
    entry.save()
    return entry


def audit_verify_chain() -> list[int]:
    """Ids of audit entries whose hash or link does not match: empty when untampered."""
    broken = []
    prev_hash = ""
    for entry in AuditEntry.objects.order_by("id").iterator():
        if entry.prev_hash != prev_hash or entry.compute_hash() != entry.hash:
            broken.append(entry.id)
        prev_hash = entry.hash
    return broken


# ---------------------------------------------------------------- calendar

@transaction.atomic
def calendar_sync_official(*, years: Iterable[int] | None = None) -> int:
    """Copy the official holiday schedule into the calendar table; local rows are kept.

    Returns how many days were written. Safe to run repeatedly.
    """
    written = 0
    for year in years or official_years():
        for day, is_work, name in official_exceptions(year):
            existing = CalendarDay.objects.filter(date=day).first()
            if existing and existing.source == CalendarDay.Source.LOCAL:
                continue
            CalendarDay.objects.update_or_create(date=day, defaults={"is_workday": is_work, "name": name, "source": CalendarDay.Source.OFFICIAL})
            written += 1
        CalendarYear.objects.get_or_create(year=year)
    transaction.on_commit(invalidate_calendar)
    return written


@transaction.atomic
def calendar_set_local_day(*, date: dt.date, is_workday: bool, name: str, acting_user: User | None = None) -> CalendarDay:
    """Add or change a local exception (e.g. a district day off for a flood)."""
    day, _ = CalendarDay.objects.update_or_create(date=date, defaults={"is_workday": is_workday, "name": name, "source": CalendarDay.Source.LOCAL})
    audit_record(action="calendar.change", actor=acting_user, target=str(date), detail={"is_workday": is_workday, "name": name})
    transaction.on_commit(invalidate_calendar)
    return day


# ---------------------------------------------------------------- org tree

@transaction.atomic
def district_load(*, taxonomy: dict, gazetteer: dict) -> dict[str, int]:
    """Create or update the org tree (district, streets, communities, departments) from the
    gazetteer and taxonomy documents. Idempotent: units are matched by (kind, code); units no
    longer listed are deactivated, never deleted (cases still point at them)."""
    counts = {"streets": 0, "communities": 0, "departments": 0}
    d = gazetteer["district"]
    district, _ = Unit.objects.update_or_create(
        kind=UnitKind.DISTRICT, code=str(d["code"]), defaults={"name": d["name"], "parent": None, "active": True, "stat_code": str(d["code"])}
    )
    seen: set[tuple[str, str]] = {(UnitKind.DISTRICT, str(d["code"]))}
    for s_index, street in enumerate(gazetteer.get("streets", [])):
        street_unit, _ = Unit.objects.update_or_create(
            kind=UnitKind.STREET,
            code=street["code"],
            defaults={
                "name": street["name"],
                "parent": district,
                "aliases": list(street.get("aliases", [])),
                "stat_code": str(street.get("stat_code", "")),
                "active": True,
                "sort_order": s_index,
            },
        )
        seen.add((UnitKind.STREET, street["code"]))
        counts["streets"] += 1
        for c_index, community in enumerate(street.get("communities", [])):
            Unit.objects.update_or_create(
                kind=UnitKind.COMMUNITY,
                code=community["code"],
                defaults={
                    "name": community["name"],
                    "parent": street_unit,
                    "aliases": list(community.get("aliases", [])),
                    "places": list(community.get("places", [])),
                    "roads": list(community.get("roads", [])),
                    "stat_code": str(community.get("stat_code", "")),
                    "active": True,
                    "sort_order": c_index,
                },
            )
            seen.add((UnitKind.COMMUNITY, community["code"]))
            counts["communities"] += 1
    for d_index, dept in enumerate(taxonomy.get("departments", [])):
        Unit.objects.update_or_create(
            kind=UnitKind.DEPARTMENT, code=dept["code"], defaults={"name": dept["name"], "parent": district, "active": True, "sort_order": d_index}
        )
        seen.add((UnitKind.DEPARTMENT, dept["code"]))
        counts["departments"] += 1
    for unit in Unit.objects.filter(active=True):
        if (unit.kind, unit.code) not in seen:
            unit.active = False
            unit.save(update_fields=["active"])
    return counts


def unit_by_key(key: str) -> Unit | None:
    """`street:JSL` / `dept:CGJ` / `community:JSL01` → the active unit, or None."""
    kind, _, code = key.partition(":")
    if not code:
        return None
    return Unit.objects.filter(kind=kind, code=code, active=True).first()
