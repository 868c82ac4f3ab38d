"""For random event histories — random sequences of legal actions taken through the real
services at random times — every count and every rate of `selectors` equals a brute-force
recomputation from the raw `CaseEvent` rows, written here independently of the selectors:
a dispatch's episode is read as "its events until the next dispatch", deadlines are walked
event by event, working time comes from `WorkCalendar.working_time_between`.

Set HYPOTHESIS_EXAMPLES to run more examples (the default keeps the suite quick)."""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minsheng.analytics import selectors
from minsheng.cases.models import Case, CaseEvent
from minsheng.core.calendar import get_calendar
from minsheng.core.models import Unit
from tests.analytics.conftest import CST

pytestmark = pytest.mark.django_db

TARGETS = ["street:JSL", "street:LSZ", "dept:CGJ", "dept:SJJ", "community:JSL03"]
DELEGATE_TO = {"street:JSL": ["community:JSL03", "community:JSL01"], "street:LSZ": ["community:LSZ01"]}
LOCATIONS = ["community:JSL03", "community:JSL01", "community:LSZ01", None]
# Pauses: mostly minutes to hours, so that actions land on both sides of the deadlines.
STEPS = [0, 1, 60, 600, 1800, 1800, 3600, 3600, 2 * 3600, 3 * 3600, 5 * 3600, 8 * 3600, 86400, 3 * 86400, 8 * 86400]
ORIGIN = dt.datetime(2026, 3, 2, 8, 0, tzinfo=CST)  # a Monday; Qingming (4–6 April) falls within reach

COUNTS = [
    "dispatches", "responded", "acknowledged_on_time", "contacted_on_time", "delegations_in", "returns", "replies",
    "replies_on_time", "first_replies", "send_backs", "reopens", "extensions_approved", "feedbacks", "resolved",
    "satisfied", "basic", "unsatisfied", "no_feedback_closes", "overdue",
]


def moves(case: Case, pending_extension: bool) -> list[str]:
    state = case.state
    extension = ["decide", "decide_refuse"] if pending_extension else ["extend"]
    if state == "submitted":
        return ["accept", "dispatch", "dispatch", "dispatch", "reject"]
    if state == "accepted":
        return ["dispatch", "dispatch", "dispatch", "dispatch", "reject"]
    # Weighted towards moving on, so that many histories reach re-handling and the replies
    # after it.
    if state == "dispatched":
        delegate = ["delegate"] if case.main_unit.kind == "street" else []
        return ["acknowledge", "acknowledge", "acknowledge", "return", "contact", "contact", "flag", *extension, *delegate]
    if state == "in_progress":
        return ["reply", "reply", "reply", "reply", "return", "contact", "flag", *extension]
    if state == "replied":
        return ["approve", "send_back"]
    if state == "awaiting_feedback":
        return ["feedback", "feedback", "feedback", "close_no_feedback"]
    return []


