"""Hotspots: weekly counts by category × place, the rising-trend rule on constructed
histories, recurring places, repeat reporters (masked, role-limited, scoped) and the month's
top problems for the briefing."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone, translation

from minsheng.analytics.selectors import hotspots
from minsheng.cases.models import Case, Category
from tests.factories import unit

CST = ZoneInfo("Asia/Shanghai")
_codes = itertools.count(1)

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 11, 2)  # an ISO week's Monday


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour)).replace(tzinfo=CST)


def seed(n: int, day: dt.date, *, sub: str = "CGM.HJWS", community: str | None = "community:JSL03", street: str | None = None,
         phone: str = "", state: str = "submitted", hour: int = 10) -> list[Case]:
    """`n` appeals submitted on `day`. Rows are written directly: hotspots read only the
    category, place, time, state and phone index, and this keeps histories of hundreds of
    cases fast to build."""
    comm = unit(community) if community else None
    st = unit(street) if street else (comm.parent if comm else None)
    category = Category.objects.get(code=sub)
    rows = [
        Case(tracking_code=f"T{next(_codes):09d}", text="小区门口垃圾堆放无人清运", channel="web", state=state,
             category=category, street=st, community=comm, submitted_at=at(day, hour), reporter_phone=phone)
        for _ in range(n)
    ]
    return Case.objects.bulk_create(rows)


# ---------------------------------------------------------------- the rule on its own


@pytest.mark.parametrize("history, count", [
    ([0] * 8, 5),  # from nothing to five
    ([10] * 8, 20),  # steady ten, then twenty
    ([2, 3, 2, 1, 3, 2, 2, 3], 12),
    ([50] * 8, 75),  # a large steady place: +50% is far outside its noise
])
def test_rule_flags_real_rises(history, count):
    flagged, expected, spread, threshold = hotspots.rising_rule(count, history)
    assert flagged, (expected, spread, threshold)
    assert count > threshold


@pytest.mark.parametrize("history, count", [
    ([0] * 8, 4),  # below the minimum count: a handful is not a trend
    ([10] * 8, 18),  # within three Poisson spreads of a steady ten
    ([0, 0, 0, 0, 0, 0, 0, 40], 12),  # a bursty place: its own spread is large
    ([5, 9, 4, 8, 6, 7, 5, 8], 10),  # ordinary week of a busy place
    ([50] * 8, 65),
])
def test_rule_leaves_ordinary_weeks_alone(history, count):
    flagged, *_ = hotspots.rising_rule(count, history)
    assert not flagged


def test_rule_spread_never_below_poisson_noise():
    _flag, expected, spread, _t = hotspots.rising_rule(30, [16] * 8)
    assert expected == 16 and spread == pytest.approx(4.0)
    _flag, _e, spread, _t = hotspots.rising_rule(5, [0] * 8)
    assert spread == 1.0


# ---------------------------------------------------------------- weekly counts and heat


def test_weekly_counts_by_category_place_and_week(users):
    seed(3, MONDAY)  # JSL03, 城市管理/环境卫生
    seed(2, MONDAY + dt.timedelta(days=8))  # next week
    seed(4, MONDAY + dt.timedelta(days=1), sub="CGM.ZDJY", community="community:LSZ01")
    seed(1, MONDAY, state="rejected")  # invalid: not counted
    seed(5, MONDAY - dt.timedelta(days=1))  # the Sunday before the range
    counts = hotspots.weekly_counts(user=users["admin"], start=MONDAY, end=MONDAY + dt.timedelta(days=13), by="subcategory", place="community")
    assert counts.weeks == [MONDAY, MONDAY + dt.timedelta(days=7)]
    assert counts.total == 9
    got = {(r.category, r.place.name): r.weeks for r in counts.rows}
    jsl03, lsz01 = unit("community:JSL03").name, unit("community:LSZ01").name
    assert got[("环境卫生", jsl03)] == {MONDAY: 3, MONDAY + dt.timedelta(days=7): 2}
    assert got[("占道经营", lsz01)] == {MONDAY: 4}
    # by 大类 and street: both subcategories are 城市管理, in two streets
    by_street = hotspots.weekly_counts(user=users["admin"], start=MONDAY, end=MONDAY + dt.timedelta(days=13))
    assert {(r.category, r.place.name, r.total) for r in by_street.rows} == {
        ("城市管理", unit("street:JSL").name, 5), ("城市管理", unit("street:LSZ").name, 4)}
    assert by_street.by_week() == {MONDAY: 7, MONDAY + dt.timedelta(days=7): 2}
    heat = hotspots.heat_table(counts)
    assert heat.row_totals == sorted(heat.row_totals, reverse=True) and sum(heat.row_totals) == 9
    assert heat.maximum == 5


def test_week_boundary_is_local_midnight(users):
    # 23:30 on Sunday in Zhengzhou is still the old week, though it is Sunday 15:30 UTC.
    seed(1, MONDAY - dt.timedelta(days=1), hour=23)
    seed(1, MONDAY, hour=0)
    counts = hotspots.weekly_counts(user=users["admin"], start=MONDAY - dt.timedelta(days=7), end=MONDAY + dt.timedelta(days=6))
    assert counts.by_week() == {MONDAY - dt.timedelta(days=7): 1, MONDAY: 1}


def test_counts_are_scoped_and_filtered(users):
    seed(3, MONDAY)  # JSL
    seed(4, MONDAY, community="community:LSZ01")
    seed(2, MONDAY, sub="ZF.WYFW")  # 住房与物业, JSL
    end = MONDAY + dt.timedelta(days=6)
    assert hotspots.weekly_counts(user=users["street"], start=MONDAY, end=end).total == 5
    assert hotspots.weekly_counts(user=users["other_community"], start=MONDAY, end=end).total == 4
    assert hotspots.weekly_counts(user=users["dept"], start=MONDAY, end=end).total == 0  # nothing assigned to it
    assert hotspots.weekly_counts(user=users["leader"], start=MONDAY, end=end).total == 9
    city = Category.objects.get(code="CGM")
    assert hotspots.weekly_counts(user=users["admin"], start=MONDAY, end=end, category=city).total == 7
    assert hotspots.weekly_counts(user=users["admin"], start=MONDAY, end=end, street=unit("street:LSZ")).total == 4
    with pytest.raises(ValueError):
        hotspots.weekly_counts(user=users["admin"], start=end, end=MONDAY)
    with pytest.raises(ValueError):
        hotspots.weekly_counts(user=users["admin"], start=MONDAY, end=end, by="colour")


# ---------------------------------------------------------------- rising places


def _history(counts: list[int], *, community: str, sub: str = "CGM.HJWS"):
    """Counts for the weeks before MONDAY (oldest first), then MONDAY's week last."""
    weeks = len(counts)
    for i, n in enumerate(counts):
        if n:
            seed(n, MONDAY - dt.timedelta(weeks=weeks - 1 - i) + dt.timedelta(days=2), community=community, sub=sub)


