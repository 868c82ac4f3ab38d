"""Intelligent dispatch inside the application: every new case gets suggestions (category,
urgency, place, unit, duplicates); confident ones are dispatched automatically; dispatcher
decisions become training data.

The engine (dispatch.engine) is pure Python and lives once per process. Its duplicate index
holds the open cases of the recent window and is kept in step with the database by
`_sync_index`: new open cases are added by id (so a case submitted through another web
process is seen on the next query), closed ones dropped. No shared memory is needed between
processes; the database is the truth.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from minsheng.cases import services as case_services
from minsheng.cases.choices import CaseState, OPEN_STATES
from minsheng.cases.errors import CaseError
from minsheng.cases.models import Case, CaseEvent, Category
from minsheng.cases.workflow import SYSTEM
from minsheng.core.models import Unit

from .engine import DispatchEngine
from .engine.modelstore import CURRENT_MODEL, build_engine

logger = logging.getLogger(__name__)

#: How far back open cases are kept for duplicate search (多人同诉 is about current problems).
DUPLICATE_WINDOW_DAYS = 30
#: How often closed cases are swept out of a process's index.
SWEEP_SECONDS = 60


@dataclass
class IntakeOutcome:
    """What happened to a new case at intake."""

    meta: dict
    auto_dispatched: bool = False
    duplicates: list[dict] = field(default_factory=list)
    reason: str = ""


class _EngineHolder:
    """The process's engine and the bookkeeping of its duplicate index."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.engine: DispatchEngine | None = None
        self.version = ""
        self.last_case_id = 0
        self.last_sweep = 0.0

    def reset(self) -> None:
        with self.lock:
            self.engine = None
            self.version = ""
            self.last_case_id = 0
            self.last_sweep = 0.0


_holder = _EngineHolder()


def model_dir() -> Path:
    return Path(settings.MINSHENG_DATA_DIR) / "models"


def dispatch_engine(*, before: int | None = None) -> DispatchEngine:
    """The process's engine, loading the active model (or training one from the shipped
    corpus on first use), with its duplicate index in step with the database.

    `before`: the first case about to be routed. Only the cases older than it are brought into
    the index: the newer ones are still waiting for their own routing, which indexes them, and
    classifying them here too would do the engine's work twice for every appeal of a backlog."""
    with _holder.lock:
        if _holder.engine is None:
            _holder.engine = build_engine(model_dir=model_dir())
            _holder.version = _holder.engine.classifier.version
            _holder.last_case_id = 0
        _sync_index(_holder, upto=None if before is None else before - 1)
        return _holder.engine


def engine_reset() -> None:
    """Forget the process's engine (after training a new model, and in tests)."""
    _holder.reset()


def _index_fields(case_row: dict) -> dict:
    """The duplicate context stored at intake: the same the engine passes for a new case."""
    meta = case_row["dispatch_meta"] or {}
    topic = meta.get("subcategory") or meta.get("topic")
    topic = [tuple(pair) for pair in topic] if isinstance(topic, list) else topic
    return {"topic": topic, "place": meta.get("place"), "urgency": meta.get("urgency_probability")}


def _sync_index(holder: _EngineHolder, upto: int | None = None) -> None:
    engine = holder.engine
    since = timezone.now() - dt.timedelta(days=DUPLICATE_WINDOW_DAYS)
    rows = Case.objects.filter(pk__gt=holder.last_case_id, state__in=OPEN_STATES, submitted_at__gte=since)
    if upto is not None:
        rows = rows.filter(pk__lte=upto)
    rows = rows.order_by("pk").values("pk", "text", "address", "submitted_at", "street__code", "community__code", "dispatch_meta")
    for row in rows.iterator(chunk_size=2000):
        if row["pk"] in engine.dup_index:  # this process routed it, and indexed it then
            pass
        elif (row["dispatch_meta"] or {}).get("topic"):
            engine.dup_index.add(row["pk"], row["text"], row["community__code"], row["street__code"], row["submitted_at"], **_index_fields(row))
        else:
            # Not processed at intake (imported, or before the engine existed): classify and
            # locate it now, so it is compared on the same terms as the others.
            engine.suggest(row["text"], row["address"], at=row["submitted_at"], case_key=row["pk"], add_to_index=True)
        holder.last_case_id = row["pk"]
    now = timezone.now().timestamp()
    if now - holder.last_sweep >= SWEEP_SECONDS:
        holder.last_sweep = now
        indexed = list(engine.dup_index._slot.keys())  # noqa: SLF001 — the index exposes no key iterator
        still_open = set(Case.objects.filter(pk__in=indexed, state__in=OPEN_STATES, submitted_at__gte=since).values_list("pk", flat=True))
        for key in indexed:
            if key not in still_open:
                engine.dup_index.remove(key)


