"""The whole life of an appeal in a real browser: a resident reports it on a phone, the
dispatcher dispatches it, the street office acknowledges and replies, the dispatcher approves,
the resident is not satisfied, the case is handled again and finally closed satisfied.
Screenshots of every step go to ./test-artifacts/."""

from __future__ import annotations

import pytest

from minsheng.cases.models import Case
from tests.e2e.conftest import login
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff(committed_district, settings):
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 1.01  # the dispatcher decides in this story
    from django.core.cache import cache

    cache.clear()
    return {
        "dispatcher": make_user("dispatcher", "dispatcher"),
        "street": make_user("street-JSL", "handler", "street:JSL"),
    }


def act(page, action: str, fields: dict[str, str] | None = None) -> None:
    """Take an action on the open case page: an inline button, or a form behind a summary."""
    panel = page.locator(f"#act-{action}")
    if panel.count():
        panel.locator("summary").click()
        for name, value in (fields or {}).items():
            panel.locator(f"[name={name}]").fill(value)
        with page.expect_response(lambda r: f"/act/{action}/" in r.url):
            panel.locator("button.primary, button.danger").first.click()
    else:
        with page.expect_response(lambda r: f"/act/{action}/" in r.url):
            page.locator(f"form[action$='/act/{action}/'] button").first.click()
    page.wait_for_load_state()


def reply_and_approve(desk_street, desk_dispatcher, case: Case, text: str, shot, step: str) -> None:
    desk_street.goto(f"/desk/cases/{case.pk}/")
    act(desk_street, "reply", {"reply_text": text})
    case.refresh_from_db()
    assert case.state == "replied"
    shot(desk_street, f"lifecycle-{step}-replied")
    desk_dispatcher.goto(f"/desk/cases/{case.pk}/")
    act(desk_dispatcher, "approve")
    case.refresh_from_db()
    assert case.state == "awaiting_feedback"


def rate(phone, case: Case, rating: str) -> None:
    phone.goto(f"/track/{case.tracking_code}/")
    phone.check(f"input[name=rating][value={rating}]")
    with phone.expect_response(lambda r: "/rate/" in r.url):
        phone.click("button >> text=提交评价")
    phone.wait_for_load_state()


def test_an_appeal_from_report_to_satisfied_close(new_page, staff, shot):
    # The resident, on a phone.
    phone = new_page(mobile=True)
    phone.goto("/appeal/new/")
    phone.fill("textarea[name=text]", "计划路菜市场西门口的垃圾点三天没人清运了，苍蝇很多，气味很大")
    phone.fill("input[name=address]", "计划路菜市场")
    phone.fill("input[name=reporter_phone]", "13912345678")
    shot(phone, "lifecycle-01-resident-submits")
    phone.click("button[type=submit] >> text=提交诉求")
    phone.wait_for_url("**/done/")
    case = Case.objects.get()
    assert case.state == "submitted" and case.street.code == "JSL"

    # The dispatcher finds it in the queue and dispatches it.
    desk_dispatcher = new_page()
    login(desk_dispatcher, "dispatcher", PASSWORD)
    desk_dispatcher.goto("/desk/queue/to_dispatch/")
    desk_dispatcher.click(f"text={case.tracking_code}")
    desk_dispatcher.wait_for_url(f"**/desk/cases/{case.pk}/")
    shot(desk_dispatcher, "lifecycle-02-dispatcher-case")
    desk_dispatcher.locator("#act-dispatch summary").click()
    assert desk_dispatcher.locator("#act-dispatch select[name=unit]").input_value() == str(case.street.pk)
    with desk_dispatcher.expect_response(lambda r: "/act/dispatch/" in r.url):
        desk_dispatcher.locator("#act-dispatch button.primary").click()
    desk_dispatcher.wait_for_load_state()
    case.refresh_from_db()
    assert case.state == "dispatched" and case.main_unit.code == "JSL"

    # The street office acknowledges it.
    desk_street = new_page()
    login(desk_street, "street-JSL", PASSWORD)
    desk_street.goto("/desk/queue/to_acknowledge/")
    assert case.tracking_code in desk_street.content()
    desk_street.goto(f"/desk/cases/{case.pk}/")
    act(desk_street, "acknowledge")
    case.refresh_from_db()
    assert case.state == "in_progress"
    shot(desk_street, "lifecycle-03-acknowledged")

    reply_and_approve(desk_street, desk_dispatcher, case, "已联系环卫所当天完成清运，并将清运频次调整为每日一次。", shot, "04")

    # The resident is not satisfied: the case goes back for re-handling.
    rate(phone, case, "unsatisfied")
    case.refresh_from_db()
    assert case.state == "in_progress" and case.rehandle_count == 1
    shot(phone, "lifecycle-05-resident-unsatisfied")

    reply_and_approve(desk_street, desk_dispatcher, case, "已增设两个垃圾桶并安排专人每日两次巡查，群众已确认现场整洁。", shot, "06")

    rate(phone, case, "satisfied")
    case.refresh_from_db()
    assert case.state == "closed" and case.feedback == "satisfied"
    assert "已办结" in phone.content() or "办结" in phone.content()
    shot(phone, "lifecycle-07-closed")
    actions = list(case.events.values_list("action", flat=True))
    assert actions.count("reply") == 2 and actions[-1] == "feedback_close"
