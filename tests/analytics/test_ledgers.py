"""Ledgers (台账) of the dashboard and the drill-down lists, opened with openpyxl: formatted
headers, frozen header row, widths, real dates, percentages as numbers, the screen's filters,
formula-safe text, audited, and refused outside the user's scope."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
import time_machine

from minsheng.analytics.selectors import dashboard
from minsheng.cases import services
from minsheng.cases.models import Category
from minsheng.core.models import AuditEntry
from tests.analytics.conftest import local
from tests.factories import unit

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _empty_cache():
    """The dashboard's trend keeps ended months in the cache: each test starts without them."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def month_of_cases(story, users):
    """Three cases in October 2026: two handled by 建设路街道, one by 区城市管理局; the last was
    written by someone who hoped a spreadsheet would run it."""
    made = []
    for to, text in (("street:JSL", None), ("street:JSL", None), ("dept:CGJ", "=HYPERLINK(\"http://evil.example\",\"点我\")")):
        with time_machine.travel(local("2026-10-12 08:00"), tick=False):
            case = services.case_submit(text=text or "计划路菜市场门口垃圾三天没人清运，气味很大", channel="hotline",
                                        reporter_phone="13812345678", community=unit("community:JSL03"),
                                        category=Category.objects.get(code="CGM.HJWS"))
        story.run(case, [("2026-10-12 09:00", "dispatch", {"unit": to}), ("2026-10-12 09:30", "acknowledge"),
                         ("2026-10-12 10:00", "contact"), ("2026-10-13 10:00", "reply"), ("2026-10-13 11:00", "approve"),
                         ("2026-10-14 09:00", "feedback", {"rating": "satisfied", "resolved": True})])
        made.append(case)
    return made


def open_xlsx(response):
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(response.content))


def header(ws) -> list[str]:
    return [c.value for c in ws[1]]


def assert_formatted(ws):
    assert ws.freeze_panes == "A2"
    assert all(c.font.bold for c in ws[1] if c.value is not None)
    assert ws.column_dimensions["A"].width and ws.column_dimensions["B"].width


