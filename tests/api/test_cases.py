"""The staff endpoints: token authentication, scoped lists with the workbench's filters and
cursor pagination, case detail, and actions with optimistic locking and the error codes."""

from __future__ import annotations

import datetime as dt

import pytest

from minsheng.api.models import ApiToken
from minsheng.cases.choices import CaseState
from minsheng.cases.models import Case
from tests.factories import unit

from .conftest import ApiClient, action_url

pytestmark = pytest.mark.django_db


def test_staff_endpoints_need_a_token(cases):
    case = cases.make()

    for response in (ApiClient().get("/api/v1/cases"), ApiClient().get(f"/api/v1/cases/{case.pk}"),
                     ApiClient("msk_nope_nope").get("/api/v1/cases")):
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"


def test_a_revoked_token_no_longer_works(users, api_for):
    from minsheng.api.services.tokens import token_revoke

    client = api_for(users["dispatcher"])
    assert client.get("/api/v1/me").status_code == 200

    token_revoke(prefix=ApiToken.objects.get().prefix)

    assert client.get("/api/v1/me").status_code == 401


def test_a_token_of_a_deactivated_user_no_longer_works(users, api_for):
    client = api_for(users["dispatcher"])
    users["dispatcher"].is_active = False
    users["dispatcher"].save()

    assert client.get("/api/v1/me").status_code == 401


def test_a_token_acts_as_its_owner(users, api_for):
    body = api_for(users["street"]).get("/api/v1/me").json()

    assert (body["username"], body["role"], body["unit"]["key"]) == ("street-JSL", "handler", "street:JSL")
    assert ApiToken.objects.get().last_used_at is not None


def test_the_list_shows_only_the_cases_the_owner_may_see(cases, users, api_for):
    mine = cases.make(CaseState.DISPATCHED, unit_key="street:JSL")
    theirs = cases.make(CaseState.DISPATCHED, unit_key="street:LSZ", community_key="community:LSZ01")

    district = {row["id"] for row in api_for(users["dispatcher"]).get("/api/v1/cases").json()["items"]}
    street = {row["id"] for row in api_for(users["street"]).get("/api/v1/cases").json()["items"]}

    assert {mine.pk, theirs.pk} <= district
    assert mine.pk in street and theirs.pk not in street


def test_the_list_filters_like_the_workbench(cases, users, api_for):
    dispatched = cases.make(CaseState.DISPATCHED)
    submitted = cases.make(CaseState.SUBMITTED, text="碧沙岗公园南门路灯不亮已经一周了", subcategory="CGM.SZSS")
    client = api_for(users["dispatcher"])

    def ids(**params):
        response = client.get("/api/v1/cases", params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["items"]}

    assert ids(state="dispatched") == {dispatched.pk}
    assert ids(q="路灯 南门") == {submitted.pk}
    assert ids(q=dispatched.tracking_code) == {dispatched.pk}
    assert ids(category="CGM.SZSS") == {submitted.pk}
    assert ids(category="CGM") == {dispatched.pk, submitted.pk}
    assert ids(unit="street:JSL") == {dispatched.pk}
    assert ids(street="JSL") == {dispatched.pk, submitted.pk}
    assert ids(queue="to_accept") == {submitted.pk}
    today = dt.date.today().isoformat()
    assert ids(date_from=today, date_to=today) == {dispatched.pk, submitted.pk}
    assert ids(date_to="2000-01-01") == set()


