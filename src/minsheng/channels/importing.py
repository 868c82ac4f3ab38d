"""Reading and checking a spreadsheet of appeals (.xlsx or .csv) before anything is imported.

Every row is checked and every problem reported with its row number and column, so a clerk
can fix the file in one go. Cells are read as values, never evaluated: a cell holding a
formula (`=HYPERLINK(...)`) is read as the text of the formula. Headers may be in Chinese or
English (`诉求内容` or `text`); columns the importer does not know are ignored and listed.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minsheng.cases.choices import Channel
from minsheng.core.crypto import mask_address

MAX_ROWS = 200_000
MAX_TEXT = 5000
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")
_LOCAL_NUMBER = re.compile(r"^[2-9]\d{7}$")  # an 8-digit local landline written without its area code
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
EARLIEST = dt.date(2000, 1, 1)


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    note: str
    width: int
    required: bool = False
    aliases: tuple[str, ...] = ()


COLUMNS = (
    Column("text", gettext_lazy("诉求内容"), gettext_lazy("必填。反映的问题：是什么、在哪里、持续多久。5至5000字。"), 60, True,
           ("内容", "诉求", "反映内容", "问题描述")),
    Column("address", gettext_lazy("地址"), gettext_lazy("选填。小区、道路或地标，须是本区能找到的地点；不清楚请留空，由派单员确定。最多300字。"), 30,
           aliases=("地点", "事发地址", "诉求地址")),
    Column("name", gettext_lazy("姓名"), gettext_lazy("选填。反映人姓名，最多100字。"), 10, aliases=("反映人", "联系人")),
    Column("phone", gettext_lazy("联系电话"), gettext_lazy("选填。11位手机号或带区号的固定电话。"), 16, aliases=("电话", "手机", "手机号")),
    Column("channel", gettext_lazy("渠道"), gettext_lazy("选填。热线电话、网站/H5、意见箱、座谈会、实地走访、问卷调查、企业服务、批量导入之一（或英文代码）；留空即“批量导入”。"), 12,
           aliases=("来源", "诉求渠道")),
    Column("reported_at", gettext_lazy("反映时间"), gettext_lazy("选填。日期或日期时间，如 2025-03-01 或 2025-03-01 09:30；留空即导入时间；不能晚于现在。"), 18,
           aliases=("时间", "日期", "来电时间", "reported at")),
)
COLUMN_KEYS = tuple(c.key for c in COLUMNS)
_HEADER_MARKS = re.compile(r"[\s_*＊:：]|[（(](必填|选填|required|optional)[)）]", re.I)


def _header_key(value) -> str:
    return _HEADER_MARKS.sub("", str(value or "")).lower()


@cache
def _header_lookup() -> dict[str, str]:
    """Header text (normalised) → column key: keys, Chinese titles, English titles, aliases."""
    from django.utils import translation

    lookup = {}
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for col in COLUMNS:
                for name in (col.key, str(col.title), *col.aliases):
                    lookup[_header_key(name)] = col.key
    return lookup


# ---------------------------------------------------------------- results


@dataclass
class RowError:
    row: int
    column: str  # a column key, or "" for the row as a whole
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class CheckedRow:
    """One data row: its number in the file (header = row 1 when it is the first), the cleaned
    values and what is wrong with it."""

    number: int
    values: dict
    errors: list[RowError] = field(default_factory=list)
    key: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class CheckedFile:
    rows: list[CheckedRow]
    file_errors: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[RowError]:
        return [e for row in self.rows for e in row.errors]

    @property
    def error_rows(self) -> int:
        return sum(1 for row in self.rows if row.errors)

    @property
    def clean(self) -> bool:
        return not self.file_errors and not self.error_rows


class UnreadableFile(ValueError):
    """The file is not a spreadsheet we can read (message for the person who uploaded it)."""


# ---------------------------------------------------------------- reading


def read_table(content: bytes, filename: str) -> Iterator[tuple[int, tuple]]:
    """(row number, cell values) for every row of the first sheet or the CSV file."""
    suffix = Path(filename or "").suffix.lower()
    if suffix == ".csv":
        return _read_csv(content)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(content)
    if suffix == ".xls":
        raise UnreadableFile(_("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 .csv 后再上传。"))
    raise UnreadableFile(_("只能导入 .xlsx 或 .csv 文件。"))


def _read_xlsx(content: bytes) -> Iterator[tuple[int, tuple]]:
    from openpyxl import load_workbook

    try:
        # data_only=False: a formula is read as its text and never evaluated.
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
    except Exception as exc:  # zip, XML and openpyxl errors all mean "not a readable workbook"
        raise UnreadableFile(_("无法读取该 Excel 文件（文件已损坏或不是 .xlsx 格式）。")) from exc

    def rows():
        try:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, values
        except Exception as exc:
            raise UnreadableFile(_("读取 Excel 文件时出错（文件已损坏）。")) from exc
        finally:
            workbook.close()

    return rows()


def _read_csv(content: bytes) -> Iterator[tuple[int, tuple]]:
    if b"\x00" in content[:65536]:
        raise UnreadableFile(_("这不是文本格式的 CSV 文件。"))
    # Excel on Chinese Windows saves CSV in GB18030 (GBK); elsewhere UTF-8, often with a BOM.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UnreadableFile(_("无法识别 CSV 文件的编码，请另存为 UTF-8 编码。"))
    first_line = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first_line.count) if first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows():
        try:
            for number, values in enumerate(reader, start=1):
                yield number, tuple(values)
        except csv.Error as exc:
            raise UnreadableFile(_("CSV 文件格式有误：%(error)s") % {"error": exc}) from exc

    return rows()


# ---------------------------------------------------------------- checking


def check_file(content: bytes, filename: str, *, now: dt.datetime | None = None, max_rows: int = MAX_ROWS, progress=None,
               on_row=None) -> CheckedFile:
    """Read and check every row. Raises UnreadableFile when the file cannot be read at all.
    `on_row` is called with each checked row as soon as it is checked (the command line
    starts the dispatch engine on the valid rows while the rest of the file is read)."""
    now = now or timezone.now()
    table = read_table(content, filename)
    header: dict[int, str] | None = None
    result = CheckedFile(rows=[])
    for number, values in table:
        if not any(_cell_text(v) for v in values):
            continue
        if header is None:
            header = _read_header(values, result)
            if header is None:
                return result
            continue
        if len(result.rows) >= max_rows:
            result.file_errors.append(_("文件超过%(max)d行，请分成几个文件导入。") % {"max": max_rows})
            return result
        row = check_row(number, {key: values[i] if i < len(values) else None for i, key in header.items()}, now=now)
        if row.ok:
            row.key = row_key(row.values)
        result.rows.append(row)
        if on_row is not None:
            on_row(row)
        if progress is not None:
            progress(1)
    if header is None:
        result.file_errors.append(_("文件是空的：没有找到表头和数据。"))
    elif not result.rows:
        result.file_errors.append(_("文件只有表头，没有数据行。"))
    return result


def _read_header(values: tuple, result: CheckedFile) -> dict[int, str] | None:
    lookup = _header_lookup()
    header: dict[int, str] = {}
    for index, value in enumerate(values):
        title = _cell_text(value)
        if not title:
            continue
        key = lookup.get(_header_key(title))
        if key is None:
            result.ignored_columns.append(title)
        elif key in header.values():
            result.file_errors.append(_("表头中“%(title)s”列重复。") % {"title": title})
        else:
            header[index] = key
    if "text" not in header.values():
        result.file_errors.append(_("没有找到“诉求内容”（text）列。请使用导入模板，表头放在第一行。"))
        return None
    if result.file_errors:
        return None
    return header


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return _CONTROL.sub("", str(value)).strip()


def check_row(number: int, raw: dict, *, now: dt.datetime) -> CheckedRow:
    """Clean and check one row's cells (keyed by column key)."""
    row = CheckedRow(number=number, values={})
    err = row.errors

    text = _cell_text(raw.get("text"))
    if not text:
        err.append(RowError(number, "text", _("诉求内容为空。")))
    elif len(text) < 5:
        err.append(RowError(number, "text", _("诉求内容太短（至少5个字）。")))
    elif len(text) > MAX_TEXT:
        err.append(RowError(number, "text", _("诉求内容过长：%(n)d字，最多%(max)d字。") % {"n": len(text), "max": MAX_TEXT}))

    address = _cell_text(raw.get("address"))
    if len(address) > 300:
        err.append(RowError(number, "address", _("地址过长：%(n)d字，最多300字。") % {"n": len(address)}))
    elif address and not place_is_known(address):
        # The report is kept with the batch: it names the place without its house numbers.
        err.append(RowError(number, "address", _("地址“%(address)s”不在本区地名库中（没有找到本区的道路、小区或地名）。请写具体位置，或留空由派单员确定。")
                            % {"address": mask_address(address[:40])}))

    name = _cell_text(raw.get("name"))
    if len(name) > 100:
        err.append(RowError(number, "name", _("姓名过长：%(n)d字，最多100字。") % {"n": len(name)}))

    phone, phone_error = _phone(raw.get("phone"))
    if phone_error:
        err.append(RowError(number, "phone", phone_error))

    channel, channel_error = _channel(raw.get("channel"))
    if channel_error:
        err.append(RowError(number, "channel", channel_error))

    reported_at, date_error = parse_reported_at(raw.get("reported_at"), now=now)
    if date_error:
        err.append(RowError(number, "reported_at", date_error))

    row.values = {"text": text, "address": address, "name": name, "phone": phone, "channel": channel,
                  "reported_at": reported_at.isoformat() if reported_at else ""}
    return row


