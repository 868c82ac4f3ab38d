"""Signed outgoing webhooks: the administrator registers receivers; every case event the
engine writes to the outbox becomes one delivery per interested receiver; deliveries are
POSTed with an HMAC-SHA256 signature and retried with exponential backoff until the receiver
takes them.

Nothing is lost when a receiver is down: the delivery row is written in the outbox handler's
transaction (at most one per endpoint and outbox message, so a redelivered message adds
nothing), and a periodic job sends every due row, claiming it with a conditional UPDATE so
several workers never send the same row at once. A sender that dies mid-send leaves a claim
that expires, and the row goes out again: delivery is at least once, and receivers drop
repeats by the X-Minsheng-Delivery id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import logging
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterable
from urllib.parse import urlsplit

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from minsheng.cases.errors import ActionNotAllowed, InvalidInput
from minsheng.cases.models import Case, CaseEvent
from minsheng.core.choices import Role
from minsheng.core.models import OutboxMessage, User
from minsheng.core.outbox import chunk_memo
from minsheng.core.services import audit_record

from ..choices import ALL_EVENTS, EVENT_TYPES, DeliveryStatus
from ..conf import webhook_timeout
from ..models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Minsheng-Signature"
DELIVERY_HEADER = "X-Minsheng-Delivery"
EVENT_HEADER = "X-Minsheng-Event"

#: After this many failed attempts (about a day and a half of backoff) a delivery is given
#: up; the administrator can still replay it.
MAX_ATTEMPTS = 12
#: How long a sender holds a claimed delivery; longer than the request timeout.
CLAIM = dt.timedelta(seconds=60)
_DUE = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next attempt after `attempts` failures: 30 s, 1 min, 2 min, ... 6 h."""
    return dt.timedelta(seconds=min(6 * 3600, 30 * 2 ** max(0, attempts - 1)))


def webhook_signature(secret: str, body: bytes) -> str:
    """The X-Minsheng-Signature value: sha256=<hex HMAC-SHA256 of the raw body>."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def webhook_body(delivery: WebhookDelivery) -> bytes:
    """The bytes POSTed (and signed): the same for every attempt of a delivery."""
    return json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder).encode("utf-8")


# ---------------------------------------------------------------- endpoints (admin only)

def require_admin(user: User) -> None:
    if not (user and user.is_active and (user.is_superuser or user.role == Role.ADMIN)):
        raise ActionNotAllowed("只有系统管理员可以管理事件推送。")


def _clean_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise InvalidInput("接收地址应为 http:// 或 https:// 开头的完整网址。")
    return url


def _clean_event_types(event_types: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(event_types or ()))
    unknown = [e for e in chosen if e != ALL_EVENTS and e not in EVENT_TYPES]
    if unknown:
        raise InvalidInput(f"未知的事件类型：{', '.join(unknown)}")
    if not chosen:
        raise InvalidInput("请至少选择一种事件。")
    return chosen


@transaction.atomic
def webhook_endpoint_create(*, url: str, event_types: Iterable[str], acting_user: User, description: str = "") -> WebhookEndpoint:
    """Register a receiver. Its signing secret is generated here and shown to the
    administrator (in the API's answer and in the admin)."""
    require_admin(acting_user)
    endpoint = WebhookEndpoint.objects.create(
        url=_clean_url(url), event_types=_clean_event_types(event_types), description=(description or "").strip()[:200],
        secret=secrets.token_urlsafe(32), created_by=acting_user,
    )
    audit_record(action="webhook.create", actor=acting_user, target=endpoint.url, detail={"id": endpoint.pk, "events": endpoint.event_types})
    return endpoint


@transaction.atomic
def webhook_endpoint_update(
    *, endpoint: WebhookEndpoint, acting_user: User, url: str | None = None, event_types: Iterable[str] | None = None,
    active: bool | None = None, description: str | None = None, rotate_secret: bool = False,
) -> WebhookEndpoint:
    require_admin(acting_user)
    changed = []
    if url is not None:
        endpoint.url = _clean_url(url)
        changed.append("url")
    if event_types is not None:
        endpoint.event_types = _clean_event_types(event_types)
        changed.append("event_types")
    if active is not None:
        endpoint.active = bool(active)
        changed.append("active")
    if description is not None:
        endpoint.description = description.strip()[:200]
        changed.append("description")
    if rotate_secret:
        endpoint.secret = secrets.token_urlsafe(32)
        changed.append("secret")
    if changed:
        endpoint.save(update_fields=changed)
        audit_record(action="webhook.update", actor=acting_user, target=endpoint.url, detail={"id": endpoint.pk, "changed": changed})
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, acting_user: User) -> None:
    require_admin(acting_user)
    audit_record(action="webhook.delete", actor=acting_user, target=endpoint.url, detail={"id": endpoint.pk})
    endpoint.delete()


# ---------------------------------------------------------------- from the outbox

def event_payload(message: OutboxMessage) -> dict:
    """What a receiver is told about a case event: the event, the action as recorded, and
    the case as it stands (no reporter's name or phone, the address masked: receivers get
    the case, not the person)."""
    payload = message.payload or {}
    case = (
        Case.objects.select_related("category", "category__parent", "street", "community", "main_unit")
        .filter(pk=payload.get("case_id")).first()
    )
    event = None
    if payload.get("event_id"):
        event = CaseEvent.objects.select_related("actor_unit", "unit").filter(pk=payload["event_id"]).first()
    return {
        "event": message.topic,
        "message_id": message.pk,
        "occurred_at": message.created_at.isoformat(),
        "detail": {k: v for k, v in payload.items() if k not in ("case_id", "event_id")},
        "action": _event_json(event) if event else None,
        "case": _case_json(case) if case else None,
    }


