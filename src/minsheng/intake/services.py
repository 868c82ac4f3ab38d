"""Writes made by the residents' pages. Each one goes through the case engine's services."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from minsheng.cases.choices import Channel
from minsheng.cases.models import Case, Category
from minsheng.cases.services import case_attach, case_submit


@dataclass(frozen=True)
class Photo:
    """An uploaded photo after checking and re-encoding (core.uploads): pixels only."""

    content: bytes
    content_type: str


@transaction.atomic
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
    if case.submitted_at == submitted_at:
        for photo in photos:
            case_attach(case=case, content=photo.content, filename="photo", content_type=photo.content_type)
    return case
