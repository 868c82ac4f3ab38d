"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) under /open311/v2/.

Every resource comes as .json and .xml. GETs are public; POST requests needs an api_key (a
token made by `minsheng token create`). jurisdiction_id is optional: this endpoint serves one
jurisdiction, and a different one is not found. Errors are the spec's arrays of
{code, description} with the HTTP status as code.
"""

from __future__ import annotations

import datetime as dt
import re

from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from minsheng.core.text import first_unstorable

from ..conf import open311_contact, open311_key_service
from ..selectors import (
    jurisdiction_id,
    open311_by_token,
    open311_request,
    open311_requests,
    open311_service,
    open311_services,
)
from ..services.open311 import Open311Input, Open311Invalid, open311_request_create
from ..services.tokens import token_authenticate
from .definitions import attributes_for
from .render import errors, request_row, respond

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: When this endpoint's interface last changed (the discovery document's changeset).
CHANGESET = "2025-11-29T00:00:00+08:00"
#: GET requests: the default window and the most any one answer holds.
DEFAULT_WINDOW = dt.timedelta(days=90)
MAX_RESULTS = 1000

_ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")


def _wrong_jurisdiction(request, fmt: str):
    given = (request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id") or "").strip()
    if given and given != jurisdiction_id():
        return errors(fmt, 404, [f"jurisdiction_id {given} not found: this endpoint serves {jurisdiction_id()}"])
    return None


@require_GET
def discovery(request, fmt: str):
    base = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": fmt})).rsplit("/", 1)[0] + "/"
    document = {
        "changeset": CHANGESET,
        "contact": open311_contact(),
        "key_service": open311_key_service(),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, document, root="discovery")


@require_GET
def services(request, fmt: str):
    if wrong := _wrong_jurisdiction(request, fmt):
        return wrong
    rows = [
        {
            "service_code": sub.code,
            "service_name": sub.name,
            "description": sub.note or sub.name,
            "metadata": bool(attributes_for(sub.code)),
            "type": "realtime",
            "keywords": ", ".join(k for k in re.split(r"[、，,]", sub.note) if k.strip()),
            "group": sub.parent.name,
        }
        for sub in open311_services()
    ]
    return respond(fmt, rows, root="services", item="service")


@require_GET
def service_definition(request, code: str, fmt: str):
    if wrong := _wrong_jurisdiction(request, fmt):
        return wrong
    service = open311_service(code)
    if service is None:
        return errors(fmt, 404, [f"service_code {code} not found"])
    document = {"service_code": service.code, "attributes": [a.as_json() for a in attributes_for(service.code)]}
    return respond(fmt, document, root="service_definition")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def requests_(request, fmt: str):
    if wrong := _wrong_jurisdiction(request, fmt):
        return wrong
    if request.method == "POST":
        return _create(request, fmt)
    return _search(request, fmt)


def _create(request, fmt: str):
    post = request.POST
    if (bad := first_unstorable({key: post.getlist(key) for key in post})) is not None:
        return errors(fmt, 400, [f"{bad[0]} contains characters that cannot be stored (NUL or a lone surrogate)"])
    token = token_authenticate(post.get("api_key", ""))
    if token is None:
        return errors(fmt, 403, ["api_key was not provided or is invalid"])
    code = post.get("service_code", "").strip()
    if not code:
        return errors(fmt, 400, ["service_code was not provided"])
    service = open311_service(code)
    if service is None:
        return errors(fmt, 400, [f"service_code {code} is not a valid service"])
    answers: dict[str, list[str]] = {}
    for key in post:
        match = _ATTRIBUTE.match(key)
        if match:
            answers.setdefault(match.group(1), []).extend(post.getlist(key))
    data = Open311Input(
        service=service, attributes=answers,
        **{name: post.get(name, "") for name in (
            "lat", "long", "address_string", "address_id", "email", "device_id", "account_id",
            "first_name", "last_name", "phone", "description", "media_url", "jurisdiction_id")},
    )
    try:
        record = open311_request_create(data=data, api_token=token)
    except Open311Invalid as exc:
        return errors(fmt, 400, exc.problems)
    case = record.case
    notice = f"诉求已登记，查询码 {case.tracking_code}。"
    if case.main_unit_id:
        notice += f"已转交{case.main_unit.name}办理。"
    row = {"service_request_id": case.tracking_code, "token": record.token, "service_notice": notice, "account_id": record.account_id or None}
    return respond(fmt, [row], root="service_requests", item="request", status=201)


def _moment(raw: str, name: str, problems: list[str]) -> dt.datetime | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        moment = parse_datetime(raw)
        if moment is None and (day := parse_date(raw)):
            moment = dt.datetime.combine(day, dt.time.min)
    except ValueError:
        moment = None
    if moment is None:
        problems.append(f"{name} must be a W3C date-time such as 2025-01-01T00:00:00+08:00")
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _search(request, fmt: str):
    get = request.GET
    ids = [i for i in get.get("service_request_id", "").split(",") if i.strip()]
    problems: list[str] = []
    start = _moment(get.get("start_date", ""), "start_date", problems)
    end = _moment(get.get("end_date", ""), "end_date", problems)
    statuses = [s.strip() for s in get.get("status", "").split(",") if s.strip()]
    if any(s not in ("open", "closed") for s in statuses):
        problems.append("status must be open, closed or both (comma delimited)")
    if problems:
        return errors(fmt, 400, problems)
    # The spec's default window: the last 90 days; a range may not span more than that.
    if start and end and end - start > DEFAULT_WINDOW:
        return errors(fmt, 400, ["start_date and end_date may not span more than 90 days"])
    if start and end and end < start:
        return errors(fmt, 400, ["end_date is before start_date"])
    if start is None and end is None:
        end = timezone.now()
        start = end - DEFAULT_WINDOW
    elif start is None:
        start = end - DEFAULT_WINDOW
    elif end is None:
        end = start + DEFAULT_WINDOW
    codes = [c.strip() for c in get.get("service_code", "").split(",") if c.strip()]
    cases = open311_requests(ids=ids, service_codes=codes, start=start, end=end, statuses=statuses, limit=MAX_RESULTS)
    return respond(fmt, [request_row(c, request) for c in cases], root="service_requests", item="request")


@require_GET
def request_detail(request, service_request_id: str, fmt: str):
    if wrong := _wrong_jurisdiction(request, fmt):
        return wrong
    case = open311_request(service_request_id)
    if case is None:
        return errors(fmt, 404, [f"service_request_id {service_request_id} not found"])
    return respond(fmt, [request_row(case, request)], root="service_requests", item="request")


@require_GET
def token_detail(request, token: str, fmt: str):
    if wrong := _wrong_jurisdiction(request, fmt):
        return wrong
    record = open311_by_token(token)
    if record is None:
        return errors(fmt, 404, [f"token {token} not found"])
    return respond(fmt, [{"service_request_id": record.case.tracking_code, "token": record.token}], root="service_requests", item="request")