def test_the_list_pages_with_a_cursor(cases, users, api_for):
    made = {cases.make().pk for _ in range(5)}
    client = api_for(users["dispatcher"])

    seen, cursor, pages = [], "", 0
    while True:
        body = client.get("/api/v1/cases", {"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [row["id"] for row in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if not cursor:
            break

    assert pages == 3
    assert set(seen) == made and len(seen) == 5
    assert seen == sorted(seen, reverse=True)


def test_a_cursor_this_api_did_not_make_is_invalid(users, api_for):
    response = api_for(users["dispatcher"]).get("/api/v1/cases", {"cursor": "not-a-cursor"})

    assert (response.status_code, response.json()["code"]) == (422, "invalid")


def test_an_unknown_filter_value_is_invalid(users, api_for):
    response = api_for(users["dispatcher"]).get("/api/v1/cases", {"state": "nonsense"})

    assert (response.status_code, response.json()["code"]) == (422, "invalid")
    assert response.json()["errors"]


def test_the_detail_has_the_timeline_and_the_allowed_actions(cases, users, api_for):
    case = cases.make(CaseState.DISPATCHED)

    body = api_for(users["street"]).get(f"/api/v1/cases/{case.pk}").json()

    assert [e["action"] for e in body["timeline"]] == ["submit", "dispatch"]
    assert body["main_unit"]["key"] == "street:JSL"
    assert "acknowledge" in body["allowed_actions"]
    assert body["reporter_phone_masked"] == "138****5678"
    assert "13812345678" not in str(body)


def test_another_units_case_is_not_found(cases, users, api_for):
    case = cases.make(CaseState.DISPATCHED, unit_key="street:JSL")
    client = api_for(users["other_street"])

    detail = client.get(f"/api/v1/cases/{case.pk}")
    action = client.post_json(action_url(case, "acknowledge"), {"expected_version": case.version})

    assert (detail.status_code, detail.json()["code"]) == (404, "not_found")
    assert (action.status_code, action.json()["code"]) == (404, "not_found")


def test_an_action_moves_the_case_through_the_same_service(cases, users, api_for):
    case = cases.make(CaseState.DISPATCHED)

    response = api_for(users["street"]).post_json(action_url(case, "acknowledge"), {"expected_version": case.version})

    assert response.status_code == 200, response.content
    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS
    assert response.json()["state"] == "in_progress"
    assert response.json()["version"] == case.version
    event = case.events.get(action="acknowledge")
    assert (event.actor, event.actor_kind) == (users["street"], "staff")


def test_a_stale_version_is_a_conflict_and_changes_nothing(cases, users, api_for):
    case = cases.make(CaseState.DISPATCHED)

    response = api_for(users["street"]).post_json(action_url(case, "acknowledge"), {"expected_version": case.version - 1})

    assert (response.status_code, response.json()["code"]) == (409, "stale")
    case.refresh_from_db()
    assert case.state == CaseState.DISPATCHED


def test_a_refused_action_is_not_allowed_with_the_engines_reason(cases, users, api_for):
    case = cases.make(CaseState.DISPATCHED)

    response = api_for(users["leader"]).post_json(action_url(case, "acknowledge"), {"expected_version": case.version})

    assert (response.status_code, response.json()["code"]) == (403, "not_allowed")
    assert "签收" in response.json()["message"]


def test_bad_input_is_invalid(cases, users, api_for):
    case = cases.make(CaseState.SUBMITTED)
    client = api_for(users["dispatcher"])

    unknown_unit = client.post_json(action_url(case, "dispatch"), {"expected_version": case.version, "unit": "dept:NOPE"})
    missing = client.post_json(action_url(case, "reject"), {"expected_version": case.version})
    short_reply_case = cases.make(CaseState.IN_PROGRESS)
    short = api_for(users["street"]).post_json(action_url(short_reply_case, "reply"), {"expected_version": short_reply_case.version, "reply_text": "好了"})

    for response in (unknown_unit, missing, short):
        assert (response.status_code, response.json()["code"]) == (422, "invalid"), response.content


def test_dispatch_takes_units_and_categories_by_key_and_code(cases, users, api_for):
    case = cases.make(CaseState.SUBMITTED)

    response = api_for(users["dispatcher"]).post_json(action_url(case, "dispatch"), {
        "expected_version": case.version, "unit": "dept:SJJ", "co_units": ["street:JSL"], "category": "ZF.DT", "urgency": "urgent",
    })

    assert response.status_code == 200, response.content
    case.refresh_from_db()
    assert (case.main_unit, case.category.code, case.urgency) == (unit("dept:SJJ"), "ZF.DT", "urgent")
    assert set(case.assignments.filter(active=True).values_list("unit__code", "role")) == {("SJJ", "main"), ("JSL", "co")}


def test_an_extension_is_requested_and_decided_through_the_api(cases, users, api_for):
    case = cases.make(CaseState.IN_PROGRESS)
    due = case.resolve_due_at

    asked = api_for(users["street"]).post_json(action_url(case, "request_extension"), {
        "expected_version": case.version, "working_days": 3, "reason": "需要协调多个部门现场会商"})
    decided = api_for(users["dispatcher"]).post_json(action_url(case, "decide_extension"), {
        "expected_version": case.version, "decision": "approve"})

    assert (asked.status_code, decided.status_code) == (200, 200)
    case.refresh_from_db()
    assert case.resolve_due_at > due


def test_merge_names_the_master_by_tracking_code(cases, users, api_for):
    master = cases.make(CaseState.DISPATCHED)
    duplicate = cases.make(CaseState.SUBMITTED)

    response = api_for(users["dispatcher"]).post_json(action_url(duplicate, "merge"), {
        "expected_version": duplicate.version, "master": master.tracking_code.lower()})

    assert response.status_code == 200, response.content
    duplicate.refresh_from_db()
    assert (duplicate.state, duplicate.merged_into) == (CaseState.MERGED, master)


def test_every_engine_action_has_an_operation_in_the_schema():
    from minsheng.api.rest.api import api
    from minsheng.cases.workflow import STAFF_ACTIONS

    paths = api.get_openapi_schema()["paths"]

    for action in STAFF_ACTIONS:
        assert f"/api/v1/cases/{{case_id}}/actions/{action}" in paths


def test_units_and_categories_name_what_actions_take(users, api_for):
    client = api_for(users["dispatcher"])

    units = {u["key"] for u in client.get("/api/v1/units").json()}
    categories = {c["code"] for c in client.get("/api/v1/categories").json()}

    assert {"street:JSL", "community:JSL03", "dept:CGJ"} <= units
    assert {"ZF.DT", "CGM.HJWS"} <= categories


def test_case_ids_beyond_the_database_range_are_invalid_not_errors(users, api_for):
    response = api_for(users["dispatcher"]).get(f"/api/v1/cases/{2**70}")

    assert response.status_code == 422
    assert Case.objects.count() == 0


def test_an_attachment_is_fetched_through_its_case_and_only_there(cases, users, api_for, tmp_path, settings):
    from minsheng.cases.services import case_attach

    from .conftest import jpeg_with_exif

    settings.MEDIA_ROOT = tmp_path
    case = cases.make(CaseState.DISPATCHED, unit_key="street:JSL")
    other = cases.make(CaseState.DISPATCHED, unit_key="street:JSL")
    attachment = case_attach(case=case, content=jpeg_with_exif(), filename="门口.jpg", content_type="image/jpeg")
    client = api_for(users["street"])

    listed = client.get(f"/api/v1/cases/{case.pk}").json()["attachments"]
    url = listed[0]["url"]
    assert url.endswith(f"/api/v1/cases/{case.pk}/attachments/{attachment.pk}") and "/media/" not in url
    answer = client.get(url.removeprefix("http://testserver"))
    assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg"
    assert b"".join(answer.streaming_content) == attachment.file.open("rb").read()
    # Another case's path, another unit's token, no token: not there.
    assert client.get(f"/api/v1/cases/{other.pk}/attachments/{attachment.pk}").status_code == 404
    assert api_for(users["other_street"]).get(f"/api/v1/cases/{case.pk}/attachments/{attachment.pk}").status_code == 404
    assert api_for(None).get(f"/api/v1/cases/{case.pk}/attachments/{attachment.pk}").status_code == 401
