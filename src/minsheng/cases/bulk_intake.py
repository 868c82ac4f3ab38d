"""The writing half of bulk intake (`services.cases_intake_many`): the rows that `case_submit`,
`case_record_suggestion` and the system's `case_dispatch` write for one case — the case, its
submit, suggest and dispatch events, its main assignment and one outbox message per event —
written for a whole chunk of new cases as plain tuples, one INSERT (COPY on PostgreSQL) per
table, without building a model instance per row. A bulk import writes about six rows per
appeal, so the cost per row in Python, not the database, decides how fast it goes.

Runs inside the caller's transaction (the IDs reserved here are only safe there).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from minsheng.core.bulk import insert_tuples, reserve_ids
from minsheng.core.models import OutboxMessage, User

from .choices import AssignmentRole, CaseState
from .deadlines import compute_deadlines
from .models import Case, CaseAssignment, CaseEvent

if TYPE_CHECKING:
    from .services import BulkCase


@dataclass(frozen=True)
class IntakeResult:
    """A case written by `intake_many`, with what its caller needs to know about it."""

    pk: int
    idempotency_key: str
    tracking_code: str
    main_unit_id: int | None


#: The case columns a bulk intake fills; the others take their defaults.
CASE_COLUMNS = (
    "kind", "tracking_code", "channel", "state", "version", "text", "address", "reporter_name", "reporter_phone",
    "reporter_phone_index", "reporter_phone_last4", "reporter_id_number", "category_id", "urgency", "street_id",
    "community_id", "main_unit_id", "submitted_at", "accepted_at", "dispatched_at", "acknowledge_due_at", "contact_due_at",
    "resolve_due_at", "idempotency_key", "dispatch_meta", "source_type", "source_id", "created_by_id",
)
#: The event columns written; the episode facts (null on submit, suggest and dispatch events)
#: and any column added later take their defaults.
EVENT_COLUMNS = ("case_id", "action", "from_state", "to_state", "actor_id", "actor_kind", "actor_unit_id", "unit_id", "reason",
                 "data", "is_public", "at")
ASSIGNMENT_COLUMNS = ("case_id", "unit_id", "role", "active", "assigned_at", "assigned_by_id")
OUTBOX_COLUMNS = ("topic", "payload", "created_at", "available_at")


def existing_keys(keys: Sequence[str]) -> set[str]:
    """The idempotency keys among `keys` that cases already hold."""
    taken: set[str] = set()
    for start in range(0, len(keys), 900):  # under SQLite's bound-parameter limit on old builds
        taken.update(Case.objects.filter(idempotency_key__in=keys[start:start + 900]).values_list("idempotency_key", flat=True))
    return taken


def intake_many(items: Sequence[BulkCase], *, cleaned: Sequence[dict], codes: Sequence[str], acting_user: User | None) -> list[IntakeResult]:
    """Write the new cases `items` (already checked, keys not taken) with the cleaned personal
    fields `cleaned` and the tracking codes `codes`, one per item."""
    from minsheng.core.services import outbox_nudge

    now = timezone.now()
    staff = acting_user if acting_user is not None and getattr(acting_user, "pk", None) else None
    staff_id, staff_unit_id = (staff.pk, staff.unit_id) if staff else (None, None)
    submitter_kind = "staff" if staff else "resident"
    index_field, last4_field = Case._meta.get_field("reporter_phone_index"), Case._meta.get_field("reporter_phone_last4")
    deadlines: dict[str, Any] = {}
    case_ids = reserve_ids(Case, len(items))

    case_rows, event_rows, event_topics, assignment_rows = [], [], [], []
    results: list[IntakeResult] = []
    for item, personal, code, case_id in zip(items, cleaned, codes, case_ids):
        category_id = item.category.pk if item.category is not None else None
        community_id = item.community.pk if item.community is not None else None
        street_id = item.street.pk if item.street is not None else (item.community.parent_id if item.community is not None else None)
        submitted_at = item.submitted_at or now
        phone = personal["reporter_phone"]
        unit = item.auto_dispatch_unit
        if unit is None:
            state, version, main_unit_id, accepted_at = CaseState.SUBMITTED, 1, None, None
            acknowledge_due_at = contact_due_at = resolve_due_at = None
        else:
            if item.urgency not in deadlines:
                deadlines[item.urgency] = compute_deadlines(urgency=item.urgency, start=now)
            due = deadlines[item.urgency]
            state, version, main_unit_id, accepted_at = CaseState.DISPATCHED, 2, unit.pk, now
            acknowledge_due_at, contact_due_at, resolve_due_at = due.acknowledge_due_at, due.contact_due_at, due.resolve_due_at
        case_rows.append((
            item.kind, code, item.channel, state, version, item.text.strip(), personal["address"], personal["reporter_name"], phone,
            index_field.derive(phone), last4_field.derive(phone), personal["reporter_id_number"], category_id, item.urgency,
            street_id, community_id, main_unit_id, submitted_at, accepted_at, accepted_at, acknowledge_due_at, contact_due_at,
            resolve_due_at, item.idempotency_key, item.dispatch_meta or {}, item.source_type, str(item.source_id or ""), staff_id,
        ))
        results.append(IntakeResult(pk=case_id, idempotency_key=item.idempotency_key, tracking_code=code, main_unit_id=main_unit_id))

        event_rows.append((case_id, "submit", "", CaseState.SUBMITTED, staff_id, submitter_kind, staff_unit_id, None, "",
                           {"channel": item.channel}, True, submitted_at))
        event_topics.append((case_id, code))
        meta = item.dispatch_meta
        if meta:
            event_rows.append((case_id, "suggest", CaseState.SUBMITTED, CaseState.SUBMITTED, None, "system", None, None, "",
                               {k: meta.get(k) for k in ("model_version", "unit", "unit_confidence") if k in meta}, False, now))
            event_topics.append((case_id, code))
        if unit is not None:
            assignment_rows.append((case_id, unit.pk, AssignmentRole.MAIN, True, now, None))
            event_rows.append((case_id, "dispatch", CaseState.SUBMITTED, CaseState.DISPATCHED, None, "system", None, unit.pk,
                               "智能分拨自动派单", {
                                   "unit": unit.key, "co_units": [], "subcategory": item.category.code if item.category else None,
                                   "urgency": item.urgency, "acknowledge_due_at": _iso(acknowledge_due_at),
                                   "contact_due_at": _iso(contact_due_at), "resolve_due_at": _iso(resolve_due_at),
                                   **item.auto_dispatch_meta,
                               }, True, now))
            event_topics.append((case_id, code))

    event_ids = reserve_ids(CaseEvent, len(event_rows))
    # One outbox message per event, as `_transition` and `case_submit` enqueue them; the
    # suggestion and the dispatch carry their event's id.
    messages = []
    for event, event_id, (case_id, code) in zip(event_rows, event_ids, event_topics):
        action, to_state = event[1], event[3]
        payload = {"case_id": case_id, "tracking_code": code, "to_state": to_state} if action == "submit" else \
            {"case_id": case_id, "event_id": event_id, "tracking_code": code, "to_state": to_state}
        messages.append((f"case.{action}", payload, now, now))

    insert_tuples(Case, CASE_COLUMNS, case_rows, ids=case_ids)
    insert_tuples(CaseEvent, EVENT_COLUMNS, event_rows, ids=event_ids)
    insert_tuples(CaseAssignment, ASSIGNMENT_COLUMNS, assignment_rows)
    insert_tuples(OutboxMessage, OUTBOX_COLUMNS, messages)
    if messages:
        transaction.on_commit(outbox_nudge)
    return results


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None

