"""Each rate on a small scenario computed by hand (docs/metrics.md). Deadlines of a normal
case dispatched Monday 2026-11-30 09:00: acknowledge by 14:30 (4 working hours, lunch
12:00–13:30 excluded), contact by Tuesday 09:00 (24 calendar hours), resolve by Wednesday
2026-12-09 09:00 (7 working days)."""

import datetime as dt

import pytest
from django.test import override_settings

from minsheng.analytics import selectors
from minsheng.cases.models import CaseEvent
from minsheng.core.calendar import get_calendar
from tests.analytics.conftest import local
from tests.factories import unit

pytestmark = pytest.mark.django_db

NOV = dt.date(2026, 11, 1)
WIDE = {"start": dt.date(2026, 9, 1), "end": dt.date(2027, 1, 1)}


def rates_of(key: str, rollup: bool = True, **period):
    (result,) = selectors.unit_rates(**(period or WIDE), units=[unit(key)], rollup=rollup)
    return result


def dispatched(story, when="2026-11-30 09:00", to="street:JSL", **kw):
    case = story.new("2026-11-30 08:00", **kw)
    story.at(when, "dispatch", case, unit=to)
    return case


def handled(story, to="street:JSL"):
    """Dispatched Monday 09:00, acknowledged 10:00, resident contacted 11:00."""
    case = dispatched(story, to=to)
    return story.run(case, [("2026-11-30 10:00", "acknowledge"), ("2026-11-30 11:00", "contact")])


# ---------------------------------------------------------------- response


def test_response_needs_acknowledgement_and_contact_each_by_its_deadline(story):
    on_time = [("2026-11-30 10:00", "acknowledge"), ("2026-11-30 11:00", "contact")]
    story.run(dispatched(story), on_time)
    story.run(dispatched(story), [("2026-11-30 15:00", "acknowledge"), ("2026-11-30 16:00", "contact")])  # acknowledged late
    story.run(dispatched(story), [("2026-11-30 10:00", "acknowledge"), ("2026-12-01 10:00", "contact")])  # contacted late
    story.run(dispatched(story), [("2026-11-30 10:00", "acknowledge")])  # never contacted
    story.run(dispatched(story), [("2026-11-30 14:30", "acknowledge"), ("2026-12-01 09:00", "contact")])  # exactly on the deadlines

    r = rates_of("street:JSL")
    assert (r.dispatches, r.acknowledged_on_time, r.contacted_on_time, r.responded) == (5, 4, 3, 2)
    assert r.response_rate == pytest.approx(0.4)


def test_a_later_contact_does_not_mend_a_late_first_one(story):
    story.run(dispatched(story), [("2026-11-30 10:00", "acknowledge"), ("2026-12-01 10:00", "contact"), ("2026-12-01 10:30", "contact")])
    assert rates_of("street:JSL").contacted_on_time == 0


def test_rates_without_a_denominator_are_none(story, users):
    r = rates_of("dept:SJJ")
    assert r.dispatches == 0 and r.replies == 0 and r.feedbacks == 0
    assert r.response_rate is None and r.resolution_rate is None and r.satisfaction_rate is None
    assert r.on_time_rate is None and r.return_rate is None and r.rehandle_rate is None
    assert r.extension_rate is None and r.avg_handling_hours is None and r.score is None


def test_a_return_ends_the_units_episode_and_the_redispatch_starts_a_new_one(story):
    case = dispatched(story)
    # JSL returns at once; CGJ, dispatched at 10:00, acknowledges at 11:00 — before JSL's own
    # deadline of 14:30, which must not count for JSL.
    story.run(case, [
        ("2026-11-30 09:30", "return"),
        ("2026-11-30 10:00", "dispatch", {"unit": "dept:CGJ"}),
        ("2026-11-30 11:00", "acknowledge"),
        ("2026-11-30 11:30", "contact"),
    ])
    jsl, cgj = rates_of("street:JSL"), rates_of("dept:CGJ")
    assert (jsl.dispatches, jsl.returns, jsl.responded, jsl.acknowledged_on_time) == (1, 1, 0, 0)
    assert jsl.return_rate == 1.0 and jsl.response_rate == 0.0
    assert (cgj.dispatches, cgj.returns, cgj.responded) == (1, 0, 1)
    assert cgj.return_rate == 0.0


