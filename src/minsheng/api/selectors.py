"""Reads of the open interfaces: staff case lists with keyset cursors, a resident's appeal,
the Open311 views of the taxonomy and of cases, tokens and webhook deliveries."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass

from django.db.models import Max, Q, QuerySet

from minsheng.cases import selectors as case_selectors
from minsheng.cases.choices import OPEN_STATES, CaseKind, ExtensionStatus
from minsheng.cases.errors import InvalidInput
from minsheng.cases.models import Case, Category, ExtensionRequest
from minsheng.core.choices import UnitKind
from minsheng.core.models import Unit, User

from .conf import open311_jurisdiction
from .errors import NotFound
from .models import ApiToken, Open311Request, WebhookDelivery, WebhookEndpoint

LIST_RELATED = ("category", "category__parent", "street", "community", "main_unit")


# ---------------------------------------------------------------- staff cases

class BadCursor(InvalidInput):
    """A cursor this API did not hand out."""


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


def _encode_cursor(case: Case) -> str:
    raw = json.dumps([case.submitted_at.isoformat(), case.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, pk = json.loads(raw)
        moment = dt.datetime.fromisoformat(at)
        if moment.tzinfo is None or not isinstance(pk, int):
            raise ValueError
        return moment, pk
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadCursor("无效的游标（cursor）。") from exc


def case_page(*, user: User, filters: dict, queue: str = "", cursor: str = "", limit: int = 50) -> Page:
    """One page of the cases `user` may see, newest first, filtered as the workbench's list
    filters (cases.selectors.case_search), optionally one work queue. The cursor is the
    position after the last row (submission time, id), so pages stay stable while new cases
    arrive."""
    if queue:
        qs = case_selectors.queue_cases(user=user, queue=queue)
    else:
        qs = Case.objects.visible_to(user)
    qs = case_selectors.case_search(qs, **filters)
    if cursor:
        at, pk = _decode_cursor(cursor)
        qs = qs.filter(Q(submitted_at__lt=at) | Q(submitted_at=at, pk__lt=pk))
    rows = list(qs.select_related(*LIST_RELATED).order_by("-submitted_at", "-id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=_encode_cursor(rows[-1]) if more and rows else None)


def case_for_api(*, user: User, pk: int) -> Case:
    """One case the user may see; NotFound otherwise (another unit's case is not there)."""
    try:
        return case_selectors.case_for_user(user=user, pk=pk)
    except Case.DoesNotExist:
        raise NotFound("没有这个案件，或您无权查看。") from None


def pending_extension(case: Case) -> ExtensionRequest | None:
    return case.extensions.filter(status=ExtensionStatus.PENDING).first()


def handling_units() -> QuerySet[Unit]:
    return Unit.objects.handling_units().select_related("parent").order_by("kind", "sort_order", "code")


def subcategories() -> QuerySet[Category]:
    return case_selectors.subcategories().order_by("parent__sort_order", "sort_order", "code")


# ---------------------------------------------------------------- residents

def public_appeal_find(*, tracking_code: str, phone_last4: str) -> Case:
    """The resident's own appeal: tracking code plus the last four phone digits (when a
    phone was given). One answer for a wrong code and a wrong phone."""
    case = case_selectors.case_by_tracking(tracking_code=tracking_code, phone_last4=phone_last4)
    if case is None:
        raise NotFound("没有找到对应的诉求。请核对查询码和手机号后四位。")
    return case


def case_auto_dispatched(case: Case) -> bool:
    """Whether intelligent dispatch sent the case on without a dispatcher."""
    return case.events.filter(action="dispatch", actor_kind="system").exists()


# ---------------------------------------------------------------- Open311

def open311_services() -> QuerySet[Category]:
    return subcategories()


def open311_service(code: str) -> Category | None:
    return subcategories().filter(code=code).first()


def open311_requests_base() -> QuerySet[Case]:
    """The cases GeoReport clients see: residents' appeals (民生诉求), not the other service
    lines (veterans', assisted services...), with what a request row shows loaded."""
    return (
        Case.objects.filter(kind=CaseKind.APPEAL)
        .select_related("category", "main_unit", "community", "open311")
        .annotate(updated_at=Max("events__at"))
    )


def open311_requests(
    *, ids: list[str] | None = None, service_codes: list[str] | None = None, start: dt.datetime | None = None,
    end: dt.datetime | None = None, statuses: list[str] | None = None, limit: int = 1000,
) -> list[Case]:
    """GET requests: by tracking codes (which overrides every other filter, as the spec
    says), or by service, status and submission time, newest first, at most `limit`."""
    qs = open311_requests_base()
    if ids:
        qs = qs.filter(tracking_code__in=[i.strip().upper() for i in ids if i.strip()])
    else:
        if service_codes:
            qs = qs.filter(category__code__in=service_codes)
        if statuses and set(statuses) != {"open", "closed"}:
            qs = qs.filter(state__in=OPEN_STATES) if "open" in statuses else qs.exclude(state__in=OPEN_STATES)
        if start:
            qs = qs.filter(submitted_at__gte=start)
        if end:
            qs = qs.filter(submitted_at__lte=end)
    return list(qs.order_by("-submitted_at", "-id")[:limit])


def open311_request(tracking_code: str) -> Case | None:
    return open311_requests_base().filter(tracking_code=(tracking_code or "").strip().upper()).first()


def open311_by_token(token: str) -> Open311Request | None:
    return Open311Request.objects.select_related("case").filter(token=token).first()


def community_by_address_id(address_id: str) -> Unit | None:
    """An Open311 address_id is a community's code (JSL03) or statistical code."""
    value = (address_id or "").strip()
    if not value:
        return None
    return Unit.objects.filter(kind=UnitKind.COMMUNITY, active=True).filter(Q(code__iexact=value) | Q(stat_code=value)).first()


def jurisdiction_id() -> str:
    configured = open311_jurisdiction()
    if configured:
        return configured
    district = Unit.objects.filter(kind=UnitKind.DISTRICT).first()
    if district is None:
        return ""
    return district.stat_code or district.code


# ---------------------------------------------------------------- tokens and webhooks

def tokens_all() -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("user").order_by("-created_at")


def webhook_endpoints() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.order_by("id")


def webhook_endpoint(pk: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=pk).first()
    if endpoint is None:
        raise NotFound("没有这个推送地址。")
    return endpoint


def webhook_deliveries(*, endpoint: WebhookEndpoint | None = None, status: str = "", limit: int = 100) -> list[WebhookDelivery]:
    qs = WebhookDelivery.objects.select_related("endpoint")
    if endpoint is not None:
        qs = qs.filter(endpoint=endpoint)
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("-created_at", "-id")[:limit])


def webhook_delivery(delivery_id) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(delivery_id=delivery_id).first()
    if delivery is None:
        raise NotFound("没有这条推送记录。")
    return delivery
