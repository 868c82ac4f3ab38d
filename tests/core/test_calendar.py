"""The working calendar on real 2025 and 2026 dates (State Council schedules), and
working-time arithmetic for deadlines."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from minsheng.core.calendar import CalendarOutOfRange, get_calendar, parse_working_hours
from minsheng.core.models import CalendarDay
from minsheng.core.services import calendar_set_local_day

pytestmark = pytest.mark.django_db
CST = ZoneInfo("Asia/Shanghai")


def at(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s).replace(tzinfo=CST)


@pytest.mark.parametrize(
    "day, working",
    [
        ("2025-01-26", True),   # Sunday, 调休 for the 2025 Spring Festival
        ("2025-01-28", False),  # 除夕
        ("2025-02-04", False),  # last day of the Spring Festival holiday
        ("2025-02-05", True),
        ("2025-02-08", True),   # Saturday, 调休
        ("2025-09-28", True),   # Sunday, 调休 for National Day
        ("2025-10-08", False),  # National Day + Mid-autumn, 8 days in 2025
        ("2025-10-11", True),   # Saturday, 调休
        ("2026-02-14", True),   # Saturday, 调休 for the 2026 Spring Festival
        ("2026-02-16", False),  # 除夕 2026
        ("2026-02-23", False),  # last day of the nine-day 2026 holiday
        ("2026-02-24", True),
        ("2026-02-28", True),   # Saturday, 调休
        ("2026-09-20", True),   # Sunday, 调休 for National Day 2026
        ("2026-10-07", False),
        ("2026-10-10", True),   # Saturday, 调休
        ("2026-10-11", False),  # an ordinary Sunday
    ],
)
def test_official_days(day, working):
    assert get_calendar().is_workday(dt.date.fromisoformat(day)) is working


def test_the_holiday_names_are_kept_in_chinese():
    assert CalendarDay.objects.get(date=dt.date(2026, 10, 1)).name == "国庆节"
    assert CalendarDay.objects.get(date=dt.date(2026, 2, 14)).name.endswith("调休上班")


def test_a_year_not_yet_announced_is_refused_not_guessed():
    with pytest.raises(CalendarOutOfRange) as err:
        get_calendar().is_workday(dt.date(2031, 3, 3))
    assert "2031" in str(err.value)


def test_working_hours_skip_lunch_and_the_night():
    cal = get_calendar()  # 08:30-12:00, 13:30-18:00
    assert cal.add_working_time(at("2026-11-30T11:00"), dt.timedelta(hours=2)) == at("2026-11-30T14:30")
    assert cal.add_working_time(at("2026-11-30T17:00"), dt.timedelta(hours=4)) == at("2026-12-01T11:30")


def test_working_time_from_a_friday_evening_starts_on_monday():
    cal = get_calendar()
    assert cal.add_working_time(at("2026-11-27T20:00"), dt.timedelta(hours=4)) == at("2026-11-30T14:00")


def test_four_working_hours_before_the_spring_festival_land_after_it():
    cal = get_calendar()
    # Friday 13 Feb 2026, 16:00 → Saturday 14 Feb is a 调休 working day.
    assert cal.add_working_time(at("2026-02-13T16:00"), dt.timedelta(hours=4)) == at("2026-02-14T10:30")
    # Saturday 14 Feb 15:00 → the holiday runs 15–23 Feb; counting resumes on the 24th.
    assert cal.add_working_time(at("2026-02-14T15:00"), dt.timedelta(hours=4)) == at("2026-02-24T09:30")


def test_seven_working_days_across_national_day_2025():
    cal = get_calendar()
    # Thursday 25 Sep 2025 10:00; working days after it: 26, 28 (Sun 调休), 29, 30 Sep, 9, 10, 11 (Sat 调休) Oct.
    due = cal.add_working_time(at("2025-09-25T10:00"), dt.timedelta(hours=7 * cal.hours_per_day))
    assert due == at("2025-10-11T10:00")


def test_working_time_between_excludes_holidays():
    cal = get_calendar()
    elapsed = cal.working_time_between(at("2026-09-30T08:30"), at("2026-10-08T18:00"))
    assert elapsed == dt.timedelta(hours=16)  # 30 Sep and 8 Oct only


def test_a_local_day_off_is_respected(users):
    calendar_set_local_day(date=dt.date(2026, 12, 2), is_workday=False, name="暴雪停工", acting_user=users["admin"])
    from minsheng.core.calendar import invalidate_calendar

    invalidate_calendar()
    cal = get_calendar()
    assert cal.is_workday(dt.date(2026, 12, 2)) is False
    assert cal.add_working_time(at("2026-12-01T17:00"), dt.timedelta(hours=2)) == at("2026-12-03T09:30")


def test_resyncing_the_official_schedule_keeps_local_days(users):
    from minsheng.core.services import calendar_sync_official

    calendar_set_local_day(date=dt.date(2026, 10, 10), is_workday=False, name="区里特批休息", acting_user=users["admin"])
    calendar_sync_official(years=[2026])
    assert CalendarDay.objects.get(date=dt.date(2026, 10, 10)).is_workday is False


def test_malformed_working_hours_are_refused():
    with pytest.raises(ValueError):
        parse_working_hours("18:00-08:30")
