"""The public board (/board/): anonymisation of appeal text, the resolved-cases list, the
page itself (no login, figures equal the selectors, no personal data, English, rate limit)."""

from __future__ import annotations

import json
import re

import pytest
import time_machine
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from minsheng.analytics.anonymise import anonymise_text
from minsheng.analytics.selectors.board import board_figures, month_figures, public_case, resolved_cases_page
from minsheng.cases import services
from minsheng.cases.models import Case, Category, CoReporter
from tests.factories import unit

from .conftest import local


# ---------------------------------------------------------------- anonymise_text


def test_the_example_door_becomes_masked_numbers():
    assert anonymise_text("伊河路26号院3号楼") == "伊河路**号院**号楼"


@pytest.mark.parametrize("text", [
    "我的电话13812345678请回电",
    "手机：138 1234 5678",
    "手机：138-1234-5678",
    "+86 13812345678",
    "8613812345678",
    "电话１３８１２３４５６７８",  # full-width digits
])
def test_mobile_numbers_written_in_the_text_are_removed(text):
    result = anonymise_text(text)
    assert not re.search(r"\d{4}", result.replace(" ", "").replace("-", "")), result
    assert "***" in result


@pytest.mark.parametrize("text", ["座机0371-67891234", "座机037167891234", "座机 0371 67891234", "打67891234找物业"])
def test_landlines_and_other_long_numbers_are_removed(text):
    assert "6789" not in anonymise_text(text)


@pytest.mark.parametrize("number", ["410102199001011234", "41010219900101123X", "41010219900101123x", "410102900101123"])
def test_id_numbers_are_removed(number):
    result = anonymise_text(f"身份证号{number}，户口迁移办不了")
    assert number not in result and "0101" not in result and result.startswith("身份证号***")


@pytest.mark.parametrize("text, expected", [
    ("伊河路26号院3号楼2单元501室漏水", "伊河路**号院**号楼**单元**室漏水"),
    ("建设路12号", "建设路**号"),
    ("绿都城7栋1单元1102", "绿都城**栋**单元**"),
    ("A座1203室门口", "**座**室门口"),
    ("家住3-2-501", "家住**-**-**"),
    ("碧沙岗小区三号楼二单元", "碧沙岗小区**号楼**单元"),
    ("5号楼18层", "**号楼**层"),
    ("１２号院", "**号院"),
])
def test_house_building_entrance_and_room_numbers_are_masked(text, expected):
    assert anonymise_text(text) == expected


@pytest.mark.parametrize("text", ["11月5号下午停水", "坐地铁3号线到碧沙岗站", "拨打12345反映过", "三室两厅", "一楼大厅", "2026-11-05 再次反映"])
def test_dates_lines_the_hotline_and_ordinary_words_stay(text):
    assert anonymise_text(text) == text


def test_the_reporters_names_are_removed_wherever_they_appear():
    text = "我是王小明，邻居李晓红也反映过，王小明家楼下路灯不亮"
    result = anonymise_text(text, names=("王小明", "李晓红"))
    assert "王小明" not in result and "李晓红" not in result and result.count("某某") == 3
    # A one-character name would blank that character everywhere: names are two or more.
    assert anonymise_text("李庄路路灯不亮", names=("李",)) == "李庄路路灯不亮"


def test_labelled_names_emails_and_tracking_codes_are_removed():
    result = anonymise_text("姓名：赵大海，邮箱 zhao.dahai@example.com，查询码261129K7QX2")
    assert "赵大海" not in result and "zhao" not in result and "261129K7QX2" not in result
    assert result.startswith("姓名：某某")


def test_shortening_comes_after_the_masking_so_no_half_number_survives():
    # Cut first, "电话138123" would keep six digits: too few to look like a phone any more.
    result = anonymise_text("电话13812345678，楼道灯坏了很久没人修", limit=8)
    assert result == "电话***，楼道…"


# ---------------------------------------------------------------- selectors



def resolved(story, day: str, *, text: str, name: str = "王小明", phone: str = "13912345678", rating: str = "satisfied",
             confirmed: bool = True) -> Case:
    with time_machine.travel(local(f"{day} 08:00"), tick=False):
        case = services.case_submit(text=text, channel="web", address="伊河路26号院3号楼", reporter_name=name, reporter_phone=phone,
                                    community=unit("community:JSL03"), category=Category.objects.get(code="CGM.HJWS"))
    return story.run(case, [(f"{day} 09:00", "dispatch", {"unit": "street:JSL"}), (f"{day} 10:00", "acknowledge"),
                            (f"{day} 11:00", "contact"), (f"{day} 14:00", "reply"), (f"{day} 15:00", "approve"),
                            (f"{day} 16:00", "feedback", {"rating": rating, "resolved": confirmed})])


@pytest.fixture
def november(story):
    cache.clear()
    cases = [
        resolved(story, "2026-11-02", text="王小明反映：伊河路26号院3号楼门口垃圾堆积，电话13912345678"),
        resolved(story, "2026-11-03", text="路灯不亮，联系人张三 13700001111", name="张三", phone="13700001111"),
        resolved(story, "2026-11-04", text="下水道堵塞，已经三天了", name="赵四", phone="13600002222", rating="basic"),
    ]
    with time_machine.travel(local("2026-11-05 08:00"), tick=False):
        still_open = services.case_submit(text="噪音扰民13500003333", channel="web", reporter_name="钱五", reporter_phone="13500003333",
                                          community=unit("community:JSL03"), category=Category.objects.get(code="CGM.HJWS"))
    yield {"resolved": cases, "open": still_open}
    cache.clear()


