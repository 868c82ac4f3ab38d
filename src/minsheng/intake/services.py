"""Writes made by the residents' pages. Each one goes through the case engine's services."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from minsheng.cases.choices import CaseState, Channel
from minsheng.cases.models import Case, CaseEvent, Category
from minsheng.cases.services import case_attach, case_submit
from minsheng.core.models import OutboxMessage
from minsheng.core.outbox import handles, handles_batch
from minsheng.core.services import audit_appends_together, outbox_enqueue

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Photo:
    """An uploaded photo after checking and re-encoding (core.uploads): pixels only."""

    content: bytes
    content_type: str


def appeal_submit_online(
    *,
    text: str,
    address: str,
    category: Category | None,
    reporter_name: str,
    reporter_phone: str,
    is_anonymous: bool,
    photos: Sequence[Photo],
    idempotency_key: str,
) -> Case:
    """File a resident's appeal from the web/H5 form, with its photos, as one unit of work.

    `photos` are already checked and re-encoded. The idempotency key makes a
    repeated submission of the same form return the first case; its photos are then not
    attached a second time.
    """
    submitted_at = timezone.now()
    # The audit entry goes in last, after the photos and the routing request: the chain's lock,
    # which every filing takes, is then held only for that write and the commit.
    with transaction.atomic(), audit_appends_together():
        case, created = _create_with_photos(
            text=text, address=address, category=category, reporter_name=reporter_name, reporter_phone=reporter_phone,
            is_anonymous=is_anonymous, photos=photos, idempotency_key=idempotency_key, submitted_at=submitted_at,
        )
        if created:
            route_new_case_later(case)
    if created:
        route_if_in_request(case)
    return case


#: The outbox topic that asks a worker to run intelligent dispatch on a new case.
ROUTE_TOPIC = "intake.route"


def route_new_case_later(case: Case) -> None:
    """Ask for intelligent dispatch on `case` after the resident has been answered. Call it
    inside the transaction that files the case: the request then makes a case, its submit
    event and the outbox rows in one commit, and a worker routes it a moment later (the
    classifier, place search and duplicate search cost far more than the filing itself)."""
    outbox_enqueue(topic=ROUTE_TOPIC, payload={"case_id": case.pk})


def route_if_in_request(case: Case) -> None:
    """Where no worker is woken for the outbox (the embedded single-process mode, the test
    suite), route right away, as before; the outbox row then finds the work done."""
    if settings.MINSHENG_ROUTE_IN_REQUEST:
        route_new_case(case)


def route_new_case(case: Case) -> None:
    """Offer the dispatch engine's suggestions (and auto-dispatch when it is sure). Runs after
    the case is committed: if the engine fails, the appeal is safe and waits for a dispatcher."""
    try:
        case_route(case_id=case.pk)
    except Exception:  # the resident's submission must never fail because of dispatch
        logger.exception("dispatch suggestions failed for case %s", case.pk)
    case.refresh_from_db()


#: States in which a case still waits for routing (with no unit and no suggestion yet).
_ROUTABLE_STATES = (CaseState.SUBMITTED, CaseState.ACCEPTED)


def case_route(*, case_id: int) -> bool:
    """Run intelligent dispatch on a new case exactly once, however often it is asked (the
    request in embedded mode, an outbox delivery, a redelivery after a crash): under the case's
    row lock, a case that already has its suggestion, or that a person has already sent to a
    unit or closed, is left alone. The suggestion and an automatic dispatch commit together.
    Returns whether it routed the case now."""
    from minsheng.dispatch import services as dispatch_services

    with transaction.atomic():
        waiting = _lock_still_waiting([case_id])
        if not waiting:
            return False
        dispatch_services.intake_process(case=waiting[0])
        return True


def _lock_still_waiting(case_ids: Sequence[int]) -> list[Case]:
    """Of `case_ids`, the cases that still wait for routing — no unit, no suggestion, still
    new — locked (in id order) until the caller's transaction ends, with the fields routing
    reads and writes."""
    from minsheng.cases.services import SUGGESTION_FIELDS

    return list(
        Case.objects.select_for_update()
        .filter(pk__in=case_ids, state__in=_ROUTABLE_STATES, main_unit__isnull=True)
        .exclude(Exists(CaseEvent.objects.filter(case_id=OuterRef("pk"), action="suggest")))
        .only(*SUGGESTION_FIELDS, "text", "address", "submitted_at")
        .order_by("pk")
    )


@handles(ROUTE_TOPIC)
def route_from_outbox(message: OutboxMessage) -> None:
    """The worker's side of `route_new_case_later`. A failure propagates, so the outbox
    retries with backoff; the case meanwhile waits in the dispatcher's queue."""
    case_route(case_id=message.payload["case_id"])


@handles_batch(ROUTE_TOPIC, replaces=route_from_outbox)
def route_many_from_outbox(messages: list[OutboxMessage]) -> None:
    """`route_from_outbox` for the messages of a claimed chunk, in its transaction: the cases
    still waiting are locked together (in id order, as one by one) with the same checks as
    `case_route` — a case routed meanwhile, by a person or a redelivery, is left alone — and
    the engine runs once over them (`intake_process_many`)."""
    from minsheng.dispatch.services import intake_process_many

    case_ids = sorted({message.payload.get("case_id") for message in messages} - {None})
    intake_process_many(cases=_lock_still_waiting(case_ids))


def _create_with_photos(*, text, address, category, reporter_name, reporter_phone, is_anonymous, photos, idempotency_key, submitted_at):
    case = case_submit(
        text=text,
        channel=Channel.WEB,
        address=address,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        is_anonymous=is_anonymous,
        category=category,
        idempotency_key=idempotency_key,
        submitted_at=submitted_at,
    )
    # case_submit returns the earlier case for a key it has seen; only the call that created
    # the case (the one whose submission time it carries) attaches the photos.
    created = case.submitted_at == submitted_at
    if created:
        for photo in photos:
            case_attach(case=case, content=photo.content, filename="photo", content_type=photo.content_type)
    return case, created


def appeal_join(*, tracking_code: str, reporter_name: str, reporter_phone: str, text: str) -> Case | None:
    """Add the resident to an open case about the same problem (多人同诉): counted on the case
    and kept informed through it. None when the case is gone or no longer open."""
    from minsheng.cases.choices import OPEN_STATES
    from minsheng.cases.errors import CaseError
    from minsheng.cases.services import case_join

    case = Case.objects.filter(tracking_code=tracking_code, state__in=OPEN_STATES).first()
    if case is None:
        return None
    try:
        case_join(case=case, name=reporter_name, phone=reporter_phone, text=text)
    except CaseError:
        return None
    case.refresh_from_db()
    return case
