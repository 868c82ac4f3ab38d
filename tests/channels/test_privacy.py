"""Personal data in the channels' records: encrypted at rest with a blind index beside each
phone, masked on pages and in exports, re-encrypted by `rotate-keys`, erased by the retention
purge and by a resident's erasure request, and the data step of the migration."""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import io
import types

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from minsheng.cases.models import Case
from minsheng.cases.privacy import erasure_match, personal_data_purge, resident_data_erase
from minsheng.channels import services
from minsheng.channels.choices import AnswerLimit, PlaceKind, QuestionKind
from minsheng.channels.models import (
    Forum,
    ForumAttendee,
    ForumIssue,
    ImportRow,
    SuggestionNote,
    Survey,
    SurveyAnswer,
    SurveyResponse,
    Visit,
)
from minsheng.channels.services.surveys import AlreadyAnswered
from minsheng.core import crypto
from minsheng.core.models import AuditEntry
from tests.channels.conftest import xlsx_bytes
from tests.factories import unit

PHONE = "13812345678"
OTHER_PHONE = "13900001111"


def raw(table: str, pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def survey(users, *, limit=AnswerLimit.PHONE) -> Survey:
    made = services.survey_create(acting_user=users["community"], title="停车调查", owner_unit=unit("community:JSL03"), answer_limit=limit)
    services.survey_question_add(survey=made, section=made.sections.get(), acting_user=users["community"], kind=QuestionKind.TEXT,
                                 text="还有什么意见？")
    services.survey_publish(survey=made, acting_user=users["community"])
    return made


def answer(made: Survey, text="楼下停车太乱了，我是张三，电话13812345678", phone=PHONE) -> SurveyResponse:
    question = made.questions.get()
    return services.survey_response_submit(survey=made, answers={question.pk: text}, phone=phone, community=unit("community:JSL03"))


def note(box, *, name="张三", phone=PHONE, address="伊河路26号院3号楼") -> SuggestionNote:
    return services.note_submit_online(box=box, text="楼道灯坏了一个月，晚上看不见路", name=name, phone=phone, address=address)


def forum(users, *, held_on=None, minutes="王大爷反映了楼道问题，联系电话13812345678") -> Forum:
    return services.forum_record(
        acting_user=users["community"], kind="community", title="居民议事会", held_on=held_on or timezone.localdate(), place="社区会议室",
        host_unit=unit("community:JSL03"), minutes=minutes,
        attendees=[{"name": "王大爷", "organisation": "居民代表"}, {"name": "赵书记", "organisation": "社区党委"}],
        issues=[{"text": "三号楼楼顶漏水，雨天墙面渗水", "raised_by": "王大爷", "phone": PHONE, "address": "伊河路26号院3号楼"}],
    )


def visit(users, *, phone=PHONE, key="draft-key-0001", place_kind=PlaceKind.HOUSEHOLD, place="伊河路26号院3号楼401室",
          situation="王大爷说电话13812345678随时能打") -> Visit:
    made, _created = services.visit_record(
        acting_user=users["community"], community=unit("community:JSL03"), visited_at=timezone.now(), place=place, place_kind=place_kind,
        people_met="王大爷、李阿姨", phone=phone, situation=situation, findings=["楼道灯坏了，晚上上下楼看不见"],
        client_key=key,
    )
    return made


# ---------------------------------------------------------------- at rest


def test_every_personal_field_is_encrypted_at_rest_with_a_blind_index_beside_the_phone(users, box):
    response = answer(survey(users))
    n = note(box)
    meeting = forum(users)
    issue = meeting.issues.get()
    v = visit(users)
    stored = {
        ("channels_surveyresponse", response.pk): ["phone"],
        ("channels_suggestionnote", n.pk): ["name", "phone", "address"],
        ("channels_forumissue", issue.pk): ["raised_by", "phone", "address"],
        ("channels_visit", v.pk): ["place", "people_met", "phone"],
    }
    for (table, pk), columns in stored.items():
        for column in columns:
            assert raw(table, pk, column).startswith("ms1:"), (table, column)
    for attendee in ForumAttendee.objects.filter(forum=meeting):
        assert raw("channels_forumattendee", attendee.pk, "name").startswith("ms1:")
    # The blind index finds each record by the phone however it is written.
    for model in (SurveyResponse, SuggestionNote, ForumIssue, Visit):
        assert model.objects.filter(phone="138 1234 5678").count() == 1, model
    assert Visit.objects.get().phone == PHONE and v.findings.get().case.reporter_phone == PHONE  # the appeal can call back


def test_one_answer_per_phone_is_keyed_on_the_blind_index_not_the_secret_key(users, settings):
    made = survey(users)
    response = answer(made)
    assert response.limit_key == "p:" + crypto.blind_index(PHONE)
    with pytest.raises(AlreadyAnswered):
        answer(made, phone="+86 138-1234-5678")


def test_after_an_index_key_change_a_phone_still_answers_once(users, settings):
    made = survey(users)
    answer(made)
    settings.MINSHENG_INDEX_KEY = base64.urlsafe_b64encode(b"J" * 32).decode()
    call_command("rotate_keys", "--reindex")
    with pytest.raises(AlreadyAnswered):
        answer(made)


def test_rotate_keys_re_encrypts_the_channels_records(users, box, settings, capsys):
    n = note(box)
    meeting = forum(users)
    v = visit(users)
    new_key = "k9:" + base64.urlsafe_b64encode(b"N" * 32).decode()
    settings.MINSHENG_DATA_KEYS = f"{new_key},{settings.MINSHENG_DATA_KEYS}"
    call_command("rotate_keys", "--batch-size", "2")
    settings.MINSHENG_DATA_KEYS = new_key  # the old key is gone: everything must read under the new one
    assert raw("channels_suggestionnote", n.pk, "phone").startswith("ms1:k9:")
    assert raw("channels_forumattendee", meeting.attendees.first().pk, "name").startswith("ms1:k9:")
    assert raw("channels_visit", v.pk, "place").startswith("ms1:k9:")
    n.refresh_from_db()
    v.refresh_from_db()
    assert (n.name, n.phone, v.place) == ("张三", PHONE, "伊河路26号院3号楼401室")
    assert "channels.SuggestionNote" in capsys.readouterr().out


# ---------------------------------------------------------------- masked by default


def test_pages_show_personal_data_masked(login, users, box):
    # Free text (minutes, situation) is shown as written, as an appeal's text is; the purge
    # and erasure blank the phones and names in it.
    note(box)
    meeting = forum(users, minutes="会议听取了居民意见。")
    v = visit(users, situation="独居老人，腿脚不便")
    client = login(users["community"])
    pages = {
        reverse("channels:box", args=[box.pk]) + "?status=": ("张*", "138****5678", "伊河路**号院*号楼"),
        reverse("channels:forum", args=[meeting.pk]): ("王**", "赵**"),
        reverse("channels:forum_ledger", args=[meeting.pk]): ("王**", "赵**"),
        reverse("channels:visit", args=[v.pk]): ("伊河路**号院*号楼***室", "王**、李**", "138****5678"),
        reverse("channels:visits"): ("伊河路**号院*号楼***室",),
        reverse("channels:visit_ledger"): ("伊河路**号院*号楼***室", "王**、李**"),
    }
    for url, shown in pages.items():
        html = client.get(url).content.decode()
        for text in shown:
            assert text in html, (url, text)
        for secret in ("张三", "王大爷", "赵书记", PHONE, "26号院", "401室"):
            assert secret not in html, (url, secret)


def test_a_shop_visited_is_not_personal_data_and_stays_readable(users):
    v = visit(users, place_kind=PlaceKind.SHOP, place="建设路18号好邻居超市", phone="")
    assert v.place_masked == "建设路18号好邻居超市"


def _cells(content: bytes) -> str:
    sheet = load_workbook(io.BytesIO(content)).active
    return " ".join(str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None)


def test_exports_show_personal_data_masked(login, users):
    made = survey(users)
    answer(made, text="停车位太少")
    forum(users, minutes="")
    visit(users, situation="")
    client = login(users["community"])
    survey_cells = _cells(client.get(reverse("channels:survey_export", args=[made.pk])).content)
    forum_cells = _cells(client.get(reverse("channels:forum_export")).content)
    visit_cells = _cells(client.get(reverse("channels:visit_ledger_export")).content)
    assert "138****5678" in survey_cells and PHONE not in survey_cells
    assert "王**" in forum_cells and "王大爷" not in forum_cells
    assert "王**、李**" in visit_cells and "401室" not in visit_cells and "王大爷" not in visit_cells


def test_the_source_link_on_a_case_masks_the_household(users):
    from django.template import Context, Template
    from django.test import RequestFactory

    v = visit(users)
    case = v.findings.get().case
    request = RequestFactory().get("/")
    request.user = users["community"]
    html = Template("{% load channels %}{% channel_source case %}").render(Context({"case": case, "request": request}))
    assert "伊河路**号院*号楼***室" in html and "401室" not in html


def test_the_import_report_does_not_repeat_phones_or_house_numbers():
    from minsheng.channels.importing import check_file

    checked = check_file(xlsx_bytes([("路灯不亮已经三天了", "火星大街99号", "张三", "1381234", "", "")]), "f.xlsx")
    messages = " ".join(e.message for e in checked.errors)
    assert "1381234" not in messages and "99" not in messages and "火星大街**号" in messages


def test_an_imported_batch_keeps_no_names_phones_or_addresses(login, users, engine):
    from tests.channels.conftest import good_rows

    bad = ("路灯", "伊河路26号院", "李四", "13900001111", "", "")
    batch = services.import_batch_create(acting_user=users["operator"], filename="f.xlsx", content=xlsx_bytes([*good_rows(2), bad]))
    services.import_batch_start(batch=batch, acting_user=users["operator"], valid_only=True)
    services.import_batch_step(batch=batch, acting_user=users["operator"])
    batch.refresh_from_db()
    assert batch.status == "done" and batch.personal_data_erased_at is not None
    for row in ImportRow.objects.filter(batch=batch):
        assert (row.values["name"], row.values["phone"], row.values["address"]) == ("", "", ""), row.row_number
    assert Case.objects.filter(reporter_phone=PHONE).count() == 2  # the appeals hold them


# ---------------------------------------------------------------- retention purge


def _close(case: Case, *, days_ago: int) -> None:
    Case.objects.filter(pk=case.pk).update(state="closed", closed_at=timezone.now() - dt.timedelta(days=days_ago))


def _age(model, pk: int, field: str, days: int) -> None:
    value = timezone.now() - dt.timedelta(days=days)
    model.objects.filter(pk=pk).update(**{field: value.date() if field == "held_on" else value})


def test_purge_erases_old_channel_records_once_their_appeals_are_done(users, box, settings, capsys):
    settings.MINSHENG_RETENTION_DAYS = 365
    old_note, live_note, recent_note = note(box), note(box, phone=OTHER_PHONE), note(box)
    for n in (old_note, live_note):
        _age(SuggestionNote, n.pk, "submitted_at", 400)
    old_case = services.note_moderate(note=old_note, acting_user=users["community"], decision="appeal").case
    services.note_moderate(note=live_note, acting_user=users["community"], decision="appeal")  # its appeal is still open
    _close(old_case, days_ago=380)
    response = answer(survey(users))
    _age(SurveyResponse, response.pk, "submitted_at", 400)
    meeting = forum(users)
    _age(Forum, meeting.pk, "held_on", 400)
    _close(meeting.issues.get().case, days_ago=370)
    v = visit(users)
    _age(Visit, v.pk, "visited_at", 400)
    _close(v.findings.get().case, days_ago=370)

    dry = personal_data_purge(dry_run=True)
    assert dry.records["意见箱留言"] == 1 and dry.records["问卷答卷"] == 1 and dry.records["走访记录"] == 1
    assert SuggestionNote.objects.filter(personal_data_erased_at__isnull=False).count() == 0
    call_command("purge")
    assert "意见箱留言: 1" in capsys.readouterr().out

    old_note.refresh_from_db()
    assert (old_note.name, old_note.phone, old_note.phone_index, old_note.address) == ("", "", "", "")
    assert old_note.personal_data_erased_at is not None and "楼道灯坏了" in old_note.text
    for kept in (live_note, recent_note):
        kept.refresh_from_db()
        assert kept.name == "张三" and kept.personal_data_erased_at is None
    response.refresh_from_db()
    assert (response.phone, response.limit_key) == ("", None)
    assert "13812345678" not in SurveyAnswer.objects.get(response=response).text_value
    issue = meeting.issues.get()
    assert (issue.raised_by, issue.phone, issue.address) == ("", "", "") and "漏水" in issue.text
    assert set(meeting.attendees.values_list("organisation", flat=True)) == {"居民代表", "社区党委"}
    assert all(a.name == "" for a in meeting.attendees.all())
    meeting.refresh_from_db()
    assert PHONE not in meeting.minutes and "王大爷" not in meeting.minutes
    v.refresh_from_db()
    assert (v.place, v.people_met, v.phone) == ("", "", "") and PHONE not in v.situation and "王大爷" not in v.situation
    detail = AuditEntry.objects.filter(action="privacy.purge").latest("id").detail
    assert detail["records"]["意见箱留言"] == 1
    assert personal_data_purge().records == {}  # nothing left: safe to run again


def test_a_record_whose_appeal_is_still_open_keeps_its_data(users, settings):
    settings.MINSHENG_RETENTION_DAYS = 30
    v = visit(users)
    _age(Visit, v.pk, "visited_at", 60)  # old, but its appeal is still being handled
    assert personal_data_purge(dry_run=True).records.get("走访记录", 0) == 0


# ---------------------------------------------------------------- a resident's erasure request


def test_an_erasure_request_by_phone_reaches_every_channel_record(users, box, login):
    response = answer(survey(users, limit=AnswerLimit.NONE))
    n = note(box)
    issue = forum(users).issues.get()
    v = visit(users)
    other = note(box, name="李四", phone=OTHER_PHONE)
    pending = services.import_batch_create(acting_user=users["operator"], filename="f.xlsx",
                                           content=xlsx_bytes([("路灯", "", "张三", PHONE, "", "")]))
    match = erasure_match(phone=PHONE)
    assert match.records["问卷答卷"] == 1 and match.records["意见箱留言"] == 1 and match.records["导入行"] == 1

    result = resident_data_erase(acting_user=users["admin"], reason="申请编号 2026-007", phone="138 1234 5678")
    assert result.records == {"问卷答卷": 1, "意见箱留言": 1, "座谈会问题": 1, "走访记录": 1, "导入行": 1}
    for record in (response, n, issue, v):
        record.refresh_from_db()
        assert record.phone == "" and record.personal_data_erased_at is not None, type(record)
    assert n.name == "" and issue.raised_by == "" and v.people_met == ""
    assert ImportRow.objects.get(batch=pending).values["phone"] == ""
    other.refresh_from_db()
    assert other.name == "李四" and other.phone == OTHER_PHONE
    entry = AuditEntry.objects.filter(action="privacy.erase").latest("id")
    assert entry.detail["records"]["意见箱留言"] == 1


def test_a_resident_who_only_answered_a_survey_can_be_erased(users):
    answer(survey(users))
    assert not erasure_match(phone=PHONE).empty
    resident_data_erase(acting_user=users["admin"], reason="来电申请", phone=PHONE)
    assert SurveyResponse.objects.get().phone == ""
    assert erasure_match(phone=PHONE).empty


def test_an_erasure_by_tracking_code_reaches_the_record_the_appeal_came_from(users, box):
    n = note(box)
    case = services.note_moderate(note=n, acting_user=users["community"], decision="appeal").case
    untouched = note(box, name="李四", phone=OTHER_PHONE)
    resident_data_erase(acting_user=users["admin"], reason="申请", tracking_code=case.tracking_code)
    n.refresh_from_db()
    untouched.refresh_from_db()
    assert (n.name, n.phone, n.address) == ("", "", "") and untouched.name == "李四"


def test_the_erasure_page_lists_the_channel_records_found(login, users):
    answer(survey(users))
    html = login(users["admin"]).post(reverse("desk:erasure"), {"phone": PHONE, "reason": "申请"}).content.decode()
    assert "问卷答卷" in html


# ---------------------------------------------------------------- the migration's data step


def test_the_data_step_encrypts_plain_rows_and_reverses(users):
    from django.apps import apps

    migration = importlib.import_module("minsheng.channels.migrations.0002_personal_data_protected")
    meeting = forum(users)
    issue = meeting.issues.get()
    attendee = meeting.attendees.first()
    phone_limited = survey(users)
    response = answer(phone_limited)
    with connection.cursor() as cursor:  # as the rows were before the migration
        cursor.execute("UPDATE channels_forumattendee SET name = %s WHERE id = %s", ["王大爷", attendee.pk])
        cursor.execute("UPDATE channels_forumissue SET address = %s, phone_index = '' WHERE id = %s", ["伊河路26号院", issue.pk])
        cursor.execute("UPDATE channels_surveyresponse SET phone_index = '', limit_key = 'old-secret-key-hash' WHERE id = %s", [response.pk])

    migration.protect_existing(apps, None)
    assert raw("channels_forumattendee", attendee.pk, "name").startswith("ms1:")
    assert raw("channels_forumissue", issue.pk, "address").startswith("ms1:")
    issue.refresh_from_db()
    response.refresh_from_db()
    assert issue.address == "伊河路26号院" and issue.phone_index == crypto.blind_index(PHONE)
    assert response.limit_key == "p:" + crypto.blind_index(PHONE)

    migration.unprotect(apps, types.SimpleNamespace(connection=connection, quote_name=connection.ops.quote_name))
    assert raw("channels_forumattendee", attendee.pk, "name") == "王大爷"
    assert raw("channels_forumissue", issue.pk, "address") == "伊河路26号院"


def test_opening_a_note_in_the_django_admin_is_an_audited_unmasked_read(login, users, box):
    n = note(box)
    users["admin"].is_staff = users["admin"].is_superuser = True
    users["admin"].save()
    response = login(users["admin"]).get(reverse("admin:channels_suggestionnote_change", args=[n.pk]))
    assert response.status_code == 200 and "张三" in response.content.decode()
    entry = AuditEntry.objects.get(action="unmask")
    assert entry.target == f"channels.suggestionnote:{n.pk}" and entry.actor == users["admin"]


def test_a_moderator_reveals_a_note_writers_phone_and_it_is_audited(login, users, box):
    n = note(box)
    client = login(users["community"])
    page = client.get(reverse("channels:box", args=[box.pk]) + "?status=").content.decode()
    url = reverse("channels:reveal", args=["note", n.pk, "phone"])
    assert url in page and PHONE not in page
    response = client.post(url)
    assert response.status_code == 200 and PHONE in response.content.decode()
    entry = AuditEntry.objects.get(action="unmask")
    assert (entry.target, entry.detail, entry.actor) == (f"channels.suggestionnote:{n.pk}", {"field": "phone"}, users["community"])


def test_a_leader_and_another_community_may_not_reveal(login, users, box, client):
    n = note(box)
    url = reverse("channels:reveal", args=["note", n.pk, "phone"])
    assert login(users["leader"]).post(url).status_code == 403
    client.logout()
    assert login(users["other_community"]).post(url).status_code == 404
    assert login(users["community"]).post(reverse("channels:reveal", args=["note", n.pk, "text"])).status_code == 404
    assert not AuditEntry.objects.filter(action="unmask").exists()


def test_purge_drops_the_rows_of_an_import_left_unfinished(users, settings):
    from minsheng.channels.models import ImportBatch

    settings.MINSHENG_RETENTION_DAYS = 30
    batch = services.import_batch_create(acting_user=users["operator"], filename="f.xlsx",
                                         content=xlsx_bytes([("楼道灯坏了一个月没人修", "", "张三", PHONE, "", "")]))
    assert ImportRow.objects.get(batch=batch).values["phone"] == PHONE  # checked, waiting for "import"
    assert personal_data_purge().records.get("导入批次", 0) == 0  # too recent
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    assert personal_data_purge().records["导入批次"] == 1
    row = ImportRow.objects.get(batch=batch)
    assert (row.values["name"], row.values["phone"]) == ("", "") and row.values["text"] == "楼道灯坏了一个月没人修"
