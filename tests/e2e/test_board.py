"""A resident opens the public board on a phone: figures, the 12-month chart drawn by ECharts
under the Content-Security-Policy, and resolved appeals without personal data."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from minsheng.cases import services
from minsheng.cases.models import Category
from tests.analytics.conftest import local
from tests.factories import make_user, unit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def resolved_case(committed_district):
    cache.clear()
    dispatcher = make_user("dispatcher", "dispatcher")
    handler = make_user("street-JSL", "handler", "street:JSL")
    day = (timezone.localdate() - dt.timedelta(days=2)).isoformat()

    def at(hour):
        return time_machine.travel(local(f"{day} {hour}"), tick=False)

    with at("08:00"):
        case = services.case_submit(text="伊河路26号院3号楼门口垃圾堆积，我是王小明，电话13912345678", channel="web",
                                    reporter_name="王小明", reporter_phone="13912345678",
                                    community=unit("community:JSL03"), category=Category.objects.get(code="CGM.HJWS"))
    with at("09:00"):
        services.case_dispatch(case=case, acting_user=dispatcher, unit=unit("street:JSL"))
    with at("09:30"):
        services.case_acknowledge(case=case, acting_user=handler)
    with at("10:00"):
        services.case_contact(case=case, acting_user=handler, note="已电话联系群众")
    with at("15:00"):
        services.case_reply(case=case, acting_user=handler, reply_text="已安排环卫人员清运完毕。")
    with at("16:00"):
        services.case_approve(case=case, acting_user=dispatcher)
    with at("17:00"):
        services.case_record_feedback(case=case, rating="satisfied", resolved=True)
    yield case
    cache.clear()


def test_a_resident_reads_the_board_on_a_phone(new_page, resolved_case, shot):
    page = new_page(mobile=True)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto("/board/")
    page.locator("#board-chart canvas").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    text = page.inner_text("main")
    assert "民生诉求办理公开栏" in text and "伊河路**号院**号楼门口垃圾堆积" in text
    assert "王小明" not in text and "13912345678" not in text and resolved_case.tracking_code not in text
    shot(page, "board-phone")
    assert not problems, problems
