"""Open311 GeoReport v2 to the letter: discovery, services, service definitions, POST and GET
requests, tokens — in JSON and XML — and the spec's error documents."""

from __future__ import annotations

import datetime as dt
import json
from xml.etree import ElementTree as ET

import pytest
from django.test import Client
from django.utils import timezone

from minsheng.api.models import Open311Request
from minsheng.api.services.tokens import token_create
from minsheng.cases.choices import CaseState, Channel
from minsheng.cases.models import Case

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"


@pytest.fixture
def api_key(users):
    return token_create(user=users["operator"], name="311 app")[1]


def xml(response) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def post_request(api_key, fmt="json", **fields):
    data = {"api_key": api_key, "service_code": "CGM.HJWS", "address_string": "计划路菜市场",
            "description": "计划路菜市场门口垃圾三天没人清运，气味很大", **fields}
    return Client().post(f"{BASE}/requests.{fmt}", data)


# ---------------------------------------------------------------- discovery and services


def test_discovery_names_the_endpoint_the_spec_and_both_formats(client):
    body = client.get(f"{BASE}/discovery.json").json()

    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert endpoint["type"] == "production"

    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["text/xml", "application/json"]


def test_services_are_the_subcategories_grouped_by_category(client):
    services = client.get(f"{BASE}/services.json").json()

    assert isinstance(services, list)
    by_code = {s["service_code"]: s for s in services}
    lift = by_code["ZF.DT"]
    assert set(lift) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert (lift["service_name"], lift["group"], lift["metadata"], lift["type"]) == ("电梯运行", "住房与物业", True, "realtime")
    assert by_code["CGM.HJWS"]["metadata"] is False
    assert "ZF" not in by_code  # categories are groups, not services


def test_services_in_xml_follow_the_spec(client):
    root = xml(client.get(f"{BASE}/services.xml"))

    assert root.tag == "services"
    lift = next(s for s in root.findall("service") if s.findtext("service_code") == "ZF.DT")
    assert [child.tag for child in lift] == ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
    assert lift.findtext("metadata") == "true"


def test_a_service_definition_lists_its_attributes(client):
    body = client.get(f"{BASE}/services/ZF.DT.json").json()

    assert body["service_code"] == "ZF.DT"
    codes = [a["code"] for a in body["attributes"]]
    assert codes == ["ELEVATOR_LOCATION", "PEOPLE_TRAPPED"]
    trapped = body["attributes"][1]
    assert set(trapped) == {"variable", "code", "datatype", "required", "datatype_description", "order", "description", "values"}
    assert (trapped["datatype"], trapped["required"], trapped["order"], trapped["description"]) == ("singlevaluelist", True, 2, "是否有人被困")
    assert trapped["values"] == [{"key": "yes", "name": "有人被困"}, {"key": "no", "name": "无人被困"}]

    root = xml(client.get(f"{BASE}/services/ZF.DT.xml"))
    assert root.tag == "service_definition"
    assert [v.findtext("key") for v in root.findall("attributes/attribute/values/value")] == ["yes", "no"]


def test_an_unknown_service_is_a_404_error_document(client):
    response = client.get(f"{BASE}/services/NOPE.json")

    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": "service_code NOPE not found"}]
    root = xml(client.get(f"{BASE}/services/NOPE.xml"))
    assert root.tag == "errors"
    assert root.findtext("error/code") == "404"


def test_another_jurisdiction_is_not_found_and_ours_is_accepted(client):
    assert client.get(f"{BASE}/services.json", {"jurisdiction_id": "410102"}).status_code == 200
    other = client.get(f"{BASE}/services.json", {"jurisdiction_id": "chicago.gov"})
    assert other.status_code == 404
    assert other.json()[0]["code"] == 404


# ---------------------------------------------------------------- POST requests


def test_posting_needs_a_valid_api_key():
    for key in ("", "msk_wrong_key"):
        response = post_request(key)
        assert response.status_code == 403
        assert response.json() == [{"code": 403, "description": "api_key was not provided or is invalid"}]
    assert not Case.objects.exists()
    root = xml(post_request("", fmt="xml"))
    assert (root.tag, root.findtext("error/code")) == ("errors", "403")


def test_a_posted_request_becomes_a_case_and_answers_with_its_id_and_token(api_key):
    response = post_request(api_key)

    assert response.status_code == 201, response.content
    (row,) = response.json()
    case = Case.objects.get()
    assert row["service_request_id"] == case.tracking_code
    assert set(row) == {"service_request_id", "token", "service_notice", "account_id"}
    assert (case.channel, case.category.code, case.address, case.source_type) == (Channel.API, "CGM.HJWS", "计划路菜市场", "open311")
    assert case.dispatch_meta.get("model_version")  # intelligent dispatch ran


def test_a_request_with_a_nul_character_is_refused_with_a_400(api_key):
    response = post_request(api_key, description="计划路菜市场门口垃圾三天没人清运\x00")

    assert response.status_code == 400
    assert "description" in response.json()[0]["description"]
    assert not Case.objects.exists()


