"""The admin of the open interfaces: tokens are listed and revoked (never made there: the key
would have nowhere to be shown once), the district administrator registers webhook endpoints,
and the delivery log replays."""

from __future__ import annotations

import pytest
from django.urls import reverse

from minsheng.api.models import ApiToken, Open311Request, WebhookDelivery, WebhookEndpoint
from minsheng.api.services.tokens import token_create
from minsheng.core.models import AuditEntry, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.org", "root-pass-123", role="admin")


@pytest.mark.parametrize("model", [ApiToken, WebhookEndpoint, WebhookDelivery, Open311Request], ids=lambda m: m.__name__)
def test_every_model_has_a_working_changelist(client, superuser, model):
    client.force_login(superuser)

    assert client.get(reverse(f"admin:api_{model._meta.model_name}_changelist")).status_code == 200


def test_tokens_are_revoked_in_the_admin_but_not_made_there(client, superuser, users):
    token, _key = token_create(user=users["dispatcher"])
    client.force_login(superuser)

    assert client.get(reverse("admin:api_apitoken_add")).status_code == 403
    client.post(reverse("admin:api_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]})

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "key_hash" not in client.get(reverse("admin:api_apitoken_change", args=[token.pk])).content.decode()


def test_the_administrator_registers_an_endpoint_and_sees_its_secret(client, superuser):
    client.force_login(superuser)

    response = client.post(reverse("admin:api_webhookendpoint_add"), {
        "url": "https://12345.example.invalid/hook", "event_types": ["case.dispatch", "case.reply"], "description": "12345", "active": "on",
    }, follow=True)

    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["case.dispatch", "case.reply"]
    assert endpoint.created_by == superuser
    assert endpoint.secret in response.content.decode()
    assert AuditEntry.objects.filter(action="webhook.create").exists()


def test_staff_without_the_admin_role_cannot_manage_endpoints(client):
    from django.contrib.auth.models import Permission

    staff = User.objects.create_user("ops", password="x-pass-12345", role="dispatcher", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__endswith="webhookendpoint"))
    client.force_login(staff)

    assert client.get(reverse("admin:api_webhookendpoint_add")).status_code == 403
