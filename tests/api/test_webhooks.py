"""Signed webhooks: registration (admin only), one delivery per endpoint and outbox message,
HMAC-SHA256 signatures a receiver can check, retries with backoff against a real local
receiver, replay, and nothing lost while a receiver is down."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest

from minsheng.api.choices import DeliveryStatus
from minsheng.api.models import WebhookDelivery, WebhookEndpoint
from minsheng.api.services.webhooks import (
    backoff,
    webhook_deliveries_send_due,
    webhook_endpoint_create,
)
from minsheng.cases.choices import CaseState
from minsheng.cases.errors import ActionNotAllowed
from minsheng.core.models import OutboxMessage
from minsheng.core.outbox import outbox_process
from minsheng.core.worker import run_periodic_jobs

pytestmark = pytest.mark.django_db


def endpoint_for(users, url: str, events=("case.*",)) -> WebhookEndpoint:
    return webhook_endpoint_create(url=url, event_types=list(events), acting_user=users["admin"])


def expected_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_only_the_administrator_registers_endpoints(users):
    with pytest.raises(ActionNotAllowed):
        webhook_endpoint_create(url="https://example.invalid/hook", event_types=["case.*"], acting_user=users["dispatcher"])


def test_the_api_registers_an_endpoint_and_shows_its_secret_once(users, api_for):
    admin = api_for(users["admin"])

    created = admin.post_json("/api/v1/webhooks", {"url": "https://12345.example.invalid/hook", "event_types": ["case.dispatch", "case.reply"]})
    listed = admin.get("/api/v1/webhooks").json()

    assert created.status_code == 201, created.content
    assert created.json()["secret"] == WebhookEndpoint.objects.get().secret
    assert "secret" not in listed[0]
    assert listed[0]["event_types"] == ["case.dispatch", "case.reply"]


def test_other_roles_get_not_allowed_from_the_webhook_api(users, api_for):
    for role in ("dispatcher", "leader", "street"):
        client = api_for(users[role])
        assert client.get("/api/v1/webhooks").status_code == 403
        response = client.post_json("/api/v1/webhooks", {"url": "https://x.invalid/h", "event_types": ["case.*"]})
        assert (response.status_code, response.json()["code"]) == (403, "not_allowed")
    assert not WebhookEndpoint.objects.exists()


def test_unknown_event_types_and_bad_urls_are_invalid(users, api_for):
    admin = api_for(users["admin"])

    bad_event = admin.post_json("/api/v1/webhooks", {"url": "https://x.invalid/h", "event_types": ["case.nonsense"]})
    bad_url = admin.post_json("/api/v1/webhooks", {"url": "ftp://x.invalid/h", "event_types": ["case.*"]})

    assert bad_event.status_code == bad_url.status_code == 422


def test_an_outbox_message_makes_one_delivery_per_interested_endpoint(users, cases):
    everything = endpoint_for(users, "http://127.0.0.1:9/all")
    replies_only = endpoint_for(users, "http://127.0.0.1:9/replies", events=("case.reply",))
    OutboxMessage.objects.all().delete()

    case = cases.make(CaseState.DISPATCHED)
    outbox_process()

    deliveries = WebhookDelivery.objects.all()
    assert {d.endpoint for d in deliveries} == {everything}
    assert sorted(d.event_type for d in deliveries) == ["case.dispatch", "case.submit"]
    dispatch = deliveries.get(event_type="case.dispatch")
    assert dispatch.payload["case"]["tracking_code"] == case.tracking_code
    assert dispatch.payload["action"]["to_state"] == "dispatched"
    assert "13812345678" not in json.dumps(dispatch.payload)
    assert replies_only.deliveries.count() == 0


def test_a_redelivered_outbox_message_never_makes_a_second_delivery(users, cases):
    endpoint_for(users, "http://127.0.0.1:9/all")
    OutboxMessage.objects.all().delete()
    cases.make()
    outbox_process()
    assert WebhookDelivery.objects.count() == 1

    # The worker crashed after handling it: the message is delivered again.
    OutboxMessage.objects.update(processed_at=None, claimed_until=None)
    outbox_process()

    assert WebhookDelivery.objects.count() == 1


def test_deliveries_are_signed_and_retried_until_the_receiver_takes_them(users, cases, receiver):
    receiver.fail_first = 2
    endpoint = endpoint_for(users, receiver.url, events=("case.submit",))
    case = cases.make()
    outbox_process()
    delivery = WebhookDelivery.objects.get()
    now = delivery.next_attempt_at

    assert webhook_deliveries_send_due(now=now) == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (DeliveryStatus.RETRYING, 1, 503)
    assert delivery.next_attempt_at == now + backoff(1)
    # Not yet due: nothing is sent before the backoff has passed.
    assert webhook_deliveries_send_due(now=now + backoff(1) - dt.timedelta(seconds=1)) == 0
    assert len(receiver.received) == 1

    now = now + backoff(1)
    assert webhook_deliveries_send_due(now=now) == 0
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.next_attempt_at) == (2, now + backoff(2))
    assert backoff(2) > backoff(1)

    assert webhook_deliveries_send_due(now=now + backoff(2)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (DeliveryStatus.DELIVERED, 3, 204)
    assert receiver.answered == [503, 503, 204]

    # Every attempt carries the same body, delivery id and a signature the receiver can check.
    first, last = receiver.received[0], receiver.received[-1]
    assert first.body == last.body
    for got in receiver.received:
        assert got.headers["X-Minsheng-Signature"] == expected_signature(endpoint.secret, got.body)
        assert got.headers["X-Minsheng-Delivery"] == str(delivery.delivery_id)
        assert got.headers["X-Minsheng-Event"] == "case.submit"
    payload = json.loads(last.body)
    assert (payload["event"], payload["case"]["tracking_code"]) == ("case.submit", case.tracking_code)
    # A delivered one is not sent again.
    assert webhook_deliveries_send_due(now=now + dt.timedelta(days=2)) == 0
    assert len(receiver.received) == 3


def test_a_signature_made_with_another_secret_does_not_verify(users, cases, receiver):
    endpoint_for(users, receiver.url, events=("case.submit",))
    cases.make()
    outbox_process()
    webhook_deliveries_send_due()

    got = receiver.received[0]
    assert got.headers["X-Minsheng-Signature"] != expected_signature("another-secret", got.body)
    assert got.headers["X-Minsheng-Signature"] != expected_signature(WebhookEndpoint.objects.get().secret, got.body + b" ")


def test_a_receiver_that_is_down_loses_nothing(users, cases, receiver):
    down = endpoint_for(users, "http://127.0.0.1:9/unreachable", events=("case.submit",))
    cases.make()
    outbox_process()
    webhook_deliveries_send_due()
    delivery = WebhookDelivery.objects.get()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_code) == (DeliveryStatus.RETRYING, None)
    assert delivery.last_error

    # The receiver comes back (at a new address): the waiting delivery goes out when due.
    down.url = receiver.url
    down.save()
    assert webhook_deliveries_send_due(now=delivery.next_attempt_at) == 1
    assert len(receiver.received) == 1


def test_the_periodic_jobs_send_new_deliveries_in_the_same_round(users, cases, receiver):
    endpoint_for(users, receiver.url, events=("case.submit",))
    cases.make()

    results = run_periodic_jobs()

    assert results["webhooks"] == 1
    assert len(receiver.received) == 1


def test_after_the_last_attempt_a_delivery_is_given_up_and_can_be_replayed(users, cases, receiver, api_for):
    from minsheng.api.services import webhooks

    endpoint_for(users, receiver.url, events=("case.submit",))
    cases.make()
    outbox_process()
    receiver.fail_first = webhooks.MAX_ATTEMPTS
    now = WebhookDelivery.objects.get().next_attempt_at
    for attempt in range(1, webhooks.MAX_ATTEMPTS + 1):
        webhook_deliveries_send_due(now=now)
        now += backoff(attempt)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, webhooks.MAX_ATTEMPTS)
    assert webhook_deliveries_send_due(now=now + dt.timedelta(days=30)) == 0

    replayed = api_for(users["admin"]).post_json(f"/api/v1/webhooks/deliveries/{delivery.delivery_id}/replay", {})

    assert replayed.status_code == 200, replayed.content
    assert replayed.json()["status"] == "delivered"
    assert receiver.answered[-1] == 204


def test_the_delivery_log_lists_an_endpoints_deliveries(users, cases, api_for):
    endpoint = endpoint_for(users, "http://127.0.0.1:9/all")
    cases.make()
    outbox_process()

    log = api_for(users["admin"]).get(f"/api/v1/webhooks/{endpoint.pk}/deliveries").json()

    assert [d["event_type"] for d in log] == ["case.submit"]
    assert log[0]["status"] == "pending"


def test_a_deactivated_endpoint_gets_no_new_deliveries(users, cases, api_for):
    endpoint = endpoint_for(users, "http://127.0.0.1:9/all")
    api_for(users["admin"]).patch_json(f"/api/v1/webhooks/{endpoint.pk}", {"active": False})
    cases.make()
    outbox_process()

    assert not WebhookDelivery.objects.exists()


def test_rotating_the_secret_shows_the_new_one(users, api_for):
    endpoint = endpoint_for(users, "http://127.0.0.1:9/all")
    old = endpoint.secret

    body = api_for(users["admin"]).patch_json(f"/api/v1/webhooks/{endpoint.pk}", {"rotate_secret": True}).json()

    endpoint.refresh_from_db()
    assert body["secret"] == endpoint.secret != old