def test_rising_places_against_their_own_history(users):
    _history([2, 3, 2, 1, 3, 2, 2, 3, 12], community="community:JSL03")  # quiet, then a jump: rising
    _history([20, 22, 19, 21, 20, 23, 18, 22, 24], community="community:LSZ01")  # busy and steady: not
    _history([0, 0, 0, 0, 0, 0, 0, 0, 4], community="community:JSL01")  # a handful: not
    found = hotspots.rising_places(user=users["admin"], week=MONDAY + dt.timedelta(days=3))
    assert [(r.place.name, r.count, r.history) for r in found] == [
        (unit("community:JSL03").name, 12, [2, 3, 2, 1, 3, 2, 2, 3])]
    assert found[0].week == MONDAY and found[0].expected == pytest.approx(18 / 8)
    # The same jump, seen by someone who may not see that community, is not theirs to see.
    assert hotspots.rising_places(user=users["other_street"], week=MONDAY) == []
    # A busy place that doubles is rising even though its history is not empty.
    _history([0] * 8 + [24], community="community:LSZ01", sub="ZF.WYFW")
    names = {(r.place.name, r.category) for r in hotspots.rising_places(user=users["admin"], week=MONDAY)}
    assert (unit("community:LSZ01").name, "住房与物业") in names


# ---------------------------------------------------------------- recurring places


