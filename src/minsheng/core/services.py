"""Writes to the core tables: the org tree, the calendar, the outbox and the audit log."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django.utils import timezone

from .calendar import invalidate_calendar, official_exceptions, official_years, statutory_days_off
from .choices import UnitKind
from .models import AuditEntry, CalendarDay, CalendarYear, OutboxMessage, Unit, User

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- outbox

def outbox_enqueue(*, topic: str, payload: dict[str, Any], delay: dt.timedelta | None = None) -> OutboxMessage:
    """Record a side effect to run after the surrounding transaction commits.

    Must be called inside the transaction that makes the change, so the change and its side
    effect are committed (or rolled back) together.
    """
    now = timezone.now()
    message = OutboxMessage.objects.create(topic=topic, payload=payload, created_at=now, available_at=now + (delay or dt.timedelta(0)))
    if not delay:
        transaction.on_commit(outbox_nudge)
    return message


#: At most one nudge per web process in this many seconds; a running drain picks up what was
#: committed meanwhile, and beat sweeps every MINSHENG_OUTBOX_SWEEP_SECONDS anyway.
NUDGE_INTERVAL = 0.25
_last_nudge = 0.0


def outbox_nudge() -> None:
    """Wake a Celery worker to drain the outbox (production). Only a hint: if Redis is down
    the message waits in the table for the next nudge or sweep, and the resident's request
    is not held up."""
    global _last_nudge
    from django.conf import settings

    if not getattr(settings, "MINSHENG_OUTBOX_NUDGE", False):
        return
    now = time.monotonic()
    if now - _last_nudge < NUDGE_INTERVAL:
        return
    _last_nudge = now
    try:
        from celery import current_app

        current_app.send_task("minsheng.outbox.drain", retry=False, ignore_result=True)
    except Exception:  # the broker being down must never fail the change that was just committed
        logger.warning("could not nudge the outbox worker; beat's sweep will deliver", exc_info=True)


def outbox_enqueue_many(*, messages: Iterable[tuple[str, dict[str, Any]]]) -> int:
    """`outbox_enqueue` for many (topic, payload) pairs in one bulk insert (bulk intake).
    Same rule: call it inside the transaction that makes the changes."""
    from .bulk import insert_rows

    now = timezone.now()
    rows = [{"topic": topic, "payload": payload, "created_at": now, "available_at": now, "attempts": 0, "claimed_until": None,
             "processed_at": None, "last_error": ""} for topic, payload in messages]
    insert_rows(OutboxMessage, rows)
    transaction.on_commit(outbox_nudge)
    return len(rows)


# ---------------------------------------------------------------- audit

#: The PostgreSQL advisory lock that serialises appends to the audit chain (any fixed number
#: no other code uses: "MSAUDIT" in ASCII).
AUDIT_LOCK_KEY = 0x4D5341554449


def _lock_audit_chain() -> None:
    """Hold the chain's head until this transaction ends.

    A row lock on the latest entry is not enough on PostgreSQL: a writer that waited for it
    gets, once it is released, the same (now superseded) row back and would chain onto it, so
    two entries would share a predecessor. An advisory lock taken *before* the latest entry is
    read makes the read see the previous writer's committed entry. SQLite needs nothing: its
    write transactions are serialised (BEGIN IMMEDIATE).
    """
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_LOCK_KEY])


#: Entries appended while a delivery of several outbox messages runs (`audit_appends_together`).
_pending_audit: ContextVar[list[AuditEntry] | None] = ContextVar("pending_audit", default=None)


@transaction.atomic(savepoint=False)
def audit_record(*, action: str, actor: User | None = None, target: str = "", detail: dict | None = None, ip: str | None = None,
                 actor_name: str = "") -> AuditEntry:
    """Append an entry to the hash-chained audit log.

    Appends are serialised (see `_lock_audit_chain`), so every entry chains onto exactly the
    one before it. Call it last in a transaction: the chain is held until the commit.
    `actor_name` names a non-staff actor ("resident", "system") when there is no user.
    Inside `audit_appends_together` the entry is only queued, and written with the others.

    No savepoint of its own (two round trips on every filing): an append that fails has no
    partial state worth keeping, and the caller's transaction — which the entry records — is
    rolled back with it.
    """
    entry = AuditEntry(
        at=timezone.now(),
        actor=actor if actor and actor.pk else None,
        actor_name=actor.username if actor and actor.pk else actor_name[:150],
        action=action,
        target=target[:200],
        detail=detail or {},
        ip=ip,
    )
    pending = _pending_audit.get()
    if pending is not None:
        pending.append(entry)
        return entry
    _append_to_chain([entry])
    return entry


def _append_to_chain(entries: list[AuditEntry]) -> None:
    _lock_audit_chain()
    previous_hash = AuditEntry.objects.order_by("-id").values_list("hash", flat=True).first() or ""
    for entry in entries:
        entry.prev_hash = previous_hash
        entry.hash = previous_hash = entry.compute_hash()
    if len(entries) == 1:
        entries[0].save()
    else:
        AuditEntry.objects.bulk_create(entries)


@contextmanager
def audit_appends_together() -> Iterator[None]:
    """Within the block, audit entries are queued and appended to the chain in one write at
    its end, in the order they were recorded. For a transaction that records many events (the
    worker delivering a batch of outbox messages): the chain's head is then held only for that
    last write and the commit, not from the first event on — residents' filings, which each
    append an entry too, are not kept waiting for the whole batch. Use it inside the
    transaction: an exception leaves the queued entries unwritten, with everything else."""
    if _pending_audit.get() is not None:  # already inside such a block: the outer one writes
        yield
        return
    pending: list[AuditEntry] = []
    token = _pending_audit.set(pending)
    try:
        yield
    finally:
        _pending_audit.reset(token)
    if pending:
        _append_to_chain(pending)


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
        written += _calendar_year_replace(year, official_exceptions(year), provisional=False)
    return written


def _calendar_year_replace(year: int, days: Iterable[tuple[dt.date, bool, str]], *, provisional: bool) -> int:
    """Make `days` the schedule of `year`: the year's official and provisional rows are
    replaced, the district's local rows kept. Returns how many days were written."""
    days = list(days)
    if any(day.year != year for day, _, _ in days):
        raise ValueError(f"every day of the schedule must be in {year}")
    local = set(CalendarDay.objects.filter(date__year=year, source=CalendarDay.Source.LOCAL).values_list("date", flat=True))
    CalendarDay.objects.filter(date__year=year).exclude(source=CalendarDay.Source.LOCAL).delete()
    source = CalendarDay.Source.PROVISIONAL if provisional else CalendarDay.Source.OFFICIAL
    rows = [CalendarDay(date=day, is_workday=is_work, name=name[:50], source=source) for day, is_work, name in days if day not in local]
    CalendarDay.objects.bulk_create(rows)
    CalendarYear.objects.update_or_create(year=year, defaults={"provisional": provisional, "loaded_at": timezone.now()})
    transaction.on_commit(invalidate_calendar)
    return len(rows)


