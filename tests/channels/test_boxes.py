"""Suggestion boxes (群众意见箱): one per community and a district-wide one, anonymous notes
online, paper notes in batches, moderation before a note becomes an appeal."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from minsheng.cases.errors import InvalidInput
from minsheng.cases.models import Case
from minsheng.channels import selectors, services
from minsheng.channels.models import SuggestionBox, SuggestionNote
from minsheng.channels.services.boxes import note_suspicion
from minsheng.core.models import Unit
from tests.factories import unit

pytestmark = pytest.mark.django_db


def note_data(**over):
    data = {"text": "小区南门路灯坏了一个多月，晚上出门很不安全", "address": "绿东村小区南门", "name": "", "phone": "",
            "is_anonymous": "on", "token": "t" * 24}
    data.update(over)
    return data


def test_district_staff_open_a_box_for_every_community_and_the_district(users):
    missing = selectors.boxes_missing(users["admin"])
    opened = services.boxes_open(acting_user=users["admin"], units=missing)
    assert len(opened) == Unit.objects.filter(kind="community", active=True).count() + 1
    assert SuggestionBox.objects.filter(unit__kind="district").count() == 1
    assert selectors.boxes_missing(users["admin"]) == []
    assert services.boxes_open(acting_user=users["admin"], units=missing) == []  # opening again changes nothing


def test_a_street_office_opens_boxes_for_its_own_communities_only(users):
    missing = selectors.boxes_missing(users["street"])
    assert missing and all(u.parent == unit("street:JSL") for u in missing)
    services.boxes_open(acting_user=users["street"], units=missing)
    assert set(SuggestionBox.objects.values_list("unit__parent__code", flat=True)) == {"JSL"}


def test_a_resident_drops_an_anonymous_note_online(client, box):
    page = client.get(f"/box/{box.token}/")
    assert page.status_code == 200 and str(box) in page.content.decode()
    response = client.post(f"/box/{box.token}/", note_data(name="王五", phone="13700001111"))
    assert response.status_code == 302 and response["Location"] == f"/box/{box.token}/done/"
    note = SuggestionNote.objects.get()
    assert note.is_anonymous and note.name == "" and note.phone == ""  # anonymous wins over what was typed
    assert note.status == "pending" and note.source == "online" and note.case is None


def test_the_same_note_form_sent_twice_files_one_note(client, box):
    client.post(f"/box/{box.token}/", note_data())
    client.post(f"/box/{box.token}/", note_data())
    assert SuggestionNote.objects.count() == 1


def test_a_note_with_contact_details_keeps_them(client, box):
    client.post(f"/box/{box.token}/", note_data(is_anonymous="", name="王五", phone="137-0000-1111"))
    note = SuggestionNote.objects.get()
    assert (note.is_anonymous, note.name, note.phone) == (False, "王五", "13700001111")


def test_a_bad_phone_is_refused(client, box):
    response = client.post(f"/box/{box.token}/", note_data(is_anonymous="", phone="12345"))
    assert response.status_code == 400 and not SuggestionNote.objects.exists()


def test_a_closed_box_takes_no_notes(client, box, users):
    services.box_set_active(box=box, acting_user=users["community"], active=False)
    assert client.post(f"/box/{box.token}/", note_data()).status_code == 410
    assert not SuggestionNote.objects.exists()


@pytest.mark.parametrize("text, flagged", [
    ("加微信 abc123 代开发票，价格优惠", True),
    ("访问 www.example.com 领取返利", True),
    ("啊啊啊啊啊啊啊啊啊啊啊", True),
    ("你们这帮王八蛋什么都不管", True),
    ("小区南门路灯坏了一个多月，晚上出门很不安全", False),
])
def test_spam_and_abuse_are_flagged_for_the_moderator(text, flagged):
    assert bool(note_suspicion(text)) is flagged


def test_staff_enter_a_batch_of_paper_notes(login, users, box):
    client = login(users["community"])
    data = {"collected_on": timezone.localdate().isoformat(), "notes-TOTAL_FORMS": "3", "notes-INITIAL_FORMS": "0",
            "notes-MIN_NUM_FORMS": "0", "notes-MAX_NUM_FORMS": "200",
            "notes-0-text": "三号楼楼道灯不亮", "notes-0-name": "李阿姨", "notes-0-phone": "13800002222",
            "notes-1-text": "希望小区多装几个健身器材",
            "notes-2-text": ""}
    response = client.post(reverse("channels:paper_entry", args=[box.pk]), data)
    assert response.status_code == 302
    notes = list(SuggestionNote.objects.order_by("id"))
    assert [n.source for n in notes] == ["paper", "paper"] and notes[0].batch_id == notes[1].batch_id
    assert (notes[0].name, notes[0].is_anonymous, notes[1].is_anonymous) == ("李阿姨", False, True)
    assert notes[0].entered_by == users["community"]


def test_paper_notes_cannot_be_dated_in_the_future(users, box):
    with pytest.raises(InvalidInput):
        services.notes_enter_paper(box=box, acting_user=users["community"], collected_on=timezone.localdate() + dt.timedelta(days=1),
                                   notes=[{"text": "明天的留言"}])


def test_moderation_turns_a_note_into_an_appeal_of_the_box_s_community(login, users, box, django_capture_on_commit_callbacks, monkeypatch):
    routed = []
    monkeypatch.setattr("minsheng.channels.services.common.route_new_case", routed.append)
    note = services.note_submit_online(box=box, text="小区南门路灯坏了一个多月，晚上出门很不安全", address="南门", name="王五", phone="13700001111")
    with django_capture_on_commit_callbacks(execute=True):
        response = login(users["community"]).post(reverse("channels:note_moderate", args=[note.pk]), {"decision": "appeal", "comment": "属实"})
    assert response.status_code == 302
    note.refresh_from_db()
    case = note.case
    assert note.status == "appeal" and note.moderated_by == users["community"] and note.moderation_note == "属实"
    assert (case.channel, case.source_type, case.source_id) == ("suggestion_box", "box_note", str(note.pk))
    assert case.community == unit("community:JSL03") and case.street == unit("street:JSL")
    assert (case.reporter_name, case.reporter_phone) == ("王五", "13700001111")
    assert routed == [case]


def test_an_anonymous_note_becomes_an_anonymous_appeal(users, box):
    note = services.note_submit_online(box=box, text="菜市场门口占道经营，早上车都过不去", is_anonymous=True)
    note = services.note_moderate(note=note, acting_user=users["admin"], decision="appeal")
    assert note.case.is_anonymous and note.case.reporter_phone == ""


def test_spam_is_set_aside_and_never_becomes_an_appeal(users, box):
    note = services.note_submit_online(box=box, text="加微信 abc123 代开发票")
    services.note_moderate(note=note, acting_user=users["community"], decision="spam")
    note.refresh_from_db()
    assert note.status == "spam" and note.case is None and not Case.objects.exists()


def test_a_note_that_became_an_appeal_cannot_be_decided_again(users, box):
    note = services.note_submit_online(box=box, text="小区南门路灯坏了一个多月")
    services.note_moderate(note=note, acting_user=users["admin"], decision="appeal")
    with pytest.raises(InvalidInput):
        services.note_moderate(note=note, acting_user=users["admin"], decision="spam")
    assert Case.objects.count() == 1


def test_the_moderation_queue_lists_pending_notes_first(login, users, box):
    services.note_submit_online(box=box, text="小区南门路灯坏了一个多月")
    done = services.note_submit_online(box=box, text="表扬社区王书记工作认真负责")
    services.note_moderate(note=done, acting_user=users["admin"], decision="no_action")
    html = login(users["community"]).get(reverse("channels:notes")).content.decode()
    assert "小区南门路灯坏了一个多月" in html and "表扬社区王书记" not in html
    html = login(users["community"]).get(reverse("channels:notes") + "?status=no_action").content.decode()
    assert "表扬社区王书记" in html


def test_the_box_poster_and_qr_code(login, users, box, client):
    qr = client.get(f"/box/{box.token}/qr.png")
    assert qr.status_code == 200 and qr.content[:4] == b"\x89PNG"
    html = login(users["community"]).get(reverse("channels:box_poster", args=[box.pk])).content.decode()
    assert f"/box/{box.token}/qr.png" in html and "扫码留言" in html