def test_recurring_places(users):
    for w in range(4):
        seed(1, MONDAY - dt.timedelta(weeks=w))  # every one of the last four weeks
    for w in (0, 2):
        seed(3, MONDAY - dt.timedelta(weeks=w), community="community:LSZ01")  # two of four
    found = hotspots.recurring_places(user=users["admin"], end=MONDAY + dt.timedelta(days=6))
    assert [(r.place.name, r.weeks_with_cases, r.count) for r in found] == [(unit("community:JSL03").name, 4, 4)]
    relaxed = hotspots.recurring_places(user=users["admin"], end=MONDAY, min_weeks=2)
    assert {r.place.name for r in relaxed} == {unit("community:JSL03").name, unit("community:LSZ01").name}
    assert hotspots.recurring_places(user=users["other_street"], end=MONDAY) == []
    with pytest.raises(ValueError):
        hotspots.recurring_places(user=users["admin"], end=MONDAY, weeks=3, min_weeks=4)


# ---------------------------------------------------------------- repeat reporters


def test_repeat_reporters_masked_scoped_and_role_limited(users):
    seed(2, MONDAY, phone="13812345678")
    seed(1, MONDAY + dt.timedelta(days=2), phone="138 1234 5678", sub="ZF.WYFW")  # same phone, written otherwise
    seed(2, MONDAY, phone="13900001111")  # only two
    seed(3, MONDAY, phone="13700002222", community="community:LSZ01")
    end = MONDAY + dt.timedelta(days=6)
    found = hotspots.repeat_reporters(user=users["dispatcher"], start=MONDAY, end=end)
    # Most appeals first, then the latest: the 138 phone wrote again on Wednesday.
    assert [(r.phone_masked, r.count) for r in found] == [("138****5678", 3), ("137****2222", 3)]
    mine = next(r for r in found if r.phone_masked == "138****5678")
    assert set(mine.categories) == {"环境卫生", "物业服务"}
    assert all("5678" not in r.token and "1381234" not in r.token for r in found)
    # The link opens exactly that phone's cases, within the viewer's scope.
    assert hotspots.reporter_cases(user=users["dispatcher"], token=mine.token).count() == 3
    assert hotspots.reporter_cases(user=users["other_street"], token=mine.token).count() == 0
    assert hotspots.reporter_cases(user=users["dispatcher"], token=mine.token + "x").count() == 0
    assert hotspots.reporter_cases(user=users["leader"], token=mine.token).count() == 0
    # Scoped: the LSZ street office sees only its resident.
    assert [r.phone_masked for r in hotspots.repeat_reporters(user=users["other_street"], start=MONDAY, end=end)] == ["137****2222"]
    # Leaders read figures, not people.
    assert hotspots.repeat_reporters(user=users["leader"], start=MONDAY, end=end) == []
    assert hotspots.repeat_reporters(user=users["dispatcher"], start=MONDAY, end=end, min_cases=4) == []
    with pytest.raises(ValueError):
        hotspots.repeat_reporters(user=users["dispatcher"], start=MONDAY, end=end, min_cases=1)


# ---------------------------------------------------------------- top problems (每月一题)


def test_top_problems_of_the_month(users):
    nov, oct_ = dt.date(2026, 11, 10), dt.date(2026, 10, 10)
    seed(6, nov)  # JSL03 环境卫生: 6 now, 2 before
    seed(2, oct_)
    seed(6, nov, community="community:LSZ01", sub="CGM.ZDJY")  # same count, grew from 0: ranks above on change
    seed(8, nov, community="community:JSL01", sub="ZF.WYFW")  # the largest
    seed(2, nov, community="community:LSZ01")  # below the minimum
    seed(9, dt.date(2026, 12, 1))  # next month
    top = hotspots.top_problems(month=dt.date(2026, 11, 1), limit=5)
    assert [(p["category"], p["place"], p["count"], p["previous_count"], p["change"]) for p in top] == [
        ("物业服务", unit("community:JSL01").name, 8, 0, 8),
        ("占道经营", unit("community:LSZ01").name, 6, 0, 6),
        ("环境卫生", unit("community:JSL03").name, 6, 2, 4),
    ]
    assert top[2]["growth"] == pytest.approx(2.0) and top[0]["growth"] is None
    assert top[0]["parent_category"] == "住房与物业" and top[0]["street"] == unit("street:JSL").name
    assert len(hotspots.top_problems(month=dt.date(2026, 11, 30), limit=1)) == 1
    assert hotspots.top_problems(month=dt.date(2026, 9, 1)) == []
    # Scoped version for the proposal list of a street office.
    assert {p.place.name for p in hotspots.month_problems(month=nov, user=users["other_street"])} == {unit("community:LSZ01").name}


