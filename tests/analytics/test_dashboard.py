"""The dashboard's selectors: scope per role, and for every figure shown, the drill-down
lists exactly as many rows as the figure says (for the scope and for every ranking row)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from minsheng.analytics.selectors import dashboard
from minsheng.cases import services
from minsheng.cases.models import Category
from tests.analytics.conftest import local
from tests.factories import make_user, unit

pytestmark = pytest.mark.django_db

OCT = dt.date(2026, 10, 1)


@pytest.fixture(autouse=True)
def _empty_cache():
    """The trend keeps ended months in the cache: each test starts without them."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def hotline_case(when: str, subcategory: str = "JT.TCZX"):
    with time_machine.travel(local(when), tick=False):
        return services.case_submit(text="小区门口道路乱停车，堵住消防通道", channel="hotline", reporter_phone="13900001111",
                                    community=unit("community:LSZ01"), category=Category.objects.filter(parent__isnull=False).exclude(code="CGM.HJWS").first())


@pytest.fixture
def october(story, users):
    """A month with every kind of event: responses on time and late, a delegation, a return
    and a redispatch, an extension, red flags, a reopen and a send-back, ratings and a close
    without feedback, in two streets and two departments, over two channels."""
    a = story.new("2026-10-12 08:00")
    story.run(a, [("2026-10-12 09:00", "dispatch", {"unit": "street:JSL"}), ("2026-10-12 09:30", "acknowledge"),
                  ("2026-10-12 10:00", "contact"), ("2026-10-13 10:00", "reply"), ("2026-10-13 11:00", "approve"),
                  ("2026-10-14 09:00", "feedback", {"rating": "satisfied", "resolved": True})])
    b = story.new("2026-10-12 08:00")
    story.run(b, [("2026-10-12 09:00", "dispatch", {"unit": "street:JSL"}), ("2026-10-12 09:10", "delegate", {"community": "community:JSL03"}),
                  ("2026-10-13 10:00", "acknowledge"), ("2026-10-13 11:00", "contact"), ("2026-10-14 10:00", "reply"),
                  ("2026-10-14 11:00", "approve"), ("2026-10-15 09:00", "feedback", {"rating": "unsatisfied", "resolved": False}),
                  ("2026-10-16 10:00", "reply"), ("2026-10-16 11:00", "approve"),
                  ("2026-10-19 09:00", "feedback", {"rating": "basic", "resolved": True})])
    c = story.new("2026-10-12 08:00", community=None, subcategory="CGM.HJWS")
    story.run(c, [("2026-10-12 09:00", "dispatch", {"unit": "dept:CGJ"}), ("2026-10-12 09:30", "return"),
                  ("2026-10-12 10:00", "dispatch", {"unit": "dept:SJJ"}), ("2026-10-12 10:30", "acknowledge"),
                  ("2026-10-12 11:00", "contact")])
    d = story.new("2026-10-12 08:00")
    story.run(d, [("2026-10-12 09:00", "dispatch", {"unit": "street:JSL"}), ("2026-10-12 09:20", "acknowledge"),
                  ("2026-10-12 09:40", "contact"), ("2026-10-13 09:00", "extend", {"days": 3}), ("2026-10-13 10:00", "decide")])
    e = story.new("2026-10-13 08:00", community="community:LSZ01")
    story.run(e, [("2026-10-13 09:00", "dispatch", {"unit": "street:LSZ"}), ("2026-10-13 09:30", "acknowledge"),
                  ("2026-10-13 10:00", "contact"), ("2026-10-14 10:00", "reply"), ("2026-10-14 11:00", "send_back"),
                  ("2026-10-15 10:00", "reply"), ("2026-10-15 11:00", "approve"), ("2026-10-28 09:00", "close_no_feedback")])
    f = story.new("2026-10-12 08:00")
    story.run(f, [("2026-10-12 09:00", "dispatch", {"unit": "street:JSL"}), ("2026-10-12 09:30", "acknowledge"),
                  ("2026-10-12 10:00", "contact"), ("2026-10-13 10:00", "reply"), ("2026-10-20 09:00", "send_back"),
                  ("2026-10-23 10:00", "reply")])  # after the first resolve-by (10-21), within the fresh clock
    hotline_case("2026-10-20 08:00")
    story.at("2026-10-30 09:00", "flag", None)
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}