#: What a duplicate's row shows: no personal data, so nothing is decrypted for it.
_DUPLICATE_FIELDS = ("pk", "tracking_code", "text", "state", "reporter_count")


def _duplicate_rows(pairs, exclude: int | None = None, cases: dict[int, Case] | None = None) -> list[dict]:
    """The open cases among the engine's (key, similarity) pairs, as stored in the suggestion.
    `cases`: the candidates already read (a batch reads all its candidates in one query)."""
    if cases is None:
        ids = [key for key, _ in pairs if key != exclude]
        cases = {c.pk: c for c in Case.objects.filter(pk__in=ids, state__in=OPEN_STATES).only(*_DUPLICATE_FIELDS)}
    rows = []
    for key, similarity in pairs:
        case = cases.get(key) if key != exclude else None
        if case is None:
            continue
        rows.append({
            "case_id": case.pk, "tracking_code": case.tracking_code, "similarity": round(float(similarity), 3),
            "summary": case.summary, "state": case.state, "reporter_count": case.reporter_count,
        })
    return rows


def suggestion_meta(suggestion, duplicates: list[dict]) -> dict:
    """The suggestion as stored on the case (JSON) and shown to the dispatcher."""
    loc = suggestion.location
    return {
        "model_version": suggestion.model_version,
        "category": [[c, round(p, 4)] for c, p in suggestion.category],
        "subcategory": [[c, round(p, 4)] for c, p in suggestion.subcategory],
        "urgency": suggestion.urgency,
        "urgency_probability": round(suggestion.urgency_probability, 4),
        "location": {
            "street": loc.street, "community": loc.community, "confidence": round(loc.confidence, 3),
            "matched": loc.matched, "reason": loc.reason, "ambiguous": loc.ambiguous, "label": loc.label,
        },
        "unit": suggestion.unit,
        "unit_confidence": suggestion.unit_confidence,
        "needs_location": suggestion.needs_location,
        "reasons": suggestion.reasons,
        "key_terms": suggestion.key_terms,
        "duplicates": duplicates,
        "topic": suggestion.subcategory[0][0] if suggestion.subcategory else None,
        "place": loc.label if loc.kind in ("place", "intersection") else None,
    }


def similar_open_cases(*, text: str, address: str = "", limit: int = 3) -> list[dict]:
    """Open cases that look like the same problem, for the resident's form ("others already
    reported this") — nothing is stored."""
    engine = dispatch_engine()
    with _holder.lock:
        suggestion = engine.suggest(text, address, at=timezone.now(), case_key=None, add_to_index=False)
    return _duplicate_rows(suggestion.duplicates)[:limit]


def _units_for(meta: dict) -> tuple[Category | None, Unit | None, Unit | None, Unit | None]:
    sub = meta["subcategory"][0][0] if meta.get("subcategory") else None
    category = Category.objects.filter(code=sub, parent__isnull=False, active=True).first() if sub else None
    loc = meta.get("location") or {}
    street = Unit.objects.filter(kind="street", code=loc.get("street"), active=True).first() if loc.get("street") else None
    community = Unit.objects.filter(kind="community", code=loc.get("community"), active=True).first() if loc.get("community") else None
    unit = None
    if meta.get("unit"):
        kind, _, code = meta["unit"].partition(":")
        unit = Unit.objects.filter(kind=kind, code=code, active=True).first()
    return category, street, community, unit


@dataclass
class PreparedIntake:
    """The engine's read-only part of `intake_process` for one case, computed ahead in a
    batch (`intake_prepare_many`): what remains is the case's writes."""

    suggestion: Any
    duplicates: list[dict]
    meta: dict
    units: tuple[Category | None, Unit | None, Unit | None, Unit | None]