def _phone(value) -> tuple[str, str]:
    raw = _cell_text(value)
    if not raw:
        return "", ""
    digits = re.sub(r"[\s\-()（）]", "", raw)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if len(raw) > 20 and len(digits) > 20:
        return "", _("联系电话过长（最多20位）。")
    if not (_MOBILE.match(digits) or _LANDLINE.match(digits) or _LOCAL_NUMBER.match(digits)):
        # Not repeated in the message: the report is stored and downloaded; row and column find it.
        return "", _("联系电话格式不正确：应为11位手机号或带区号的固定电话。")
    return digits, ""


_CHANNEL_ALIASES = {
    "热线": Channel.HOTLINE, "12345": Channel.HOTLINE, "12345热线": Channel.HOTLINE, "电话": Channel.HOTLINE,
    "网站": Channel.WEB, "h5": Channel.WEB, "网上": Channel.WEB, "网络": Channel.WEB, "微信": Channel.WEB,
    "信箱": Channel.SUGGESTION_BOX, "走访": Channel.VISIT, "问卷": Channel.SURVEY, "企业": Channel.ENTERPRISE,
    "导入": Channel.IMPORT,
}


@cache
def _channel_lookup() -> dict[str, str]:
    """Cell text (normalised) → channel code: codes, labels in both languages, aliases."""
    from django.utils import translation

    lookup = dict(_CHANNEL_ALIASES)
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for choice in Channel:
                lookup[choice.value] = choice.value
                lookup[str(choice.label).lower().replace(" ", "")] = choice.value
    return lookup