def test_a_return_after_a_timely_response_keeps_the_response(story):
    case = dispatched(story)
    story.run(case, [("2026-11-30 09:10", "acknowledge"), ("2026-11-30 09:20", "contact"), ("2026-11-30 10:00", "return")])
    r = rates_of("street:JSL")
    assert (r.dispatches, r.responded, r.returns) == (1, 1, 1)


# ---------------------------------------------------------------- on time, extensions, re-handling


def test_on_time_uses_the_deadline_in_force_at_each_reply(story):
    a, b, c, d, e = (handled(story, to="dept:CGJ") for _ in range(5))
    story.at("2026-12-08 10:00", "reply", a)  # before 12-09 09:00
    story.at("2026-12-10 10:00", "reply", b)  # late
    story.run(c, [("2026-12-07 10:00", "extend", {"days": 3}), ("2026-12-07 11:00", "decide"),  # due → 12-14 09:00
                  ("2026-12-11 10:00", "reply")])
    story.run(d, [("2026-12-07 10:00", "extend", {"days": 3}), ("2026-12-07 11:00", "decide", {"approve": False}),
                  ("2026-12-10 10:00", "reply")])
    # Late first reply; an extension approved after it does not make it on time, but the
    # second reply is judged against the extended deadline.
    story.run(e, [("2026-12-10 10:00", "reply"), ("2026-12-10 11:00", "send_back"), ("2026-12-10 14:00", "extend", {"days": 3}),
                  ("2026-12-10 15:00", "decide"), ("2026-12-11 10:00", "reply")])

    r = rates_of("dept:CGJ")
    assert (r.replies, r.replies_on_time) == (6, 3)
    assert r.on_time_rate == pytest.approx(0.5)
    assert r.extensions_approved == 2 and r.extension_rate == pytest.approx(2 / 5)
    assert r.send_backs == 1 and r.rehandle_rate == pytest.approx(1 / 6)


def test_a_redispatch_brings_its_own_resolve_deadline(story):
    case = dispatched(story)
    story.run(case, [("2026-11-30 09:10", "acknowledge"), ("2026-11-30 09:20", "extend", {"days": 10}), ("2026-11-30 09:30", "decide"),
                     ("2026-12-07 10:00", "return"), ("2026-12-07 11:00", "dispatch", {"unit": "dept:CGJ"}),
                     ("2026-12-07 12:00", "acknowledge"), ("2026-12-17 10:00", "reply")])
    # CGJ's deadline: 7 working days from 12-07 11:00 = 12-16 11:00; JSL's extension is history.
    r = rates_of("dept:CGJ")
    assert (r.replies, r.replies_on_time) == (1, 0)


def test_a_send_back_starts_a_fresh_resolve_clock(story):
    # Original deadline 12-09 09:00. Sent back on 12-08 11:00: fresh deadline 7 working days
    # later, 12-17 11:00.
    within, beyond = handled(story, to="dept:CGJ"), handled(story, to="dept:CGJ")
    for case, second_reply in ((within, "2026-12-15 10:00"), (beyond, "2026-12-17 11:01")):
        story.run(case, [("2026-12-08 10:00", "reply"), ("2026-12-08 11:00", "send_back"), (second_reply, "reply")])
    r = rates_of("dept:CGJ")
    assert (r.replies, r.replies_on_time, r.send_backs) == (4, 3, 2)
    assert r.on_time_rate == pytest.approx(0.75)
    assert r.first_replies == 2  # the replies after re-handling are not first replies


