"""A real third-party GeoReport v2 client (the `georeport` package from PyPI) against a live
server: it lists the services, fetches a service definition, and reads back requests created
through our POST — in JSON and in XML."""

from __future__ import annotations

import pytest
import requests
from georeport import GeoReport

from minsheng.api.services.tokens import token_create
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def root(live_server, committed_district) -> str:
    return f"{live_server.url}/open311/v2"


@pytest.fixture
def api_key(committed_district) -> str:
    return token_create(user=make_user("grid-app", "operator"), name="网格化平台")[1]


def post(root: str, api_key: str, **fields) -> dict:
    response = requests.post(f"{root}/requests.json", data={"api_key": api_key, **fields}, timeout=60)
    assert response.status_code == 201, response.text
    return response.json()[0]


def test_the_client_lists_services_and_fetches_a_definition(root):
    client = GeoReport(root)

    services = client.get_service_list()
    definition = client.get_service_definition("ZF.DT")

    lift = next(s for s in services if s["service_code"] == "ZF.DT")
    assert (lift["group"], lift["metadata"]) == ("住房与物业", True)
    assert [a["code"] for a in definition["attributes"]] == ["ELEVATOR_LOCATION", "PEOPLE_TRAPPED"]


def test_the_client_reads_requests_created_through_our_post(root, api_key):
    lift = post(root, api_key, service_code="ZF.DT", address_string="帝湖花园3号楼", description="3号楼2单元电梯停在5楼不动了",
                **{"attribute[ELEVATOR_LOCATION]": "帝湖花园3号楼2单元", "attribute[PEOPLE_TRAPPED]": "no"}, lat="34.7472", long="113.6249")
    rubbish = post(root, api_key, service_code="CGM.HJWS", address_id="JSL03", description="计划路菜市场门口垃圾三天没人清运")
    client = GeoReport(root, jurisdiction="410102")

    one = client.get_service_request(lift["service_request_id"])
    both = client.get_service_requests(service_request_id=f"{lift['service_request_id']},{rubbish['service_request_id']}")
    open_lifts = client.get_service_requests(service_code="ZF.DT", status="open")

    assert (one["service_code"], one["status"], one["lat"], one["long"]) == ("ZF.DT", "open", 34.7472, 113.6249)
    assert "是否有人被困：无人被困" in one["description"]
    assert {r["service_request_id"] for r in both} == {lift["service_request_id"], rubbish["service_request_id"]}
    assert [r["service_request_id"] for r in open_lifts] == [lift["service_request_id"]]


def test_the_client_reads_the_xml_format_too(root, api_key):
    made = post(root, api_key, service_code="GY.GS", address_string="绿东村", description="绿东村整栋楼停水一天了",
                **{"attribute[OUTAGE_SCOPE]": "building"})
    client = GeoReport(root, output_format="xml")

    services = client.get_service_list()
    definition = client.get_service_definition("GY.GS")
    request = client.get_service_request(made["service_request_id"])

    assert any(s["service_code"] == "GY.GS" for s in services)
    assert [a["code"] for a in definition["attributes"]["attribute"]] == ["OUTAGE_SCOPE", "OUTAGE_SINCE", "HOUSEHOLDS"]
    assert (request["service_request_id"], request["service_code"], request["status"]) == (made["service_request_id"], "GY.GS", "open")