def _channel(value) -> tuple[str, str]:
    raw = _cell_text(value)
    if not raw:
        return Channel.IMPORT, ""
    code = _channel_lookup().get(raw.lower().replace(" ", ""))
    if code is not None:
        return code, ""
    return Channel.IMPORT, _("未知的渠道“%(channel)s”。") % {"channel": raw[:20]}


_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y.%m.%d %H:%M", "%Y.%m.%d",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H:%M", "%Y年%m月%d日", "%Y%m%d",
)


def parse_reported_at(value, *, now: dt.datetime) -> tuple[dt.datetime | None, str]:
    """A cell as an aware datetime in the district's time zone, or an error message."""
    tz = timezone.get_current_timezone()
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, ""
    parsed: dt.datetime | None = None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time.min)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if 20000 < float(value) < 80000:  # an Excel serial date in a cell formatted as a number
            from openpyxl.utils.datetime import from_excel

            parsed = from_excel(value)
    else:
        text = _cell_text(value)
        text = re.sub(r"\s+", " ", text.replace("：", ":"))
        for fmt in _DATE_FORMATS:
            try:
                parsed = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None, _("反映时间“%(value)s”无法识别，请写成 2025-03-01 或 2025-03-01 09:30。") % {"value": _cell_text(value)[:30]}
    if parsed.tzinfo is None:
        parsed = timezone.make_aware(parsed, tz)
    if parsed.date() < EARLIEST:
        return None, _("反映时间早于2000年，请核对。")
    if parsed > now + dt.timedelta(minutes=5):
        return None, _("反映时间晚于当前时间，请核对。")
    return parsed, ""


