"""Ledgers (台账): every table of the dashboard and every drill-down list as a formatted
.xlsx — bold header row, frozen under the header, column widths, dates as real dates,
percentages as numbers in a % format — built from the same selectors and filters as the
screen, and recorded in the audit log.

Text is written formula-safe (`desk.export.escape_formula`): category and unit names are
typed by administrators, case text by residents."""

from __future__ import annotations

import datetime as dt
import io
from copy import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles.cell_style import StyleArray
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from minsheng.core.services import audit_record
from minsheng.desk.export import DATETIME_FORMAT, UNUSED_FIELDS, columns as case_columns, escape_formula

from .selectors import dashboard

MAX_CASE_ROWS = 50_000
PERCENT_FORMAT = "0.0%"
MONTH_FORMAT = "yyyy-mm"
DATE_FORMAT = "yyyy-mm-dd"
SCORE_FORMAT = "0.00"
HOURS_FORMAT = "0.0"


@dataclass(frozen=True)
class Col:
    title: str
    width: float
    number_format: str | None = None  # dates, percentages and decimals


@dataclass
class Sheet:
    title: str
    columns: list[Col]
    rows: Iterable[list]


def _cleaner() -> Callable[[object], object]:
    """A cell's value as written: rates as numbers, text without control characters and
    formula-safe, times in the district's local time without tzinfo (the zone looked up
    once per workbook)."""
    zone = timezone.get_current_timezone()

    def clean(value):
        if isinstance(value, str):
            return escape_formula(ILLEGAL_CHARACTERS_RE.sub("", value))
        if isinstance(value, Percent):
            return float(value)
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(zone).replace(tzinfo=None)
        return value

    return clean


class _FormattedCells:
    """Cells with a number format, their style computed once per format and copied."""

    def __init__(self, ws):
        self.ws = ws
        self.styles: dict[str, StyleArray] = {}

    def __call__(self, value, number_format: str) -> Cell:
        style = self.styles.get(number_format)
        if style is None:
            template = WriteOnlyCell(self.ws)
            template.number_format = number_format
            style = self.styles[number_format] = template._style
        return Cell(self.ws, row=1, column=1, value=value, style_array=copy(style))


def _sheet_title(title: str, used: set[str]) -> str:
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    title = title[:31] or "sheet"
    base, n = title, 2
    while title in used:
        title = f"{base[:28]}-{n}"
        n += 1
    used.add(title)
    return title


def workbook(sheets: list[Sheet], *, max_rows: int = MAX_CASE_ROWS) -> tuple[bytes, int]:
    """The sheets as one .xlsx file, and the number of data rows written (at most `max_rows`
    per sheet)."""
    wb = Workbook(write_only=True)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DCE6F1")
    centre = Alignment(horizontal="center", vertical="center", wrap_text=True)
    used: set[str] = set()
    clean = _cleaner()
    total = 0
    for sheet in sheets:
        ws = wb.create_sheet(title=_sheet_title(sheet.title, used))
        ws.freeze_panes = "A2"
        for index, col in enumerate(sheet.columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = col.width
        header = []
        for col in sheet.columns:
            cell = WriteOnlyCell(ws, value=col.title)
            cell.font, cell.fill, cell.alignment = bold, fill, centre
            header.append(cell)
        ws.append(header)
        formats = [col.number_format for col in sheet.columns]
        formatted = _FormattedCells(ws)
        count = 0
        for row in sheet.rows:
            if count >= max_rows:
                break
            # Only a value with a number format needs a cell object of its own: openpyxl
            # writes plain values through one reused cell, many times faster per row.
            cells = []
            for number_format, value in zip(formats, row):
                if isinstance(value, Percent):
                    cells.append(formatted(float(value), PERCENT_FORMAT))
                elif number_format and value is not None:
                    cells.append(formatted(clean(value), number_format))
                else:
                    cells.append(clean(value))
            ws.append(cells)
            count += 1
        ws.auto_filter.ref = f"A1:{get_column_letter(len(sheet.columns))}{count + 1}"
        total += count
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), total


