"""Webhook endpoints and their delivery log: the district administrator's (admin role only)."""

import uuid

from ninja import Path, Query, Router
from ninja.responses import Status

from ..choices import ALL_EVENTS, EVENT_TYPES
from ..selectors import webhook_deliveries, webhook_delivery, webhook_endpoint, webhook_endpoints
from ..services.webhooks import (
    require_admin,
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
)
from . import render
from .schemas import DeliveryOut, ErrorOut, WebhookIn, WebhookOut, WebhookPatch, WebhookSecretOut

router = Router(tags=["webhooks"])

MAX_ID = 2**63 - 1
_ERRORS = frozenset({401, 403, 404, 422})


@router.get("/webhooks/event-types", response={200: list[str], 401: ErrorOut}, summary="Event types")
def event_types(request):
    """What an endpoint can subscribe to; "case.*" is every case event."""
    return [ALL_EVENTS, *EVENT_TYPES]


@router.get("/webhooks", response={200: list[WebhookOut], _ERRORS: ErrorOut}, summary="List endpoints")
def endpoint_list(request):
    require_admin(request.auth)
    return [render.webhook(e) for e in webhook_endpoints()]


@router.post("/webhooks", response={201: WebhookSecretOut, _ERRORS: ErrorOut}, summary="Register an endpoint")
def endpoint_create(request, payload: WebhookIn):
    """The answer carries the signing secret; keep it, it is how the receiver checks
    X-Minsheng-Signature."""
    endpoint = webhook_endpoint_create(url=payload.url, event_types=payload.event_types, description=payload.description, acting_user=request.auth)
    return Status(201, render.webhook(endpoint, secret=True))


@router.get("/webhooks/{endpoint_id}", response={200: WebhookOut, _ERRORS: ErrorOut}, summary="An endpoint")
def endpoint_get(request, endpoint_id: int = Path(..., ge=1, le=MAX_ID)):
    require_admin(request.auth)
    return render.webhook(webhook_endpoint(endpoint_id))


@router.patch("/webhooks/{endpoint_id}", response={200: WebhookSecretOut, _ERRORS: ErrorOut}, summary="Change an endpoint")
def endpoint_update(request, payload: WebhookPatch, endpoint_id: int = Path(..., ge=1, le=MAX_ID)):
    require_admin(request.auth)
    endpoint = webhook_endpoint_update(
        endpoint=webhook_endpoint(endpoint_id), acting_user=request.auth, url=payload.url, event_types=payload.event_types,
        active=payload.active, description=payload.description, rotate_secret=payload.rotate_secret,
    )
    return render.webhook(endpoint, secret=payload.rotate_secret)


@router.delete("/webhooks/{endpoint_id}", response={204: None, _ERRORS: ErrorOut}, summary="Remove an endpoint")
def endpoint_delete(request, endpoint_id: int = Path(..., ge=1, le=MAX_ID)):
    require_admin(request.auth)
    webhook_endpoint_delete(endpoint=webhook_endpoint(endpoint_id), acting_user=request.auth)
    return Status(204, None)


@router.get("/webhooks/{endpoint_id}/deliveries", response={200: list[DeliveryOut], _ERRORS: ErrorOut}, summary="Delivery log")
def delivery_list(request, endpoint_id: int = Path(..., ge=1, le=MAX_ID), status: str = Query("", max_length=16)):
    require_admin(request.auth)
    return [render.delivery(d) for d in webhook_deliveries(endpoint=webhook_endpoint(endpoint_id), status=status)]


@router.post("/webhooks/deliveries/{delivery_id}/replay", response={200: DeliveryOut, _ERRORS: ErrorOut}, summary="Send a delivery again")
def delivery_replay(request, delivery_id: uuid.UUID):
    require_admin(request.auth)
    return render.delivery(webhook_delivery_replay(delivery=webhook_delivery(delivery_id), acting_user=request.auth))
