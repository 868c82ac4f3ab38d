"""Who may do what in the channels: every role × every channel action, checked where it is
enforced (the services) and on the pages (403 for a refused role, 404 for a record outside the
user's part of the org tree).

The records belong to community JSL03 (of street JSL). Roles: the district's admin, operator
and dispatcher; a district leader (reads only); handlers of street JSL, of community JSL03, of
another community (LSZ01) and of a department (CGJ)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from minsheng.cases.errors import ActionNotAllowed
from minsheng.channels import services
from minsheng.channels.models import ImportBatch
from tests.factories import unit

from .conftest import xlsx_bytes

pytestmark = pytest.mark.django_db

ROLES = ["admin", "operator", "dispatcher", "leader", "street", "community", "other_community", "dept"]
DISTRICT = {"admin", "operator", "dispatcher"}
JSL03_WRITERS = DISTRICT | {"street", "community"}
JSL03_READERS = JSL03_WRITERS | {"leader"}


@pytest.fixture
def records(users):
    """One record of every channel, belonging to community JSL03."""
    admin, jsl03 = users["admin"], unit("community:JSL03")
    survey = services.survey_create(acting_user=admin, title="停车问题调查", owner_unit=jsl03)
    question = services.survey_question_add(survey=survey, section=survey.sections.get(), acting_user=admin, kind="text", text="停车难在哪里？")
    services.survey_publish(survey=survey, acting_user=admin)
    response = services.survey_response_submit(survey=survey, answers={question.pk: "晚上小区里根本没有车位，车都停到路上"}, community=jsl03)
    box = services.boxes_open(acting_user=admin, units=[jsl03])[0]
    note = services.note_submit_online(box=box, text="小区南门路灯坏了一个多月")
    forum = services.forum_record(acting_user=admin, kind="community", title="居民议事会", held_on=timezone.localdate(), place="会议室",
                                  host_unit=jsl03, issues=[{"text": "菜市场门口占道经营严重"}])
    visit, _ = services.visit_record(acting_user=admin, community=jsl03, visited_at=timezone.now(), place="3号楼", client_key="perm-visit-1")
    return {"survey": survey, "answer": response.answers.get(), "box": box, "note": note, "forum": forum, "visit": visit}


def allowed(call) -> bool:
    try:
        call()
    except ActionNotAllowed:
        return False
    return True


ACTIONS = {
    "survey.create_for_jsl03": (JSL03_WRITERS, lambda u, r: services.survey_create(acting_user=u, title="新问卷", owner_unit=unit("community:JSL03"))),
    "survey.add_question": (JSL03_WRITERS, lambda u, r: services.survey_section_add(survey=_draft(r), acting_user=u, title="第二部分")),
    "survey.close": (JSL03_WRITERS, lambda u, r: services.survey_close(survey=r["survey"], acting_user=u)),
    "survey.answer_to_appeal": (JSL03_WRITERS, lambda u, r: services.survey_answer_to_appeal(answer=r["answer"], acting_user=u)),
    "box.open_for_jsl03": (JSL03_WRITERS, lambda u, r: services.boxes_open(acting_user=u, units=[unit("community:JSL03")])),
    "box.open_for_district": (DISTRICT, lambda u, r: services.boxes_open(acting_user=u, units=[unit("district:410102")])),
    "box.moderate": (JSL03_WRITERS, lambda u, r: services.note_moderate(note=r["note"], acting_user=u, decision="no_action")),
    "box.paper_entry": (JSL03_WRITERS, lambda u, r: services.notes_enter_paper(box=r["box"], acting_user=u, collected_on=timezone.localdate(),
                                                                                notes=[{"text": "楼道灯不亮"}])),
    "box.deactivate": (JSL03_WRITERS, lambda u, r: services.box_set_active(box=r["box"], acting_user=u, active=False)),
    "forum.record_for_jsl03": (JSL03_WRITERS, lambda u, r: services.forum_record(acting_user=u, kind="community", title="会", held_on=timezone.localdate(),
                                                                                   place="会议室", host_unit=unit("community:JSL03"))),
    "forum.add_issues": (JSL03_WRITERS, lambda u, r: services.forum_add_issues(forum=r["forum"], acting_user=u, issues=[{"text": "路灯不亮一个多月了"}])),
    "forum.update": (JSL03_WRITERS, lambda u, r: services.forum_update(forum=r["forum"], acting_user=u, kind="community", title="居民议事会",
                                                                       held_on=r["forum"].held_on, place="会议室", host_unit=r["forum"].host_unit)),
    "visit.record_in_jsl03": (JSL03_WRITERS, lambda u, r: services.visit_record(acting_user=u, community=unit("community:JSL03"),
                                                                                 visited_at=timezone.now(), place="5号楼", client_key=f"perm-{u.pk}-x")),
    "import.upload": (DISTRICT, lambda u, r: services.import_batch_create(acting_user=u, filename="a.xlsx",
                                                                           content=xlsx_bytes([("路灯不亮已经三天了", "", "", "", "", "")]))),
}


def _draft(records):
    return services.survey_create(acting_user=records["survey"].created_by, title="草稿", owner_unit=unit("community:JSL03"))


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", ROLES)
def test_channel_actions_by_role(role, action, users, records, monkeypatch):
    monkeypatch.setattr("minsheng.channels.services.common.route_new_case", lambda case: None)
    expected_roles, call = ACTIONS[action]
    if action == "survey.add_question":
        draft = _draft(records)
        call = lambda u, r: services.survey_section_add(survey=draft, acting_user=u, title="第二部分")  # noqa: E731
    assert allowed(lambda: call(users[role], records)) is (role in expected_roles)


def test_a_department_runs_surveys_and_forums_of_its_own(users, monkeypatch):
    monkeypatch.setattr("minsheng.channels.services.common.route_new_case", lambda case: None)
    dept = users["dept"]
    survey = services.survey_create(acting_user=dept, title="营商环境调查", owner_unit=dept.unit)
    assert survey.owner_unit == unit("dept:CGJ")
    forum = services.forum_record(acting_user=dept, kind="enterprise", title="政企座谈会", held_on=timezone.localdate(), place="局会议室",
                                  host_unit=dept.unit)
    assert forum.host_unit == dept.unit
    with pytest.raises(ActionNotAllowed):
        services.boxes_open(acting_user=dept, units=[unit("community:JSL03")])


# ---------------------------------------------------------------- the pages


PAGES = {
    "survey": (JSL03_READERS, lambda r: reverse("channels:survey", args=[r["survey"].pk])),
    "survey_results": (JSL03_READERS, lambda r: reverse("channels:survey_results", args=[r["survey"].pk])),
    "survey_export": (JSL03_READERS, lambda r: reverse("channels:survey_export", args=[r["survey"].pk])),
    "survey_poster": (JSL03_READERS, lambda r: reverse("channels:survey_poster", args=[r["survey"].pk])),
    "box": (JSL03_READERS, lambda r: reverse("channels:box", args=[r["box"].pk])),
    "box_poster": (JSL03_READERS, lambda r: reverse("channels:box_poster", args=[r["box"].pk])),
    "forum": (JSL03_READERS, lambda r: reverse("channels:forum", args=[r["forum"].pk])),
    "forum_ledger": (JSL03_READERS, lambda r: reverse("channels:forum_ledger", args=[r["forum"].pk])),
    "visit": (JSL03_READERS, lambda r: reverse("channels:visit", args=[r["visit"].pk])),
}


@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize("role", ROLES)
def test_record_pages_by_role(role, page, login, users, records):
    expected_roles, url = PAGES[page]
    response = login(users[role]).get(url(records))
    assert response.status_code == (200 if role in expected_roles else 404)


WRITE_PAGES = {
    "survey_create": (DISTRICT | {"street", "community", "other_community", "dept"}, "channels:survey_create"),
    "forum_create": (DISTRICT | {"street", "community", "other_community", "dept"}, "channels:forum_create"),
    "visit_create": (DISTRICT | {"street", "community", "other_community"}, "channels:visit_create"),
    "import_home": (DISTRICT, "channels:import_home"),
}


@pytest.mark.parametrize("page", list(WRITE_PAGES))
@pytest.mark.parametrize("role", ROLES)
def test_forms_by_role(role, page, login, users):
    expected_roles, name = WRITE_PAGES[page]
    assert login(users[role]).get(reverse(name)).status_code == (200 if role in expected_roles else 403)


@pytest.mark.parametrize("role", ROLES)
def test_posting_a_moderation_by_role(role, login, users, records):
    response = login(users[role]).post(reverse("channels:note_moderate", args=[records["note"].pk]), {"decision": "spam"})
    records["note"].refresh_from_db()
    if role in JSL03_WRITERS:
        assert response.status_code == 302 and records["note"].status == "spam"
    else:
        assert response.status_code in (403, 404) and records["note"].status == "pending"


def test_lists_are_scoped_to_the_user_s_part_of_the_org_tree(login, users, records):
    from minsheng.channels import selectors

    other_visit, _ = services.visit_record(acting_user=users["admin"], community=unit("community:LSZ01"), visited_at=timezone.now() - dt.timedelta(hours=1),
                                           place="别的社区", client_key="perm-visit-2")
    assert set(selectors.visits_visible_to(users["community"])) == {records["visit"]}
    assert set(selectors.visits_visible_to(users["street"])) == {records["visit"]}
    assert set(selectors.visits_visible_to(users["leader"])) == {records["visit"], other_visit}
    assert list(selectors.visits_visible_to(users["dept"])) == []
    assert list(selectors.boxes_visible_to(users["other_community"])) == []
    html = login(users["other_community"]).get(reverse("channels:visits")).content.decode()
    assert "别的社区" in html and "3号楼" not in html


def test_anonymous_visitors_are_sent_to_log_in(client, records):
    response = client.get(reverse("channels:home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(reverse("channels:import_home")).status_code == 302


def test_import_batches_are_the_command_centre_s(login, users):
    services.import_batch_create(acting_user=users["operator"], filename="a.xlsx", content=xlsx_bytes([("路灯不亮已经三天了", "", "", "", "", "")]))
    batch = ImportBatch.objects.get()
    assert login(users["dispatcher"]).get(reverse("channels:import_batch", args=[batch.pk])).status_code == 200
    assert login(users["street"]).get(reverse("channels:import_batch", args=[batch.pk])).status_code == 403