def play(story, data) -> None:
    """Random histories: a few cases, each a walk through the lifecycle with random pauses."""
    for _ in range(data.draw(st.integers(1, 4), label="cases")):
        now = ORIGIN + dt.timedelta(seconds=data.draw(st.integers(0, 20 * 86400), label="start"))
        location = data.draw(st.sampled_from(LOCATIONS), label="location")
        urgency = data.draw(st.sampled_from(["normal", "normal", "urgent", "complex"]), label="urgency")
        case = story.new(f"{now:%Y-%m-%d %H:%M:%S}", community=location, urgency=urgency)
        pending = False
        deadlines: list[dt.datetime] = []  # every resolve-by deadline the case has had
        for _ in range(data.draw(st.integers(0, 20), label="length")):
            case.refresh_from_db()
            if case.resolve_due_at and case.resolve_due_at not in deadlines:
                deadlines.append(case.resolve_due_at)
            options = moves(case, pending)
            if not options:
                break
            move = data.draw(st.sampled_from(options), label="move")
            now += dt.timedelta(seconds=data.draw(st.sampled_from(STEPS), label="pause") + data.draw(st.integers(0, 59), label="jitter"))
            if move == "reply" and deadlines:
                # Often reply just before or just after one of the deadlines the case has had
                # (the dispatch's, an extended one, a fresh one after re-handling), so that
                # each of them decides some reply's "on time".
                aim = data.draw(st.sampled_from([None, *deadlines]), label="aim")
                if aim is not None:
                    now = max(now, aim + dt.timedelta(seconds=data.draw(st.sampled_from([-3600, -1, 0, 1, 3600]), label="side")))
            when = f"{now:%Y-%m-%d %H:%M:%S}"
            if move == "dispatch":
                story.at(when, "dispatch", case, unit=data.draw(st.sampled_from(TARGETS), label="unit"))
            elif move == "delegate":
                story.at(when, "delegate", case, community=data.draw(st.sampled_from(DELEGATE_TO[case.main_unit.key]), label="community"))
            elif move == "extend":
                story.at(when, "extend", case, days=data.draw(st.integers(1, 5), label="days"))
                pending = True
            elif move in ("decide", "decide_refuse"):
                story.at(when, "decide", case, approve=move == "decide")
                pending = False
            elif move == "feedback":
                story.at(when, "feedback", case, rating=data.draw(st.sampled_from(["satisfied", "basic", "unsatisfied", "unsatisfied"]), label="rating"),
                         resolved=data.draw(st.sampled_from([None, True, False]), label="resolved"))
            else:
                story.at(when, move, case)


# ---------------------------------------------------------------- the brute force


def brute_force(start: dt.datetime, end: dt.datetime, key_of) -> dict:
    """Counts per key, from the raw rows, case by case."""
    calendar = get_calendar()
    rows = list(CaseEvent.objects.order_by("case_id", "id").values("id", "case_id", "action", "at", "unit_id", "data"))
    cases = defaultdict(list)
    for row in rows:
        cases[row["case_id"]].append(row)
    out: dict = defaultdict(lambda: defaultdict(float))

    def when(text):
        return dt.datetime.fromisoformat(text)

    for events in cases.values():
        for i, e in enumerate(events):
            if not (start <= e["at"] < end):
                continue
            keys = key_of(e)
            if not keys:
                continue
            action, data = e["action"], e["data"]
            # The episode this event belongs to: from the latest dispatch at or before it.
            dispatch_index = max((j for j in range(i + 1) if events[j]["action"] == "dispatch"), default=None)
            for key, own in keys:
                c = out[key]
                if action == "dispatch":
                    c["dispatches"] += 1
                    nxt = next((j for j in range(i + 1, len(events)) if events[j]["action"] == "dispatch"), len(events))
                    episode = events[i + 1:nxt]
                    acks = [x["at"] for x in episode if x["action"] == "acknowledge"]
                    contacts = [x["at"] for x in episode if x["action"] == "contact"]
                    ack_ok = bool(acks) and acks[0] <= when(data["acknowledge_due_at"])
                    contact_ok = bool(contacts) and min(contacts) <= when(data["contact_due_at"])
                    c["acknowledged_on_time"] += ack_ok
                    c["contacted_on_time"] += contact_ok
                    c["responded"] += ack_ok and contact_ok
                elif action == "delegate":
                    c["delegations_in"] += own
                elif action == "return":
                    c["returns"] += 1
                elif action == "reply":
                    c["replies"] += 1
                    # Walk the episode: an approved extension moves the deadline, re-handling
                    # (send-back, reopen) starts a fresh one; the last of them is in force.
                    deadline = when(events[dispatch_index]["data"]["resolve_due_at"])
                    for x in events[dispatch_index + 1:i]:
                        if x["action"] == "decide_extension" and x["data"].get("approved") is True:
                            deadline = when(x["data"]["resolve_due_at"])
                        elif x["action"] in ("send_back", "feedback_reopen"):
                            deadline = when(x["data"]["resolve_due_at"])
                    c["replies_on_time"] += e["at"] <= deadline
                    if not any(x["action"] == "reply" for x in events[dispatch_index + 1:i]):
                        c["first_replies"] += 1
                        c["handling_seconds"] += calendar.working_time_between(events[dispatch_index]["at"], e["at"]).total_seconds()
                elif action == "send_back":
                    c["send_backs"] += 1
                elif action == "decide_extension":
                    c["extensions_approved"] += data.get("approved") is True
                elif action == "flag":
                    c["overdue"] += data.get("flag") == "red"
                elif action == "close_no_feedback":
                    c["no_feedback_closes"] += 1
                elif action in ("feedback_close", "feedback_reopen"):
                    c["feedbacks"] += 1
                    c["reopens"] += action == "feedback_reopen"
                    c["resolved"] += data.get("resolved") is True
                    c[data["rating"]] += 1
    return out


