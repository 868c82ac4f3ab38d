"""The monthly briefing (月度通报): a print-ready Word document in the layout of a district
government bulletin (GB/T 9704: A4, red masthead, 仿宋 body, 黑体 section heads, page numbers
"— N —" at the foot).

    一、总体情况   the month's figures and the change from the previous month, trend and
                   category charts
    二、三率排名   one table per class of unit (街道, 区直部门, 社区/村), and a ranking chart
    三、红黑榜     the best and the worst of each class
    四、热点问题   the month's top problems
    五、典型案例   resolved to the resident's satisfaction; overdue — anonymised
    六、工作要求

Every figure is read from the analytics selectors (`district_rates`, `monthly_rankings`, the
board's month figures), never recomputed here. Cases are shown only through `public_case`
(no names, phones, door numbers or tracking codes). The briefing is district-wide.

Fonts are named, not embedded: Word uses 仿宋_GB2312 / 黑体 / 方正小标宋简体 where installed
(every Chinese government office has them) and falls back to its own 宋体/仿宋 elsewhere.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Callable

from django.conf import settings
from django.utils import timezone
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from minsheng.core.choices import UnitKind
from minsheng.core.models import Unit

from . import charts
from .selectors.board import (
    PublicCase,
    category_breakdown,
    month_series,
    notable_cases,
    top_problems,
)
from .selectors.rates import Ranking, RankingRow, monthly_rankings

FANGSONG = "仿宋_GB2312"
HEITI = "黑体"
KAITI = "楷体_GB2312"
MASTHEAD_FONT = "方正小标宋简体"
LATIN = "Times New Roman"
RED = RGBColor(0xC0, 0x00, 0x00)
BODY_SIZE = Pt(16)  # 三号
TABLE_SIZE = Pt(10.5)  # 五号
HEADER_SHADING = "D9D9D9"

SECTIONS = ("一、总体情况", "二、三率排名", "三、红黑榜", "四、热点问题", "五、典型案例", "六、工作要求")
# Classes of unit in the order a district reads them, with their names in the briefing.
CLASSES = ((UnitKind.STREET, "街道（乡镇）"), (UnitKind.DEPARTMENT, "区直部门及公用企业"), (UnitKind.COMMUNITY, "社区（村）"))
CN_NUMBERS = "一二三四五六七八九十"

_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


class BriefingError(ValueError):
    """The briefing cannot be made as asked (bad or future month); the message says why."""


def parse_month(text: str | None, *, today: dt.date | None = None) -> dt.date:
    """'2026-11' → date(2026, 11, 1). Refuses other shapes, impossible months and months
    that have not begun; the current month is allowed (figures so far)."""
    today = today or timezone.localdate()
    match = _MONTH.match(text or "")
    if not match:
        raise BriefingError(f"月份格式应为 YYYY-MM（例如 {today:%Y-%m}），收到的是：{text!r}")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or year < 2000:
        raise BriefingError(f"没有这个月份：{text}")
    first = dt.date(year, month, 1)
    if first > today.replace(day=1):
        raise BriefingError(f"{year}年{month}月尚未开始，不能生成通报（今天是 {today:%Y-%m-%d}）。")
    return first


def previous_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def briefing_filename(month: dt.date, street: Unit | None = None) -> str:
    return f"民生诉求月度通报-{street.name + '-' if street else ''}{month:%Y-%m}.docx"


# ---------------------------------------------------------------- formatting


def percent(value: float | None) -> str:
    """A rate 0..1 as the briefing prints it: 93.5%; — when there is no denominator."""
    return "—" if value is None else f"{100 * value:.1f}%"


def score_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _change_in_points(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return "—"
    points = 100 * (now - before)
    if abs(points) < 0.05:
        return "持平"
    return f"{'上升' if points > 0 else '下降'}{abs(points):.1f}个百分点"


def _change_in_count(now: int, before: int) -> str:
    if now == before:
        return "持平"
    word = "增加" if now > before else "减少"
    if before:
        return f"{word}{abs(now - before)}件（{100 * abs(now - before) / before:.1f}%）"
    return f"{word}{abs(now - before)}件"


def _sentence(text: str) -> str:
    """Text that ends as a sentence, so the next one can follow it."""
    text = text.rstrip()
    return text if not text or text.endswith(("。", "！", "？", "…", ".", "!", "?")) else text + "。"


def _date_cn(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "—"


def _month_cn(month: dt.date) -> str:
    return f"{month.year}年{month.month}月"


# ---------------------------------------------------------------- the content


@dataclass
class BriefingData:
    month: dt.date
    issued_on: dt.date
    district: str
    figures: dict
    previous: dict
    series: list[dict]
    categories: list[dict]
    rankings: dict[str, Ranking]
    problems: list[dict]
    notable: dict[str, list[PublicCase]]
    partial: bool = False  # the month is still running
    street: Unit | None = None  # a street's own briefing; None for the district's
    charts: dict[str, bytes] = field(default_factory=dict)

    @property
    def issue(self) -> str:
        return f"{self.month.year}年第{self.month.month}期"

    @property
    def area(self) -> str:
        return self.street.name if self.street else self.district

    @property
    def whole(self) -> str:
        return "全街道" if self.street else "全区"

    @property
    def issuer(self) -> str:
        return f"{self.street.name}办事处" if self.street else f"{self.district}民生诉求服务中心"

    def street_communities(self) -> tuple[list[RankingRow], list[RankingRow], list[RankingRow]]:
        """The street's communities among the district's community ranking: ranked rows
        (with their district rank), and the street's own red and black lists, drawn as the
        ranking draws the district's (best first; worst first; never overlapping)."""
        ranking = self.rankings[UnitKind.COMMUNITY]
        ranked = [row for row in ranking.rows if row.rank and row.unit.parent_id == self.street.pk]
        size = ranking.list_size
        return ranked, ranked[:size], list(reversed(ranked[max(size, len(ranked) - size):]))

    def black_listed(self) -> list[str]:
        if self.street:
            return [row.unit.name for row in self.street_communities()[2]]
        return [row.unit.name for kind, _name in CLASSES for row in self.rankings[kind].black]


