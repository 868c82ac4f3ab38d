"""Whose verdict a rating is. Anyone may join an open appeal about the same problem (多人同诉:
the form offers similar open cases, with their tracking codes, to whoever types a similar
text) and then follow its progress. Rating the answer — which closes or reopens the case and
counts in the handling unit's satisfaction rate — stays with the resident who raised it: a
co-reporter's phone or a joining browser cannot rate, on the pages or over the API."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from minsheng.cases.choices import CaseState
from minsheng.cases.models import Case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _join(client, case: Case, phone: str = "13700002222"):
    return client.post(reverse("intake:join"), {"tracking_code": case.tracking_code, "reporter_name": "王五", "reporter_phone": phone,
                                                "text": "同样的问题，垃圾好几天没人清运", "token": "j" * 24, "address": "计划路"})


def _answered(case: Case, users) -> Case:
    """The unit replies and the command centre approves: the case now awaits the verdict."""
    from minsheng.cases import services

    case.refresh_from_db()
    services.case_reply(case=case, acting_user=users["street"], reply_text="已安排人员现场处理完毕，情况已反馈。")
    services.case_approve(case=case, acting_user=users["dispatcher"])
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_FEEDBACK
    return case


def _rate(client, case: Case):
    case.refresh_from_db()
    return client.post(reverse("intake:rate", args=[case.tracking_code]),
                       {"rating": "satisfied", "resolved": "yes", "comment": "", "version": case.version})


def test_joining_an_appeal_lets_a_browser_follow_it_but_not_rate_it(client, users, cases):
    case = cases.make(CaseState.IN_PROGRESS)

    joined = _join(client, case)
    case = _answered(case, users)
    page = client.get(reverse("intake:case", args=[case.tracking_code]))
    rated = _rate(client, case)

    assert joined.status_code == 302 and page.status_code == 200
    assert f'action="{reverse("intake:rate", args=[case.tracking_code])}"' not in page.content.decode()
    assert rated.status_code in (302, 403)
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_FEEDBACK and not case.events.filter(action="feedback_close").exists()


def test_a_co_reporter_tracking_with_their_own_phone_cannot_rate(client, users, cases):
    case = cases.make(CaseState.IN_PROGRESS)
    _join(client, case, phone="13700002222")
    case = _answered(case, users)
    stranger = client.__class__()

    tracked = stranger.post("/track/", {"tracking_code": case.tracking_code, "phone_last4": "2222"})
    rated = _rate(stranger, case)
    over_api = stranger.post(f"/api/v1/public/appeals/{case.tracking_code}/feedback",
                             json.dumps({"phone_last4": "2222", "rating": "satisfied"}), content_type="application/json")

    followed = stranger.get(f"/api/v1/public/appeals/{case.tracking_code}", {"phone_last4": "2222"})
    assert tracked.status_code == 302  # following the progress is theirs
    assert followed.status_code == 200 and followed.json()["can_rate"] is False
    own = stranger.get(f"/api/v1/public/appeals/{case.tracking_code}", {"phone_last4": case.phone_last4})
    assert own.json()["can_rate"] is True
    assert rated.status_code in (302, 403)
    assert over_api.status_code == 403, over_api.content
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_FEEDBACK


def test_the_resident_who_raised_it_still_rates_it(client, users, cases):
    case = cases.make(CaseState.IN_PROGRESS)
    _join(client.__class__(), case)
    case = _answered(case, users)

    client.post("/track/", {"tracking_code": case.tracking_code, "phone_last4": case.phone_last4})
    page = client.get(reverse("intake:case", args=[case.tracking_code]))
    rated = _rate(client, case)

    assert f'action="{reverse("intake:rate", args=[case.tracking_code])}"' in page.content.decode()
    assert rated.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED


def test_the_resident_rates_over_the_api_with_their_own_digits(client, cases):
    case = cases.make(CaseState.AWAITING_FEEDBACK)

    response = client.post(f"/api/v1/public/appeals/{case.tracking_code}/feedback",
                           json.dumps({"phone_last4": case.phone_last4, "rating": "satisfied"}), content_type="application/json")

    assert response.status_code == 200, response.content
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED
