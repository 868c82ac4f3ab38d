"""Optional two-factor login (TOTP): enrolment with a QR code, the code step after the
password, replay refusal, lock-out after wrong codes, the admin's reset, and compulsory
enrolment for listed roles."""

from __future__ import annotations

import pyotp
import pytest
from django.urls import reverse
from django.utils import timezone

from minsheng.core import twofactor
from minsheng.core.models import AuditEntry, User
from tests.factories import PASSWORD


def enrol(client, user) -> str:
    client.force_login(user)
    client.post(reverse("desk:twofactor_setup"), {"step": "start"})
    secret = client.session[twofactor.SESSION_PENDING]
    response = client.post(reverse("desk:twofactor_setup"), {"step": "confirm", "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    return secret


def test_enrolment_shows_a_qr_code_and_needs_a_valid_code(client, users):
    client.force_login(users["dispatcher"])
    html = client.post(reverse("desk:twofactor_setup"), {"step": "start"}).content.decode()
    assert 'src="data:image/svg+xml;base64,' in html
    response = client.post(reverse("desk:twofactor_setup"), {"step": "confirm", "code": "000000"})
    assert response.status_code == 400
    assert User.objects.get(pk=users["dispatcher"].pk).totp_enabled_at is None


def test_the_secret_is_stored_encrypted(client, users):
    from django.db import connection

    secret = enrol(client, users["dispatcher"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM core_user WHERE id = %s", [users["dispatcher"].pk])
        stored = cursor.fetchone()[0]
    assert stored.startswith("ms1:") and secret not in stored
    assert AuditEntry.objects.filter(action="2fa.enable", actor=users["dispatcher"]).exists()


def test_after_the_password_the_code_is_asked_for(client, users):
    secret = enrol(client, users["dispatcher"])
    client.logout()
    response = client.post(reverse("login"), {"username": "dispatcher", "password": PASSWORD})
    assert response.status_code == 302
    response = client.get(reverse("desk:queue", args=["all"]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("desk:twofactor_verify"))
    totp = pyotp.TOTP(secret)
    next_code = totp.at(timezone.now().timestamp() + totp.interval)  # the current one was spent on enrolment
    response = client.post(reverse("desk:twofactor_verify") + "?next=/desk/queue/all/", {"code": next_code, "next": "/desk/queue/all/"})
    assert response.status_code == 302 and response["Location"] == "/desk/queue/all/"
    assert client.get(reverse("desk:queue", args=["all"])).status_code == 200
    assert AuditEntry.objects.filter(action="login.2fa_success").exists()


def test_a_code_is_accepted_once(users):
    user = users["dispatcher"]
    secret = pyotp.random_base32()
    User.objects.filter(pk=user.pk).update(totp_secret=secret, totp_enabled_at=timezone.now())
    user.refresh_from_db()
    code = pyotp.TOTP(secret).now()
    assert twofactor.code_check(user=user, code=code)
    user.refresh_from_db()
    assert not twofactor.code_check(user=user, code=code)


def test_wrong_codes_end_the_session(client, users):
    enrol(client, users["dispatcher"])
    client.logout()
    client.post(reverse("login"), {"username": "dispatcher", "password": PASSWORD})
    for _ in range(twofactor.MAX_FAILURES - 1):
        assert client.post(reverse("desk:twofactor_verify"), {"code": "000000"}).status_code == 400
    response = client.post(reverse("desk:twofactor_verify"), {"code": "000000"})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="login.2fa_failure").count() == twofactor.MAX_FAILURES


def test_the_admin_can_reset_a_lost_phone(client, users):
    enrol(client, users["dispatcher"])
    admin = users["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    client.post(reverse("admin:core_user_changelist"), {"action": "reset_two_factor", "_selected_action": [users["dispatcher"].pk]})
    assert User.objects.get(pk=users["dispatcher"].pk).totp_enabled_at is None
    assert AuditEntry.objects.get(action="2fa.reset").target == "user:dispatcher"


def test_a_user_can_turn_it_off_with_a_code(client, users):
    secret = enrol(client, users["dispatcher"])
    totp = pyotp.TOTP(secret)
    code = totp.at(timezone.now().timestamp() + totp.interval)  # the next step's code (this one was used)
    assert client.post(reverse("desk:twofactor_setup"), {"step": "disable", "code": code}).status_code == 302
    assert User.objects.get(pk=users["dispatcher"].pk).totp_enabled_at is None


@pytest.mark.parametrize("role, sent_to_setup", [("admin", True), ("operator", False)])
def test_listed_roles_must_enrol(client, users, settings, role, sent_to_setup):
    settings.MINSHENG_2FA_REQUIRED_ROLES = ["admin"]
    client.force_login(users[role])
    response = client.get(reverse("desk:notifications"))
    assert (response.status_code == 302 and response["Location"] == reverse("desk:twofactor_setup")) == sent_to_setup