def test_scope_follows_the_org_tree(users):
    assert dashboard.scope_for(users["leader"]).is_district
    assert dashboard.scope_for(users["admin"]).is_district
    assert dashboard.scope_for(users["dispatcher"]).is_district
    street = dashboard.scope_for(users["street"])
    assert street.unit == unit("street:JSL") and unit("community:JSL03").pk in street.unit_ids
    assert unit("community:LSZ01").pk not in street.unit_ids
    assert dashboard.scope_for(users["community"]).unit_ids == (unit("community:JSL03").pk,)
    assert dashboard.scope_for(users["dept"]).unit_ids == (unit("dept:CGJ").pk,)
    street_leader = make_user("leader-JSL", "leader", "street:JSL")
    assert dashboard.scope_for(street_leader).unit == unit("street:JSL")


def test_operators_and_handlers_without_a_unit_have_no_dashboard(users):
    with pytest.raises(PermissionDenied):
        dashboard.scope_for(users["operator"])
    with pytest.raises(PermissionDenied):
        dashboard.district_overview(user=users["operator"], month=OCT)
    with pytest.raises(PermissionDenied):
        dashboard.cases_behind(user=users["operator"], metric="received", unit_id=None, start=OCT, end=dt.date(2026, 11, 1))
    homeless = make_user("handler-district", "handler")  # a handler on the district node: no handling unit
    assert not dashboard.may_see_dashboard(homeless)


EVENT_METRICS = [key for key, m in dashboard.METRICS.items() if m.kind == "event" and key != "closed"]


@pytest.mark.parametrize("role", ["leader", "street", "community", "dept", "other_street"])
def test_every_figure_drills_down_to_as_many_rows(october, users, role):
    user = users[role]
    overview = dashboard.district_overview(user=user, month=OCT)
    period = overview["period"]
    assert (period.start, period.end) == (OCT, dt.date(2026, 11, 1))
    for metric in EVENT_METRICS:
        rows = dashboard.cases_behind(user=user, metric=metric, unit_id=None, start=period.start, end=period.end)
        assert rows.count() == overview["figures"][metric], (role, metric)
    closed = dashboard.cases_behind(user=user, metric="closed", unit_id=None, start=period.start, end=period.end)
    assert closed.count() == overview["closed"]
    intake = dashboard.cases_behind(user=user, metric="intake", unit_id=None, start=period.start, end=period.end)
    assert intake.count() == overview["intake"]
    for row in overview["categories"] + overview["channels"]:
        behind = dashboard.cases_behind(user=user, metric=row["metric"], unit_id=None, start=period.start, end=period.end)
        assert behind.count() == row["count"], (role, row)


def test_the_district_figures_are_the_scenarios(october, users):
    figures = dashboard.district_overview(user=users["leader"], month=OCT)["figures"]
    # dispatches: a, b, c twice, d, e, f = 7, plus b's delegation = 8 received
    assert figures["dispatched"] == 7 and figures["received"] == 8
    assert figures["returned"] == 1 and figures["extended"] == 1
    assert figures["rehandled"] == 3  # b reopened by the resident, e and f sent back
    assert figures["rated"] == 3 and figures["satisfied"] == 2 and figures["unsatisfied"] == 1
    assert figures["no_feedback"] == 1
    # on time: a, d, e, f and c's second dispatch; b acknowledged the next day; c's first was returned
    assert figures["responded"] == 5
    # every reply on time: f's second against the fresh clock of its send-back
    assert figures["replied"] == figures["replied_on_time"] == 7
    assert figures["overdue"] >= 2  # c (at SJJ) and d are past their resolve-by deadline on 10-30


def test_each_ranking_row_drills_down_to_its_own_figures(october, users):
    user = users["leader"]
    period = dashboard.period_of(month=OCT)
    tables = dashboard.ranking_tables(user=user, period=period)
    assert [t.kind for t in tables] == ["dept", "street", "community"]
    checked = 0
    for table in tables:
        for row in table.rows:
            if not row.rates.received:
                continue
            for metric in ("received", "responded", "replied", "replied_on_time", "rehandled", "overdue", "satisfied"):
                behind = dashboard.cases_behind(user=user, metric=metric, unit_id=row.unit.pk, start=period.start, end=period.end)
                assert behind.count() == dashboard.figure_of(row.rates, metric), (row.unit.key, metric)
            checked += 1
    assert checked >= 5  # CGJ, SJJ, JSL, LSZ, JSL03 (LSZ01 has no events of its own)


def test_a_street_office_sees_its_own_and_its_communities_rows_only(october, users):
    tables = dashboard.ranking_tables(user=users["street"], period=dashboard.period_of(month=OCT))
    keys = {row.unit.key for table in tables for row in table.rows}
    assert "street:JSL" in keys and "community:JSL03" in keys
    assert not any(key.startswith("dept:") or key in ("street:LSZ", "community:LSZ01") for key in keys)


