"""The listening channels in a real browser (Chromium, Content-Security-Policy enforced):

- a survey is built and published by a community worker, answered on a phone, its result
  chart drawn, and a text answer turned into an appeal;
- a forum with three issues is recorded and the meeting page shows three linked appeals;
- a field visit submitted while the phone is offline is kept in the browser and arrives when
  the phone is back online.

Screenshots go to ./test-artifacts/."""

from __future__ import annotations

import pytest

from minsheng.cases.models import Case
from minsheng.channels.models import Forum, SurveyAnswer, Visit
from tests.channels.conftest import _small_classifier, engine  # noqa: F401 — fixtures
from tests.e2e.conftest import login
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(committed_district, engine, settings):  # noqa: F811
    settings.MINSHENG_AUTO_DISPATCH_THRESHOLD = 1.01
    from django.core.cache import cache

    cache.clear()
    return make_user("community-JSL03", "handler", "community:JSL03")


def watch(page) -> list[str]:
    """Console errors and page errors (a CSP violation shows up here)."""
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_a_survey_is_built_answered_on_a_phone_charted_and_turned_into_an_appeal(new_page, worker, shot):
    desk = new_page()
    problems = watch(desk)
    login(desk, worker.username, PASSWORD)

    desk.goto("/desk/channels/surveys/new/")
    desk.fill("input[name=title]", "社区停车问题调查")
    desk.select_option("select[name=answer_limit]", "device")
    desk.click("button.primary")
    desk.wait_for_load_state()
    assert "/desk/channels/surveys/" in desk.url

    def add(kind, text, options="", condition=None, required=True):
        desk.select_option("#add-question select[name=kind]", kind)
        desk.fill("#add-question input[name=text]", text)
        if options:
            desk.fill("#add-question textarea[name=options]", options)
        if required:
            desk.check("#add-question input[name=required]")
        if condition:
            desk.select_option("#add-question select[name=condition]", label=condition)
        desk.click("#add-question button.primary")
        desk.wait_for_load_state()

    add("single", "晚上停车难吗？", "很难\n一般\n不难")
    add("text", "难在哪里？说说具体情况", condition="Q1「晚上停车难吗？」= 很难", required=False)
    add("rating", "对小区停车管理打分")
    shot(desk, "channels-survey-builder")
    with desk.expect_navigation():
        desk.once("dialog", lambda dialog: dialog.accept())
        desk.click("button >> text=发布问卷")
    token_link = desk.locator(".ch-link a").first.get_attribute("href")
    assert "/s/" in token_link

    phone = new_page(mobile=True)
    phone_problems = watch(phone)
    phone.goto(token_link)
    assert fits(phone)
    follow_up = phone.locator("[data-show-if]")
    assert follow_up.is_hidden()  # skip logic: asked only after "很难"
    phone.click("label.choice >> text=很难")
    assert follow_up.is_visible()
    phone.fill("textarea", "小区里车位太少，晚上八点以后车都停到消防通道上了")
    phone.click(".ch-rating label.choice >> text=2")
    phone.select_option("select[name=community]", index=1)
    shot(phone, "channels-survey-phone")
    phone.click("button >> text=提交问卷")
    phone.wait_for_load_state()
    assert "提交成功" in phone.content()

    answer = SurveyAnswer.objects.get(question__kind="text")
    desk.goto(desk.url.rstrip("/") + "/results/")
    desk.locator(".ch-chart canvas").first.wait_for()
    assert desk.locator(".ch-chart canvas").count() >= 2
    shot(desk, "channels-survey-results")
    desk.click(f"#a{answer.pk} button >> text=转为诉求")
    desk.wait_for_load_state()
    answer.refresh_from_db()
    assert answer.case is not None and answer.case.channel == "survey"
    assert answer.case.tracking_code in desk.content()
    assert problems == [] and phone_problems == []


