"""Intelligent dispatch in a real browser: a resident sees that neighbours already reported
the same problem and joins their case; the dispatcher confirms the engine's suggestion in
one click."""

from __future__ import annotations

import pytest

from minsheng.cases import services
from minsheng.cases.models import Case
from minsheng.dispatch.services import engine_reset, intake_process
from tests.e2e.conftest import login
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setup(committed_district, settings):
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 1.01
    from django.core.cache import cache

    cache.clear()
    engine_reset()
    yield
    engine_reset()


def test_a_resident_joins_a_case_neighbours_already_reported(new_page, setup, shot):
    existing = services.case_submit(text="计划路菜市场门口垃圾堆了三天没人清运，臭气熏天", channel="hotline",
                                    address="计划路菜市场", reporter_phone="13812345678")
    intake_process(case=existing)

    phone = new_page(mobile=True)
    phone.goto("/appeal/new/")
    phone.fill("textarea[name=text]", "计划路菜市场门口的垃圾好几天都没人拉走了，太臭了")
    phone.fill("input[name=address]", "计划路菜市场")
    phone.locator("input[name=address]").blur()
    phone.locator("[data-similar]").wait_for()
    assert "已有居民反映过类似问题" in phone.content()
    phone.fill("input[name=reporter_phone]", "13600003333")
    shot(phone, "dispatch-resident-sees-similar")
    phone.click("button >> text=是同一个问题，加入此诉求")
    phone.wait_for_url(f"**/track/{existing.tracking_code}/")
    shot(phone, "dispatch-resident-joined")

    existing.refresh_from_db()
    assert Case.objects.count() == 1
    assert existing.reporter_count == 2 and existing.co_reporters.get().phone == "13600003333"


def test_the_dispatcher_confirms_a_suggestion_in_one_click(new_page, setup, shot):
    make_user("dispatcher", "dispatcher")
    case = services.case_submit(text="伊河路26号院3号楼楼道里燃气味很重，怀疑哪里漏气了", channel="web", address="伊河路26号院")
    intake_process(case=case)

    desk = new_page()
    login(desk, "dispatcher", PASSWORD)
    desk.goto(f"/desk/cases/{case.pk}/")
    panel = desk.locator("#suggestion")
    assert "郑州华润燃气股份有限公司" in panel.inner_text() and "伊河路社区" in panel.inner_text()
    shot(desk, "dispatch-suggestion-panel")
    with desk.expect_response(lambda r: "/act/dispatch/" in r.url):
        panel.locator("[data-confirm-suggestion]").click()
    desk.wait_for_load_state()
    case.refresh_from_db()
    assert case.state == "dispatched" and case.main_unit.code == "GAS" and case.category.code == "GY.RQ"
    assert case.events.get(action="dispatch").actor.username == "dispatcher"
    shot(desk, "dispatch-confirmed")