def _unit_json(unit) -> dict | None:
    return {"key": unit.key, "name": unit.name} if unit else None


def _event_json(event: CaseEvent) -> dict:
    return {
        "id": event.pk, "action": event.action, "from_state": event.from_state, "to_state": event.to_state,
        "at": event.at.isoformat(), "actor_kind": event.actor_kind, "actor_unit": _unit_json(event.actor_unit),
        "unit": _unit_json(event.unit), "reason": event.reason, "data": event.data,
    }


def _case_json(case: Case) -> dict:
    category = case.category
    return {
        "id": case.pk, "tracking_code": case.tracking_code, "kind": case.kind, "channel": case.channel,
        "state": case.state, "version": case.version, "text": case.text,
        "address": case.address_masked,  # masked as the API shows it: receivers get the place, not the door
        "category": {"code": category.code, "name": category.name, "parent": category.parent.name if category.parent_id else None} if category else None,
        "urgency": case.urgency, "street": _unit_json(case.street), "community": _unit_json(case.community),
        "main_unit": _unit_json(case.main_unit), "submitted_at": case.submitted_at.isoformat(),
        "resolve_due_at": case.resolve_due_at.isoformat() if case.resolve_due_at else None,
        "due_flag": case.due_flag, "supervision_level": case.supervision_level, "reporter_count": case.reporter_count,
    }


def webhook_deliveries_create(*, message: OutboxMessage) -> int:
    """One delivery per active endpoint that wants this event; none twice for a message.
    Runs inside the outbox handler's transaction."""
    active = chunk_memo("webhooks.active_endpoints", lambda: list(WebhookEndpoint.objects.filter(active=True)))
    endpoints = [e for e in active if e.wants(message.topic)]
    if not endpoints:
        return 0
    payload = event_payload(message)
    made = 0
    for endpoint in endpoints:
        _, created = WebhookDelivery.objects.get_or_create(
            endpoint=endpoint, outbox_message_id=message.pk,
            defaults={"event_type": message.topic, "payload": payload, "next_attempt_at": timezone.now()},
        )
        made += created
    return made


# ---------------------------------------------------------------- sending

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A receiver answers where it is: a redirect is a failed attempt, not a new target."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    body = webhook_body(delivery)
    request = urllib.request.Request(
        delivery.endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "minsheng-webhooks/1",
            EVENT_HEADER: delivery.event_type,
            DELIVERY_HEADER: str(delivery.delivery_id),
            SIGNATURE_HEADER: webhook_signature(delivery.endpoint.secret, body),
        },
    )
    try:
        with _opener.open(request, timeout=webhook_timeout()) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]


def webhook_delivery_attempt(*, delivery_pk: int, now: dt.datetime | None = None) -> bool:
    """Send one due delivery once. True when the receiver took it (2xx). Never raises for
    a receiver's failure: it is recorded and the next attempt scheduled."""
    now = now or timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_pk, status__in=_DUE)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + CLAIM)
    )
    if not claimed:
        return False
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_pk)
    if not delivery.endpoint.active:
        WebhookDelivery.objects.filter(pk=delivery_pk).update(
            status=DeliveryStatus.FAILED, claimed_until=None, next_attempt_at=None, last_error="接收地址已停用")
        return False
    code, error = _post(delivery)  # outside any transaction: no lock is held while we wait
    attempts = delivery.attempts + 1
    fields = {"attempts": attempts, "last_attempt_at": timezone.now(), "response_code": code, "claimed_until": None}
    if code is not None and 200 <= code < 300:
        fields.update(status=DeliveryStatus.DELIVERED, delivered_at=timezone.now(), next_attempt_at=None, last_error="")
    elif attempts >= MAX_ATTEMPTS:
        fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None, last_error=error)
    else:
        fields.update(status=DeliveryStatus.RETRYING, next_attempt_at=now + backoff(attempts), last_error=error)
    WebhookDelivery.objects.filter(pk=delivery_pk).update(**fields)
    if fields["status"] != DeliveryStatus.DELIVERED:
        logger.warning("webhook delivery %s to %s failed (attempt %s): %s", delivery.delivery_id, delivery.endpoint.url, attempts, error)
    return fields["status"] == DeliveryStatus.DELIVERED


def webhook_deliveries_send_due(*, now: dt.datetime | None = None, limit: int = 100) -> int:
    """Send every delivery whose attempt is due (the periodic job). Returns how many the
    receivers took."""
    now = now or timezone.now()
    due = (
        WebhookDelivery.objects.filter(status__in=_DUE, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    return sum(webhook_delivery_attempt(delivery_pk=pk, now=now) for pk in list(due))


def webhook_delivery_replay(*, delivery: WebhookDelivery, acting_user: User) -> WebhookDelivery:
    """Send a delivery again now, whatever became of it (the same body, signature and
    delivery id: a receiver that already has it can tell)."""
    require_admin(acting_user)
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, claimed_until=None)
    audit_record(action="webhook.replay", actor=acting_user, target=str(delivery.delivery_id), detail={"endpoint": delivery.endpoint_id})
    webhook_delivery_attempt(delivery_pk=delivery.pk, now=now)
    delivery.refresh_from_db()
    return delivery