def test_a_request_is_located_by_coordinates_or_an_address_id(api_key):
    by_coordinates = post_request(api_key, address_string="", lat="34.7472", long="113.6249")
    by_address_id = post_request(api_key, address_string="", address_id="JSL03")

    assert (by_coordinates.status_code, by_address_id.status_code) == (201, 201)
    located = Open311Request.objects.get(case__tracking_code=by_coordinates.json()[0]["service_request_id"])
    assert (located.lat, located.long) == (34.7472, 113.6249)
    in_community = Case.objects.get(tracking_code=by_address_id.json()[0]["service_request_id"])
    assert (in_community.community.code, in_community.street.code) == ("JSL03", "JSL")


def test_a_request_without_a_location_or_service_is_a_400(api_key):
    no_location = post_request(api_key, address_string="")
    no_service = post_request(api_key, service_code="")
    bad_service = post_request(api_key, service_code="NOPE")
    bad_coordinates = post_request(api_key, lat="north", long="113")

    for response in (no_location, no_service, bad_service, bad_coordinates):
        assert response.status_code == 400
        (error,) = response.json()
        assert error["code"] == 400 and error["description"]
    assert not Case.objects.exists()


def test_attributes_are_checked_stored_and_written_into_the_case(api_key):
    missing = post_request(api_key, service_code="ZF.DT", description="电梯坏了停在三楼")
    wrong = post_request(api_key, service_code="ZF.DT", description="电梯坏了停在三楼", **{"attribute[ELEVATOR_LOCATION]": "3号楼", "attribute[PEOPLE_TRAPPED]": "maybe"})
    good = post_request(api_key, service_code="ZF.DT", description="电梯坏了停在三楼",
                        **{"attribute[ELEVATOR_LOCATION]": "帝湖花园3号楼2单元", "attribute[PEOPLE_TRAPPED]": "yes", "attribute[UNASKED]": "x"})

    assert missing.status_code == 400 and len(missing.json()) == 2  # one error per unanswered question
    assert wrong.status_code == 400
    assert good.status_code == 201, good.content
    record = Open311Request.objects.get()
    assert record.attributes == {"ELEVATOR_LOCATION": "帝湖花园3号楼2单元", "PEOPLE_TRAPPED": "yes"}
    assert "是否有人被困：有人被困" in record.case.text


def test_a_multivaluelist_takes_several_values(api_key):
    response = Client().post(f"{BASE}/requests.json", {
        "api_key": api_key, "service_code": "CGM.SZSS", "address_string": "伏牛路", "description": "伏牛路人行道多处破损，路灯也不亮",
        "attribute[FACILITY][]": ["sidewalk", "streetlight"],
    })

    assert response.status_code == 201, response.content
    assert Open311Request.objects.get().attributes["FACILITY"] == ["sidewalk", "streetlight"]


def test_the_media_url_and_the_reporter_are_stored(api_key):
    post_request(api_key, media_url="https://img.example.invalid/1.jpg", first_name="三", last_name="张", phone="13812345678",
                 email="zhang@example.invalid", account_id="wx-42")

    record = Open311Request.objects.get()
    assert (record.media_url, record.email, record.account_id) == ("https://img.example.invalid/1.jpg", "zhang@example.invalid", "wx-42")
    assert (record.case.reporter_name, record.case.reporter_phone) == ("张三", "13812345678")


def test_posting_in_xml_answers_in_xml(api_key):
    root = xml(post_request(api_key, fmt="xml"))

    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") == Case.objects.get().tracking_code


# ---------------------------------------------------------------- GET requests and tokens


def test_a_request_is_read_back_with_the_spec_fields(client, api_key):
    code = post_request(api_key, lat="34.75", long="113.62", media_url="https://img.example.invalid/1.jpg").json()[0]["service_request_id"]

    (row,) = client.get(f"{BASE}/requests/{code}.json").json()

    assert list(row) == ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                         "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                         "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
    assert (row["service_request_id"], row["status"], row["service_code"], row["service_name"]) == (code, "open", "CGM.HJWS", "环境卫生")
    assert (row["lat"], row["long"], row["media_url"]) == (34.75, 113.62, "https://img.example.invalid/1.jpg")
    assert row["requested_datetime"].endswith("+08:00")


def test_status_unit_and_deadline_come_from_the_case(client, cases):
    open_case = cases.make(CaseState.IN_PROGRESS)
    closed_case = cases.make(CaseState.CLOSED)

    (row,) = client.get(f"{BASE}/requests/{open_case.tracking_code}.json").json()
    (closed,) = client.get(f"{BASE}/requests/{closed_case.tracking_code}.json").json()

    assert (row["status"], row["agency_responsible"]) == ("open", "建设路街道")
    assert row["expected_datetime"] == timezone.localtime(open_case.resolve_due_at).isoformat(timespec="seconds")
    assert closed["status"] == "closed"