# ---------------------------------------------------------------- the dashboard's tables


def _period_text(period: dashboard.Period) -> str:
    if period.month is not None:
        return f"{period.month:%Y-%m}"
    return f"{period.start:%Y-%m-%d}~{period.last_day:%Y-%m-%d}"


class Percent(float):
    """A rate written as a number in the % format, in a column that also holds counts."""


def overview_sheet(overview: dict) -> Sheet:
    r, today = overview["rates"], overview["today"]
    period = _period_text(overview["period"])
    day = f"{today['date']:%Y-%m-%d}"
    rates = [
        (_("响应率"), r.response_rate), (_("解决率"), r.resolution_rate), (_("满意率"), r.satisfaction_rate),
        (_("按期办结率"), r.on_time_rate), (_("退单率"), r.return_rate), (_("重办率"), r.rehandle_rate),
        (_("延期率"), r.extension_rate),
    ]
    rows = [
        [_("今日来件"), today["intake"], day],
        [_("今日办结"), today["closed"], day],
        [_("今日新增超期"), today["overdue"], day],
        [_("当前超期未办结"), today["open_overdue"], day],
        [_("来件量"), overview["intake"], period],
        [_("办结"), overview["closed"], period],
        *[[str(dashboard.METRICS[key].label), value, period] for key, value in overview["figures"].items()],
        *[[label, Percent(value) if value is not None else None, period] for label, value in rates],
        [_("平均办理时长(工作小时)"), round(r.avg_handling_hours, 2) if r.avg_handling_hours is not None else None, period],
        [_("综合得分"), round(r.score, 2) if r.score is not None else None, period],
    ]
    return Sheet(_("概览"), [Col(_("指标"), 26), Col(_("数值"), 14), Col(_("统计区间"), 24)], rows)


def trend_sheet(overview: dict) -> Sheet:
    cols = [Col(_("月份"), 10, MONTH_FORMAT), Col(_("来件量"), 10), Col(_("收件量"), 10), Col(_("评价数"), 10),
            Col(_("解决率"), 10, PERCENT_FORMAT), Col(_("满意率"), 10, PERCENT_FORMAT)]
    rows = ([t["month"], t["intake"], t["received"], t["feedbacks"], t["resolution_rate"], t["satisfaction_rate"]] for t in overview["trend"])
    return Sheet(_("月度趋势"), cols, rows)


def breakdown_sheet(title: str, label: str, entries: list[dict]) -> Sheet:
    total = sum(e["count"] for e in entries)
    cols = [Col(label, 22), Col(_("来件量"), 10), Col(_("占比"), 10, PERCENT_FORMAT)]
    return Sheet(title, cols, ([e["name"], e["count"], e["count"] / total if total else None] for e in entries))


def ranking_sheet(table: dashboard.RankingTable) -> Sheet:
    red = {row.unit.pk for row in table.red}
    black = {row.unit.pk for row in table.black}
    cols = [Col(_("名次"), 7), Col(_("单位"), 22), Col(_("收件量"), 9), Col(_("响应率"), 9, PERCENT_FORMAT),
            Col(_("解决率"), 9, PERCENT_FORMAT), Col(_("满意率"), 9, PERCENT_FORMAT), Col(_("按期办结率"), 11, PERCENT_FORMAT),
            Col(_("退单"), 7), Col(_("重办"), 7), Col(_("超期"), 7), Col(_("平均办理时长(工作小时)"), 14, HOURS_FORMAT),
            Col(_("综合得分"), 10, SCORE_FORMAT), Col(_("红黑榜"), 8), Col(_("说明"), 18)]

    def rows():
        for row in table.rows:
            r = row.rates
            mark = _("红榜") if row.unit.pk in red else (_("黑榜") if row.unit.pk in black else "")
            yield [row.rank, row.unit.name, r.received, r.response_rate, r.resolution_rate, r.satisfaction_rate, r.on_time_rate,
                   r.returns, r.send_backs + r.reopens, r.overdue, r.avg_handling_hours, r.score, mark, row.note]

    return Sheet(_("排名-%(kind)s") % {"kind": table.label}, cols, rows())