def test_a_handler_cannot_drill_into_another_units_figures(october, users):
    period = dashboard.period_of(month=OCT)
    with pytest.raises(PermissionDenied):
        dashboard.cases_behind(user=users["street"], metric="received", unit_id=unit("street:LSZ").pk, start=period.start, end=period.end)
    own = dashboard.cases_behind(user=users["street"], metric="received", unit_id=unit("community:JSL03").pk, start=period.start, end=period.end)
    assert [c.pk for c in own] == [october["b"].pk]  # the delegation


def test_a_case_counted_twice_is_listed_twice(october, users):
    period = dashboard.period_of(month=OCT)
    rows = dashboard.cases_behind(user=users["leader"], metric="dispatched", unit_id=None, start=period.start, end=period.end)
    assert [c.pk for c in rows].count(october["c"].pk) == 2


def test_unknown_metrics_and_bad_periods_are_refused(users):
    with pytest.raises(ValueError):
        dashboard.cases_behind(user=users["leader"], metric="bogus", unit_id=None, start=OCT, end=dt.date(2026, 11, 1))
    with pytest.raises(ValueError):
        dashboard.cases_behind(user=users["leader"], metric="category:NOPE", unit_id=None, start=OCT, end=dt.date(2026, 11, 1))
    with pytest.raises(ValueError):
        dashboard.period_of(start=dt.date(2026, 10, 5), end=dt.date(2026, 10, 5))


def test_a_range_that_is_not_a_month_ranks_by_score_without_lists(october, users):
    period = dashboard.period_of(start=dt.date(2026, 10, 12), end=dt.date(2026, 10, 14))
    assert period.month is None
    tables = dashboard.ranking_tables(user=users["leader"], period=period)
    assert all(not t.official and not t.red and not t.black for t in tables)
    streets = next(t for t in tables if t.kind == "street")
    scores = [row.rates.score for row in streets.rows if row.rates.score is not None]
    assert scores == sorted(scores, reverse=True) and scores


def test_the_trend_covers_twelve_months_ending_with_the_period(october, users):
    trend = dashboard.district_overview(user=users["leader"], month=OCT)["trend"]
    assert [t["month"] for t in trend][0] == dt.date(2025, 11, 1) and trend[-1]["month"] == OCT
    assert trend[-1]["received"] == 8 and trend[-1]["intake"] == 7
    assert trend[-1]["resolution_rate"] == pytest.approx(2 / 3)
    assert sum(t["received"] for t in trend[:-1]) == 0


# ---------------------------------------------------------------- pages

def _login(client, user):
    client.force_login(user)
    return client


def test_the_dashboard_page_per_role(client, october, users):
    url = "/desk/analytics/dashboard/?month=2026-10"
    expect = {"leader": 200, "admin": 200, "dispatcher": 200, "street": 200, "community": 200, "dept": 200, "operator": 403}
    for role, status in expect.items():
        response = _login(client, users[role]).get(url)
        assert response.status_code == status, role
        nav = '/desk/analytics/dashboard/"' in response.content.decode()
        assert nav == (status == 200), role
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_the_leader_sees_the_district_with_links_to_every_figure(client, october, users, settings):
    settings.MINSHENG_RANKING_MIN_VOLUME = 1
    page = _login(client, users["leader"]).get("/desk/analytics/dashboard/?month=2026-10").content.decode()
    assert "全区" in page and "红榜" in page and "黑榜" in page
    assert page.count("/desk/analytics/drilldown/?metric=") > 30
    for name in ("建设路街道", "林山寨街道", "区城市管理局", "区市场监督管理局", "计划路社区"):
        assert name in page, name
    assert 'id="dashboard-data"' in page and "analytics/dashboard.js" in page


def test_a_street_office_sees_only_its_territory(client, october, users):
    page = _login(client, users["street"]).get("/desk/analytics/dashboard/?month=2026-10").content.decode()
    assert "建设路街道" in page and 'data-ranking="community"' in page
    assert 'data-ranking="dept"' not in page and "林山寨街道</a>" not in page


def test_bad_periods_get_a_clear_error(client, users):
    client.force_login(users["leader"])
    for query in ("month=2026-13", "month=abc", "start=2026-10-05", "start=2026-10-05&end=2026-10-01", "start=2020-01-01&end=2026-01-01"):
        response = client.get(f"/desk/analytics/dashboard/?{query}")
        assert response.status_code == 400, query
        assert "data-dashboard-error" in response.content.decode()


def test_a_range_of_days_is_accepted(client, october, users):
    response = _login(client, users["leader"]).get("/desk/analytics/dashboard/?start=2026-10-12&end=2026-10-13")
    assert response.status_code == 200
    assert "区间指标" in response.content.decode()


