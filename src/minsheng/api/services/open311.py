"""Service requests received through Open311 GeoReport v2 become cases (channel 接口) with
their Open311 record; intelligent dispatch then runs on them as on any new appeal."""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from minsheng.cases.choices import Channel
from minsheng.cases.errors import InvalidInput
from minsheng.cases.models import Category
from minsheng.cases.services import case_submit
from minsheng.intake.services import route_new_case

from ..models import ApiToken, Open311Request
from ..open311.definitions import clean_answers
from ..selectors import community_by_address_id


class Open311Invalid(InvalidInput):
    """A request GeoReport answers with 400: every problem found, one error each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass
class Open311Input:
    """The arguments of POST requests, as the spec names them."""

    service: Category
    lat: str = ""
    long: str = ""
    address_string: str = ""
    address_id: str = ""
    attributes: dict[str, list[str]] = field(default_factory=dict)
    email: str = ""
    device_id: str = ""
    account_id: str = ""
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    description: str = ""
    media_url: str = ""
    jurisdiction_id: str = ""


def _coordinates(data: Open311Input, problems: list[str]) -> tuple[float | None, float | None]:
    if not data.lat and not data.long:
        return None, None
    try:
        lat, long = float(data.lat), float(data.long)
    except ValueError:
        problems.append("lat and long must both be given, as decimal degrees (WGS84)")
        return None, None
    if not (math.isfinite(lat) and math.isfinite(long) and -90 <= lat <= 90 and -180 <= long <= 180):
        problems.append("lat must be within -90..90 and long within -180..180")
        return None, None
    return lat, long


def open311_request_create(*, data: Open311Input, api_token: ApiToken) -> Open311Request:
    """File a GeoReport service request as a case. Raises Open311Invalid listing every
    problem (missing location, unanswered required questions, ...) before anything is
    written."""
    problems: list[str] = []
    lat, long = _coordinates(data, problems)
    address = (data.address_string or "").strip()
    community = None
    if data.address_id:
        community = community_by_address_id(data.address_id)
        if community is None:
            problems.append(f"address_id {data.address_id} is not a known address (use a community code or its statistical code)")
    if lat is None and not address and not data.address_id and not problems:
        problems.append("a location is required: lat and long, address_string or address_id")
    answers, lines, attribute_problems = clean_answers(data.service.code, data.attributes)
    problems += attribute_problems
    media_url = (data.media_url or "").strip()
    if media_url and (urlsplit(media_url).scheme not in ("http", "https") or len(media_url) > 500):
        problems.append("media_url must be an http(s) URL of at most 500 characters")
    email = (data.email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems.append("email is not a valid e-mail address")
    if problems:
        raise Open311Invalid(problems)

    description = (data.description or "").strip() or f"【{data.service.name}】{address or (community.name if community else '')}"
    text = "\n".join([description, *([f"【补充信息】{'；'.join(lines)}"] if lines else [])])
    reporter_name = f"{(data.last_name or '').strip()}{(data.first_name or '').strip()}"
    token = secrets.token_hex(8)
    try:
        with transaction.atomic():
            case = case_submit(
                text=text, channel=Channel.API, address=address or (community.name if community else ""),
                reporter_name=reporter_name, reporter_phone=data.phone or "", category=data.service,
                community=community, acting_user=api_token.user, source_type="open311", source_id=token,
            )
            record = Open311Request.objects.create(
                case=case, token=token, service_code=data.service.code, attributes=answers, lat=lat, long=long,
                address_id=(data.address_id or "").strip()[:64], media_url=media_url, email=email[:254],
                device_id=(data.device_id or "").strip()[:100], account_id=(data.account_id or "").strip()[:100],
                jurisdiction_id=(data.jurisdiction_id or "").strip()[:64], api_token=api_token,
            )
    except InvalidInput as exc:
        raise Open311Invalid([exc.message]) from exc
    route_new_case(case)
    return record
