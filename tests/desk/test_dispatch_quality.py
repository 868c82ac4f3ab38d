"""The dispatch-quality page: the model in use, its held-out figures, and how dispatchers
took its suggestions."""

import pytest
from django.test import override_settings
from django.urls import reverse

from minsheng.cases import services
from minsheng.dispatch.selectors import live_agreement
from minsheng.dispatch.services import dispatch_model_register, intake_process
from tests.factories import unit

pytestmark = pytest.mark.django_db

URL = "/desk/dispatch/quality/"


@pytest.mark.parametrize("role, allowed", [
    ("admin", True), ("dispatcher", True), ("leader", True), ("operator", False),
    ("street", False), ("community", False), ("dept", False),
])
def test_who_may_see_the_page(client, users, role, allowed):
    client.force_login(users[role])
    assert client.get(URL).status_code == (200 if allowed else 403)


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_shows_the_active_model_and_its_confusion_matrix(client, users):
    dispatch_model_register(
        version="m-2026-11-29", path="/tmp/x.pkl", corpus_items=3000, confirmed_items=12,
        heldout={"n": 600, "category_acc": 0.931, "subcategory_acc": 0.874, "subcategory_top3": 0.97, "urgency_f1": 0.88,
                 "confusion": {"labels": ["CGM", "GY"], "matrix": [[40, 2], [1, 30]]}},
    )
    client.force_login(users["dispatcher"])
    html = client.get(URL).content.decode()
    assert "m-2026-11-29" in html and "0.874" in html and "城市管理" in html
    assert 'class="shade-4 diagonal">40<' in html


def test_live_agreement_counts_confirmations_and_corrections(users):
    with override_settings(MINSHENG_AUTO_DISPATCH_THRESHOLD=1.01):
        gas = services.case_submit(text="伊河路26号院3号楼楼道里燃气味很重，怀疑漏气了", channel="web")
        intake_process(case=gas)
        other = services.case_submit(text="伊河路26号院3号楼楼道里燃气味很重，物业不管", channel="web")
        intake_process(case=other)
    gas.refresh_from_db()
    other.refresh_from_db()
    services.case_dispatch(case=gas, acting_user=users["dispatcher"], unit=unit("dept:GAS"))  # keeps the suggested class
    from minsheng.cases.models import Category

    services.case_dispatch(case=other, acting_user=users["dispatcher"], unit=unit("street:LSZ"), category=Category.objects.get(code="ZF.WYFW"))
    live = live_agreement(days=30)
    assert (live.suggested, live.staff_dispatched, live.confirmed, live.auto_dispatched) == (2, 2, 1, 0)
    assert live.confirmation_rate == 0.5


def test_the_nav_links_to_the_page_for_dispatchers_only(client, users):
    client.force_login(users["dispatcher"])
    assert URL in client.get(reverse("desk:notifications")).content.decode()
    client.force_login(users["street"])
    assert URL not in client.get(reverse("desk:notifications")).content.decode()