@transaction.atomic
def calendar_load_provisional(*, year: int) -> int:
    """Load `year` as provisional — weekends and the statutory public holidays — unless its
    schedule is already loaded. Returns the days written (0 when the year was there)."""
    if CalendarYear.objects.filter(year=year).exists():
        return 0
    days = [(day, False, name) for day, name in statutory_days_off(year) if day.weekday() < 5]
    written = _calendar_year_replace(year, days, provisional=True)
    audit_record(action="calendar.provisional", actor=None, target=str(year), detail={"days": written})
    return written


@transaction.atomic
def calendar_load_schedule(*, document: dict, acting_user: User | None = None) -> tuple[int, int]:
    """Load a year's official schedule from a document (the State Council's notice typed in):

        year: 2027
        holidays:            # days off, each a date or a "first..last" range
          元旦: [2027-01-01]
          春节: ["2027-02-05..2027-02-11"]
        workdays:            # adjusted working weekends (调休上班)
          春节: [2027-02-13]

    Replaces the year's official or provisional days, keeps local ones. Returns (year, days
    written). Raises ValueError with a clear message when the document is malformed."""
    if not isinstance(document, dict):
        raise ValueError("the schedule must be a mapping with year, holidays and workdays")
    year = document.get("year")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ValueError("year must be a four-digit year, e.g. year: 2027")
    unknown = set(document) - {"year", "holidays", "workdays"}
    if unknown:
        raise ValueError(f"unknown keys: {', '.join(sorted(map(str, unknown)))}")
    days: dict[dt.date, tuple[bool, str]] = {}
    for key, is_work in (("holidays", False), ("workdays", True)):
        section = document.get(key) or {}
        if not isinstance(section, dict):
            raise ValueError(f"{key} must map a holiday's name to a list of dates")
        for name, entries in section.items():
            for day in _schedule_dates(entries, f"{key}.{name}"):
                if day.year != year:
                    raise ValueError(f"{key}.{name}: {day} is not in {year}")
                if day in days:
                    raise ValueError(f"{key}.{name}: {day} is listed twice")
                days[day] = (is_work, f"{name}调休上班" if is_work else str(name))
    if not any(not is_work for is_work, _ in days.values()):
        raise ValueError("holidays is empty: a year has at least the statutory public holidays")
    rows = [(day, is_work, name) for day, (is_work, name) in sorted(days.items()) if is_work != (day.weekday() < 5)]
    written = _calendar_year_replace(year, rows, provisional=False)
    audit_record(action="calendar.load", actor=acting_user, target=str(year), detail={"days": written})
    return year, written


