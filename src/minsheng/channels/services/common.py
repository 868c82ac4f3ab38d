"""What every channel does the same way: file an appeal from one of its records, keep photos."""

from __future__ import annotations

import datetime as dt
import secrets
from functools import partial

from django.core.files.base import ContentFile
from django.db import transaction

from minsheng.cases.errors import ActionNotAllowed
from minsheng.cases.models import Case
from minsheng.cases.services import case_attach, case_submit
from minsheng.core.models import Unit, User
from minsheng.intake.services import Photo, route_new_case

from ..models import ChannelPhoto


def require(allowed: bool, message: str = "您无权执行此操作。") -> None:
    """Check, then do: refuse before anything is written."""
    if not allowed:
        raise ActionNotAllowed(message)


def appeal_from_record(
    *,
    text: str,
    channel: str,
    source_type: str,
    source_id: int,
    acting_user: User | None,
    kind: str = "appeal",
    address: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    is_anonymous: bool = False,
    street: Unit | None = None,
    community: Unit | None = None,
    submitted_at: dt.datetime | None = None,
    photos: list[Photo] | tuple = (),
) -> Case:
    """File the appeal a channel record raises. Its idempotency key is the record, so a
    double click (or a resent draft) files one appeal. The dispatch engine's suggestions are
    offered once the surrounding transaction has committed, as for any new appeal."""
    key = f"{source_type}:{source_id}"
    existing = Case.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    case = case_submit(
        text=text, channel=channel, kind=kind, address=address, reporter_name=reporter_name, reporter_phone=reporter_phone,
        is_anonymous=is_anonymous, street=street, community=community, acting_user=acting_user, idempotency_key=key,
        submitted_at=submitted_at, source_type=source_type, source_id=str(source_id),
    )
    for photo in photos:
        case_attach(case=case, content=photo.content, filename="photo", content_type=photo.content_type, acting_user=acting_user)
    transaction.on_commit(partial(route_new_case, case), robust=True)
    return case


_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


def photo_save(*, model: type[ChannelPhoto], photo: Photo, acting_user: User | None, **owner) -> ChannelPhoto:
    """Store an already checked and re-encoded photo on a channel record."""
    stored_name = f"{secrets.token_hex(8)}{_EXTENSIONS.get(photo.content_type, '.bin')}"
    record = model(stored_name=stored_name, content_type=photo.content_type, size=len(photo.content),
                   uploaded_by=acting_user if acting_user is not None and acting_user.pk else None, **owner)
    record.file.save(stored_name, ContentFile(photo.content), save=False)
    record.save()
    return record