def test_a_forum_with_three_issues_shows_three_linked_appeals(new_page, worker, shot):
    desk = new_page()
    problems = watch(desk)
    login(desk, worker.username, PASSWORD)
    desk.click(".sidebar a >> text=听取民意")  # the workbench menu leads to the channels
    desk.wait_for_load_state()
    desk.goto("/desk/channels/forums/new/")
    desk.fill("input[name=title]", "三季度居民议事会")
    desk.fill("input[name=place]", "社区会议室")
    desk.fill("textarea[name=attendees]", "王大爷，居民代表\n赵书记，社区党委，书记")
    desk.fill("textarea[name=minutes]", "会议听取了居民对小区环境的意见。")
    issues = ["南门路灯不亮一个多月了", "菜市场门口早上占道经营严重", "三号楼楼顶漏水，雨天墙面渗水"]
    for index, text in enumerate(issues):
        if index >= desk.locator("[data-rows=issues] > li").count():
            desk.click("button[data-add-row=issues]")
        desk.fill(f"textarea[name=issues-{index}-text]", text)
    shot(desk, "channels-forum-form")
    desk.click("button >> text=登记并转为诉求")
    desk.wait_for_load_state()
    forum = Forum.objects.get()
    assert forum.issues.count() == 3
    table = desk.locator("#forum-issues")
    for issue in forum.issues.select_related("case"):
        assert issue.case.tracking_code in table.inner_text()
        assert issue.case.channel == "forum"
    shot(desk, "channels-forum-page")
    # The appeal's page names its channel and leads back to the meeting.
    first = forum.issues.select_related("case").first().case
    desk.click(f"#forum-issues a >> text={first.tracking_code}")
    desk.wait_for_load_state()
    facts = desk.locator(".facts").first.inner_text()
    assert "座谈会" in facts and "三季度居民议事会" in facts
    shot(desk, "channels-forum-case")
    desk.click(".ch-source a")
    desk.wait_for_load_state()
    assert desk.url.endswith(f"/desk/channels/forums/{forum.pk}/")
    desk.goto(f"/desk/channels/forums/{forum.pk}/ledger/")
    assert "座谈会台账" in desk.content()
    shot(desk, "channels-forum-ledger")
    assert problems == []


def test_a_visit_recorded_offline_arrives_when_back_online(new_page, worker, shot):
    phone = new_page(mobile=True)
    problems = watch(phone)
    login(phone, worker.username, PASSWORD)
    phone.goto("/desk/channels/visits/new/")
    assert fits(phone)
    phone.context.set_offline(True)
    phone.fill("input[name=place]", "绿东村小区3号楼2单元401室")
    phone.fill("input[name=people_met]", "王大爷")
    phone.fill("input[name=phone]", "13812345678")
    phone.fill("textarea[name=findings]", "楼道灯坏了，晚上上下楼看不见")
    phone.click("button >> text=保存走访记录")
    phone.locator("[data-drafts]:not([hidden])").wait_for()
    assert "已保存在本机" in phone.locator("[data-offline-status]").inner_text()
    shot(phone, "channels-visit-offline")
    assert not Visit.objects.exists()
    assert phone.input_value("input[name=place]") == ""  # cleared for the next household

    phone.context.set_offline(False)
    phone.evaluate("window.dispatchEvent(new Event('online'))")
    phone.locator("[data-drafts][hidden]").wait_for(state="attached")
    phone.wait_for_function("document.querySelector('[data-offline-status]').textContent.indexOf('已上传') >= 0")
    visit = Visit.objects.get()
    assert visit.place == "绿东村小区3号楼2单元401室" and visit.findings.get().case.channel == "visit"
    assert visit.phone == "13812345678" and visit.findings.get().case.reporter_phone == "13812345678"
    assert Case.objects.filter(channel="visit").count() == 1
    shot(phone, "channels-visit-synced")
    assert [p for p in problems if "ERR_INTERNET_DISCONNECTED" not in p and "Failed to fetch" not in p] == []
