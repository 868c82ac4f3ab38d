"""Personal data on cases: lookups through the blind index, masking by default, audited
reveals, the retention purge, a resident's erasure request, key rotation and the data
migration that encrypted the rows already there."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from minsheng.cases import services
from minsheng.cases.choices import CaseState
from minsheng.cases.errors import ActionNotAllowed, InvalidInput
from minsheng.cases.models import Attachment, Case, CaseEvent, CoReporter
from minsheng.cases.privacy import case_personal_data_reveal, cases_purge_personal_data, resident_data_erase
from minsheng.cases.selectors import caller_history, case_by_tracking
from minsheng.core import crypto
from minsheng.core.models import AuditEntry


def raw(table: str, pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_caller_history_finds_a_caller_by_the_blind_index(users, cases):
    earlier = cases.make(CaseState.CLOSED, phone="13812345678")
    cases.make(CaseState.SUBMITTED, phone="13912345678")
    assert list(caller_history(user=users["operator"], phone="138 1234 5678")) == [earlier]
    assert list(caller_history(user=users["operator"], phone="12345")) == []


def test_caller_history_stays_scoped(users, cases):
    cases.make(CaseState.DISPATCHED, unit_key="dept:CGJ", community_key=None, phone="13812345678")
    assert list(caller_history(user=users["other_dept"], phone="13812345678")) == []


def test_tracking_checks_the_plain_last_four_digits(cases):
    case = cases.make(CaseState.SUBMITTED, phone="13812345678")
    assert case_by_tracking(tracking_code=case.tracking_code.lower(), phone_last4="5678") == case
    assert case_by_tracking(tracking_code=case.tracking_code, phone_last4="1234") is None


def test_a_reveal_returns_the_value_and_is_audited(users, cases):
    case = services.case_submit(text="楼道灯坏了一个月没人修", channel="web", reporter_id_number="410102199003071230",
                                address="伊河路26号院")
    value = case_personal_data_reveal(acting_user=users["operator"], case=case, field="reporter_id_number", ip="10.0.0.9")
    assert value == "410102199003071230"
    entry = AuditEntry.objects.filter(action="unmask").latest("id")
    assert (entry.actor, entry.target, entry.detail, entry.ip) == (users["operator"], f"case:{case.tracking_code}",
                                                                   {"field": "reporter_id_number"}, "10.0.0.9")


def test_a_leader_and_another_unit_may_not_reveal(users, cases):
    case = cases.make(CaseState.DISPATCHED)
    with pytest.raises(ActionNotAllowed):
        case_personal_data_reveal(acting_user=users["leader"], case=case, field="reporter_phone")
    with pytest.raises(ActionNotAllowed):
        case_personal_data_reveal(acting_user=users["other_street"], case=case, field="address")
    assert not AuditEntry.objects.filter(action="unmask").exists()


# ---------------------------------------------------------------- purge


def _close_long_ago(cases, days: int, **kw) -> Case:
    case = cases.make(CaseState.CLOSED, **kw)
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - dt.timedelta(days=days))
    return case


def test_purge_erases_personal_data_of_cases_closed_past_the_retention(users, cases, settings):
    settings.MINSHENG_RETENTION_DAYS = 365
    old = _close_long_ago(cases, 400, text="楼下垃圾没人清，我是张三，电话13812345678")
    recent = _close_long_ago(cases, 10)
    still_open = cases.make(CaseState.IN_PROGRESS)
    services.case_add_note(case=still_open, acting_user=users["street"], text="已联系")
    assert cases_purge_personal_data(dry_run=True) == 1
    assert cases_purge_personal_data() == 1
    old.refresh_from_db()
    assert (old.reporter_name, old.reporter_phone, old.address, old.reporter_phone_index, old.reporter_phone_last4) == ("", "", "", "", "")
    assert old.personal_data_erased_at is not None
    assert "13812345678" not in old.text and "张三" not in old.text and "垃圾没人清" in old.text
    assert old.category is not None and old.street is not None and old.feedback  # statistics keep what they use
    for case in (recent, still_open):
        case.refresh_from_db()
        assert case.reporter_phone == "13812345678" and case.personal_data_erased_at is None
    assert AuditEntry.objects.get(action="privacy.purge").detail == {"cases": 1, "retention_days": 365}
    assert cases_purge_personal_data() == 0  # nothing left: safe to run again


def test_an_erased_case_can_no_longer_be_tracked(cases, settings):
    settings.MINSHENG_RETENTION_DAYS = 30
    case = _close_long_ago(cases, 40)
    cases_purge_personal_data()
    assert case_by_tracking(tracking_code=case.tracking_code, phone_last4="5678") is None
    assert case_by_tracking(tracking_code=case.tracking_code, phone_last4="") is None


def test_purge_refuses_without_a_retention_period(settings):
    settings.MINSHENG_RETENTION_DAYS = 0
    with pytest.raises(InvalidInput):
        cases_purge_personal_data()


def test_the_purge_command(cases, settings, capsys):
    settings.MINSHENG_RETENTION_DAYS = 30
    _close_long_ago(cases, 40)
    call_command("purge", "--dry-run")
    assert "1 cases' personal data would be erased" in capsys.readouterr().out
    call_command("purge")
    assert Case.objects.filter(personal_data_erased_at__isnull=False).count() == 1


# ---------------------------------------------------------------- a resident's request


def test_an_erasure_request_covers_the_residents_cases_and_co_reports(users, cases, tmp_path):
    mine = cases.make(CaseState.CLOSED, phone="13812345678")
    also_mine = cases.make(CaseState.IN_PROGRESS, phone="13812345678")
    services.case_attach(case=also_mine, content=b"\xff\xd8jpeg", filename="a.jpg", content_type="image/jpeg")
    services.case_contact(case=also_mine, acting_user=users["street"], note="已电话联系13812345678，约定明天上门")
    other = cases.make(CaseState.IN_PROGRESS, phone="13900000000")
    services.case_join(case=other, name="赵六", phone="13812345678", text="我也是13812345678")
    result = resident_data_erase(acting_user=users["admin"], reason="申请编号 2026-001", phone="138-1234-5678", ip="10.0.0.1")
    assert sorted(result.cases) == sorted([mine.tracking_code, also_mine.tracking_code]) and result.co_reports == 1
    for case in (mine, also_mine):
        case.refresh_from_db()
        assert case.reporter_phone == "" and case.personal_data_erased_at is not None
    assert not Attachment.objects.filter(case=also_mine).exists()
    assert "13812345678" not in CaseEvent.objects.get(case=also_mine, action="contact").reason
    other.refresh_from_db()
    assert other.reporter_phone == "13900000000"  # someone else's case
    co = CoReporter.objects.get(case=other)
    assert (co.name, co.phone, co.phone_index) == ("", "", "") and "13812345678" not in co.text
    entry = AuditEntry.objects.get(action="privacy.erase")
    assert entry.target == "phone:138****5678" and entry.detail["reason"] == "申请编号 2026-001"
    assert "13812345678" not in str(entry.detail)


def test_only_the_admin_handles_erasure_requests(users, cases):
    cases.make(CaseState.CLOSED)
    for role in ("operator", "dispatcher", "leader", "street"):
        with pytest.raises(ActionNotAllowed):
            resident_data_erase(acting_user=users[role], reason="x", phone="13812345678")
    with pytest.raises(InvalidInput):
        resident_data_erase(acting_user=users["admin"], reason="", phone="13812345678")
    with pytest.raises(InvalidInput):
        resident_data_erase(acting_user=users["admin"], reason="x", phone="13000000000")


# ---------------------------------------------------------------- key rotation


NEW_KEY = "k9:" + base64.urlsafe_b64encode(b"N" * 32).decode()


def test_rotate_keys_re_encrypts_everything_under_the_new_key(users, cases, settings, capsys):
    case = cases.make(CaseState.IN_PROGRESS)
    services.case_join(case=case, name="王五", phone="13600003333")
    settings.MINSHENG_DATA_KEYS = f"{NEW_KEY},{settings.MINSHENG_DATA_KEYS}"
    assert raw("cases_case", case.pk, "reporter_phone").startswith("ms1:test1:")
    call_command("rotate_keys", "--batch-size", "2")
    assert raw("cases_case", case.pk, "reporter_phone").startswith("ms1:k9:")
    assert raw("cases_coreporter", CoReporter.objects.get(case=case).pk, "phone").startswith("ms1:k9:")
    settings.MINSHENG_DATA_KEYS = NEW_KEY  # the old key can go now
    case.refresh_from_db()
    assert case.reporter_phone == "13812345678" and case.reporter_name == "张三"
    assert "rows re-encrypted" in capsys.readouterr().out
    assert AuditEntry.objects.filter(action="privacy.rotate_keys").exists()


def test_rotation_is_resumable(users, cases, settings):
    from minsheng.core.services import _stale_rows

    made = [cases.make(CaseState.SUBMITTED) for _ in range(3)]
    settings.MINSHENG_DATA_KEYS = f"{NEW_KEY},{settings.MINSHENG_DATA_KEYS}"
    # A run interrupted after one row leaves exactly the others to do.
    Case.objects.filter(pk=made[0].pk).get().save()
    fields = [Case._meta.get_field(n) for n in ("address", "reporter_name", "reporter_phone", "reporter_id_number")]
    stale = set(_stale_rows(Case, fields, "k9").values_list("pk", flat=True))
    assert made[0].pk not in stale and {made[1].pk, made[2].pk} <= stale


def test_reindex_recomputes_blind_indexes_after_an_index_key_change(cases, settings):
    case = cases.make(CaseState.SUBMITTED)
    settings.MINSHENG_INDEX_KEY = base64.urlsafe_b64encode(b"J" * 32).decode()
    assert not Case.objects.filter(reporter_phone="13812345678").exists()
    call_command("rotate_keys", "--reindex")
    assert list(Case.objects.filter(reporter_phone="13812345678")) == [case]


# ---------------------------------------------------------------- the migration


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_encrypts_existing_rows_and_reverses(committed_district):
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before, after = [("cases", "0003_feedback_resolved")], [("cases", "0004_personal_data_encrypted")]
    try:
        executor.migrate(before)
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO cases_case (kind, tracking_code, channel, state, version, text, address, reporter_name, reporter_phone,"
                " is_anonymous, urgency, submitted_at, due_flag, reply_text, feedback, feedback_comment, no_feedback,"
                " supervision_level, rehandle_count, reporter_count, dispatch_meta, source_type, source_id)"
                " VALUES ('appeal', 'MIG1', 'web', 'submitted', 1, '旧数据诉求内容', '伊河路26号院', '老王', '13512345678',"
                " %s, 'normal', %s, '', '', '', '', %s, 0, 0, 1, '{}', '', '')",
                [False, timezone.now(), False],
            )
        executor.loader.build_graph()
        executor.migrate(after)
        pk = Case.objects.get(tracking_code="MIG1").pk
        assert raw("cases_case", pk, "reporter_phone").startswith("ms1:")
        assert raw("cases_case", pk, "reporter_phone_last4") == "5678"
        case = Case.objects.get(pk=pk)
        assert (case.reporter_phone, case.reporter_name, case.address) == ("13512345678", "老王", "伊河路26号院")
        assert case.reporter_phone_index == crypto.blind_index("13512345678")

        executor.loader.build_graph()
        executor.migrate(before)
        assert raw("cases_case", pk, "reporter_phone") == "13512345678"
        assert raw("cases_case", pk, "address") == "伊河路26号院"
    finally:
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
