"""Looking up one's own appeal: the tracking code, the phone's last four digits, and a page
that shows only what the resident may see."""

from __future__ import annotations

import pytest

from minsheng.cases import services
from minsheng.cases.choices import CaseState

from .conftest import verify

pytestmark = pytest.mark.django_db

NEUTRAL = "没有找到对应的诉求。请核对查询码和手机号后四位后重试。"


def test_the_code_and_the_last_four_digits_open_the_case_page(client, cases):
    case = cases.make(CaseState.IN_PROGRESS)

    response = verify(client, case)

    assert response.status_code == 302
    assert response["Location"] == f"/track/{case.tracking_code}/"
    assert "正在办理" in client.get(response["Location"]).content.decode()


def test_the_code_is_read_whatever_its_case_and_spacing(client, cases):
    case = cases.make()

    response = client.post("/track/", {"tracking_code": f" {case.tracking_code.lower()[:4]} {case.tracking_code.lower()[4:]} ", "phone_last4": "5678"})

    assert response["Location"] == f"/track/{case.tracking_code}/"


def test_a_wrong_phone_gets_the_neutral_message_and_no_data(client, cases):
    case = cases.make(CaseState.IN_PROGRESS)

    response = verify(client, case, last4="0000")

    page = response.content.decode()
    assert response.status_code == 200
    assert NEUTRAL in page
    assert case.text not in page
    assert "正在办理" not in page
    assert client.get(f"/track/{case.tracking_code}/").status_code == 302


def test_an_unknown_code_gets_the_same_neutral_message(client, cases):
    case = cases.make()
    wrong_phone = verify(client, case, last4="0000").content.decode()

    unknown = client.post("/track/", {"tracking_code": "250101ZZZZZ", "phone_last4": case.phone_last4}).content.decode()

    assert NEUTRAL in unknown
    assert _error_box(unknown) == _error_box(wrong_phone)


def _error_box(page: str) -> str:
    start = page.index('class="form-errors"')
    return page[start:page.index("</div>", start)]


def test_a_case_without_a_phone_opens_with_the_code_alone(client, cases):
    case = cases.make(phone="")

    response = client.post("/track/", {"tracking_code": case.tracking_code})

    assert response["Location"] == f"/track/{case.tracking_code}/"


def test_the_case_page_without_proof_in_the_session_asks_for_it(client, cases):
    case = cases.make()

    response = client.get(f"/track/{case.tracking_code}/")

    assert response.status_code == 302
    assert response["Location"] == f"/track/?code={case.tracking_code}"
    assert case.tracking_code in client.get(response["Location"]).content.decode()


def test_an_unknown_code_in_the_url_is_treated_like_any_unproven_code(client):
    response = client.get("/track/250101ZZZZZ/")

    assert response["Location"] == "/track/?code=250101ZZZZZ"


def test_the_phone_digits_never_appear_in_a_url(client, cases):
    case = cases.make()

    response = verify(client, case)

    assert case.phone_last4 not in response["Location"]


def test_the_timeline_shows_public_events_only(client, cases, users):
    case = cases.make(CaseState.IN_PROGRESS)
    services.case_add_note(case=case, acting_user=users["street"], text="内部备注：当事人情绪激动，注意方式")
    verify(client, case)

    page = client.get(f"/track/{case.tracking_code}/").content.decode()

    assert "内部备注" not in page
    assert "情绪激动" not in page
    assert "已转交建设路街道办理" in page
    assert "建设路街道已签收，开始办理" in page
    for user in users.values():
        assert user.username not in page


def test_a_units_reason_for_returning_the_case_is_not_shown(client, cases, users):
    case = cases.make(CaseState.IN_PROGRESS)
    services.case_return(case=case, acting_user=users["street"], reason="不属于本街道辖区，应由城管局处理")
    verify(client, case)

    page = client.get(f"/track/{case.tracking_code}/").content.decode()

    assert "不属于本街道辖区" not in page
    assert "已受理，正在转交" in page


def test_the_reply_is_shown_only_after_approval(client, cases, users):
    case = cases.make(CaseState.REPLIED)
    verify(client, case)
    assert "已安排人员现场处理完毕" not in client.get(f"/track/{case.tracking_code}/").content.decode()

    services.case_approve(case=case, acting_user=users["dispatcher"])

    page = client.get(f"/track/{case.tracking_code}/").content.decode()
    assert "已安排人员现场处理完毕" in page
    assert "请在" in page and "前评价" in page


def test_the_resolve_by_deadline_is_said_in_plain_words(client, cases):
    case = cases.make(CaseState.IN_PROGRESS)
    verify(client, case)

    page = client.get(f"/track/{case.tracking_code}/").content.decode()

    assert "按规定应在" in page and "前办结" in page


def test_lookups_are_rate_limited(client, cases, settings):
    settings.MINSHENG_TRACK_RATE = "3/h"
    case = cases.make()
    for _ in range(3):
        verify(client, case, last4="0000")

    response = verify(client, case)

    assert response.status_code == 429


def test_guesses_at_one_code_are_limited_across_addresses(client, cases, settings):
    settings.MINSHENG_TRACK_RATE = "3/h"
    case = cases.make()
    for number in range(3):
        client.post("/track/", {"tracking_code": case.tracking_code, "phone_last4": "000%d" % number}, REMOTE_ADDR=f"10.0.0.{number}")

    response = client.post("/track/", {"tracking_code": case.tracking_code, "phone_last4": case.phone_last4}, REMOTE_ADDR="10.0.0.99")

    assert response.status_code == 429