def row_key(values: dict) -> str:
    """The idempotency key of a row: the same appeal (text, phone, time) imported twice is
    stored once. Rows without a time use none, so importing them again matches too."""
    body = "\x1f".join((values["text"], values["phone"], values["reported_at"]))
    return "import:" + hashlib.sha256(body.encode("utf-8")).hexdigest()[:48]


@cache
def _gazetteer():
    from minsheng.data import GAZETTEER_PATH
    from minsheng.dispatch.engine.gazetteer import Gazetteer

    return Gazetteer.from_yaml(GAZETTEER_PATH)


@cache
def _listed_names() -> tuple[str, ...]:
    """Every name the gazetteer file lists (communities, their aliases, places and roads;
    street offices), longest first."""
    import yaml

    from minsheng.data import GAZETTEER_PATH

    data = yaml.safe_load(open(GAZETTEER_PATH, encoding="utf-8"))
    names = set()
    for street in data.get("streets", []):
        names.update([street["name"], *street.get("aliases", [])])
        for community in street.get("communities", []):
            names.update([community["name"], *community.get("aliases", []), *community.get("places", []), *community.get("roads", [])])
    return tuple(sorted((n for n in names if n and len(n) >= 2), key=len, reverse=True))


@lru_cache(maxsize=65536)
def place_is_known(address: str) -> bool:
    """Whether the address names anything in the district's gazetteer (a road, a community,
    a place, a street office), exactly or by a close variant."""
    gazetteer = _gazetteer()
    matches, light = gazetteer.find_matches(address)
    if matches or gazetteer.fuzzy_matches(light):
        return True
    # The matcher drops city and district prefixes ("中原区人民政府" → "人民政府"), so a listed
    # place that starts with one is looked for as written.
    return any(name in address for name in _listed_names())


# ---------------------------------------------------------------- workbooks


def _styled_sheet(workbook, title: str, columns: list[tuple[str, int]], *, first: bool = False):
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    sheet = workbook.active if first else workbook.create_sheet()
    sheet.title = title
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DCE6F1")
    for index, (name, width) in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=name)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    return sheet


def template_workbook() -> bytes:
    """The import template: the columns with their notes (as cell comments and on a second
    sheet), one example row, the header frozen, the time column formatted as a date."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment

    workbook = Workbook()
    sheet = _styled_sheet(workbook, _("诉求"), [(str(c.title), c.width) for c in COLUMNS], first=True)
    for index, col in enumerate(COLUMNS, start=1):
        sheet.cell(row=1, column=index).comment = Comment(f"{col.key}：{col.note}", "minsheng", width=300, height=120)
    example = [_("碧沙岗公园南门人行道地砖松动，老人容易绊倒，希望尽快修复。"), _("碧沙岗公园南门"), _("张先生"), "13800000000",
               str(Channel.HOTLINE.label), timezone.localtime().replace(tzinfo=None, second=0, microsecond=0)]
    for index, value in enumerate(example, start=1):
        cell = sheet.cell(row=2, column=index, value=value)
        if index == len(example):
            cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.cell(row=2, column=4).number_format = "@"
    for row in range(3, 1001):
        sheet.cell(row=row, column=6).number_format = "yyyy-mm-dd hh:mm"
        sheet.cell(row=row, column=4).number_format = "@"
    notes = _styled_sheet(workbook, _("填写说明"), [(_("列名"), 14), (_("英文列名"), 14), (_("必填"), 8), (_("说明"), 90)])
    for col in COLUMNS:
        notes.append([str(col.title), col.key, _("是") if col.required else _("否"), str(col.note)])
    notes.append([])
    notes.append(["", "", "", _("表头可用中文或英文列名。第2行是示例，导入前请删除。同一内容、电话和时间的诉求重复导入只会保存一次。")])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def report_workbook(errors: list[dict], *, file_errors: list[str] = ()) -> bytes:
    """The row-by-row error report, for download."""
    from openpyxl import Workbook

    titles = {c.key: str(c.title) for c in COLUMNS}
    workbook = Workbook()
    sheet = _styled_sheet(workbook, _("错误报告"), [(_("行号"), 8), (_("列"), 14), (_("问题"), 90)], first=True)
    for message in file_errors:
        sheet.append(["", _("整个文件"), message])
    for e in errors:
        sheet.append([e["row"], titles.get(e["column"], e["column"]), e["message"]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