def test_phone_numbers_in_the_text_are_masked(client, cases):
    case = cases.make(text="楼下垃圾没人清，联系我13812345678")

    (row,) = client.get(f"{BASE}/requests/{case.tracking_code}.json").json()

    assert "13812345678" not in row["description"]


def test_an_unknown_request_is_a_404(client):
    response = client.get(f"{BASE}/requests/NOPE123.json")

    assert response.status_code == 404
    assert response.json()[0]["code"] == 404


def test_requests_filter_by_id_list_which_overrides_the_rest(client, cases):
    a, _not_asked, c = cases.make(), cases.make(), cases.make(CaseState.CLOSED)

    rows = client.get(f"{BASE}/requests.json", {"service_request_id": f"{a.tracking_code},{c.tracking_code}", "status": "open"}).json()

    assert {r["service_request_id"] for r in rows} == {a.tracking_code, c.tracking_code}


def test_requests_filter_by_service_and_status(client, cases):
    rubbish = cases.make()
    lamp = cases.make(subcategory="CGM.SZSS", text="碧沙岗公园南门路灯不亮已经一周了")
    closed = cases.make(CaseState.CLOSED)

    def ids(**params):
        return {r["service_request_id"] for r in client.get(f"{BASE}/requests.json", params).json()}

    assert ids(service_code="CGM.SZSS") == {lamp.tracking_code}
    assert ids(service_code="CGM.SZSS,CGM.HJWS") == {lamp.tracking_code, rubbish.tracking_code, closed.tracking_code}
    assert ids(status="closed") == {closed.tracking_code}
    assert ids(status="open") == {rubbish.tracking_code, lamp.tracking_code}
    assert ids(status="open,closed") == {rubbish.tracking_code, lamp.tracking_code, closed.tracking_code}


def test_requests_default_to_the_last_90_days_and_respect_a_date_range(client, cases):
    recent = cases.make()
    old = cases.make()
    Case.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - dt.timedelta(days=100))

    default = {r["service_request_id"] for r in client.get(f"{BASE}/requests.json").json()}
    window = {r["service_request_id"] for r in client.get(f"{BASE}/requests.json", {
        "start_date": (timezone.now() - dt.timedelta(days=120)).isoformat(),
        "end_date": (timezone.now() - dt.timedelta(days=95)).isoformat()}).json()}

    assert default == {recent.tracking_code}
    assert window == {old.tracking_code}


def test_a_range_over_90_days_and_a_bad_date_are_400s(client):
    too_long = client.get(f"{BASE}/requests.json", {"start_date": "2025-01-01T00:00:00Z", "end_date": "2025-06-01T00:00:00Z"})
    bad = client.get(f"{BASE}/requests.xml", {"start_date": "yesterday"})
    bad_status = client.get(f"{BASE}/requests.json", {"status": "pending"})

    assert too_long.status_code == 400 and too_long.json()[0]["code"] == 400
    assert bad.status_code == 400 and xml(bad).findtext("error/code") == "400"
    assert bad_status.status_code == 400


def test_get_requests_is_capped_at_1000(client, cases, monkeypatch):
    from minsheng.api.open311 import views

    monkeypatch.setattr(views, "MAX_RESULTS", 2)
    for _ in range(3):
        cases.make()

    assert len(client.get(f"{BASE}/requests.json").json()) == 2
    assert views.DEFAULT_WINDOW == dt.timedelta(days=90)


def test_requests_in_xml(client, cases):
    case = cases.make()

    root = xml(client.get(f"{BASE}/requests.xml"))

    assert root.tag == "service_requests"
    request = root.find("request")
    assert request.findtext("service_request_id") == case.tracking_code
    assert request.find("lat").text is None  # absent values are empty elements


def test_a_token_leads_to_its_request(client, api_key):
    row = post_request(api_key).json()[0]

    response = client.get(f"{BASE}/tokens/{row['token']}.json")
    unknown = client.get(f"{BASE}/tokens/nope.json")

    assert response.json() == [{"service_request_id": row["service_request_id"], "token": row["token"]}]
    assert unknown.status_code == 404 and unknown.json()[0]["code"] == 404


def test_json_is_utf8_and_not_escaped(client):
    response = client.get(f"{BASE}/services.json")

    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "电梯运行" in response.content.decode("utf-8")
    assert json.loads(response.content)


def test_a_residents_own_photo_is_never_published_as_the_media_url(api_key, cases, settings, tmp_path):
    from minsheng.cases.choices import CaseState
    from minsheng.cases.services import case_attach

    from .conftest import jpeg_with_exif

    settings.MEDIA_ROOT = tmp_path
    case = cases.make(CaseState.DISPATCHED)
    case_attach(case=case, content=jpeg_with_exif(), filename="门口.jpg", content_type="image/jpeg", is_public=True)
    rows = Client().get("/open311/v2/requests.json", {"service_request_id": case.tracking_code}).json()
    assert [row["service_request_id"] for row in rows] == [case.tracking_code]
    assert rows[0]["media_url"] is None
