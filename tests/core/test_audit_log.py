"""The audit log records logins (success, failure, lockout), permission and settings changes
made in the admin, exports, unmasked reads and every case transition; its hash chain shows
tampering, also when many write at once (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.urls import reverse

from minsheng.cases import services
from minsheng.cases.choices import CaseState
from minsheng.core.models import AuditEntry, CalendarDay
from minsheng.core.services import audit_record, audit_verify_chain
from tests.factories import PASSWORD, make_user


def actions() -> list[str]:
    return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


def test_a_successful_login_is_recorded_with_the_address(client, users):
    client.post(reverse("login"), {"username": "dispatcher", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    entry = AuditEntry.objects.get(action="login.success")
    assert (entry.actor, entry.ip, entry.target) == (users["dispatcher"], "10.1.2.3", "user:dispatcher")


def test_a_failed_login_and_a_lockout_are_recorded(client, users, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(3):
        client.post(reverse("login"), {"username": "dispatcher", "password": "wrong-password"}, REMOTE_ADDR="10.9.9.9")
    failures = AuditEntry.objects.filter(action="login.failure")
    assert failures.count() >= 2 and failures.first().actor_name == "dispatcher" and failures.first().ip == "10.9.9.9"
    assert AuditEntry.objects.filter(action="login.locked_out", actor_name="dispatcher").exists()
    assert "wrong-password" not in str(list(AuditEntry.objects.values_list("detail", flat=True)))


def test_a_logout_is_recorded(client, users):
    client.force_login(users["operator"])
    client.post(reverse("logout"))
    assert AuditEntry.objects.filter(action="logout", actor=users["operator"]).exists()


def test_every_case_transition_writes_one_entry(users, cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)
    services.case_record_feedback(case=case, rating="satisfied")
    case_entries = AuditEntry.objects.filter(target=f"case:{case.tracking_code}").order_by("id")
    assert [e.action for e in case_entries] == [
        "case.submit", "case.dispatch", "case.acknowledge", "case.reply", "case.approve", "case.feedback_close"]
    assert case_entries[0].actor_name == "resident" and case_entries[1].actor == users["dispatcher"]
    assert case_entries[5].detail["from"] == "awaiting_feedback" and case_entries[5].detail["to"] == "closed"
    assert audit_verify_chain() == []


def test_a_role_change_in_the_admin_is_recorded(client, users):
    client.force_login(users["admin"])
    users["admin"].is_staff = users["admin"].is_superuser = True
    users["admin"].save()
    target = users["operator"]
    data = {"username": target.username, "role": "dispatcher", "unit": target.unit_id, "is_active": "on",
            "last_name": "", "first_name": "", "email": "", "phone": "", "date_joined_0": "2026-01-01", "date_joined_1": "08:00:00"}
    response = client.post(reverse("admin:core_user_change", args=[target.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="user.permissions")
    assert entry.detail["changed"]["role"] == ["operator", "dispatcher"]
    assert AuditEntry.objects.filter(action="admin.change", target=f"core.user:{target.pk}").exists()


def test_a_settings_change_in_the_admin_is_recorded(client, users):
    users["admin"].is_staff = users["admin"].is_superuser = True
    users["admin"].save()
    client.force_login(users["admin"])
    day = CalendarDay.objects.create(date="2026-07-01", is_workday=False, name="防汛", source="local")
    response = client.post(reverse("admin:core_calendarday_delete", args=[day.pk]), {"post": "yes"})
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="admin.delete")
    assert entry.target == f"core.calendarday:{day.pk}" and entry.actor == users["admin"]


def test_a_bulk_admin_delete_records_every_row(client, users):
    users["admin"].is_staff = users["admin"].is_superuser = True
    users["admin"].save()
    client.force_login(users["admin"])
    days = [CalendarDay.objects.create(date=f"2026-07-0{i}", is_workday=False, name="防汛", source="local") for i in (2, 3)]
    client.post(reverse("admin:core_calendarday_changelist"), {"action": "delete_selected", "_selected_action": [d.pk for d in days], "post": "yes"})
    assert AuditEntry.objects.filter(action="admin.delete").count() == 2


def test_editing_an_entry_breaks_the_chain_and_the_command_says_so(db):
    for i in range(3):
        audit_record(action="test", target=str(i))
    call_command("audit", "verify")
    middle = AuditEntry.objects.order_by("id")[1]
    AuditEntry.objects.filter(pk=middle.pk).update(target="forged")
    assert audit_verify_chain() == [middle.pk]
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="BROKEN"):
        call_command("audit", "verify")


def test_deleting_an_entry_breaks_the_chain(db):
    for i in range(3):
        audit_record(action="test", target=str(i))
    ids = list(AuditEntry.objects.order_by("id").values_list("id", flat=True))
    AuditEntry.objects.filter(pk=ids[1]).delete()
    assert audit_verify_chain() == [ids[2]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="concurrent writers need PostgreSQL")
def test_concurrent_writers_keep_one_unbroken_chain():
    barrier = threading.Barrier(8)
    errors = []

    def write(i: int) -> None:
        try:
            barrier.wait()
            for j in range(10):
                audit_record(action="test.concurrent", target=f"{i}:{j}")
        except Exception as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert AuditEntry.objects.filter(action="test.concurrent").count() == 80
    assert audit_verify_chain() == []