def intake_prepare_many(*, cases: Sequence[Case]) -> dict[int, PreparedIntake]:
    """The engine's part of `intake_process` for several new cases at once (the worker routing
    a backlog): one duplicate-index sync, one classifier pass, the duplicates' rows in one
    query and the units read once, instead of all of it per case. The cases join the
    duplicate index in id order, so each is compared with the earlier ones, as when routed one
    by one. Nothing is written: each case's writes follow under its own row lock
    (`intake_process(prepared=...)`). Cases need `pk`, `text`, `address`, `submitted_at`."""
    ordered = sorted(cases, key=lambda c: c.pk)
    if not ordered:
        return {}
    engine = dispatch_engine(before=ordered[0].pk)
    rows = [{"text": c.text, "address": c.address, "at": c.submitted_at, "case_key": c.pk, "add_to_index": True} for c in ordered]
    with _holder.lock:
        suggestions = engine.suggest_many(rows, explain=True)  # a dispatcher reads these, as after intake_process
    candidate_ids = {key for s in suggestions for key, _ in s.duplicates if not isinstance(key, tuple)}
    candidates = {c.pk: c for c in Case.objects.filter(pk__in=candidate_ids, state__in=OPEN_STATES).only(*_DUPLICATE_FIELDS)}
    units = _UnitCache()
    prepared = {}
    for case, suggestion in zip(ordered, suggestions):
        duplicates = _duplicate_rows(suggestion.duplicates, exclude=case.pk, cases=candidates)
        meta = suggestion_meta(suggestion, duplicates)
        prepared[case.pk] = PreparedIntake(suggestion=suggestion, duplicates=duplicates, meta=meta, units=units.for_meta(meta))
    return prepared


def _held_for_a_person(suggestion, duplicates: list[dict], unit: Unit | None) -> str | None:
    """Why the engine leaves the case to a dispatcher rather than dispatching it itself (the
    outcome's reason), or None when it dispatches: the place must be known where it matters,
    a possible repeat of an open case waits to be merged, and the unit's confidence must reach
    the district's threshold."""
    if unit is None:
        return "location_needed" if suggestion.needs_location else "no_unit"
    if duplicates:
        return "possible_duplicate"
    if suggestion.unit_confidence < settings.MINSHENG_AUTO_DISPATCH_THRESHOLD:
        return "low_confidence"
    return None


def intake_process_many(*, cases: Sequence[Case]) -> int:
    """`intake_process` for a batch of new cases the caller has locked (select_for_update,
    with at least `case_services.SUGGESTION_FIELDS`, `text`, `address` and `submitted_at`):
    the engine runs once over all of them (`intake_prepare_many`); the suggestions of the cases
    left to a dispatcher are recorded together (`case_record_suggestions_many`), and the cases
    the engine dispatches itself go through `intake_process` one by one, as ever. Returns how
    many were dispatched."""
    prepared = intake_prepare_many(cases=cases)
    held, dispatched = [], 0
    for case in sorted(cases, key=lambda c: c.pk):
        ready = prepared[case.pk]
        category, street, community, unit = ready.units
        if _held_for_a_person(ready.suggestion, ready.duplicates, unit):
            held.append((case, case_services.Suggested(ready.meta, category, ready.suggestion.urgency, street, community)))
        else:
            dispatched += intake_process(case=case, prepared=ready).auto_dispatched
    case_services.case_record_suggestions_many(held)
    return dispatched


def intake_process(*, case: Case, auto_dispatch: bool = True, prepared: PreparedIntake | None = None) -> IntakeOutcome:
    """Run the engine on a newly submitted case: store its suggestions, and dispatch it
    automatically when the unit's confidence reaches the district's threshold, the place is
    known where it matters, and it does not look like a repeat of an open case (repeats wait
    for a dispatcher to merge them). `prepared`: the engine's part already done for this case
    in a batch (`intake_prepare_many`)."""
    if prepared is None:
        engine = dispatch_engine(before=case.pk)
        with _holder.lock:
            suggestion = engine.suggest(case.text, case.address, at=case.submitted_at, case_key=case.pk, add_to_index=True)
        duplicates = _duplicate_rows(suggestion.duplicates, exclude=case.pk)
        meta = suggestion_meta(suggestion, duplicates)
        category, street, community, unit = _units_for(meta)
    else:
        suggestion, duplicates, meta = prepared.suggestion, prepared.duplicates, prepared.meta
        category, street, community, unit = prepared.units
    case_services.case_record_suggestion(case=case, meta=meta, category=category, urgency=suggestion.urgency, street=street, community=community)
    outcome = IntakeOutcome(meta=meta, duplicates=duplicates)
    held = _held_for_a_person(suggestion, duplicates, unit) if auto_dispatch else "manual"
    if held:
        outcome.reason = held
    else:
        try:
            case_services.case_dispatch(
                case=case, acting_user=SYSTEM, unit=unit, category=case.category or category, urgency=case.urgency,
                reason="智能分拨自动派单",
                meta={"auto": True, "model_version": suggestion.model_version, "confidence": suggestion.unit_confidence},
            )
            outcome.auto_dispatched = True
            outcome.reason = "auto"
        except CaseError as exc:  # e.g. the calendar year is not loaded: leave it to a person
            outcome.reason = f"auto_dispatch_failed: {exc.message}"
            logger.warning("auto-dispatch of case %s failed: %s", case.pk, exc.message)
    return outcome


