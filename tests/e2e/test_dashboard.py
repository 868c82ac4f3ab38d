"""A leader in a real browser: opens the dashboard, changes the month, drills down from a
ranking row to the cases behind it, exports the list as Excel (opened and checked), and
downloads the month's briefing (opened with python-docx)."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
import time_machine
from docx import Document

from minsheng.cases import services
from minsheng.cases.models import Category
from tests.analytics.conftest import local
from tests.e2e.conftest import login
from tests.factories import PASSWORD, make_user, unit

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def handled(when_day: str, to: str, text: str, dispatcher, handler):
    """A case submitted, dispatched, handled, replied, approved and rated satisfied on one day."""
    def at(hour):
        return time_machine.travel(local(f"{when_day} {hour}"), tick=False)

    with at("08:00"):
        case = services.case_submit(text=text, channel="hotline", reporter_phone="13812345678",
                                    community=unit("community:JSL03"), category=Category.objects.get(code="CGM.HJWS"))
    with at("09:00"):
        services.case_dispatch(case=case, acting_user=dispatcher, unit=unit(to))
    with at("09:30"):
        services.case_acknowledge(case=case, acting_user=handler)
    with at("10:00"):
        services.case_contact(case=case, acting_user=handler, note="已电话联系群众")
    with at("15:00"):
        services.case_reply(case=case, acting_user=handler, reply_text="已安排人员现场处理完毕。")
    with at("16:00"):
        services.case_approve(case=case, acting_user=dispatcher)
    with at("17:00"):
        services.case_record_feedback(case=case, rating="satisfied", resolved=True)
    return case


@pytest.fixture
def october(committed_district, settings):
    from django.core.cache import cache

    cache.clear()  # the dashboard's trend keeps ended months there
    settings.MINSHENG_RANKING_MIN_VOLUME = 1
    dispatcher = make_user("dispatcher", "dispatcher")
    jsl = make_user("street-JSL", "handler", "street:JSL")
    lsz = make_user("street-LSZ", "handler", "street:LSZ")
    make_user("leader", "leader")
    cases = [handled("2026-10-12", "street:JSL", f"计划路{n}号院门口垃圾三天没人清运", dispatcher, jsl) for n in (1, 2, 3)]
    cases.append(handled("2026-10-13", "street:LSZ", "碧沙岗公园东门路灯不亮", dispatcher, lsz))
    return cases


def test_a_leader_reads_the_dashboard_drills_down_and_exports(new_page, october, shot, tmp_path):
    page = new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, "leader", PASSWORD)
    page.click("nav.sidebar >> text=数据看板")
    page.wait_for_url("**/desk/analytics/dashboard/")
    assert "全区" in page.locator("[data-scope]").inner_text()
    shot(page, "dashboard-this-month")

    # A new month from the month picker: the page reloads with that month's figures.
    page.fill("[data-month-picker]", "2026-10")
    page.locator("[data-month-picker]").dispatch_event("change")
    page.wait_for_url(re.compile(r".*month=2026-10"))
    page.locator("#trend-chart[data-chart-ready]").wait_for()
    page.locator("#street-map[data-chart-ready]").wait_for()
    assert "2026-10-01" in page.locator("[data-period]").inner_text()
    received_tile = page.locator("a[data-figure]", has_text="收件量").first
    assert received_tile.locator(".tile-value").inner_text() == "4"
    street_row = page.locator("[data-ranking=street] tr[data-unit=JSL]")
    assert "红榜" in street_row.inner_text()
    page.select_option("[data-map-metric]", "received")
    shot(page, "dashboard-october")
    assert not [e for e in errors if "Content Security Policy" in e or "echarts" in e.lower()], errors

    # From the street's ranking row to the cases behind its figure.
    street_row.locator("a[data-drill]").click()
    page.wait_for_url("**/desk/analytics/drilldown/**")
    rows = page.locator("table.drilldown tbody tr[data-case]")
    assert rows.count() == 3
    listed = set(rows.evaluate_all("rows => rows.map(r => r.dataset.case)"))
    assert listed == {c.tracking_code for c in october[:3]}
    shot(page, "dashboard-drilldown")

    with page.expect_download() as download_info:
        page.click("[data-export=drilldown]")
    path = tmp_path / "drilldown.xlsx"
    download_info.value.save_as(path)
    ws = openpyxl.load_workbook(path).active
    assert [c.value for c in ws[1]][:4] == ["发生时间", "查询码", "反映时间", "渠道"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.bold
    assert {row[1] for row in ws.iter_rows(min_row=2, values_only=True)} == listed

    # Back to the month, and its briefing.
    page.click("text=返回数据看板")
    page.wait_for_url(re.compile(r".*dashboard/\?month=2026-10"))
    with page.expect_download() as briefing_info:
        page.click("[data-briefing]")
    briefing = briefing_info.value
    assert briefing.suggested_filename.endswith(".docx")
    doc = Document(io.BytesIO(open(briefing.path(), "rb").read()))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "民生诉求办理情况" in text and "2026年10月" in text
    shot(page, "dashboard-after-downloads")