def test_a_reopen_by_an_unsatisfied_resident_starts_a_fresh_resolve_clock(story):
    case = handled(story, to="dept:CGJ")
    _to_feedback(story, case)
    # Reopened 12-02 09:00: fresh deadline 12-11 09:00; answered after the original 12-09.
    story.run(case, [("2026-12-02 09:00", "feedback", {"rating": "unsatisfied"}), ("2026-12-10 10:00", "reply")])
    r = rates_of("dept:CGJ")
    assert (r.replies, r.replies_on_time, r.reopens) == (2, 2, 1)


def test_re_handling_replaces_an_extended_deadline_rather_than_adding_to_it(story):
    case = handled(story, to="dept:CGJ")
    # Extended by 10 working days to 12-23 09:00; sent back 12-01 11:00, so the fresh
    # deadline is 12-10 11:00 and a reply on 12-14 is late although before 12-23.
    story.run(case, [("2026-11-30 12:00", "extend", {"days": 10}), ("2026-11-30 13:30", "decide"), ("2026-12-01 10:00", "reply"),
                     ("2026-12-01 11:00", "send_back"), ("2026-12-14 10:00", "reply")])
    r = rates_of("dept:CGJ")
    assert (r.replies, r.replies_on_time) == (2, 1)


def test_an_extension_after_re_handling_extends_the_fresh_deadline(story):
    case = handled(story, to="dept:CGJ")
    # Fresh deadline 12-17 11:00, extended by 3 working days to 12-22 11:00.
    story.run(case, [("2026-12-08 10:00", "reply"), ("2026-12-08 11:00", "send_back"), ("2026-12-09 10:00", "extend", {"days": 3}),
                     ("2026-12-09 11:00", "decide"), ("2026-12-21 10:00", "reply")])
    r = rates_of("dept:CGJ")
    assert (r.replies, r.replies_on_time, r.extensions_approved) == (2, 2, 1)


def test_re_handling_recorded_without_a_fresh_deadline_keeps_the_one_in_force(story):
    # Send-backs written before re-handling restarted the clock carry no deadline: the
    # dispatch's (12-09 09:00) stays in force for the reply after them.
    case = handled(story, to="dept:CGJ")
    story.run(case, [("2026-12-01 10:00", "reply"), ("2026-12-01 11:00", "send_back")])
    CaseEvent.objects.filter(case=case, action="send_back").update(data={})
    story.run(case, [("2026-12-10 10:00", "reply")])
    r = rates_of("dept:CGJ")
    assert (r.replies, r.replies_on_time) == (2, 1)


# ---------------------------------------------------------------- feedback


def _to_feedback(story, case):
    story.run(case, [("2026-12-01 10:00", "reply"), ("2026-12-01 11:00", "approve")])


def test_resolution_and_satisfaction_count_answered_feedback_only(story):
    cases = [handled(story) for _ in range(4)]
    for case in cases:
        _to_feedback(story, case)
    story.at("2026-12-02 09:00", "feedback", cases[0], rating="satisfied")
    story.at("2026-12-02 09:00", "feedback", cases[1], rating="basic", resolved=False)
    story.run(cases[2], [("2026-12-02 09:00", "feedback", {"rating": "unsatisfied"}), ("2026-12-03 10:00", "reply"),
                         ("2026-12-03 11:00", "approve"), ("2026-12-04 09:00", "feedback", {"rating": "satisfied", "resolved": True})])
    story.at("2026-12-09 09:00", "close_no_feedback", cases[3])

    r = rates_of("street:JSL")
    assert (r.feedbacks, r.resolved, r.satisfied, r.basic, r.unsatisfied) == (4, 2, 2, 1, 1)
    assert r.no_feedback_closes == 1
    assert r.resolution_rate == pytest.approx(0.5)
    assert r.satisfaction_rate == pytest.approx(0.75)
    assert r.reopens == 1 and r.replies == 5 and r.rehandle_rate == pytest.approx(1 / 5)
    with override_settings(MINSHENG_BASIC_SATISFACTION_WEIGHT=0.8):
        assert rates_of("street:JSL").satisfaction_rate == pytest.approx((2 + 0.8) / 4)