# ---------------------------------------------------------------- learning

def confirmed_items(*, since: dt.datetime | None = None) -> list[dict]:
    """Dispatcher decisions as training items: the text and the subcategory and urgency a
    person chose when dispatching (a confirmation or a correction of the suggestion). The
    latest staff dispatch of each case wins; automatic dispatches teach nothing new."""
    # Generated demo history is synthetic text: it would teach the model its own phrase pools.
    events = CaseEvent.objects.filter(action="dispatch", actor_kind="staff", data__subcategory__isnull=False).exclude(
        case__source_type="demo"
    )
    if since:
        events = events.filter(at__gte=since)
    latest: dict[int, tuple[str, str]] = {}
    for case_id, sub, urgency in events.order_by("at", "id").values_list("case_id", "data__subcategory", "data__urgency"):
        if sub:
            latest[case_id] = (sub, urgency or "normal")
    texts = dict(Case.objects.filter(pk__in=list(latest)).values_list("pk", "text"))
    return [
        {"text": texts[pk], "subcategory": sub, "urgency": "urgent" if urgency == "urgent" else "normal", "source": "confirmed"}
        for pk, (sub, urgency) in latest.items()
        if pk in texts
    ]


@transaction.atomic
def dispatch_model_register(*, version: str, path: str, corpus_items: int, confirmed_items: int, heldout: dict):
    """Record a newly trained model and make it the one in use."""
    from .models import DispatchModel

    DispatchModel.objects.filter(active=True).update(active=False)
    model, _ = DispatchModel.objects.update_or_create(
        version=version,
        defaults={"path": path, "corpus_items": corpus_items, "confirmed_items": confirmed_items, "heldout": heldout, "active": True},
    )
    transaction.on_commit(engine_reset)
    return model


def retrain_due(*, now: dt.datetime | None = None) -> bool:
    """Whether the scheduled retraining should run: a week since the last model and enough
    new dispatcher decisions to matter."""
    from .models import DispatchModel

    now = now or timezone.now()
    last = DispatchModel.objects.order_by("-created_at").first()
    if last is None:
        return len(confirmed_items()) >= settings.MINSHENG_RETRAIN_MIN_NEW
    if now - last.created_at < dt.timedelta(days=settings.MINSHENG_RETRAIN_DAYS):
        return False
    return len(confirmed_items(since=last.created_at)) >= settings.MINSHENG_RETRAIN_MIN_NEW


def dispatch_retrain_if_due() -> str:
    """The scheduled retraining (a periodic job): train and switch to a new model when a
    week has passed and enough new dispatcher decisions exist. Safe to run twice: the second
    run finds the new model and does nothing."""
    if not retrain_due():
        return "not due"
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("train_dispatch", stdout=out, stderr=StringIO())
    return out.getvalue().strip().splitlines()[-1] if out.getvalue().strip() else "trained"


__all__ = [
    "CURRENT_MODEL", "BatchSuggester", "BulkOutcome", "IntakeOutcome", "batch_marker", "bulk_outcomes", "confirmed_items", "intake_suggest_many", "dispatch_engine", "dispatch_model_register", "engine_reset",
    "intake_process", "retrain_due", "similar_open_cases",
]


# ---------------------------------------------------------------- many at once (bulk import)

@dataclass
class BulkOutcome:
    """`intake_process`'s decision for one item of a batch, ready for
    `cases.services.cases_intake_many`: the suggestion to store, the classification to pre-fill
    and, when the engine is sure, the unit to dispatch to."""

    meta: dict
    category: Category | None
    urgency: str
    street: Unit | None
    community: Unit | None
    unit: Unit | None
    auto_dispatch: bool
    reason: str
    #: earlier items of the same batch that look like the same problem (their indexes)
    batch_duplicates: list[int] = field(default_factory=list)


