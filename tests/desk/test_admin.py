"""The admin: every table is listed; cases are read-mostly; the audit log cannot be edited
or deleted; calendar edits and permission changes go through the audited services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.urls import reverse

from minsheng.cases.choices import CaseState
from minsheng.cases.models import Case, CaseEvent, Category, DeadlinePolicy
from minsheng.core.models import AuditEntry, CalendarDay, CalendarYear, Notification, OutboxMessage, Unit, User
from minsheng.core.services import audit_record
from tests.factories import unit

MODELS = [Unit, User, CalendarDay, CalendarYear, Category, DeadlinePolicy, Case, CaseEvent, OutboxMessage, AuditEntry, Notification]


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root", "root@example.org", "root-pass-123", role="admin")


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_model_has_a_working_changelist(client, superuser, cases, model):
    cases.make(CaseState.IN_PROGRESS)
    audit_record(action="export", actor=superuser, target="x")
    Notification.objects.create(unit=unit("street:JSL"), text="t", source_key="k")
    assert admin.site.is_registered(model)
    client.force_login(superuser)
    opts = model._meta
    response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert response.status_code == 200
    obj = model.objects.first()
    if obj is not None:
        assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])).status_code == 200


def test_the_unit_list_is_a_tree(client, superuser):
    client.force_login(superuser)
    html = client.get(reverse("admin:core_unit_changelist") + "?street=" + str(unit("street:JSL").pk)).content.decode()
    assert "建设路街道" in html and "└ 计划路社区" in html
    assert html.index("建设路街道") < html.index("└ 计划路社区")


def test_case_state_version_and_deadlines_cannot_be_edited(client, superuser, cases):
    case = cases.make(CaseState.DISPATCHED)
    client.force_login(superuser)
    url = reverse("admin:cases_case_change", args=[case.pk])
    html = client.get(url).content.decode()
    for field in ("state", "version", "resolve_due_at", "acknowledge_due_at", "main_unit", "category"):
        assert f'name="{field}"' not in html, field
    assert 'name="text"' in html
    response = client.post(url, {
        "text": case.text + "（已更正）", "address": case.address, "reporter_name": "张三", "reporter_phone": case.reporter_phone,
        "state": "closed", "version": 99, "resolve_due_at": "2030-01-01 00:00:00",
        **{f"{p}-TOTAL_FORMS": 0 for p in ("assignments", "extensions", "attachments", "co_reporters", "events")},
        **{f"{p}-INITIAL_FORMS": 0 for p in ("assignments", "extensions", "attachments", "co_reporters", "events")},
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.text.endswith("（已更正）")
    assert (fresh.state, fresh.version, fresh.resolve_due_at) == (case.state, case.version, case.resolve_due_at)
    assert AuditEntry.objects.filter(action="admin.case_change", target=f"case:{case.tracking_code}").exists()


def test_cases_cannot_be_added_or_deleted_in_the_admin(client, superuser, cases):
    case = cases.make(CaseState.SUBMITTED)
    client.force_login(superuser)
    assert client.get(reverse("admin:cases_case_add")).status_code == 403
    assert client.get(reverse("admin:cases_case_delete", args=[case.pk])).status_code == 403
    event = case.events.first()
    assert client.get(reverse("admin:cases_caseevent_delete", args=[event.pk])).status_code == 403


def test_the_audit_log_is_read_only(client, superuser):
    entry = audit_record(action="export", actor=superuser, target="x")
    client.force_login(superuser)
    assert client.get(reverse("admin:core_auditentry_add")).status_code == 403
    assert client.get(reverse("admin:core_auditentry_delete", args=[entry.pk])).status_code == 403
    client.post(reverse("admin:core_auditentry_change", args=[entry.pk]), {"action": "tampered"})
    entry.refresh_from_db()
    assert entry.action == "export"
    html = client.get(reverse("admin:core_auditentry_changelist")).content.decode()
    assert "delete_selected" not in html


def test_a_calendar_day_saved_in_the_admin_is_a_local_day_and_audited(client, superuser):
    client.force_login(superuser)
    response = client.post(reverse("admin:core_calendarday_add"), {"date": "2026-06-15", "is_workday": "", "name": "防汛调休", "source": "official"})
    assert response.status_code == 302
    day = CalendarDay.objects.get(date=dt.date(2026, 6, 15))
    assert (day.is_workday, day.source) == (False, CalendarDay.Source.LOCAL)
    assert AuditEntry.objects.filter(action="calendar.change", target="2026-06-15").exists()


def test_a_role_change_is_audited(client, superuser, users):
    client.force_login(superuser)
    user = users["street"]
    url = reverse("admin:core_user_change", args=[user.pk])
    response = client.post(url, {
        "username": user.username, "role": "dispatcher", "unit": unit("district:410102").pk if Unit.objects.filter(kind="district").exists() else "",
        "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00", "last_name": "", "first_name": "", "email": "", "phone": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.role == "dispatcher"
    entry = AuditEntry.objects.get(action="user.permissions", target=f"user:{user.username}")
    assert entry.detail["changed"]["role"] == ["handler", "dispatcher"]
