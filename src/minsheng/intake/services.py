"""Writes made by the residents' pages. Each one goes through the case engine's services."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from minsheng.cases.choices import Channel
from minsheng.cases.models import Case, Category
from minsheng.cases.services import case_attach, case_submit

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
    with transaction.atomic():
        case, created = _create_with_photos(
            text=text, address=address, category=category, reporter_name=reporter_name, reporter_phone=reporter_phone,
            is_anonymous=is_anonymous, photos=photos, idempotency_key=idempotency_key, submitted_at=submitted_at,
        )
    if created:
        route_new_case(case)
    return case


def route_new_case(case: Case) -> None:
    """Offer the dispatch engine's suggestions (and auto-dispatch when it is sure). Runs after
    the case is committed: if the engine fails, the appeal is safe and waits for a dispatcher."""
    from minsheng.dispatch.services import intake_process

    try:
        intake_process(case=case)
    except Exception:  # the resident's submission must never fail because of dispatch
        logger.exception("dispatch suggestions failed for case %s", case.pk)
    case.refresh_from_db()


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