def test_the_drilldown_ledger_has_the_rows_on_screen(client, month_of_cases, users):
    client.force_login(users["leader"])
    query = f"metric=received&unit={unit('street:JSL').pk}&start=2026-10-01&end=2026-10-31"
    on_screen = client.get(f"/desk/analytics/drilldown/?{query}").context["page"].paginator.count
    wb = open_xlsx(client.get(f"/desk/analytics/drilldown/export.xlsx?{query}"))
    ws = wb.active
    assert_formatted(ws)
    assert header(ws)[:3] == ["发生时间", "查询码", "反映时间"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == on_screen == 2
    assert {r[1] for r in rows} == {c.tracking_code for c in month_of_cases[:2]}
    first = ws.cell(row=2, column=1)
    assert isinstance(first.value, dt.datetime) and first.value == dt.datetime(2026, 10, 12, 9, 0)
    assert "yy" in first.number_format
    assert AuditEntry.objects.filter(action="export", target="analytics.drilldown:received", actor=users["leader"]).exists()


def test_case_text_cannot_become_a_formula(client, month_of_cases, users):
    client.force_login(users["leader"])
    wb = open_xlsx(client.get(f"/desk/analytics/drilldown/export.xlsx?metric=received&unit={unit('dept:CGJ').pk}&start=2026-10-01&end=2026-10-31"))
    ws = wb.active
    text_column = header(ws).index("诉求内容") + 1
    value = ws.cell(row=2, column=text_column).value
    assert value.startswith("'=HYPERLINK") and ws.cell(row=2, column=text_column).data_type == "s"


def test_the_dashboard_ledger_has_every_table(client, month_of_cases, users, settings):
    settings.MINSHENG_RANKING_MIN_VOLUME = 1
    client.force_login(users["leader"])
    wb = open_xlsx(client.get("/desk/analytics/dashboard/export.xlsx?month=2026-10"))
    assert wb.sheetnames == ["概览", "月度趋势", "分类统计", "渠道统计", "排名-区直部门", "排名-街道", "排名-社区 村"]
    for ws in wb.worksheets:
        assert_formatted(ws)
    overview = {row[0]: row[1] for row in wb["概览"].iter_rows(min_row=2, values_only=True)}
    figures = dashboard.district_overview(user=users["leader"], month=dt.date(2026, 10, 1))
    assert overview["收件量"] == figures["figures"]["received"] == 3
    assert overview["满意率"] == pytest.approx(1.0)
    rate_cell = next(row[1] for row in wb["概览"].iter_rows(min_row=2) if row[0].value == "满意率")
    assert rate_cell.number_format == "0.0%"
    trend = wb["月度趋势"]
    last = list(trend.iter_rows(min_row=2))[-1]
    assert last[0].value == dt.datetime(2026, 10, 1) and last[0].number_format == "yyyy-mm"
    assert last[2].value == 3 and last[5].number_format == "0.0%"
    streets = wb["排名-街道"]
    assert header(streets)[:4] == ["名次", "单位", "收件量", "响应率"]
    jsl = next(row for row in streets.iter_rows(min_row=2, values_only=True) if row[1] == "建设路街道")
    assert jsl[0] == 1 and jsl[2] == 2 and jsl[12] == "红榜"
    channels = {row[0]: row[1] for row in wb["渠道统计"].iter_rows(min_row=2, values_only=True)}
    assert channels["热线电话"] == 3


def test_one_table_with_the_screens_range(client, month_of_cases, users):
    client.force_login(users["leader"])
    wb = open_xlsx(client.get("/desk/analytics/dashboard/export.xlsx?start=2026-10-12&end=2026-10-12&table=ranking-dept"))
    assert wb.sheetnames == ["排名-区直部门"]
    cgj = next(row for row in wb.active.iter_rows(min_row=2, values_only=True) if row[1] == "区城市管理局")
    assert cgj[0] is None and cgj[2] == 1  # a range is not an official ranking: no rank
    later = open_xlsx(client.get("/desk/analytics/dashboard/export.xlsx?start=2026-10-13&end=2026-10-31&table=ranking-dept"))
    cgj_later = next(row for row in later.active.iter_rows(min_row=2, values_only=True) if row[1] == "区城市管理局")
    assert cgj_later[2] == 0


def test_a_street_office_exports_only_its_territory(client, month_of_cases, users):
    client.force_login(users["street"])
    wb = open_xlsx(client.get("/desk/analytics/dashboard/export.xlsx?month=2026-10"))
    assert "排名-区直部门" not in wb.sheetnames
    names = {row[1] for row in wb["排名-社区 村"].iter_rows(min_row=2, values_only=True)}
    assert names and all(unit_name.endswith(("社区", "村")) for unit_name in names)
    assert client.get("/desk/analytics/dashboard/export.xlsx?month=2026-10&table=ranking-dept").status_code == 400
    other = client.get(f"/desk/analytics/drilldown/export.xlsx?metric=received&unit={unit('dept:CGJ').pk}&start=2026-10-01&end=2026-10-31")
    assert other.status_code == 403


def test_operators_and_bad_input_get_no_ledger(client, month_of_cases, users):
    client.force_login(users["operator"])
    assert client.get("/desk/analytics/dashboard/export.xlsx?month=2026-10").status_code == 403
    assert client.get("/desk/analytics/drilldown/export.xlsx?metric=received&start=2026-10-01&end=2026-10-31").status_code == 403
    client.force_login(users["leader"])
    assert client.get("/desk/analytics/dashboard/export.xlsx?month=2026-10&table=secrets").status_code == 400
    assert client.get("/desk/analytics/dashboard/export.xlsx?month=10/2026").status_code == 400
    assert client.get("/desk/analytics/drilldown/export.xlsx?metric=received&start=2026-10-31&end=2026-10-01").status_code == 400


def test_the_drilldown_ledger_costs_the_same_queries_for_more_rows(month_of_cases, story, users):
    """No query per row: the related rows come with the cases, the choice labels and the
    time zone are looked up once, and no column reads a deferred field."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from minsheng.analytics import ledgers

    def export():
        with CaptureQueriesContext(connection) as queries:
            content, count = ledgers.drilldown_export(acting_user=users["leader"], metric="received", unit_id=None,
                                                      start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 1))
        ws = openpyxl.load_workbook(io.BytesIO(content)).active
        columns = header(ws)
        rows = [dict(zip(columns, r)) for r in ws.iter_rows(min_row=2, values_only=True)]
        return len(queries), count, rows

    few_queries, few, _rows = export()
    for day in (15, 16, 17, 18):
        with time_machine.travel(local(f"2026-10-{day} 08:00"), tick=False):
            case = services.case_submit(text="计划路12号门口路灯不亮", channel="web", reporter_phone="13912345678",
                                        reporter_name="王小明", address="计划路12号3单元",
                                        community=unit("community:JSL03"), category=Category.objects.get(code="CGM.HJWS"))
        story.run(case, [(f"2026-10-{day} 09:00", "dispatch", {"unit": "street:JSL"})])
    many_queries, many, rows = export()
    assert (few, many) == (3, 7)
    assert many_queries == few_queries
    newest = rows[0]
    assert newest["渠道"] == "网站/H5" and newest["状态"] == "待签收" and newest["街道"] == "建设路街道"
    assert newest["联系电话"] == "139****5678" and "王小明" not in newest["姓名"] and newest["反映时间"] == dt.datetime(2026, 10, 18, 8, 0)
