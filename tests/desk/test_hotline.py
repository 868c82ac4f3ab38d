"""Hotline entry: the caller's number first, the caller's earlier cases, then the new case,
created once however often the form is sent."""

from __future__ import annotations

import re

from django.urls import reverse

from minsheng.cases.choices import CaseState
from minsheng.cases.models import Case


def new_form(client, **params) -> tuple[str, str]:
    response = client.get(reverse("desk:hotline"), params)
    assert response.status_code == 200
    html = response.content.decode()
    return html, re.search(r'name="token" value="([0-9a-f]+)"', html).group(1)


def test_the_callers_history_is_an_htmx_partial(client, users, cases):
    earlier = cases.make(CaseState.CLOSED, phone="13566667777", text="楼上漏水到我家，物业不管")
    client.force_login(users["operator"])
    html, _token = new_form(client)
    assert 'hx-get="/desk/hotline/history/"' in html
    response = client.get(reverse("desk:hotline_history"), {"reporter_phone": "135-6666-7777"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    partial = response.content.decode()
    assert earlier.tracking_code in partial and "<html" not in partial
    assert "没有以往诉求" in client.get(reverse("desk:hotline_history"), {"phone": "13900000000"}).content.decode()


def test_without_javascript_the_lookup_keeps_what_was_typed(client, users, cases):
    earlier = cases.make(CaseState.IN_PROGRESS, phone="13566667777")
    client.force_login(users["operator"])
    _html, token = new_form(client)
    response = client.post(reverse("desk:hotline"), {"lookup": "1", "token": token, "reporter_phone": "13566667777", "text": "我正在写的内容"})
    html = response.content.decode()
    assert response.status_code == 200
    assert earlier.tracking_code in html and "我正在写的内容" in html and token in html
    assert not Case.objects.filter(channel="hotline").exists()


def test_a_call_becomes_an_accepted_hotline_case(client, users, settings):
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 1.01  # leave it to the dispatcher
    client.force_login(users["operator"])
    _html, token = new_form(client)
    data = {"token": token, "reporter_phone": "13566667777", "text": "小区门口的下水道堵了，污水漫到路面上",
            "address": "伏牛路与建设路交叉口", "reporter_name": "李女士", "category": "CGM.SZSS", "urgency": "normal"}
    response = client.post(reverse("desk:hotline"), data)
    case = Case.objects.get(channel="hotline")
    assert response.status_code == 302 and response.url == reverse("desk:case", args=[case.pk])
    assert case.state == CaseState.ACCEPTED
    assert case.created_by == users["operator"]
    assert (case.reporter_phone, case.reporter_name, case.category.code) == ("13566667777", "李女士", "CGM.SZSS")
    assert list(case.events.values_list("action", flat=True)) == ["submit", "accept", "suggest"]
    assert case.dispatch_meta["subcategory"]


def test_a_confident_call_is_dispatched_automatically(client, users, settings):
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 0.5
    client.force_login(users["operator"])
    _html, token = new_form(client)
    data = {"token": token, "reporter_phone": "13566667777", "text": "伊河路26号院3号楼楼道里燃气味很重，怀疑漏气",
            "address": "伊河路26号院", "urgency": "normal"}
    client.post(reverse("desk:hotline"), data)
    case = Case.objects.get(channel="hotline")
    assert case.state == CaseState.DISPATCHED and case.main_unit.code == "GAS"
    assert case.events.get(action="dispatch").data["auto"] is True


def test_sending_the_form_twice_creates_one_case(client, users):
    client.force_login(users["operator"])
    _html, token = new_form(client)
    data = {"token": token, "reporter_phone": "13566667777", "text": "小区门口的下水道堵了，污水漫到路面上", "urgency": "normal"}
    first = client.post(reverse("desk:hotline"), data)
    second = client.post(reverse("desk:hotline"), data)
    assert first.url == second.url
    assert Case.objects.filter(channel="hotline").count() == 1
    assert Case.objects.get(channel="hotline").events.filter(action="accept").count() == 1


def test_invalid_input_is_shown_and_nothing_is_created(client, users):
    client.force_login(users["operator"])
    _html, token = new_form(client)
    response = client.post(reverse("desk:hotline"), {"token": token, "reporter_phone": "123", "text": "太短", "urgency": "normal"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "诉求内容太短" in html or "联系电话格式不正确" in html
    assert not Case.objects.filter(channel="hotline").exists()


def test_dispatchers_may_take_calls_handlers_may_not(client, users):
    client.force_login(users["dispatcher"])
    assert client.get(reverse("desk:hotline")).status_code == 200
    for role in ("street", "leader"):
        client.force_login(users[role])
        assert client.get(reverse("desk:hotline")).status_code == 403
        assert client.get(reverse("desk:hotline_history"), {"phone": "13566667777"}).status_code == 403
