"""The monthly briefing (月度通报): `minsheng report monthly --month YYYY-MM --out FILE.docx`
and its download on the workbench. The document is opened with python-docx and read back:
title, sections, figures against the selectors, charts, and no personal data."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from docx import Document

from minsheng.analytics.briefing import SECTIONS, BriefingError, parse_month
from minsheng.analytics.charts import FONT_PATH
from minsheng.analytics.selectors import district_rates, location_rates, monthly_rankings
from minsheng.analytics.selectors.dashboard import briefing_scope
from minsheng.cases import services
from minsheng.cases.models import Case, Category
from minsheng.core.models import AuditEntry, Unit
from tests.factories import make_user, unit

from .conftest import local

pytestmark = pytest.mark.django_db

OCT = dt.date(2026, 10, 1)
NAME, PHONE, CO_NAME = "王小明", "13912345678", "李晓红"
DOOR_TEXT = "伊河路26号院3号楼2单元501室"


def appeal(when: str, *, text: str, community: str = "community:JSL03", name: str = NAME, phone: str = PHONE) -> Case:
    with time_machine.travel(local(when), tick=False):
        return services.case_submit(
            text=text, channel="web", address=DOOR_TEXT, reporter_name=name, reporter_phone=phone,
            community=unit(community), category=Category.objects.get(code="CGM.HJWS"),
        )


def pct(value: float | None) -> str:
    return "—" if value is None else f"{round(100 * value, 1):.1f}%"


@pytest.fixture
def october(story):
    """October 2026: a satisfied case at JSL whose text and comment carry the resident's name,
    phone and door; a basically-satisfied one at LSZ answered late to the contact; one at the
    department CGJ never acknowledged and red-flagged; a September case for the comparison."""
    praised = appeal("2026-10-12 08:00", text=f"{DOOR_TEXT}门口垃圾堆积一周无人清运，我是{NAME}，电话{PHONE}，请尽快处理")
    story.run(praised, [("2026-10-12 09:00", "dispatch", {"unit": "street:JSL"}), ("2026-10-12 10:00", "acknowledge"),
                        ("2026-10-12 11:00", "contact"), ("2026-10-13 10:00", "reply"), ("2026-10-13 11:00", "approve")])
    with time_machine.travel(local("2026-10-14 09:00"), tick=False):
        services.case_record_feedback(case=praised, rating="satisfied", resolved=True,
                                      comment=f"感谢！{NAME}（{PHONE}）对处理很满意")
    other = appeal("2026-10-15 08:00", text="中原路与桐柏路交叉口垃圾桶满溢", community="community:LSZ01", name="赵四", phone="13600001111")
    story.run(other, [("2026-10-15 09:00", "dispatch", {"unit": "street:LSZ"}), ("2026-10-15 10:00", "acknowledge"),
                      ("2026-10-19 11:00", "contact"), ("2026-10-20 10:00", "reply"), ("2026-10-20 11:00", "approve"),
                      ("2026-10-21 09:00", "feedback", {"rating": "basic", "resolved": True})])
    late = appeal("2026-10-19 08:00", text=f"{CO_NAME}家楼下（{DOOR_TEXT}）污水外溢，联系电话0371-67891234", name=CO_NAME, phone="13500002222")
    story.run(late, [("2026-10-19 09:00", "dispatch", {"unit": "dept:CGJ"}), ("2026-10-31 10:00", "flag")])
    earlier = appeal("2026-09-10 08:00", text="九月份的垃圾清运问题")
    story.run(earlier, [("2026-09-10 09:00", "dispatch", {"unit": "street:JSL"}), ("2026-09-10 10:00", "acknowledge"),
                        ("2026-09-10 11:00", "contact"), ("2026-09-11 10:00", "reply")])
    return {"praised": praised, "other": other, "late": late, "earlier": earlier}


def generate(tmp_path, month: str = "2026-10", today: str = "2026-11-10 09:00"):
    out = tmp_path / "briefing.docx"
    stdout, stderr = io.StringIO(), io.StringIO()
    with time_machine.travel(local(today), tick=False):
        call_command("report", "monthly", "--month", month, "--out", str(out), stdout=stdout, stderr=stderr)
    return out, stdout.getvalue(), stderr.getvalue()


def all_text(path) -> str:
    """Every text node of the package (body, tables, headers, footers), as Word stores it."""
    with zipfile.ZipFile(path) as package:
        return "".join(package.read(name).decode("utf-8") for name in package.namelist() if name.endswith(".xml"))


def table_after_header(document, first_header: str) -> list:
    return [t for t in document.tables if t.rows[0].cells[0].text == first_header]


@override_settings(MINSHENG_RANKING_MIN_VOLUME=1)
def test_the_command_writes_a_bulletin_with_title_sections_figures_and_charts(october, tmp_path):
    out, stdout, stderr = generate(tmp_path)
    assert "正在生成 2026年10月 月度通报" in stderr and "绘制图表" in stderr
    assert str(out) in stdout
    document = Document(str(out))
    paragraphs = [p.text for p in document.paragraphs]

    masthead = document.paragraphs[0]
    assert masthead.text == "中原区民生诉求办理情况通报"
    assert str(masthead.runs[0].font.color.rgb) == "C00000"
    assert "2026年第10期" in paragraphs
    for heading in SECTIONS:
        assert heading in paragraphs, heading
    assert [p for p in paragraphs if p.startswith("（一）群众满意案例")] and [p for p in paragraphs if p.startswith("（二）超期办理案例")]

    # A4 portrait, fonts named for Word, page numbers in the footer.
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    xml = all_text(out)
    assert 'w:eastAsia="仿宋_GB2312"' in xml and 'w:eastAsia="黑体"' in xml
    footer = section.footer._element.xml
    assert "PAGE" in footer and "—" in footer

    # 表1 equals the selectors: October against September.
    rates = district_rates(start=OCT, end=dt.date(2026, 11, 1))
    before = district_rates(start=dt.date(2026, 9, 1), end=OCT)
    (overview,) = table_after_header(document, "指标")
    rows = {row.cells[0].text: [c.text for c in row.cells[1:]] for row in overview.rows[1:]}
    assert rows["受理量（件）"][:2] == ["3", "1"]
    assert rows["派单量（件）"][:2] == [str(rates.dispatches), str(before.dispatches)] == ["3", "1"]
    assert rows["响应率"][:2] == [pct(rates.response_rate), pct(before.response_rate)]
    assert rows["解决率"][0] == pct(rates.resolution_rate) == "100.0%"
    assert rows["满意率"][0] == pct(rates.satisfaction_rate)
    assert rows["按时办结率"][0] == pct(rates.on_time_rate)
    assert rows["超期（红牌，件）"][0] == str(rates.overdue) != "0"
    assert overview.rows[0].cells[0]._tc.xml.count('w:fill="D9D9D9"') == 1  # shaded header

    # 三率排名: the street table lists the ranked streets as the ranking selector does.
    rankings = monthly_rankings(month=OCT)
    ranking_tables = table_after_header(document, "名次")
    ranked_streets = [r for r in rankings["street"].rows if r.rank]
    assert len(ranked_streets) == 2
    printed = [[c.text for c in row.cells] for row in ranking_tables[0].rows[1:]]
    assert printed == [[str(r.rank), r.unit.name, str(r.rates.received), pct(r.rates.response_rate), pct(r.rates.resolution_rate),
                        pct(r.rates.satisfaction_rate), pct(r.rates.on_time_rate), f"{r.rates.score:.1f}"] for r in ranked_streets]
    # 红黑榜 names the red and black lists of every class.
    (lists,) = table_after_header(document, "类别")
    street_row = [c.text for c in lists.rows[1].cells]
    assert all(r.unit.name in street_row[1] for r in rankings["street"].red)
    assert all(r.unit.name in street_row[2] for r in rankings["street"].black)

    # Three charts as PNG images: trend, categories, street ranking.
    assert len(document.inline_shapes) == 3
    with zipfile.ZipFile(out) as package:
        assert sum(name.startswith("word/media/") and name.endswith(".png") for name in package.namelist()) == 3

    # Cases appear anonymised: the problem and the street, not the resident.
    body = "\n".join(paragraphs)
    assert "垃圾堆积一周无人清运" in body and "伊河路**号院**号楼**单元**室" in body
    assert "已超期（红牌）" in body and f"承办单位{unit('dept:CGJ').name}" in body


def test_the_document_holds_no_names_phones_doors_or_tracking_codes(october, tmp_path):
    out, _, _ = generate(tmp_path)
    text = all_text(out)
    for secret in (NAME, PHONE, CO_NAME, "赵四", "13600001111", "0371-67891234", "67891234", "26号院", "501室"):
        assert secret not in text, secret
    for case in october.values():
        assert case.tracking_code not in text


def test_a_bad_or_future_month_is_refused_clearly_and_writes_nothing(tmp_path):
    for month, words in (("2026-13", "没有这个月份"), ("2026/10", "YYYY-MM"), ("October", "YYYY-MM"), ("2026-12", "尚未开始")):
        with pytest.raises(CommandError, match=words):
            generate(tmp_path, month=month)
    assert not (tmp_path / "briefing.docx").exists()
    with pytest.raises(CommandError, match=r"\.docx"):
        call_command("report", "monthly", "--month", "2026-10", "--out", str(tmp_path / "b.pdf"))
    with pytest.raises(CommandError, match="目录不存在"):
        call_command("report", "monthly", "--month", "2026-10", "--out", str(tmp_path / "missing" / "b.docx"))


def test_month_parsing_accepts_the_current_month_and_refuses_the_next():
    today = dt.date(2026, 11, 29)
    assert parse_month("2026-11", today=today) == dt.date(2026, 11, 1)
    assert parse_month("2026-1", today=today) == dt.date(2026, 1, 1)
    with pytest.raises(BriefingError):
        parse_month("2026-12", today=today)
    with pytest.raises(BriefingError):
        parse_month("", today=today)


def test_an_empty_month_still_makes_a_complete_document(tmp_path):
    out, _, _ = generate(tmp_path, month="2026-03", today="2026-04-02 09:00")
    document = Document(str(out))
    paragraphs = [p.text for p in document.paragraphs]
    assert all(heading in paragraphs for heading in SECTIONS)
    assert "本月无超期案件。" in paragraphs and len(document.inline_shapes) == 3


def test_the_vendored_font_covers_every_street_community_and_category_name():
    from fontTools.ttLib import TTFont

    cmap = TTFont(str(FONT_PATH)).getBestCmap()
    names = list(Unit.objects.values_list("name", flat=True)) + list(Category.objects.values_list("name", flat=True))
    missing = {ch for name in names for ch in name if not ch.isspace() and ord(ch) not in cmap}
    assert not missing, "".join(sorted(missing))
    assert FONT_PATH.stat().st_size < 4 * 1024 * 1024


# ---------------------------------------------------------------- the download


DISTRICT_READERS = {"admin", "dispatcher", "leader"}


@pytest.mark.parametrize("role", ["admin", "dispatcher", "leader", "street", "operator", "community", "dept"])
def test_district_readers_get_the_district_briefing_a_street_its_own_and_others_403(client, users, role):
    client.force_login(users[role])
    with time_machine.travel(local("2026-11-10 09:00"), tick=False):
        response = client.get(reverse("analytics:briefing"), {"month": "2026-10"})
    if role in DISTRICT_READERS | {"street"}:
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
        assert "attachment" in response["Content-Disposition"] and "2026-10" in response["Content-Disposition"]
        title = Document(io.BytesIO(response.content)).paragraphs[0].text
        assert title == ("建设路街道民生诉求办理情况通报" if role == "street" else "中原区民生诉求办理情况通报")
    else:
        assert response.status_code == 403


@override_settings(MINSHENG_RANKING_MIN_VOLUME=1)
def test_a_street_gets_its_own_figures_ranking_and_cases_only(client, users, october):
    street_leader = make_user("leader-JSL", "leader", "street:JSL")
    assert briefing_scope(street_leader) == street_leader.unit and briefing_scope(users["street"]) == users["street"].unit
    client.force_login(street_leader)
    with time_machine.travel(local("2026-11-10 09:00"), tick=False):
        response = client.get(reverse("analytics:briefing"), {"month": "2026-10"})
    assert response.status_code == 200 and "JSL" in response["Content-Disposition"]
    document = Document(io.BytesIO(response.content))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "建设路街道民生诉求办理情况通报" and all(h in paragraphs for h in SECTIONS)

    jsl = unit("street:JSL")
    (jsl_rates,) = location_rates(start=OCT, end=dt.date(2026, 11, 1), level="street", units=[jsl])
    (overview,) = table_after_header(document, "指标")
    rows = {row.cells[0].text: [c.text for c in row.cells[1:]] for row in overview.rows[1:]}
    located = Case.objects.filter(street=jsl, submitted_at__gte=local("2026-10-01 00:00"), submitted_at__lt=local("2026-11-01 00:00"))
    assert rows["受理量（件）"][0] == str(located.count()) == "2"
    assert rows["派单量（件）"][0] == str(jsl_rates.dispatches) == "2"
    assert rows["响应率"][0] == pct(jsl_rates.response_rate)

    # Its own row among the streets, with the district rank.
    streets = monthly_rankings(month=OCT)["street"]
    own = next(r for r in streets.rows if r.unit == jsl)
    first_ranking = table_after_header(document, "名次")[0]
    assert [c.text for c in first_ranking.rows[1].cells][:3] == [str(own.rank), "建设路街道", str(own.rates.received)]

    body = "\n".join(paragraphs)
    assert "垃圾堆积一周无人清运" in body and "污水外溢" in body
    assert "中原路与桐柏路交叉口" not in body  # Linshanzhai's case is not this street's business
    text = all_text(io.BytesIO(response.content))
    assert NAME not in text and PHONE not in text and CO_NAME not in text
    assert AuditEntry.objects.filter(action="export", target="briefing:2026-10:JSL", actor=street_leader).exists()


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("analytics:briefing"), {"month": "2026-10"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_bad_month_in_the_download_is_a_clear_400_and_a_download_is_audited(client, users):
    client.force_login(users["leader"])
    with time_machine.travel(local("2026-11-10 09:00"), tick=False):
        bad = client.get(reverse("analytics:briefing"), {"month": "2026-99"})
        assert bad.status_code == 400 and "没有这个月份" in bad.content.decode()
        future = client.get(reverse("analytics:briefing"), {"month": "2027-01"})
        assert future.status_code == 400 and "尚未开始" in future.content.decode()
        assert not AuditEntry.objects.filter(action="export", target__startswith="briefing:").exists()
        response = client.get(reverse("analytics:briefing"))  # no month: the last complete one
    assert response.status_code == 200 and "2026-10" in response["Content-Disposition"]
    entry = AuditEntry.objects.get(action="export", target="briefing:2026-10")
    assert entry.actor == users["leader"]


def test_top_problems_come_from_the_hotspot_analysis_for_the_district_and_for_one_street(story):
    from minsheng.analytics.selectors import hotspots
    from minsheng.analytics.selectors.board import top_problems

    for day in ("2026-10-05", "2026-10-06", "2026-10-07"):
        appeal(f"{day} 08:00", text="计划路菜市场门口垃圾三天没人清运")
    appeal("2026-10-08 08:00", text="中原路与桐柏路交叉口垃圾桶满溢", community="community:LSZ01")
    district = top_problems(OCT, 5)
    assert [(p["count"], p["street_id"]) for p in district] == [(p["count"], p["street_id"]) for p in hotspots.top_problems(month=OCT, limit=5)]
    assert district and district[0]["title"].startswith("建设路街道") and district[0]["title"].endswith("环境卫生")
    jsl = top_problems(OCT, 5, street=unit("street:JSL"))
    assert [(p["count"], p["street_id"]) for p in jsl] == [(3, unit("street:JSL").pk)]
    # One appeal at Linshanzhai is below the hotspot analysis's threshold: no problem there yet.
    assert top_problems(OCT, 5, street=unit("street:LSZ")) == []
