"""The hotspot and 每月一题 tables as .xlsx ledgers (台账): bold header row frozen at the top,
column widths, dates as real dates, built from the same selectors and filters as the screen.
Text is written formula-safe (`desk.export.escape_formula`): place and category names are
typed by administrators, case text by residents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.desk.export import DATETIME_FORMAT, columns as case_columns

from . import ledgers
from .ledgers import DATE_FORMAT, MONTH_FORMAT, Col
from .ledgers import Sheet as Table
from .selectors import hotspots as hs
from .selectors.topics import is_overdue

DECIMAL_FORMAT = "0.0"
MAX_ROWS = 50_000


def workbook(table: Table, *, max_rows: int = MAX_ROWS) -> tuple[bytes, int]:
    """One table as an .xlsx file (the dashboard ledgers' writer), and how many data rows
    were written."""
    return ledgers.workbook([table], max_rows=max_rows)


# ---------------------------------------------------------------- hotspots


def heat_table(heat: hs.HeatTable) -> Table:
    cols = [Col(_("街道"), 14), Col(_("地点"), 18), Col(_("合计"), 8)] + [Col(name, max(8, len(name) * 2 + 2)) for _id, name in heat.categories]
    rows = ([p.street, p.name, total, *cells] for p, total, cells in zip(heat.places, heat.row_totals, heat.cells))
    return Table(_("热点分布"), cols, rows)


def weekly_table(counts: hs.WeeklyCounts) -> Table:
    cols = [Col(_("周（周一）"), 12, DATE_FORMAT), Col(_("大类"), 14), Col(_("小类"), 16), Col(_("街道"), 14), Col(_("地点"), 18), Col(_("诉求量"), 9)]

    def rows():
        for week in counts.weeks:
            for r in counts.rows:
                n = r.weeks.get(week)
                if n:
                    yield [week, r.parent, r.category, r.place.street, r.place.name, n]

    return Table(_("分周统计"), cols, rows())


def rising_table(found: list[hs.Rising]) -> Table:
    cols = [Col(_("周（周一）"), 12, DATE_FORMAT), Col(_("类别"), 16), Col(_("街道"), 14), Col(_("地点"), 18), Col(_("本周"), 8),
            Col(_("前8周均值"), 10, DECIMAL_FORMAT), Col(_("波动"), 8, DECIMAL_FORMAT), Col(_("预警线"), 9, DECIMAL_FORMAT),
            Col(_("前8周"), 26)]
    rows = ([r.week, r.category, r.place.street, r.place.name, r.count, r.expected, r.spread, r.threshold,
             " ".join(str(h) for h in r.history)] for r in found)
    return Table(_("上升趋势"), cols, rows)


def recurring_table(found: list[hs.Recurring]) -> Table:
    cols = [Col(_("大类"), 14), Col(_("小类"), 16), Col(_("街道"), 14), Col(_("地点"), 18), Col(_("出现周数"), 10),
            Col(_("统计周数"), 10), Col(_("诉求量"), 9), Col(_("最近反映"), 17, DATETIME_FORMAT)]
    rows = ([r.parent, r.category, r.place.street, r.place.name, r.weeks_with_cases, r.weeks, r.count, r.last_at] for r in found)
    return Table(_("反复出现"), cols, rows)


def reporters_table(found: list[hs.RepeatReporter]) -> Table:
    cols = [Col(_("联系电话"), 14), Col(_("诉求次数"), 10), Col(_("首次反映"), 17, DATETIME_FORMAT), Col(_("最近反映"), 17, DATETIME_FORMAT),
            Col(_("类别"), 30), Col(_("地点"), 30)]
    rows = ([r.phone_masked, r.count, r.first_at, r.last_at, "、".join(r.categories), "、".join(r.places)] for r in found)
    return Table(_("重复来电"), cols, rows)


def proposals_table(proposals: list, *, month: dt.date) -> Table:
    cols = [Col(_("月份"), 9, MONTH_FORMAT), Col(_("名次"), 6), Col(_("大类"), 14), Col(_("小类"), 16), Col(_("街道"), 14),
            Col(_("地点"), 18), Col(_("当月"), 8), Col(_("上月"), 8), Col(_("变化"), 8), Col(_("已采纳"), 28)]
    rows = ([month, rank, p.problem.parent, p.problem.category, p.problem.place.street, p.problem.place.name, p.problem.count,
             p.problem.previous_count, p.problem.change, p.topic.title if p.topic else ""] for rank, p in enumerate(proposals, start=1))
    return Table(_("突出问题"), cols, rows)


# ---------------------------------------------------------------- topics


def topics_table(topics: Iterable) -> Table:
    cols = [Col(_("月份"), 9, MONTH_FORMAT), Col(_("题目"), 28), Col(_("类别"), 16), Col(_("街道"), 14), Col(_("地点"), 18),
            Col(_("责任单位"), 20), Col(_("状态"), 9), Col(_("当月诉求量"), 10), Col(_("上月诉求量"), 10), Col(_("关联案件"), 9),
            Col(_("未办结"), 8), Col(_("已办结"), 8), Col(_("超期"), 7), Col(_("采纳人"), 12), Col(_("采纳时间"), 17, DATETIME_FORMAT),
            Col(_("完成时间"), 17, DATETIME_FORMAT), Col(_("跟进计划"), 50)]
    rows = ([t.month, t.title, str(t.category), t.street.name, t.place.name, t.owner_unit.name, t.get_status_display(),
             t.proposed_count, t.previous_count, t.n_cases, t.n_open, t.n_closed, t.n_overdue,
             t.adopted_by.display_name if t.adopted_by else "", t.adopted_at, t.done_at, t.plan] for t in topics)
    return Table(_("每月一题"), cols, rows)


def cases_table(cases: Iterable, *, title: str) -> Table:
    """A list of cases: the queue ledger's columns (personal data masked), and overdue."""
    base = case_columns()
    cols = [Col(c.title(), c.width, DATETIME_FORMAT if c.is_date else None) for c in base] + [Col(_("超期"), 7)]
    now = timezone.now()
    rows = ([*[c.value(case) for c in base], _("是") if is_overdue(case, now) else ""] for case in cases)
    return Table(title, cols, rows)