def briefing_data(*, month: dt.date, today: dt.date | None = None, progress: Callable[[str], None] | None = None,
                  street: Unit | None = None) -> BriefingData:
    """Everything the briefing prints, read from the selectors: of the district, or of the
    appeals located in `street` (a street office's own briefing)."""
    say = progress or (lambda message: None)
    today = today or timezone.localdate()
    month = month.replace(day=1)
    say("统计全街道数据" if street else "统计全区数据")
    series = month_series(month, 12, street=street)
    figures = series[-1]
    previous = series[-2]
    categories = category_breakdown(month, street=street)
    say("计算三率排名")
    rankings = monthly_rankings(month=month)
    say("汇总热点问题与典型案例")
    problems = top_problems(month, 5, street=street)
    notable = notable_cases(month, limit=3, street=street)
    return BriefingData(
        month=month, issued_on=today, district=settings.MINSHENG_DISTRICT_NAME, figures=figures, previous=previous,
        series=series, categories=categories, rankings=rankings, problems=problems, notable=notable,
        partial=today.replace(day=1) == month, street=street,
    )


def briefing_build(*, month: dt.date, today: dt.date | None = None, progress: Callable[[str], None] | None = None,
                   street: Unit | None = None) -> bytes:
    """The briefing for `month` as .docx bytes: the district's, or with `street` that street
    office's own (its territory's figures, its place among the streets, its communities)."""
    say = progress or (lambda message: None)
    data = briefing_data(month=month, today=today, progress=say, street=street)
    say("绘制图表")
    if street is None:
        ranked = [(row.unit.name, row.rates.score) for row in data.rankings[UnitKind.STREET].rows if row.rank]
        ranking_title = f"{_month_cn(data.month)}街道综合得分排名"
    else:
        ranked = [(row.unit.name, row.rates.score) for row in data.street_communities()[0]]
        ranking_title = f"{_month_cn(data.month)}{street.name}所辖社区（村）综合得分"
    data.charts = {
        "trend": charts.trend_chart(data.series),
        "categories": charts.category_chart(data.categories),
        "ranking": charts.ranking_chart(ranked, title=ranking_title),
    }
    say("排版文档")
    return _Writer(data).render()


