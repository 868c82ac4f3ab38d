"""GeoReport v2 documents in the two formats the specification shows: bare JSON (arrays where
the spec has them) and XML with the spec's element names, UTF-8 with an XML declaration."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone

from minsheng.cases.choices import OPEN_STATES, CaseState
from minsheng.cases.models import Case
from minsheng.intake.selectors import STATUS_WORDS

CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}

#: XML element of each item of a list-valued field (JSON has plain arrays there).
_ITEM_TAGS = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _element(tag: str, value) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, child in value.items():
            element.append(_element(key, child))
    elif isinstance(value, (list, tuple)):
        item_tag = _ITEM_TAGS.get(tag, "item")
        for child in value:
            element.append(_element(item_tag, child))
    else:
        element.text = _text(value)
    return element


def to_xml(root: str, data, item: str | None = None) -> bytes:
    """`data` as XML under `root`; a list becomes one `item` element per entry."""
    if isinstance(data, list):
        element = ET.Element(root)
        for entry in data:
            element.append(_element(item, entry))
    else:
        element = _element(root, data)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="utf-8", xml_declaration=False)


def respond(fmt: str, data, *, root: str, item: str | None = None, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        body = to_xml(root, data, item)
    else:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def errors(fmt: str, status: int, descriptions: list[str]) -> HttpResponse:
    """The spec's error document: one {code, description} per problem, code = HTTP status."""
    return respond(fmt, [{"code": status, "description": d} for d in descriptions], root="errors", item="error", status=status)


def w3c(moment) -> str | None:
    """A date-time as the W3C profile of ISO 8601, with the district's UTC offset."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


_LONG_NUMBER = re.compile(r"\d{7,}[\dXx]?")


def masked(text: str) -> str:
    """Public text with phone and ID numbers hidden (they are personal data, and residents
    sometimes write them into the appeal itself)."""
    return _LONG_NUMBER.sub(lambda m: "*" * len(m.group()), text)


def request_row(case: Case, request) -> dict:
    """One service request as GET requests shows it. The id is the tracking code; status is
    open until the case is closed, refused or merged."""
    record = getattr(case, "open311", None)  # a reverse one-to-one: absent for other channels
    category = case.category if case.category_id and case.category.parent_id else None
    # Only the address the client itself sent: residents' own photos (faces, house numbers)
    # are never published through this open, unauthenticated list.
    media_url = record.media_url if record and record.media_url else None
    headline, _next = STATUS_WORDS[CaseState(case.state)]
    return {
        "service_request_id": case.tracking_code,
        "status": "open" if case.state in OPEN_STATES else "closed",
        "status_notes": str(headline),
        "service_name": category.name if category else None,
        "service_code": category.code if category else None,
        "description": masked(case.text),
        "agency_responsible": case.main_unit.name if case.main_unit_id else None,
        "service_notice": None,
        "requested_datetime": w3c(case.submitted_at),
        "updated_datetime": w3c(getattr(case, "updated_at", None) or case.submitted_at),
        "expected_datetime": w3c(case.resolve_due_at),
        "address": case.address_masked or None,  # public output: never the exact address (PIPL)
        "address_id": (record.address_id if record and record.address_id else (case.community.code if case.community_id else None)),
        "zipcode": None,
        "lat": record.lat if record else None,
        "long": record.long if record else None,
        "media_url": media_url,
    }