def expected_rates(c, basic_weight=1.0) -> dict:
    def ratio(a, b):
        return None if not b else a / b

    return {
        "response_rate": ratio(c["responded"], c["dispatches"]),
        "resolution_rate": ratio(c["resolved"], c["feedbacks"]),
        "satisfaction_rate": ratio(c["satisfied"] + basic_weight * c["basic"], c["feedbacks"]),
        "on_time_rate": ratio(c["replies_on_time"], c["replies"]),
        "return_rate": ratio(c["returns"], c["dispatches"]),
        "rehandle_rate": ratio(c["send_backs"] + c["reopens"], c["replies"]),
        "extension_rate": ratio(c["extensions_approved"], c["dispatches"]),
        "avg_handling_hours": None if not c["first_replies"] else c["handling_seconds"] / c["first_replies"] / 3600,
    }


def check(actual, expected, label) -> None:
    for name in COUNTS:
        assert getattr(actual, name) == expected[name], (label, name, getattr(actual, name), expected[name])
    assert actual.handling_seconds == pytest.approx(expected["handling_seconds"], abs=1e-3), (label, "handling_seconds")
    for name, value in expected_rates(expected).items():
        got = getattr(actual, name)
        assert (got is None) == (value is None), (label, name, got, value)
        if value is not None:
            assert got == pytest.approx(value), (label, name, got, value)


# ---------------------------------------------------------------- the property


@settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_every_rate_equals_a_brute_force_recomputation_from_the_events(story, data):
    with transaction.atomic():
        play(story, data)
        first_day = data.draw(st.integers(0, 40), label="period start")
        days = data.draw(st.sampled_from([1, 3, 7, 30, 90]), label="period days")
        start = (ORIGIN + dt.timedelta(days=first_day)).replace(hour=0, minute=0)
        end = start + dt.timedelta(days=days)
        for window in ((start, end), (ORIGIN - dt.timedelta(days=1), ORIGIN + dt.timedelta(days=120))):
            units = {u.pk: u for u in Unit.objects.all()}
            street_of = {pk: (pk if u.kind == "street" else u.parent_id if u.kind == "community" else None) for pk, u in units.items()}
            own = brute_force(*window, lambda e: [(e["unit_id"], True)] if e["unit_id"] else [])
            rolled = brute_force(*window, lambda e: [(street_of[e["unit_id"]], e["unit_id"] == street_of[e["unit_id"]])]
                                 if e["unit_id"] and street_of[e["unit_id"]] else [])
            case_place = {c.pk: (c.street_id, c.community_id) for c in Case.objects.all()}
            by_street = brute_force(*window, lambda e: [(case_place[e["case_id"]][0], True)] if case_place[e["case_id"]][0] else [])
            district = brute_force(*window, lambda e: [("district", True)])

            for r in selectors.unit_rates(start=window[0], end=window[1], rollup=False):
                check(r, own[r.unit.pk], ("own", r.unit.key))
            for r in selectors.unit_rates(start=window[0], end=window[1], unit_kind="street"):
                check(r, rolled[r.unit.pk], ("rolled up", r.unit.key))
            for r in selectors.location_rates(start=window[0], end=window[1], level="street"):
                check(r, by_street[r.unit.pk], ("place", r.unit.key))
            check(selectors.district_rates(start=window[0], end=window[1]), district["district"], "district")
        transaction.set_rollback(True)