class _Writer:
    def __init__(self, data: BriefingData):
        self.data = data
        self.doc = Document()
        self._page_setup()
        self._styles()

    # -------------------------------------------------------- page and styles

    def _page_setup(self) -> None:
        section = self.doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        # GB/T 9704: top 37 mm, bottom 35 mm, left 28 mm, right 26 mm.
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.footer_distance = Mm(20)
        self._page_number_footer(section)

    def _styles(self) -> None:
        normal = self.doc.styles["Normal"]
        normal.font.name = LATIN
        normal.font.size = BODY_SIZE
        _east_asian(normal.element.get_or_add_rPr(), FANGSONG)
        normal.paragraph_format.line_spacing = Pt(28)
        normal.paragraph_format.space_after = Pt(0)
        normal.paragraph_format.space_before = Pt(0)

    def _page_number_footer(self, section) -> None:
        paragraph = section.footer.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self._run(paragraph, "— ", size=Pt(14), font=LATIN)
        run = paragraph.add_run()
        _field(run, "PAGE")
        run.font.size = Pt(14)
        self._run(paragraph, " —", size=Pt(14), font=LATIN)

    # -------------------------------------------------------- building blocks

    def _run(self, paragraph, text: str, *, font: str = FANGSONG, size=None, bold: bool = False, colour: RGBColor | None = None):
        run = paragraph.add_run(text)
        run.font.name = LATIN
        _east_asian(run._element.get_or_add_rPr(), font)
        if size is not None:
            run.font.size = size
        run.font.bold = bold or None
        if colour is not None:
            run.font.color.rgb = colour
        return run

    def paragraph(self, text: str = "", *, indent: bool = True, font: str = FANGSONG, bold: bool = False, align=None, size=None):
        paragraph = self.doc.add_paragraph()
        if indent:
            paragraph.paragraph_format.first_line_indent = Pt(32)  # two characters
        if align is not None:
            paragraph.alignment = align
        if text:
            self._run(paragraph, text, font=font, bold=bold, size=size)
        return paragraph

    def heading(self, text: str) -> None:
        paragraph = self.paragraph(text, font=HEITI)
        paragraph.paragraph_format.keep_with_next = True

    def subheading(self, text: str) -> None:
        paragraph = self.paragraph(text, font=KAITI, bold=True)
        paragraph.paragraph_format.keep_with_next = True

    def picture(self, png: bytes, caption: str) -> None:
        paragraph = self.doc.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.line_spacing = 1.0
        paragraph.add_run().add_picture(io.BytesIO(png), width=Mm(150))
        self.paragraph(caption, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, size=Pt(12))

    def table(self, header: list[str], rows: list[list[str]], *, widths_mm: list[float] | None = None):
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        _repeat_header(table.rows[0])
        for cell, text in zip(table.rows[0].cells, header):
            _shade(cell, HEADER_SHADING)
            self._cell(cell, text, font=HEITI)
        for values in rows:
            cells = table.add_row().cells
            for cell, text in zip(cells, values):
                self._cell(cell, text)
        if widths_mm:
            for row in table.rows:
                for cell, width in zip(row.cells, widths_mm):
                    cell.width = Mm(width)
        self.doc.add_paragraph().paragraph_format.line_spacing = 1.0
        return table

    def _cell(self, cell, text: str, *, font: str = FANGSONG) -> None:
        paragraph = cell.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.first_line_indent = None
        paragraph.paragraph_format.line_spacing = 1.0
        self._run(paragraph, text, font=font, size=TABLE_SIZE)

    # -------------------------------------------------------- the document

    def render(self) -> bytes:
        self.masthead()
        self.overview()
        self.rankings()
        self.red_black()
        self.problems()
        self.cases()
        self.requirements()
        self.distribution()
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()

    def masthead(self) -> None:
        data = self.data
        title = self.paragraph(indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
        title.paragraph_format.line_spacing = 1.0
        title.paragraph_format.space_before = Pt(12)
        self._run(title, f"{data.area}民生诉求办理情况通报", font=MASTHEAD_FONT, size=Pt(30), colour=RED)
        issue = self.paragraph(indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
        issue.paragraph_format.space_before = Pt(12)
        self._run(issue, data.issue, font=FANGSONG)
        line = self.paragraph(indent=False)
        line.paragraph_format.tab_stops.add_tab_stop(Mm(156), alignment=WD_TAB_ALIGNMENT.RIGHT)
        self._run(line, f"{data.issuer}\t{_date_cn(data.issued_on)}", font=FANGSONG)
        _bottom_border(line, colour="C00000", size=18)
        self.paragraph(indent=False)
        heading = self.paragraph(indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
        self._run(heading, f"关于{_month_cn(data.month)}{data.whole}民生诉求办理情况的通报", font=MASTHEAD_FONT, size=Pt(22))
        self.paragraph(indent=False)
        addressees = "各社区（村），街道各有关科室：" if data.street else "各街道办事处，区直各部门，各公用企业："
        self.paragraph(addressees, indent=False)
        scope = "（截至发文之日）" if data.partial else ""
        self.paragraph(f"现将{_month_cn(data.month)}{scope}{data.whole}民生诉求办理情况通报如下。")
        if data.street:
            self.paragraph("本通报的总体情况、热点问题和典型案例按诉求发生地统计，含区直部门承办的诉求。")

    def overview(self) -> None:
        data, now, before = self.data, self.data.figures, self.data.previous
        self.heading(SECTIONS[0])
        self.paragraph(
            f"{_month_cn(data.month)}，{data.whole}共受理民生诉求{now['received']}件，派单{now['dispatched']}件，"
            f"办结答复{now['replied']}件，办结（评价或到期）{now['closed']}件。"
            f"响应率{percent(now['response_rate'])}，解决率{percent(now['resolution_rate'])}，"
            f"满意率{percent(now['satisfaction_rate'])}，按时办结率{percent(now['on_time_rate'])}；"
            f"超期（红牌）{now['overdue']}件。"
        )
        self.paragraph(
            f"与上月相比，受理量{_change_in_count(now['received'], before['received'])}，"
            f"响应率{_change_in_points(now['response_rate'], before['response_rate'])}，"
            f"解决率{_change_in_points(now['resolution_rate'], before['resolution_rate'])}，"
            f"满意率{_change_in_points(now['satisfaction_rate'], before['satisfaction_rate'])}。"
        )
        hours = now["avg_handling_hours"]
        rows = [
            ["受理量（件）", str(now["received"]), str(before["received"]), _change_in_count(now["received"], before["received"])],
            ["派单量（件）", str(now["dispatched"]), str(before["dispatched"]), _change_in_count(now["dispatched"], before["dispatched"])],
            ["办结答复（件）", str(now["replied"]), str(before["replied"]), _change_in_count(now["replied"], before["replied"])],
            ["响应率", percent(now["response_rate"]), percent(before["response_rate"]), _change_in_points(now["response_rate"], before["response_rate"])],
            ["解决率", percent(now["resolution_rate"]), percent(before["resolution_rate"]), _change_in_points(now["resolution_rate"], before["resolution_rate"])],
            ["满意率", percent(now["satisfaction_rate"]), percent(before["satisfaction_rate"]), _change_in_points(now["satisfaction_rate"], before["satisfaction_rate"])],
            ["按时办结率", percent(now["on_time_rate"]), percent(before["on_time_rate"]), _change_in_points(now["on_time_rate"], before["on_time_rate"])],
            ["超期（红牌，件）", str(now["overdue"]), str(before["overdue"]), _change_in_count(now["overdue"], before["overdue"])],
            ["平均办理时长（工作小时）", "—" if hours is None else f"{hours:.1f}",
             "—" if before["avg_handling_hours"] is None else f"{before['avg_handling_hours']:.1f}", ""],
        ]
        self.paragraph(f"表1  {_month_cn(data.month)}{data.whole}主要指标", indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, font=HEITI, size=Pt(12))
        self.table(["指标", "本月", "上月", "增减"], rows, widths_mm=[50, 30, 30, 46])
        self.picture(data.charts["trend"], "图1  近12个月诉求量与三率走势")
        if data.categories:
            parts = "、".join(f"{row['category']}{row['count']}件" for row in data.categories[:5])
            self.paragraph(f"从诉求类别看，数量居前的依次为：{parts}。")
        self.picture(data.charts["categories"], "图2  本月诉求分类构成")

    RANKING_HEADER = ["名次", "单位", "收件量", "响应率", "解决率", "满意率", "按时办结率", "综合得分"]
    RANKING_WIDTHS = [12, 42, 16, 17, 17, 17, 19, 16]

    @staticmethod
    def _ranking_row(row: RankingRow) -> list[str]:
        return [str(row.rank) if row.rank else "—", row.unit.name, str(row.rates.received), percent(row.rates.response_rate),
                percent(row.rates.resolution_rate), percent(row.rates.satisfaction_rate), percent(row.rates.on_time_rate),
                score_text(row.rates.score)]

    def rankings(self) -> None:
        self.heading(SECTIONS[1])
        ranking = self.data.rankings[UnitKind.STREET]
        weights = ranking.weights
        self.paragraph(
            f"综合得分按响应率{weights['response']:g}%、解决率{weights['resolution']:g}%、满意率{weights['satisfaction']:g}%加权计算（满分100分）；"
            f"当月收件量不足{ranking.min_volume}件或无可评分数据的单位不参与排名。"
        )
        if self.data.street:
            self._street_rankings()
            return
        for number, (kind, name) in enumerate(CLASSES):
            ranking = self.data.rankings[kind]
            self.subheading(f"（{CN_NUMBERS[number]}）{name}")
            ranked = [row for row in ranking.rows if row.rank]
            if ranked:
                self.table(self.RANKING_HEADER, [self._ranking_row(row) for row in ranked], widths_mm=self.RANKING_WIDTHS)
            else:
                self.paragraph("本月无达到排名条件的单位。")
            unranked = len(ranking.rows) - len(ranked)
            if unranked:
                self.paragraph(f"另有{unranked}个单位收件量不足{ranking.min_volume}件或无可评分数据，未参与排名。", size=Pt(12))
            if kind == UnitKind.STREET:
                self.picture(self.data.charts["ranking"], "图3  街道综合得分排名")

    def _street_rankings(self) -> None:
        street = self.data.street
        streets = self.data.rankings[UnitKind.STREET]
        own = next(row for row in streets.rows if row.unit.pk == street.pk)
        ranked_streets = sum(1 for row in streets.rows if row.rank)
        self.subheading(f"（一）{street.name}在全区街道中的排名")
        self.table(self.RANKING_HEADER, [self._ranking_row(own)], widths_mm=self.RANKING_WIDTHS)
        if own.rank:
            self.paragraph(f"本月全区共{ranked_streets}个街道参与排名，{street.name}列第{own.rank}位。")
        else:
            self.paragraph(f"本月{street.name}{own.note}，未参与排名。")
        self.subheading("（二）所辖社区（村）")
        ranked, _red, _black = self.data.street_communities()
        if ranked:
            self.table(self.RANKING_HEADER, [self._ranking_row(row) for row in ranked], widths_mm=self.RANKING_WIDTHS)
            self.paragraph("名次为在全区社区（村）中的名次。", size=Pt(12))
        else:
            self.paragraph("本月所辖社区（村）均未达到排名条件。")
        self.picture(self.data.charts["ranking"], "图3  所辖社区（村）综合得分")

    def red_black(self) -> None:
        self.heading(SECTIONS[2])
        if self.data.street:
            self._street_red_black()
            return
        self.paragraph("根据综合得分，现将各类单位红榜（得分最高）、黑榜（得分最低）通报如下：")
        rows = []
        for kind, name in CLASSES:
            ranking = self.data.rankings[kind]
            red = "、".join(f"{row.unit.name}（{score_text(row.rates.score)}）" for row in ranking.red) or "—"
            black = "、".join(f"{row.unit.name}（{score_text(row.rates.score)}）" for row in ranking.black) or "—"
            rows.append([name, red, black])
        self.table(["类别", "红榜", "黑榜"], rows, widths_mm=[36, 60, 60])

    def _street_red_black(self) -> None:
        street = self.data.street
        streets = self.data.rankings[UnitKind.STREET]
        if any(row.unit.pk == street.pk for row in streets.red):
            self.paragraph(f"{street.name}本月列入全区街道红榜。")
        elif any(row.unit.pk == street.pk for row in streets.black):
            self.paragraph(f"{street.name}本月列入全区街道黑榜，请对照指标认真整改。")
        self.paragraph("根据综合得分，所辖社区（村）红榜（得分最高）、黑榜（得分最低）如下：")
        _ranked, red, black = self.data.street_communities()
        self.table(["类别", "红榜", "黑榜"], [[
            "社区（村）",
            "、".join(f"{row.unit.name}（{score_text(row.rates.score)}）" for row in red) or "—",
            "、".join(f"{row.unit.name}（{score_text(row.rates.score)}）" for row in black) or "—",
        ]], widths_mm=[36, 60, 60])

    def problems(self) -> None:
        self.heading(SECTIONS[3])
        if not self.data.problems:
            self.paragraph("本月未形成集中反映的热点问题。")
            return
        self.paragraph("本月群众反映集中的问题如下，请相关单位举一反三、源头治理：")
        for index, problem in enumerate(self.data.problems, start=1):
            previous = problem.get("previous_count")
            trend = ""
            if previous is not None:
                trend = "，与上月持平" if previous == problem["count"] else f"，较上月{'增加' if problem['count'] > previous else '减少'}{abs(problem['count'] - previous)}件"
            self.paragraph(f"{index}. {problem['title']}：{problem['count']}件{trend}。")

    def cases(self) -> None:
        self.heading(SECTIONS[4])
        notable = self.data.notable
        self.subheading("（一）群众满意案例")
        if not notable["praised"]:
            self.paragraph("本月暂无。")
        for case in notable["praised"]:
            self.paragraph(
                f"【{case.category}】{self._place(case)}群众{_date_cn(case.submitted_on)}反映：{_sentence(case.text)}"
                f"承办单位{case.unit or '—'}于{_date_cn(case.closed_on)}办结，群众评价“{case.feedback or '满意'}”。"
                + (f"群众留言：“{case.comment}”" if case.comment else "")
            )
        self.subheading("（二）超期办理案例")
        if not notable["overdue"]:
            self.paragraph("本月无超期案件。")
        for case in notable["overdue"]:
            self.paragraph(
                f"【{case.category}】{self._place(case)}群众{_date_cn(case.submitted_on)}反映：{_sentence(case.text)}"
                f"承办单位{case.unit or '—'}，办结期限{_date_cn(case.due_on)}，已超期（红牌）。"
            )

    @staticmethod
    def _place(case: PublicCase) -> str:
        return "".join(part for part in (case.street, case.community) if part)

    def requirements(self) -> None:
        self.heading(SECTIONS[5])
        black = self.data.black_listed()
        items = [
            "对标对表抓整改。" + (f"{'、'.join(black)}等上黑榜单位要认真分析原因，于下月5日前将整改情况报{self.data.issuer}。" if black
                                else "各单位要对照三率指标查找不足，持续改进。"),
            "严格时限抓落实。承办单位要按时签收、及时联系群众、限期办结，超期案件由区民生诉求服务中心挂牌督办。",
            "聚焦热点抓治理。对本月集中反映的问题，责任单位要举一反三，从个案办理转向源头治理、类案治理。",
            "回访群众抓实效。坚持群众满意为标准，对不满意案件逐件复核、重新办理，杜绝“程序性办结”。",
        ]
        for number, text in enumerate(items):
            self.paragraph(f"（{CN_NUMBERS[number]}）{text}")

    def distribution(self) -> None:
        self.paragraph(indent=False)
        ending = self.paragraph(indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
        self._run(ending, self.data.issuer)
        date = self.paragraph(indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
        self._run(date, _date_cn(self.data.issued_on))
        self.paragraph(indent=False)
        copy = self.paragraph(indent=False, size=Pt(14))
        recipients = ("区民生诉求服务中心，街道党工委、办事处领导班子成员" if self.data.street
                      else "区委办公室，区人大常委会办公室，区政府办公室，区政协办公室")
        self._run(copy, f"抄送：{recipients}。", size=Pt(14))
        _top_border(copy, colour="000000", size=6)
        _bottom_border(copy, colour="000000", size=6)


# ---------------------------------------------------------------- OOXML details python-docx lacks


def _east_asian(rpr, font: str) -> None:
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), font)
    if font != LATIN:
        fonts.set(qn("w:ascii"), LATIN)
        fonts.set(qn("w:hAnsi"), LATIN)


def _field(run, instruction: str) -> None:
    """A field (PAGE, NUMPAGES) Word computes when it lays the page out."""
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    shown = OxmlElement("w:t")
    shown.text = "1"
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    for element in (begin, text, separate, shown, end):
        run._r.append(element)


def _shade(cell, fill: str) -> None:
    properties = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    properties.append(shading)


def _repeat_header(row) -> None:
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


# The elements that follow w:pBdr inside w:pPr (ECMA-376 §17.3.1.26).
_AFTER_PBDR = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct",
    "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
    "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
    "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)


def _border(paragraph, side: str, colour: str, size: int) -> None:
    properties = paragraph._p.get_or_add_pPr()
    borders = properties.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        # Word refuses a document whose paragraph properties are out of schema order.
        properties.insert_element_before(borders, *_AFTER_PBDR)
    line = OxmlElement(f"w:{side}")
    line.set(qn("w:val"), "single")
    line.set(qn("w:sz"), str(size))
    line.set(qn("w:space"), "1")
    line.set(qn("w:color"), colour)
    borders.append(line)


def _bottom_border(paragraph, *, colour: str, size: int) -> None:
    _border(paragraph, "bottom", colour, size)


def _top_border(paragraph, *, colour: str, size: int) -> None:
    _border(paragraph, "top", colour, size)
