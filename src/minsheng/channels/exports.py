"""The channels' Excel ledgers (台账): raw survey answers, the visit ledger, the forum ledger.
Header formatted and frozen, dates written as dates, text that a spreadsheet would take for a
formula escaped (residents write these cells)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .choices import CHOICE_KINDS, QuestionKind

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    value = ILLEGAL_CHARACTERS_RE.sub("", value or "")
    return "'" + value if value.startswith(_FORMULA_PREFIXES) else value


def _local(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(value).replace(tzinfo=None) if value else None


class Sheet:
    """A write-only sheet with a styled, frozen header and typed cells."""

    def __init__(self, workbook: Workbook, title: str, columns: list[tuple[str, float]]):
        self.ws = workbook.create_sheet(title=_sheet_title(title))
        self.ws.freeze_panes = "A2"
        for index, (_name, width) in enumerate(columns, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = width
        bold, fill, centre = Font(bold=True), PatternFill("solid", fgColor="DCE6F1"), Alignment(horizontal="center", vertical="center", wrap_text=True)
        header = []
        for name, _width in columns:
            cell = WriteOnlyCell(self.ws, value=name)
            cell.font, cell.fill, cell.alignment = bold, fill, centre
            header.append(cell)
        self.ws.append(header)
        self.columns = len(columns)
        self.count = 0

    def row(self, values: Iterable) -> None:
        self.ws.append([self._cell(v) for v in values])
        self.count += 1

    def _cell(self, value):
        if isinstance(value, dt.datetime):
            cell = WriteOnlyCell(self.ws, value=_local(value) if value.tzinfo else value)
            cell.number_format = DATETIME_FORMAT
            return cell
        if isinstance(value, dt.date):
            cell = WriteOnlyCell(self.ws, value=value)
            cell.number_format = DATE_FORMAT
            return cell
        if isinstance(value, str):
            return _text(value)
        return value

    def finish(self) -> None:
        self.ws.auto_filter.ref = f"A1:{get_column_letter(self.columns)}{self.count + 1}"


def _sheet_title(title: str) -> str:
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    return title[:31] or "sheet"


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def survey_answers_workbook(survey, questions, responses) -> bytes:
    """One row per response: time, street, community, phone (masked), then one column per
    question (choices joined, ratings and numbers as numbers, dates as dates)."""
    workbook = Workbook(write_only=True)
    columns = [(_("序号"), 7), (_("提交时间"), 17), (_("街道"), 12), (_("社区"), 14), (_("联系电话"), 14)]
    columns += [(f"Q{n}. {q.text}"[:120], 30 if q.kind == QuestionKind.TEXT else 16) for n, q in enumerate(questions, start=1)]
    sheet = Sheet(workbook, survey.title, columns)
    for number, response in enumerate(responses.iterator(chunk_size=500) if hasattr(responses, "iterator") else responses, start=1):
        by_question = {a.question_id: a for a in response.answers.all()}
        values = [number, response.submitted_at, response.street.name if response.street else "",
                  response.community.name if response.community else "", response.phone_masked]
        for q in questions:
            values.append(_answer_value(q, by_question.get(q.pk)))
        sheet.row(values)
    sheet.finish()
    return _save(workbook)


def _answer_value(question, answer):
    if answer is None:
        return None
    if question.kind in CHOICE_KINDS:
        return "；".join(answer.choices)
    if question.kind == QuestionKind.RATING:
        return int(answer.number_value) if answer.number_value is not None else None
    if question.kind == QuestionKind.NUMBER:
        return answer.number_value
    if question.kind == QuestionKind.DATE:
        return answer.date_value
    return answer.text_value


def visit_ledger_workbook(title: str, visits) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = Sheet(workbook, title, [
        (_("街道"), 12), (_("社区"), 14), (_("走访时间"), 17), (_("走访对象"), 10), (_("户/地点"), 26), (_("接待人员"), 16),
        (_("基本情况"), 40), (_("发现问题"), 50), (_("转为诉求"), 18), (_("走访人"), 12), (_("照片"), 6),
    ])
    for visit in visits:
        findings = list(visit.findings.all())
        sheet.row([
            visit.community.parent.name if visit.community.parent_id else "", visit.community.name, visit.visited_at,
            visit.get_place_kind_display(), visit.place_masked, visit.people_met_masked, visit.situation,
            "\n".join(f"{i}. {f.text}" for i, f in enumerate(findings, start=1)),
            "\n".join(f.case.tracking_code for f in findings if f.case_id), visit.visitor.display_name, len(visit.photos.all()),
        ])
    sheet.finish()
    return _save(workbook)


def forum_ledger_workbook(title: str, forums) -> bytes:
    """Meetings and every issue raised, with the live state of the appeal it became."""
    workbook = Workbook(write_only=True)
    sheet = Sheet(workbook, title, [
        (_("会议日期"), 12), (_("会议名称"), 30), (_("类型"), 12), (_("主办单位"), 16), (_("地点"), 20), (_("参会人数"), 8),
        (_("序号"), 6), (_("反映问题"), 50), (_("提出人"), 16), (_("查询码"), 14), (_("状态"), 10), (_("承办单位"), 18), (_("办结时间"), 17),
    ])
    for forum in forums:
        issues = list(forum.issues.all())
        head = [forum.held_on, forum.title, forum.get_kind_display(), forum.host_unit.name, forum.place, len(forum.attendees.all())]
        if not issues:
            sheet.row(head + [None, "", "", "", "", "", None])
        for n, issue in enumerate(issues, start=1):
            case = issue.case
            sheet.row(head + [
                n, issue.text, "，".join(p for p in (issue.raised_by_masked, issue.organisation) if p),
                case.tracking_code if case else "", case.get_state_display() if case else "",
                case.main_unit.name if case and case.main_unit_id else "", case.closed_at if case else None,
            ])
    sheet.finish()
    return _save(workbook)
