"""Rating the answer from the tracking page."""

from __future__ import annotations

import pytest

from minsheng.cases import services
from minsheng.cases.choices import CaseState, Feedback

from .conftest import verify

pytestmark = pytest.mark.django_db


def rate(client, case, rating: str, comment: str = "", version: int | None = None):
    data = {"rating": rating, "comment": comment, "version": case.version if version is None else version}
    return client.post(f"/track/{case.tracking_code}/rate/", data)


def test_the_rating_form_is_offered_when_the_answer_awaits_feedback(client, cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)
    verify(client, case)

    page = client.get(f"/track/{case.tracking_code}/").content.decode()

    assert f'action="/track/{case.tracking_code}/rate/"' in page


def test_the_rating_form_is_not_offered_before_the_answer(client, cases):
    case = cases.make(CaseState.IN_PROGRESS)
    verify(client, case)

    page = client.get(f"/track/{case.tracking_code}/").content.decode()

    assert "/rate/" not in page


@pytest.mark.parametrize("rating", [Feedback.SATISFIED, Feedback.BASIC])
def test_satisfied_closes_the_case(client, cases, rating):
    case = cases.make(CaseState.AWAITING_FEEDBACK)
    verify(client, case)

    response = rate(client, case, rating, "处理很及时")

    case.refresh_from_db()
    assert response["Location"] == f"/track/{case.tracking_code}/"
    assert (case.state, case.feedback, case.feedback_comment) == (CaseState.CLOSED, rating, "处理很及时")
    page = client.get(response["Location"]).content.decode()
    assert "感谢您的评价" in page
    assert "已办结" in page


def test_unsatisfied_reopens_the_case_for_re_handling(client, cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)
    verify(client, case)

    rate(client, case, Feedback.UNSATISFIED, "垃圾还在")

    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS
    assert case.rehandle_count == 1
    page = client.get(f"/track/{case.tracking_code}/").content.decode()
    assert "您的评价：不满意。已要求重新办理" in page


def test_rating_a_case_not_awaiting_feedback_is_refused(client, cases):
    case = cases.make(CaseState.IN_PROGRESS)
    verify(client, case)

    response = rate(client, case, Feedback.SATISFIED)

    case.refresh_from_db()
    assert case.state == CaseState.IN_PROGRESS
    assert "这件诉求现在不能评价" in client.get(response["Location"]).content.decode()


def test_rating_a_case_that_changed_meanwhile_asks_to_look_again(client, cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)
    verify(client, case)

    rate(client, case, Feedback.SATISFIED, version=case.version - 1)

    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_FEEDBACK
    assert "刚刚有了新的进展" in client.get(f"/track/{case.tracking_code}/").content.decode()


def test_rating_needs_the_case_proven_in_this_session(client, cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)

    response = rate(client, case, Feedback.UNSATISFIED)

    case.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"].startswith("/track/?code=")
    assert case.state == CaseState.AWAITING_FEEDBACK


def test_a_missing_rating_is_shown_next_to_the_choices_and_the_comment_kept(client, cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)
    verify(client, case)

    response = rate(client, case, "", "还没想好")

    page = response.content.decode()
    assert response.status_code == 400
    assert "请选择一项评价。" in page
    assert "还没想好" in page


def test_rating_by_get_is_not_allowed(client, cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)
    verify(client, case)

    assert client.get(f"/track/{case.tracking_code}/rate/?rating=satisfied").status_code == 405
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_FEEDBACK


def test_a_merged_appeal_follows_its_master_case(client, cases, users):
    master = cases.make(CaseState.IN_PROGRESS)
    duplicate = cases.make(text="计划路菜市场门口垃圾堆积很多天了", phone="13700001111")
    services.case_merge(case=duplicate, master=master, acting_user=users["dispatcher"])
    verify(client, duplicate)

    page = client.get(f"/track/{duplicate.tracking_code}/").content.decode()

    assert "已合并办理 · 正在办理" in page
    assert "建设路街道" in page
    assert master.text not in page
    assert "/rate/" not in page