def test_the_drilldown_page_lists_the_rows_of_the_figure(client, october, users):
    client.force_login(users["leader"])
    response = client.get("/desk/analytics/drilldown/?metric=dispatched&start=2026-10-01&end=2026-10-31")
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 7
    assert response.content.decode().count(october["c"].tracking_code) >= 2
    ranking_row = client.get(f"/desk/analytics/drilldown/?metric=received&unit={unit('street:JSL').pk}&start=2026-10-01&end=2026-10-31")
    assert {c.pk for c in ranking_row.context["page"]} == {october[k].pk for k in "abdf"}


def test_the_drilldown_refuses_other_units_and_bad_input(client, october, users):
    client.force_login(users["street"])
    other = client.get(f"/desk/analytics/drilldown/?metric=received&unit={unit('street:LSZ').pk}&start=2026-10-01&end=2026-10-31")
    assert other.status_code == 403
    for query in ("metric=nope&start=2026-10-01&end=2026-10-31", "metric=received&start=2026-10-31&end=2026-10-01",
                  "metric=received&start=x&end=2026-10-01", "metric=received"):
        assert client.get(f"/desk/analytics/drilldown/?{query}").status_code == 400, query
    client.force_login(users["operator"])
    assert client.get("/desk/analytics/drilldown/?metric=received&start=2026-10-01&end=2026-10-31").status_code == 403


@pytest.mark.parametrize("role, shown", [("leader", True), ("dispatcher", True), ("street", True), ("community", False), ("dept", False)])
def test_the_briefing_button_is_shown_to_those_who_may_download_it(client, users, role, shown):
    from django.urls import reverse

    page = _login(client, users[role]).get("/desk/analytics/dashboard/?month=2026-10").content.decode()
    assert (f'{reverse("analytics:briefing")}?month=2026-10' in page) is shown
    if shown:
        assert client.get(f'{reverse("analytics:briefing")}?month=2026-10').status_code == 200


def test_the_dashboard_speaks_english(client, october, users):
    client.force_login(users["leader"])
    page = client.get("/desk/analytics/dashboard/?month=2026-10", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Dashboard" in page and "Response rate" in page and "Last 12 months" in page
    drill = client.get("/desk/analytics/drilldown/?metric=satisfied&start=2026-10-01&end=2026-10-31", HTTP_ACCEPT_LANGUAGE="en")
    assert "Satisfied (incl. basically)" in drill.content.decode()


def test_ended_months_of_the_trend_are_kept_and_the_current_one_is_fresh(october, users, story, settings):
    settings.MINSHENG_DASHBOARD_CACHE_SECONDS = 600
    leader = users["leader"]
    with time_machine.travel(local("2026-11-20 12:00"), tick=False):
        before = dashboard.district_overview(user=leader, month=dt.date(2026, 11, 1))["trend"]
        late = story.new("2026-10-30 08:00")  # a back-dated October submission, after the cache was filled
        story.at("2026-11-20 12:00", "dispatch", late, unit="street:JSL")
        after = dashboard.district_overview(user=leader, month=dt.date(2026, 11, 1))["trend"]
    assert after[-2] == before[-2]  # October, ended: from the cache
    assert after[-1]["received"] == before[-1]["received"] + 1  # November, counted afresh
    settings.MINSHENG_DASHBOARD_CACHE_SECONDS = 0
    with time_machine.travel(local("2026-11-20 12:00"), tick=False):
        uncached = dashboard.district_overview(user=leader, month=dt.date(2026, 11, 1))["trend"]
    assert uncached[-2]["intake"] == before[-2]["intake"] + 1


def test_the_trend_puts_events_in_the_local_month_they_happened_in(users, story):
    # 00:30 on 1 November in Zhengzhou is still 31 October in UTC; 23:50 on 31 October is
    # October in both. Neither may slip into the neighbouring month.
    late_october = story.new("2026-10-31 23:50")
    story.at("2026-11-01 00:30", "dispatch", late_october, unit="street:JSL")
    early_november = story.new("2026-11-01 00:10")
    story.at("2026-11-30 23:55", "dispatch", early_november, unit="street:JSL")
    with time_machine.travel(local("2026-12-02 12:00"), tick=False):
        trend = dashboard.district_overview(user=users["leader"], month=dt.date(2026, 11, 1))["trend"]
    october, november = trend[-2], trend[-1]
    assert (october["month"], october["intake"], october["received"]) == (OCT, 1, 0)
    assert (november["month"], november["intake"], november["received"]) == (dt.date(2026, 11, 1), 1, 2)