class _UnitCache:
    """Units and subcategories by code, read once per batch instead of once per case."""

    def __init__(self) -> None:
        # Without the gazetteer's place and road lists: the engine has its own, and a batch
        # never reads them from these units.
        self.units = {(u.kind, u.code): u for u in Unit.objects.filter(active=True).defer("aliases", "places", "roads")}
        self.subcategories = {c.code: c for c in Category.objects.filter(parent__isnull=False, active=True)}

    def unit(self, key: str | None) -> Unit | None:
        if not key:
            return None
        kind, _, code = key.partition(":")
        return self.units.get((kind, code))

    def for_meta(self, meta: dict) -> tuple[Category | None, Unit | None, Unit | None, Unit | None]:
        """`_units_for` from the cache: the same look-ups, without their queries."""
        sub = meta["subcategory"][0][0] if meta.get("subcategory") else None
        loc = meta.get("location") or {}
        street = self.units.get(("street", loc.get("street"))) if loc.get("street") else None
        community = self.units.get(("community", loc.get("community"))) if loc.get("community") else None
        return (self.subcategories.get(sub) if sub else None), street, community, self.unit(meta.get("unit"))


def intake_suggest_many(*, items: list[dict], auto_dispatch: bool = True) -> list[BulkOutcome]:
    """What `intake_process` decides for one new case, for a batch of new appeals (bulk
    import): one classifier pass, units looked up once, existing open cases found as
    duplicates in one query — and repeats within the batch itself found too (an item is
    compared with the earlier items). Items are dicts with `text`, `address`, `at`.
    Nothing is stored: the caller creates the cases (cases_intake_many)."""
    suggester = BatchSuggester(auto_dispatch=auto_dispatch)
    try:
        return suggester.suggest(items)
    finally:
        suggester.close()


class BatchSuggester:
    """`intake_suggest_many` for a bulk import that comes in chunks: every item stays in this
    process's duplicate index under a temporary key (marker, index) until `close()`, so each
    chunk is compared with the earlier ones, as cases filed one by one would be. Indexes in
    `BulkOutcome.batch_duplicates` count over the whole session."""

    def __init__(self, *, auto_dispatch: bool = True) -> None:
        self.engine = dispatch_engine()
        self.marker = batch_marker()
        self.auto_dispatch = auto_dispatch
        self.count = 0

    def suggest(self, items: list[dict]) -> list[BulkOutcome]:
        if not items:
            return []
        rows = [{"text": it["text"], "address": it.get("address", ""), "at": it.get("at"), "case_key": (self.marker, self.count + i),
                 "add_to_index": True} for i, it in enumerate(items)]
        with _holder.lock:
            suggestions = self.engine.suggest_many(rows)
        self.count += len(items)
        return bulk_outcomes(suggestions=suggestions, marker=self.marker, auto_dispatch=self.auto_dispatch)

    def close(self) -> None:
        """Forget the temporary keys: the cases exist now and the index learns them by id
        (_sync_index)."""
        with _holder.lock:
            for index in range(self.count):
                self.engine.dup_index.remove((self.marker, index))
        self.count = 0


def batch_marker() -> str:
    """The first part of the temporary duplicate-index keys of one batch: (marker, index)."""
    import secrets

    return f"batch:{secrets.token_hex(8)}"


def bulk_outcomes(*, suggestions: list, marker: str, auto_dispatch: bool = True) -> list[BulkOutcome]:
    """`intake_process`'s decisions from the engine's suggestions for a batch whose items were
    indexed under (marker, index) keys (see intake_suggest_many). A bulk import may compute
    the suggestions in another process (engine.suggest_many) and decide here."""
    existing_ids = {key for s in suggestions for key, _ in s.duplicates if not isinstance(key, tuple)}
    existing = {c.pk: c for c in Case.objects.filter(pk__in=existing_ids, state__in=OPEN_STATES).only(*_DUPLICATE_FIELDS)}
    cache = _UnitCache()
    threshold = settings.MINSHENG_AUTO_DISPATCH_THRESHOLD
    outcomes = []
    for suggestion in suggestions:
        # The batch's own keys are tuples, never among `existing`: only open cases are listed.
        duplicates = _duplicate_rows(suggestion.duplicates, cases=existing)
        in_batch = [key[1] for key, _ in suggestion.duplicates if isinstance(key, tuple) and key[0] == marker]
        meta = suggestion_meta(suggestion, duplicates)
        category, street, community, unit = cache.for_meta(meta)
        if community is not None and (street is None or community.parent_id != street.pk):
            community = None
        if not auto_dispatch:
            reason = "manual"
        elif unit is None:
            reason = "location_needed" if suggestion.needs_location else "no_unit"
        elif duplicates or in_batch:
            reason = "possible_duplicate"
        elif suggestion.unit_confidence < threshold:
            reason = "low_confidence"
        else:
            reason = "auto"
        outcomes.append(BulkOutcome(
            meta=meta, category=category, urgency=suggestion.urgency,
            street=street, community=community, unit=unit, auto_dispatch=reason == "auto", reason=reason,
            batch_duplicates=in_batch,
        ))
    return outcomes