@pytest.mark.django_db
def test_resolved_cases_are_listed_newest_first_paginated_and_anonymised(november):
    with time_machine.travel(local("2026-11-30 12:00"), tick=False):
        first = resolved_cases_page(page=1, per_page=2)
        second = resolved_cases_page(page=2, per_page=2)
        beyond = resolved_cases_page(page="99", per_page=2)
        junk = resolved_cases_page(page="abc", per_page=2)
    assert first.paginator.count == 3  # the open case is not listed
    assert [c.submitted_on.day for c in first.object_list] == [4, 3] and [c.submitted_on.day for c in second.object_list] == [2]
    assert beyond.number == 2 and junk.number == 1
    oldest = second.object_list[0]
    assert oldest.text.startswith("某某反映：伊河路**号院**号楼") and "13912345678" not in oldest.text
    assert oldest.street == "建设路街道" and oldest.category.endswith("环境卫生") and oldest.feedback == "满意"
    assert not hasattr(oldest, "tracking_code")


@pytest.mark.django_db
def test_only_cases_the_resident_confirmed_resolved_are_listed_and_only_the_newest(november, story, monkeypatch):
    from minsheng.analytics.selectors import board

    # "Basically satisfied", but the resident says the problem is not resolved: closed, not listed.
    not_resolved = resolved(story, "2026-11-06", text="楼道堆放杂物，物业不管", rating="basic", confirmed=False)
    assert not_resolved.state == "closed"
    with time_machine.travel(local("2026-11-07 08:00"), tick=False):
        silent = services.case_submit(text="小区路灯不亮好几天了", channel="web", community=unit("community:JSL03"),
                                      category=Category.objects.get(code="CGM.HJWS"))
    story.run(silent, [("2026-11-07 09:00", "dispatch", {"unit": "street:JSL"}), ("2026-11-07 10:00", "acknowledge"),
                       ("2026-11-07 14:00", "reply"), ("2026-11-07 15:00", "approve"), ("2026-11-30 09:00", "close_no_feedback")])
    assert Case.objects.get(pk=silent.pk).state == "closed"
    with time_machine.travel(local("2026-11-30 12:00"), tick=False):
        listed = resolved_cases_page(page=1, per_page=10)
        assert [c.text for c in listed.object_list if "杂物" in c.text or "路灯不亮好几天" in c.text] == []
        assert listed.paginator.count == 3
        monkeypatch.setattr(board, "RESOLVED_LIMIT", 2)
        assert resolved_cases_page(page=1, per_page=10).paginator.count == 2


@pytest.mark.django_db
def test_co_reporters_names_are_removed_too(november):
    case = november["resolved"][0]
    CoReporter.objects.create(case=case, name="孙六", phone="13800001234")
    Case.objects.filter(pk=case.pk).update(text=case.text + "，孙六也住这里")
    shown = public_case(Case.objects.get(pk=case.pk), limit=200)
    assert "孙六" not in shown.text and "王小明" not in shown.text


@pytest.mark.django_db
def test_board_figures_are_the_month_figures_and_are_cached_briefly(november):
    with time_machine.travel(local("2026-11-30 12:00"), tick=False):
        figures = board_figures()
        fresh = month_figures(local("2026-11-30 12:00").date())
        assert {k: v for k, v in figures["current"].items() if k != "computed_at"} == fresh
        assert figures["current"]["received"] == 4 and figures["current"]["closed"] == 3
        assert len(figures["series"]) == 12 and figures["series"][0]["month"] == "2025-12"
        services.case_submit(text="又一件垃圾清运问题", channel="web", community=unit("community:JSL03"), category=Category.objects.get(code="CGM.HJWS"))
        assert board_figures()["current"]["received"] == 4  # cached
        cache.clear()
        assert board_figures()["current"]["received"] == 5


# ---------------------------------------------------------------- the page


@pytest.mark.django_db
def test_the_board_opens_without_login_and_shows_the_figures_without_personal_data(client, november):
    with time_machine.travel(local("2026-11-30 12:00"), tick=False):
        response = client.get("/board/")
        figures = month_figures(local("2026-11-30 12:00").date())
    assert response.status_code == 200
    html = response.content.decode()
    assert "民生诉求办理公开栏" in html and "本月（2026-11）" in html
    assert f"{100 * figures['satisfaction_rate']:.1f}" in html and f"{100 * figures['response_rate']:.1f}" in html
    chart = json.loads(re.search(r'<script id="board-chart-data" type="application/json">(.*?)</script>', html, re.S).group(1))
    assert chart["months"][-1] == "2026-11" and chart["received"][-1] == figures["received"] == 4
    assert 'src="/static/minsheng/board.js"' in html
    for secret in ("王小明", "张三", "赵四", "钱五", "13912345678", "13700001111", "26号院", "3号楼"):
        assert secret not in html, secret
    for case in november["resolved"] + [november["open"]]:
        assert case.tracking_code not in html
    assert "伊河路**号院**号楼" in html


@pytest.mark.django_db
def test_the_board_speaks_english_when_asked(client, november):
    client.post("/i18n/setlang/", {"language": "en", "next": "/board/"})
    with time_machine.travel(local("2026-11-30 12:00"), tick=False):
        html = client.get("/board/").content.decode()
    assert '<html lang="en">' in html and "Public board" in html and "Satisfaction rate" in html


@pytest.mark.django_db
@override_settings(MINSHENG_BOARD_RATE="3/m")
def test_the_board_is_rate_limited_per_address(client):
    cache.clear()
    statuses = [client.get("/board/", REMOTE_ADDR="10.0.0.7").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get("/board/", REMOTE_ADDR="10.0.0.8").status_code == 200
    cache.clear()


def test_board_url_is_the_public_one():
    assert reverse("board") == "/board/"