def test_top_problems_place_falls_back_to_street(users):
    seed(4, dt.date(2026, 11, 3), community=None, street="street:JSL")
    top = hotspots.top_problems(month=dt.date(2026, 11, 1))
    assert top[0]["place"] == unit("street:JSL").name and top[0]["community_id"] is None


# ---------------------------------------------------------------- pages and ledgers


def test_hotspot_page_and_ledgers(client, users):
    import io

    from django.urls import reverse
    from openpyxl import load_workbook

    from minsheng.core.models import AuditEntry

    today = timezone.localdate()
    seed(6, today, phone="13812345678")
    seed(2, today - dt.timedelta(days=7), community="community:LSZ01", sub="ZF.WYFW")
    client.force_login(users["dispatcher"])
    page = client.get(reverse("analytics:hotspots"))
    body = page.content.decode()
    assert page.status_code == 200 and "138****5678" in body and "13812345678" not in body
    assert 'id="hotspots-trend"' in body and "<script>" not in body  # data as JSON, no inline script
    query = {"start": (today - dt.timedelta(days=20)).isoformat(), "end": today.isoformat(), "street": unit("street:JSL").pk}
    for table in ("heat", "weekly", "rising", "recurring", "reporters"):
        response = client.get(reverse("analytics:hotspots_export", args=[table]), query)
        assert response.status_code == 200, table
        ws = load_workbook(io.BytesIO(response.content)).active
        assert ws.freeze_panes == "A2" and ws["A1"].font.bold and ws.column_dimensions["A"].width > 5
        if table == "weekly":
            # Same filters as the screen: only JSL's six, dated by their week's Monday, as a date.
            assert [(r[0].value.date(), r[5].value) for r in ws.iter_rows(min_row=2)] == [(hotspots.week_start(today), 6)]
            assert ws["A2"].number_format == "yyyy-mm-dd"
        if table == "reporters":
            assert ws["A2"].value == "138****5678"
    # A chosen 大类 is split into its subcategories.
    city = Category.objects.get(code="CGM")
    ws = load_workbook(io.BytesIO(client.get(reverse("analytics:hotspots_export", args=["heat"]), {"category": city.pk}).content)).active
    assert [c.value for c in ws[1]][3:] == ["环境卫生"] and ws["C2"].value == 6
    assert AuditEntry.objects.filter(action="export", target__startswith="analytics.hotspots:").count() == 6
    assert client.get(reverse("analytics:hotspots_export", args=["nosuch"])).status_code == 404
    # Bad filters: a clear note, and the default period instead of an error page.
    bad = client.get(reverse("analytics:hotspots"), {"start": "2026-13-40", "end": "x"})
    assert bad.status_code == 200 and "条件有误" in bad.content.decode()
    token = hotspots.repeat_reporters(user=users["dispatcher"], start=today, end=today)[0].token
    assert client.get(reverse("analytics:reporter_cases", args=[token])).content.decode().count('href="/desk/cases/') == 6
    ws = load_workbook(io.BytesIO(client.get(reverse("analytics:reporter_cases_export", args=[token])).content)).active
    assert ws.max_row == 7 and ws.freeze_panes == "A2" and "138****5678" in [c.value for c in ws[2]]
    # Leaders see the figures but not the list of people.
    client.force_login(users["leader"])
    body = client.get(reverse("analytics:hotspots")).content.decode()
    assert "138****5678" not in body and 'data-table="reporters"' not in body
    assert client.get(reverse("analytics:hotspots_export", args=["reporters"])).status_code == 403
    assert client.get(reverse("analytics:reporter_cases", args=[token])).status_code == 403
    assert client.get(reverse("analytics:reporter_cases_export", args=[token])).status_code == 403


def test_pages_open_for_every_role_and_in_english(client, users):
    from django.urls import reverse

    seed(3, timezone.localdate(), phone="13812345678")
    for role, user in users.items():
        client.force_login(user)
        for name in ("analytics:hotspots", "analytics:topics"):
            assert client.get(reverse(name)).status_code == 200, (role, name)
    client.force_login(users["dispatcher"])
    try:
        body = client.get(reverse("analytics:hotspots"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    finally:
        translation.activate(settings.LANGUAGE_CODE)  # the middleware leaves the request's language active
    assert "Repeat reporters" in body and "Weekly trend" in body and "重复来电" not in body