# ---------------------------------------------------------------- overdue, handling time


def test_overdue_counts_red_flags(story):
    dispatched(story)  # never acknowledged: red at the 14:30 acknowledge deadline
    handled(story)
    story.at("2026-11-30 15:00", "flag", None)
    story.at("2026-12-08 16:00", "flag", None)  # yellow: near the resolve deadline, not counted
    story.at("2026-12-09 11:00", "flag", None)
    r = rates_of("street:JSL")
    assert r.overdue == 2


def test_handling_time_is_working_hours_from_dispatch_to_first_reply(story):
    monday = handled(story, to="dept:CGJ")
    story.at("2026-12-01 10:00", "reply", monday)  # 09:00–12:00, 13:30–18:00, 08:30–10:00: 9 h
    friday = story.new("2026-12-04 16:00")
    story.run(friday, [("2026-12-04 17:00", "dispatch", {"unit": "dept:CGJ"}), ("2026-12-04 17:30", "acknowledge"),
                       ("2026-12-07 09:30", "reply"),  # Friday 17:00–18:00 and Monday 08:30–09:30: 2 h
                       ("2026-12-07 10:00", "send_back"), ("2026-12-21 10:00", "reply")])  # not a first reply
    r = rates_of("dept:CGJ")
    assert r.first_replies == 2 and r.replies == 3
    assert r.handling_seconds == pytest.approx(11 * 3600)
    assert r.avg_handling_hours == pytest.approx(5.5)


def test_handling_time_skips_public_holidays(story):
    case = story.new("2026-09-30 16:00")
    story.run(case, [("2026-09-30 17:00", "dispatch", {"unit": "dept:CGJ"}), ("2026-09-30 17:10", "acknowledge"),
                     ("2026-10-08 09:00", "reply")])  # 1 h on 30 Sep, National Day 1–7 Oct off, 0.5 h on 8 Oct
    assert rates_of("dept:CGJ").avg_handling_hours == pytest.approx(1.5)


# ---------------------------------------------------------------- delegation, roll-up, places, periods


def test_street_figures_roll_up_their_communities_without_counting_a_delegation_twice(story):
    case = dispatched(story)
    story.run(case, [("2026-11-30 09:30", "delegate", {"community": "community:JSL03"}), ("2026-11-30 10:00", "acknowledge"),
                     ("2026-11-30 10:30", "contact"), ("2026-12-01 10:00", "reply"), ("2026-12-01 11:00", "approve"),
                     ("2026-12-02 09:00", "feedback", {"rating": "satisfied"})])
    own, community, rolled = rates_of("street:JSL", rollup=False), rates_of("community:JSL03"), rates_of("street:JSL")
    # The dispatch (and its response) is the street's; the handling is the community's.
    assert (own.dispatches, own.responded, own.replies, own.feedbacks, own.received) == (1, 1, 0, 0, 1)
    assert (community.dispatches, community.delegations_in, community.received, community.replies, community.feedbacks) == (0, 1, 1, 1, 1)
    assert community.response_rate is None and community.satisfaction_rate == 1.0
    assert (rolled.dispatches, rolled.responded, rolled.replies, rolled.feedbacks, rolled.received) == (1, 1, 1, 1, 1)
    assert rolled.score == pytest.approx(100.0)


def test_rates_by_place_follow_the_cases_location_not_the_handling_unit(story):
    case = story.new("2026-11-30 08:00", community="community:LSZ01")
    story.run(case, [("2026-11-30 09:00", "dispatch", {"unit": "dept:CGJ"}), ("2026-11-30 10:00", "acknowledge"),
                     ("2026-11-30 10:30", "contact")])
    by_street = {r.unit.code: r for r in selectors.location_rates(**WIDE, level="street")}
    by_community = {r.unit.code: r for r in selectors.location_rates(**WIDE, level="community", units=[unit("community:LSZ01")])}
    assert by_street["LSZ"].dispatches == 1 and by_street["LSZ"].responded == 1
    assert by_street["JSL"].dispatches == 0
    assert by_community["LSZ01"].response_rate == 1.0


