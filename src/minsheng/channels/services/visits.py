"""Field visits (实地走访): a community worker's visit log, whose findings become appeals."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from minsheng.cases.choices import Channel
from minsheng.cases.errors import InvalidInput
from minsheng.core.choices import UnitKind
from minsheng.core.models import Unit, User
from minsheng.intake.services import Photo

from .. import rules
from ..choices import PlaceKind
from ..models import SOURCE_VISIT_FINDING, Visit, VisitFinding, VisitPhoto
from .common import appeal_from_record, photo_save, require

MAX_FINDINGS = 20
MAX_PHOTOS = 6
_CLIENT_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def visit_record(
    *,
    acting_user: User,
    community: Unit,
    visited_at: dt.datetime,
    place: str,
    client_key: str,
    place_kind: str = PlaceKind.HOUSEHOLD,
    people_met: str = "",
    phone: str = "",
    situation: str = "",
    findings: Sequence[str] = (),
    photos: Sequence[Photo] = (),
) -> tuple[Visit, bool]:
    """Record a visit; each finding becomes an appeal of the community (channel 实地走访),
    carrying the visit's photos. `client_key` comes from the phone's draft: sending the same
    draft again (the connection dropped after the server got it) returns the first visit.
    The household's phone, when given, goes on the appeals so the handling unit can call
    back. Returns (visit, created)."""
    require(rules.can_record_visits(acting_user) and rules.can_manage(acting_user, community), "您无权登记该社区的走访。")
    if not _CLIENT_KEY.match(client_key or ""):
        raise InvalidInput("页面已失效，请刷新后重新填写。")
    existing = Visit.objects.filter(visitor=acting_user, client_key=client_key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return _record(acting_user, community, visited_at, place, client_key, place_kind, people_met, phone, situation, findings, photos), True
    except IntegrityError:
        existing = Visit.objects.filter(visitor=acting_user, client_key=client_key).first()
        if existing is None:
            raise
        return existing, False


def _record(acting_user, community, visited_at, place, client_key, place_kind, people_met, phone, situation, findings, photos) -> Visit:
    if community.kind != UnitKind.COMMUNITY:
        raise InvalidInput("请选择社区。")
    if place_kind not in PlaceKind.values:
        raise InvalidInput("走访对象选择有误。")
    if not (place or "").strip():
        raise InvalidInput("请填写走访的户或地点。")
    if visited_at > timezone.now() + dt.timedelta(minutes=10):
        raise InvalidInput("走访时间不能晚于现在。")
    findings = [f.strip() for f in findings if f and f.strip()]
    if len(findings) > MAX_FINDINGS:
        raise InvalidInput(f"每次走访最多登记{MAX_FINDINGS}个问题。")
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(f"每次走访最多{MAX_PHOTOS}张照片。")
    visit = Visit.objects.create(
        community=community, visited_at=visited_at, place_kind=place_kind, place=place.strip()[:200],
        people_met=(people_met or "").strip()[:300], phone=(phone or "").strip()[:20], situation=(situation or "").strip(), visitor=acting_user, client_key=client_key,
    )
    for photo in photos:
        photo_save(model=VisitPhoto, photo=photo, acting_user=acting_user, visit=visit)
    for position, text in enumerate(findings, start=1):
        finding = VisitFinding.objects.create(visit=visit, position=position, text=text)
        finding.case = appeal_from_record(
            text=text, channel=Channel.VISIT, source_type=SOURCE_VISIT_FINDING, source_id=finding.pk, acting_user=acting_user,
            address=visit.place, reporter_phone=visit.phone, community=community, submitted_at=min(visited_at, timezone.now()), photos=photos,
        )
        finding.save(update_fields=["case"])
    return visit
