"""What leaves the district in a webhook: the case, never the person. The reporter's name and
phone are left out and the exact address is masked, as the API and Open311 show it."""

from __future__ import annotations

import json

import pytest

from minsheng.api.models import WebhookDelivery
from minsheng.api.services.webhooks import webhook_endpoint_create
from minsheng.cases import services
from minsheng.cases.models import Category
from minsheng.core.models import OutboxMessage
from minsheng.core.outbox import outbox_process
from tests.factories import unit

pytestmark = pytest.mark.django_db

ADDRESS = "伊河路26号院3号楼2单元501"
PHONE = "13987654321"
NAME = "欧阳秀英"


def test_a_webhook_payload_carries_no_name_no_phone_and_a_masked_address(users):
    webhook_endpoint_create(url="http://127.0.0.1:9/all", event_types=["case.*"], acting_user=users["admin"])
    OutboxMessage.objects.all().delete()
    case = services.case_submit(
        text="楼道里燃气味很大，请尽快派人查看", channel="web", address=ADDRESS, reporter_phone=PHONE, reporter_name=NAME,
        community=unit("community:JSL03"), category=Category.objects.get(code="GY.RQ"), urgency="urgent",
    )
    services.case_dispatch(case=case, acting_user=users["dispatcher"], unit=unit("street:JSL"))

    outbox_process()

    payloads = [json.dumps(d.payload, ensure_ascii=False) for d in WebhookDelivery.objects.all()]
    assert len(payloads) == 2  # submit and dispatch
    for body in payloads:
        assert PHONE not in body and PHONE[-4:] not in body
        assert NAME not in body
        assert ADDRESS not in body and "单元501" not in body  # (bare "501" may be in a timestamp)
    dispatch = WebhookDelivery.objects.get(event_type="case.dispatch").payload
    assert dispatch["case"]["address"] == case.address_masked
    assert dispatch["case"]["address"].startswith("伊河路")  # the place stays: receivers route by it