DASHBOARD_TABLES = ("overview", "trend", "categories", "channels", "ranking-dept", "ranking-street", "ranking-community")


def dashboard_sheets(*, overview: dict, tables: list[dashboard.RankingTable], only: str | None = None) -> list[Sheet]:
    """The dashboard's tables as sheets (`only`: one of DASHBOARD_TABLES)."""
    if only is not None and only not in DASHBOARD_TABLES:
        raise ValueError(f"unknown table {only!r}")
    makers: dict[str, Callable[[], Sheet]] = {
        "overview": lambda: overview_sheet(overview),
        "trend": lambda: trend_sheet(overview),
        "categories": lambda: breakdown_sheet(_("分类统计"), _("分类"), overview["categories"]),
        "channels": lambda: breakdown_sheet(_("渠道统计"), _("渠道"), overview["channels"]),
    }
    for table in tables:
        makers[f"ranking-{table.kind}"] = lambda table=table: ranking_sheet(table)
    if only is not None:
        if only not in makers:
            raise ValueError(f"table {only!r} is not in your scope")
        return [makers[only]()]
    return [make() for key, make in makers.items()]


def dashboard_export(*, acting_user, period: dashboard.Period, only: str | None = None, ip: str | None = None) -> bytes:
    """The dashboard's tables for the period, as the user sees them, as an .xlsx ledger
    (audited). PermissionDenied / ValueError as the selectors raise them."""
    overview = dashboard.district_overview(user=acting_user, month=period.start, start=period.start, end=period.end)
    tables = dashboard.ranking_tables(user=acting_user, period=period)
    sheets = dashboard_sheets(overview=overview, tables=tables, only=only)
    content, count = workbook(sheets)
    audit_record(action="export", actor=acting_user, target="analytics.dashboard", ip=ip, detail={
        "period": _period_text(period), "table": only or "all", "rows": count, "format": "xlsx",
    })
    return content


# ---------------------------------------------------------------- drill-down lists


def case_sheet(rows: Iterable, *, title: str) -> Sheet:
    """The cases behind a figure: when the counted event happened, then the queue ledger's
    columns (personal data masked as on screen)."""
    base = case_columns()
    cols = [Col(_("发生时间"), 17, DATETIME_FORMAT)] + [
        Col(c.title(), c.width, DATETIME_FORMAT if c.is_date else None) for c in base
    ]
    return Sheet(title, cols, ([case.anchor_at, *[c.value(case) for c in base]] for case in rows))


def ledger_rows(cases: QuerySet, limit: int | None = None) -> Iterable:
    """The cases of a drill-down read for a ledger: streamed in chunks, without the columns
    no ledger column reads."""
    cases = cases.defer(*UNUSED_FIELDS)
    if limit is not None:
        cases = cases[:limit]
    return cases.iterator(chunk_size=2000)


def drilldown_export(*, acting_user, metric: str, unit_id: int | None, start: dt.date, end: dt.date, ip: str | None = None) -> tuple[bytes, int]:
    """The drill-down list as on screen (same metric, unit and period), as an .xlsx ledger
    (audited)."""
    rows = dashboard.cases_behind(user=acting_user, metric=metric, unit_id=unit_id, start=start, end=end)
    title = dashboard.metric_label(metric)
    with dashboard.tuned_reads(rows.db):
        content, count = workbook([case_sheet(ledger_rows(rows), title=title)])
    audit_record(action="export", actor=acting_user, target=f"analytics.drilldown:{metric}", ip=ip, detail={
        "metric": metric, "unit": unit_id, "start": start.isoformat(), "end": end.isoformat(), "rows": count, "format": "xlsx",
    })
    return content, count