def _schedule_dates(entries, where: str) -> list[dt.date]:
    if not isinstance(entries, list):
        raise ValueError(f"{where}: expected a list of dates")
    dates = []
    for entry in entries:
        text = entry.isoformat() if isinstance(entry, dt.date) else str(entry)
        first, _, last = text.partition("..")
        try:
            start = dt.date.fromisoformat(first.strip())
            end = dt.date.fromisoformat(last.strip()) if last else start
        except ValueError:
            raise ValueError(f"{where}: {text!r} is not a date (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD)") from None
        if end < start or (end - start).days > 31:
            raise ValueError(f"{where}: the range {text!r} runs backwards or is longer than a month")
        dates += [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    return dates


def calendar_ensure_years(*, today: dt.date | None = None) -> dict[str, int]:
    """Keep this year and next year loaded: the official schedule where chinesecalendar
    knows it (replacing a provisional year), else a provisional one. Cheap when nothing is
    missing, so it runs with the periodic jobs."""
    today = today or timezone.localdate()
    wanted = (today.year, today.year + 1)
    loaded = dict(CalendarYear.objects.filter(year__in=wanted).values_list("year", "provisional"))
    known = set(official_years())
    done = {}
    for year in wanted:
        if year in known and loaded.get(year, True):
            done[str(year)] = calendar_sync_official(years=[year])
        elif year not in loaded:
            done[str(year)] = calendar_load_provisional(year=year)
    return done


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


# ---------------------------------------------------------------- personal-data keys


def _stale_rows(model, fields, key_id: str):
    """Rows with a value not under key `key_id` (older key, or plain text from before)."""
    from django.db.models import Q, TextField
    from django.db.models.functions import Cast

    from .crypto import PREFIX

    annotations = {f"_raw_{f.name}": Cast(f.name, output_field=TextField()) for f in fields}
    stale = Q()
    for f in fields:
        raw = f"_raw_{f.name}"
        stale |= ~Q(**{f"{raw}__startswith": f"{PREFIX}{key_id}:"}) & ~Q(**{raw: ""}) & Q(**{f"{raw}__isnull": False})
    return model._default_manager.annotate(**annotations).filter(stale)


def personal_data_reencrypt(*, batch_size: int = 500, reindex: bool = False, progress=None) -> dict[str, int]:
    """Re-encrypt every encrypted column under the current (first) data key, in batches of
    locked rows, each batch its own transaction. Resumable: a run that is stopped leaves
    only rows still under an old key, and the next run picks up exactly those. With
    `reindex`, every row's blind index and last-4 columns are recomputed too (after changing
    MINSHENG_INDEX_KEY). Returns rows rewritten per model."""
    from django.apps import apps

    from .crypto import keyring
    from .fields import derived_fields, encrypted_fields

    key_id = keyring().current_id
    done: dict[str, int] = {}
    for model in apps.get_models():
        fields = encrypted_fields(model)
        if not fields:
            continue
        derived = derived_fields(model)
        label = model._meta.label
        done[label] = 0
        last_pk = 0
        while True:
            with transaction.atomic():
                source = model._default_manager.all() if reindex else _stale_rows(model, fields, key_id)
                ids = list(source.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch_size])
                if not ids:
                    break
                rows = list(model._default_manager.select_for_update().filter(pk__in=ids).order_by("pk"))
                for row in rows:
                    for field in derived:
                        setattr(row, field.attname, field.derive(getattr(row, field.source) or ""))
                # bulk_update writes through the fields: everything is encrypted under the current key.
                model._default_manager.bulk_update(rows, [f.name for f in (*fields, *derived)])
                last_pk = ids[-1]
                done[label] += len(rows)
            if progress:
                progress(label, done[label])
    audit_record(action="privacy.rotate_keys", actor_name="system", target=f"key:{key_id}", detail={"rows": done, "reindex": reindex})
    return done
