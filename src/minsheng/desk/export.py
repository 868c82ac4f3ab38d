"""Case lists as Excel ledgers (台账). Written in openpyxl's streaming mode, so a large export
does not hold every cell in memory.

Text that a spreadsheet would read as a formula (starting with = + - @, or a tab or carriage
return that some programs strip first) is prefixed with an apostrophe: residents write the
text, and a cell like `=HYPERLINK(...)` must not run on a clerk's machine (OWASP "CSV
injection", which applies to any spreadsheet export)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from minsheng.cases.models import Case

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: str) -> str:
    if value and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _local(value: dt.datetime | None) -> dt.datetime | None:
    """Excel has no time zones: write the district's local time, without tzinfo."""
    if value is None:
        return None
    return timezone.localtime(value).replace(tzinfo=None)


@dataclass(frozen=True)
class Column:
    title: Callable[[], str]
    width: float
    value: Callable[[Case], object]
    is_date: bool = False


def _unit_name(unit) -> str:
    return unit.name if unit else ""


def _choice_labels(field_name: str) -> Callable[[object], object]:
    """`get_<field>_display` for a whole ledger: the labels translated once (the model's
    method rebuilds and hashes the lazy choices on every call, most of a row's time)."""
    labels = {value: str(label) for value, label in Case._meta.get_field(field_name).flatchoices}
    return lambda value: labels.get(value, value)


def _localizer() -> Callable[[dt.datetime | None], dt.datetime | None]:
    """`_local` with the district's time zone looked up once per ledger, not per cell."""
    zone = timezone.get_current_timezone()
    return lambda value: None if value is None else value.astimezone(zone).replace(tzinfo=None)


def columns() -> list[Column]:
    local = _localizer()
    channel, urgency, state = _choice_labels("channel"), _choice_labels("urgency"), _choice_labels("state")
    due_flag, feedback = _choice_labels("due_flag"), _choice_labels("feedback")
    return [
        Column(lambda: _("查询码"), 14, lambda c: c.tracking_code),
        Column(lambda: _("反映时间"), 17, lambda c: local(c.submitted_at), is_date=True),
        Column(lambda: _("渠道"), 10, lambda c: channel(c.channel)),
        Column(lambda: _("诉求内容"), 60, lambda c: c.text),
        # Personal data masked as on screen: a ledger travels further than a screen does.
        Column(lambda: _("地址"), 28, lambda c: c.address_masked),
        Column(lambda: _("姓名"), 10, lambda c: "" if c.is_anonymous else c.name_masked),
        Column(lambda: _("联系电话"), 14, lambda c: c.phone_masked),
        Column(lambda: _("大类"), 12, lambda c: c.category.parent.name if c.category and c.category.parent_id else (c.category.name if c.category else "")),
        Column(lambda: _("小类"), 14, lambda c: c.category.name if c.category and c.category.parent_id else ""),
        Column(lambda: _("紧急程度"), 9, lambda c: urgency(c.urgency)),
        Column(lambda: _("街道"), 12, lambda c: _unit_name(c.street)),
        Column(lambda: _("社区"), 14, lambda c: _unit_name(c.community)),
        Column(lambda: _("承办单位"), 20, lambda c: _unit_name(c.main_unit)),
        Column(lambda: _("状态"), 10, lambda c: state(c.state)),
        Column(lambda: _("派单时间"), 17, lambda c: local(c.dispatched_at), is_date=True),
        Column(lambda: _("签收期限"), 17, lambda c: local(c.acknowledge_due_at), is_date=True),
        Column(lambda: _("办结期限"), 17, lambda c: local(c.resolve_due_at), is_date=True),
        Column(lambda: _("预警"), 10, lambda c: due_flag(c.due_flag) if c.due_flag else ""),
        Column(lambda: _("答复时间"), 17, lambda c: local(c.replied_at), is_date=True),
        Column(lambda: _("答复内容"), 40, lambda c: c.reply_text),
        Column(lambda: _("办结时间"), 17, lambda c: local(c.closed_at), is_date=True),
        Column(lambda: _("评价"), 10, lambda c: feedback(c.feedback) if c.feedback else ""),
        Column(lambda: _("督办级别"), 9, lambda c: c.supervision_level or None),
        Column(lambda: _("反映人数"), 9, lambda c: c.reporter_count),
    ]


# Read by no column: left in the database (the identity number is decrypted for nothing).
UNUSED_FIELDS = ("reporter_id_number", "dispatch_meta", "feedback_comment")


def cases_workbook(rows: Iterable[Case], *, title: str, max_rows: int) -> tuple[bytes, int]:
    """The rows as an .xlsx file, and how many were written (at most `max_rows`)."""
    cols = columns()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_sheet_title(title))
    ws.freeze_panes = "A2"
    for index, col in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(index)].width = col.width
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DCE6F1")
    centre = Alignment(horizontal="center", vertical="center")
    header = []
    for col in cols:
        cell = WriteOnlyCell(ws, value=col.title())
        cell.font, cell.fill, cell.alignment = bold, fill, centre
        header.append(cell)
    ws.append(header)
    count = 0
    for case in rows:
        if count >= max_rows:
            break
        ws.append([_cell(ws, col, col.value(case)) for col in cols])
        count += 1
    ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{count + 1}"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), count


def _cell(ws, col: Column, value):
    if col.is_date:
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = DATETIME_FORMAT
        return cell
    if isinstance(value, str):
        # Control characters are not allowed in the file format; residents paste them.
        return escape_formula(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def _sheet_title(title: str) -> str:
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    return title[:31] or "cases"


AUDIT_COLUMNS = (("序号", 10), ("时间", 17), ("操作人", 16), ("操作", 18), ("对象", 30), ("IP", 15), ("详情", 60), ("哈希", 20))


def audit_workbook(entries: Iterable, *, max_rows: int) -> tuple[bytes, int]:
    """Audit entries as an .xlsx file (formula-safe like the case ledgers: a username or a
    target can be typed by anyone at the login form)."""
    import json

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title="audit")
    for index, (_title, width) in enumerate(AUDIT_COLUMNS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    header = []
    for title, _width in AUDIT_COLUMNS:
        cell = WriteOnlyCell(ws, value=title)
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    count = 0
    for entry in entries:
        if count >= max_rows:
            break
        when = WriteOnlyCell(ws, value=_local(entry.at))
        when.number_format = DATETIME_FORMAT
        texts = [entry.actor_name, entry.action, entry.target, entry.ip or "",
                 json.dumps(entry.detail, ensure_ascii=False, sort_keys=True), entry.hash[:16]]
        ws.append([entry.id, when, *[escape_formula(ILLEGAL_CHARACTERS_RE.sub("", t or "")) for t in texts]])
        count += 1
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), count
