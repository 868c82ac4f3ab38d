"""A leader in a real browser: reads the hotspot page (the trend chart draws under the CSP),
adopts the month's top problem as 每月一题 from the proposals, and the owner street office
records progress on it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from minsheng.analytics.models import Topic, TopicNote
from tests.analytics.test_hotspots import seed
from tests.e2e.conftest import login
from tests.factories import PASSWORD, make_user, unit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_leader_reads_hotspots_and_adopts_a_topic(new_page, committed_district, shot):
    make_user("leader", "leader")
    make_user("street-JSL", "handler", "street:JSL")
    today = timezone.localdate()
    for weeks_ago in range(1, 9):
        seed(1, today - dt.timedelta(weeks=weeks_ago), community="community:JSL01")
    seed(7, today)  # JSL03 环境卫生: this month's top problem
    seed(3, today, community="community:LSZ01", sub="ZF.WYFW")

    page = new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, "leader", PASSWORD)
    page.goto("/desk/analytics/hotspots/")
    page.wait_for_selector("#hotspots-trend-chart canvas")
    assert page.locator("table.heat tbody tr").count() == 2
    assert page.locator("[data-table=reporters]").count() == 0  # leaders read figures, not people
    shot(page, "hotspots-leader")
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors

    page.click("nav.sidebar >> text=每月一题")
    page.wait_for_selector("[data-table=proposals]")
    first = page.locator("[data-table=proposals] tbody tr").first
    assert unit("community:JSL03").name in first.inner_text()
    first.locator("a.button").click()
    page.fill("textarea[name=plan]", "街道牵头，环卫公司每日两次清运，两周内复查。")
    page.click("button[type=submit].primary")
    page.wait_for_selector(".topic-counts")
    assert page.locator("[data-count=total]").inner_text() == "7"
    shot(page, "topic-adopted")
    topic = Topic.objects.get()
    assert topic.owner_unit == unit("street:JSL") and topic.proposed_count == 7

    handler = new_page()
    login(handler, "street-JSL", PASSWORD)
    handler.goto(f"/desk/analytics/topics/{topic.pk}/")
    handler.fill("textarea[name=text]", "已与环卫公司签订清运补充协议")
    handler.click("text=记录进展")
    handler.wait_for_selector("text=进展已记录。")
    assert TopicNote.objects.filter(topic=topic, kind="note").count() == 1
    assert handler.locator("text=更改状态").count() == 0  # the owner unit records progress; leaders move the status
    shot(handler, "topic-progress-owner")
