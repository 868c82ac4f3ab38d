import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from minsheng.cases import services
from minsheng.cases.choices import CaseState
from minsheng.cases.deadlines import Duration, InvalidDuration, compute_deadlines
from tests.factories import unit

pytestmark = pytest.mark.django_db
CST = ZoneInfo("Asia/Shanghai")


def at(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=CST)


def test_durations_parse_the_taxonomy_notation():
    assert Duration.parse("4 hours working") == Duration(4, "hours", "working")
    assert Duration.parse("15 days working") == Duration(15, "days", "working")
    assert Duration.parse("24 hours calendar") == Duration(24, "hours", "calendar")
    with pytest.raises(InvalidDuration):
        Duration.parse("soon")


def test_urgent_clocks_run_around_the_clock():
    d = compute_deadlines(urgency="urgent", start=at("2026-10-03T22:00"))  # inside the National Day holiday
    assert d.acknowledge_due_at == at("2026-10-03T23:00")
    assert d.resolve_due_at == at("2026-10-04T22:00")


def test_normal_clocks_count_working_days():
    d = compute_deadlines(urgency="normal", start=at("2026-09-30T10:00"))
    assert d.acknowledge_due_at == at("2026-09-30T15:30")
    assert d.contact_due_at == at("2026-10-01T10:00")  # a calendar clock
    # 7 working days after Wed 30 Sep: 8, 9, 10 (Sat 调休), 12, 13, 14, 15 Oct.
    assert d.resolve_due_at == at("2026-10-15T10:00")


def test_settings_override_the_taxonomy_defaults(settings):
    settings.MINSHENG_DEADLINE_OVERRIDES = '{"normal": {"resolve_within": "5 days working"}}'
    d = compute_deadlines(urgency="normal", start=at("2026-11-30T10:00"))
    assert d.resolve_due_at == at("2026-12-07T10:00")


def test_dispatch_uses_the_cases_urgency(cases, users):
    with time_machine.travel(at("2026-11-30T10:00"), tick=False):
        case = cases.make(CaseState.ACCEPTED, urgency="complex")
        services.case_dispatch(case=case, acting_user=users["dispatcher"], unit=unit("street:JSL"))
    assert case.resolve_due_at.astimezone(CST) == at("2026-12-21T10:00")  # 15 working days


def test_flag_job_raises_yellow_then_red_once(cases, users):
    from minsheng.cases.services import cases_flag_due

    with time_machine.travel(at("2026-11-30T10:00"), tick=False):
        case = cases.make(CaseState.IN_PROGRESS)
    assert case.resolve_due_at.astimezone(CST) == at("2026-12-09T10:00")
    assert cases_flag_due(now=at("2026-12-01T10:00"))["yellow"] == 0
    assert cases_flag_due(now=at("2026-12-08T16:00"))["yellow"] >= 1
    case.refresh_from_db()
    assert case.due_flag == "yellow"
    assert cases_flag_due(now=at("2026-12-09T11:00"))["red"] >= 1
    assert cases_flag_due(now=at("2026-12-09T12:00"))["red"] == 0  # already flagged: no second event
    case.refresh_from_db()
    assert case.due_flag == "red"
    assert list(case.events.filter(action="flag").values_list("data__flag", flat=True)) == ["yellow", "red"]


def test_acknowledge_clock_flags_an_unsigned_case(cases):
    from minsheng.cases.services import cases_flag_due

    with time_machine.travel(at("2026-11-30T09:00"), tick=False):
        case = cases.make(CaseState.DISPATCHED)
    cases_flag_due(now=at("2026-11-30T15:00"))
    case.refresh_from_db()
    assert case.due_flag == "red"
    assert case.events.get(action="flag").data["stage"] == "acknowledge"


def test_unanswered_feedback_closes_after_the_window(cases, settings):
    from minsheng.cases.services import cases_close_unanswered

    settings.MINSHENG_FEEDBACK_DAYS = 7
    with time_machine.travel(at("2026-11-02T10:00"), tick=False):
        case = cases.make(CaseState.AWAITING_FEEDBACK)
    assert cases_close_unanswered(now=at("2026-11-05T10:00")) == 0
    assert cases_close_unanswered(now=at("2026-11-10T10:00")) == 1
    case.refresh_from_db()
    assert case.state == "closed" and case.no_feedback
    assert case.events.order_by("-id").first().actor_kind == "system"


def test_rehandling_starts_a_fresh_resolve_clock(cases, users):
    from minsheng.cases.services import case_send_back

    with time_machine.travel(at("2026-11-02T10:00"), tick=False):
        case = cases.make(CaseState.REPLIED)
    with time_machine.travel(at("2026-11-30T10:00"), tick=False):
        case_send_back(case=case, acting_user=users["dispatcher"], reason="答复没有说明结果")
    case.refresh_from_db()
    assert case.resolve_due_at.astimezone(CST) == at("2026-12-09T10:00") and case.due_flag == ""


def test_an_unsatisfied_resident_gives_the_unit_a_fresh_clock(cases):
    with time_machine.travel(at("2026-11-02T10:00"), tick=False):
        case = cases.make(CaseState.AWAITING_FEEDBACK)
    with time_machine.travel(at("2026-11-30T10:00"), tick=False):
        services.case_record_feedback(case=case, rating="unsatisfied")
    case.refresh_from_db()
    assert case.resolve_due_at.astimezone(CST) == at("2026-12-09T10:00")
    assert case.events.order_by("-id").first().data["resolve_due_at"].startswith("2026-12-09T10:00")


def test_acknowledging_clears_a_flag_on_the_acknowledge_clock(cases, users):
    from minsheng.cases.services import cases_flag_due

    with time_machine.travel(at("2026-11-30T09:00"), tick=False):
        case = cases.make(CaseState.DISPATCHED)
    cases_flag_due(now=at("2026-11-30T15:00"))
    case.refresh_from_db()
    assert case.due_flag == "red"
    services.case_acknowledge(case=case, acting_user=users["street"])
    assert case.due_flag == ""


def test_near_due_counts_working_time_not_the_weekend(cases):
    from minsheng.cases.services import cases_flag_due

    # Dispatched Friday 27 Nov 17:00: acknowledge by Monday 11:30 (4 working hours).
    with time_machine.travel(at("2026-11-27T17:00"), tick=False):
        case = cases.make(CaseState.DISPATCHED)
    assert cases_flag_due(now=at("2026-11-29T22:00"))["yellow"] == 0  # Sunday night: no working time has passed
    assert cases_flag_due(now=at("2026-11-30T10:50"))["yellow"] == 1