def test_periods_are_half_open_in_local_time(story):
    dispatched(story, when="2026-11-30 23:59")
    case = story.new("2026-11-30 20:00")
    story.at("2026-12-01 00:00", "dispatch", case, unit="street:JSL")
    nov = rates_of("street:JSL", start=NOV, end=dt.date(2026, 12, 1))
    dec = rates_of("street:JSL", start=dt.date(2026, 12, 1), end=dt.date(2027, 1, 1))
    assert (nov.dispatches, dec.dispatches) == (1, 1)
    assert selectors.month_bounds(dt.date(2026, 12, 17)) == (dt.date(2026, 12, 1), dt.date(2027, 1, 1))


def test_the_district_is_the_sum_of_its_units(story):
    handled(story)
    handled(story, to="dept:CGJ")
    case = dispatched(story)
    story.run(case, [("2026-11-30 09:30", "delegate", {"community": "community:JSL03"}), ("2026-11-30 16:00", "acknowledge"),
                     ("2026-12-01 10:00", "reply")])
    district = selectors.district_rates(**WIDE)
    units = selectors.unit_rates(**WIDE, rollup=False)
    for name in ("dispatches", "responded", "replies", "first_replies", "handling_seconds", "delegations_in"):
        assert getattr(district, name) == pytest.approx(sum(getattr(r, name) for r in units)), name
    assert district.dispatches == 3 and district.responded == 2
    assert district.unit.kind == "district"


# ---------------------------------------------------------------- score


def test_score_weights_the_three_rates_30_35_35_by_default():
    assert selectors.composite_score({"response": 0.4, "resolution": 0.5, "satisfaction": 0.75}, {"response": 30, "resolution": 35, "satisfaction": 35}) == pytest.approx(55.75)


def test_score_reweights_over_the_rates_that_have_a_value():
    weights = {"response": 30, "resolution": 35, "satisfaction": 35}
    assert selectors.composite_score({"response": 1.0, "resolution": None, "satisfaction": 0.5}, weights) == pytest.approx(100 * 47.5 / 65)
    assert selectors.composite_score({"response": None, "resolution": None, "satisfaction": None}, weights) is None


@override_settings(MINSHENG_SCORE_WEIGHTS={"response": 100, "resolution": 0, "satisfaction": 0})
def test_score_weights_come_from_settings(story):
    story.run(dispatched(story), [("2026-11-30 10:00", "acknowledge"), ("2026-11-30 11:00", "contact"), ("2026-12-01 10:00", "reply"),
                                  ("2026-12-01 11:00", "approve"), ("2026-12-02 09:00", "feedback", {"rating": "unsatisfied"})])
    story.run(dispatched(story), [("2026-11-30 16:00", "acknowledge")])
    assert rates_of("street:JSL").score == pytest.approx(50.0)


def test_a_reply_long_after_its_dispatch_is_still_paired_with_it(story):
    case = story.new("2026-09-01 08:00")
    story.run(case, [("2026-09-01 09:00", "dispatch", {"unit": "dept:CGJ"}), ("2026-09-01 10:00", "acknowledge"),
                     ("2026-11-20 10:00", "reply")])  # dispatched beyond the one-pass look-back before November
    r = rates_of("dept:CGJ", start=NOV, end=dt.date(2026, 12, 1))
    expected = get_calendar().working_time_between(local("2026-09-01 09:00"), local("2026-11-20 10:00")).total_seconds()
    assert (r.replies, r.replies_on_time, r.first_replies) == (1, 0, 1)
    assert r.handling_seconds == pytest.approx(expected)
