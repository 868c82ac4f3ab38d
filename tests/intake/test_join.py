"""Others already reported this (多人同诉): the resident sees open cases about the same
problem while typing and may join one instead of filing a new appeal."""

import pytest

from minsheng.cases import services
from minsheng.cases.models import Case
from minsheng.dispatch import services as dispatch_services

pytestmark = pytest.mark.django_db

TEXT = "计划路菜市场门口垃圾堆了三天没人清运，臭气熏天"


@pytest.fixture
def open_case():
    dispatch_services.engine_reset()
    case = services.case_submit(text=TEXT, channel="web", address="计划路菜市场", reporter_phone="13812345678")
    dispatch_services.intake_process(case=case, auto_dispatch=False)
    return case


def test_similar_open_cases_are_offered_while_typing(client, open_case):
    response = client.post("/appeal/similar/", {"text": "计划路菜市场门口的垃圾三天都没人清运了", "address": "计划路菜市场"})
    assert response.status_code == 200
    html = response.content.decode()
    assert open_case.tracking_code in html and "加入此诉求" in html
    assert "13812345678" not in html and "5678" not in html


def test_nothing_is_offered_for_an_unrelated_problem(client, open_case):
    response = client.post("/appeal/similar/", {"text": "孩子明年上小学，想问问学区怎么划分的", "address": ""})
    assert response.status_code == 200 and open_case.tracking_code not in response.content.decode()


def test_joining_adds_a_co_reporter_and_no_new_case(client, open_case):
    before = Case.objects.count()
    response = client.post("/appeal/join/", {
        "tracking_code": open_case.tracking_code, "text": "我也看到了，垃圾一直没人拉", "reporter_name": "王五",
        "reporter_phone": "13600003333", "token": "t" * 24,
    })
    assert response.status_code == 302 and response["Location"].endswith(f"/track/{open_case.tracking_code}/")
    open_case.refresh_from_db()
    assert Case.objects.count() == before
    assert open_case.reporter_count == 2 and open_case.co_reporters.get().phone == "13600003333"
    assert open_case.events.filter(action="join").count() == 1


def test_joining_twice_with_the_same_form_counts_once(client, open_case):
    data = {"tracking_code": open_case.tracking_code, "text": "", "reporter_name": "", "reporter_phone": "", "token": "u" * 24}
    client.post("/appeal/join/", data)
    client.post("/appeal/join/", data)
    open_case.refresh_from_db()
    assert open_case.reporter_count == 2


def test_a_co_reporter_tracks_the_case_with_their_own_phone(client, open_case):
    client.post("/appeal/join/", {"tracking_code": open_case.tracking_code, "reporter_phone": "13600003333", "token": "v" * 24})
    from minsheng.cases.selectors import case_by_tracking

    assert case_by_tracking(tracking_code=open_case.tracking_code, phone_last4="3333") == open_case
    assert case_by_tracking(tracking_code=open_case.tracking_code, phone_last4="9999") is None


def test_joining_a_closed_case_is_refused(client, open_case, users):
    services.case_reject(case=open_case, acting_user=users["dispatcher"], reason="测试")
    response = client.post("/appeal/join/", {"tracking_code": open_case.tracking_code, "token": "w" * 24})
    assert response.status_code == 302 and response["Location"].endswith("/appeal/new/")
    open_case.refresh_from_db()
    assert open_case.reporter_count == 1


def test_the_rating_form_asks_whether_it_was_resolved(client, cases):
    from minsheng.cases.choices import CaseState
    from minsheng.intake.access import appeal_remember  # noqa: F401  (session helper used by the view)

    case = cases.make(CaseState.AWAITING_FEEDBACK)
    client.post("/track/", {"tracking_code": case.tracking_code, "phone_last4": "5678"})
    response = client.post(f"/track/{case.tracking_code}/rate/", {"rating": "basic", "resolved": "no", "comment": "", "version": case.version})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "closed" and case.feedback_resolved is False
