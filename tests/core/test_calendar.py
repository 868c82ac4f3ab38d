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


# ---------------------------------------------------------------- next year: provisional, then official

from django.core.management import call_command  # noqa: E402

from minsheng.core.calendar import invalidate_calendar, statutory_days_off  # noqa: E402
from minsheng.core.models import AuditEntry, CalendarYear  # noqa: E402
from minsheng.core.services import calendar_ensure_years, calendar_load_provisional, calendar_load_schedule  # noqa: E402

SCHEDULE_2027 = {
    "year": 2027,
    "holidays": {"元旦": ["2027-01-01"], "春节": ["2027-02-05..2027-02-11"]},
    "workdays": {"春节": ["2027-02-13"]},
}


def _forget(year: int) -> None:
    CalendarDay.objects.filter(date__year=year).delete()
    CalendarYear.objects.filter(year=year).delete()
    invalidate_calendar()


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_statutory_holidays_are_days_off_in_the_official_schedules(year):
    import chinese_calendar

    days = statutory_days_off(year)
    assert len(days) == 13  # the law's 13 days since 2025
    assert all(not chinese_calendar.is_workday(day) for day, _ in days), [d for d, _ in days if chinese_calendar.is_workday(d)]


def test_the_lunar_holidays_of_2027_fall_on_their_dates():
    days = dict(statutory_days_off(2027))
    assert days[dt.date(2027, 2, 5)] == "春节"  # 除夕
    assert days[dt.date(2027, 2, 8)] == "春节"  # 正月初三
    assert (days[dt.date(2027, 4, 5)], days[dt.date(2027, 6, 9)], days[dt.date(2027, 9, 15)]) == ("清明节", "端午节", "中秋节")


def test_a_provisional_year_counts_statutory_holidays_and_weekends():
    _forget(2027)
    assert calendar_load_provisional(year=2027) == 7  # the weekday ones
    invalidate_calendar()
    cal = get_calendar()
    assert CalendarYear.objects.get(year=2027).provisional
    assert not cal.is_workday(dt.date(2027, 1, 1)) and not cal.is_workday(dt.date(2027, 2, 8))
    assert cal.is_workday(dt.date(2027, 1, 4)) and not cal.is_workday(dt.date(2027, 1, 2))
    # A deadline across the new year skips New Year's Day and the weekend.
    assert cal.add_working_time(at("2026-12-31T17:00"), dt.timedelta(hours=2)) == at("2027-01-04T09:30")
    assert calendar_load_provisional(year=2027) == 0  # already loaded: nothing changes


def test_next_year_is_made_provisional_when_its_schedule_is_unknown():
    _forget(2027)
    done = calendar_ensure_years(today=dt.date(2026, 12, 1))
    assert done == {"2027": 7}
    assert CalendarYear.objects.get(year=2027).provisional
    assert calendar_ensure_years(today=dt.date(2026, 12, 2)) == {}  # cheap and idempotent


def test_the_official_schedule_replaces_the_provisional_one_and_keeps_local_days(users):
    _forget(2027)
    calendar_load_provisional(year=2027)
    calendar_set_local_day(date=dt.date(2027, 3, 3), is_workday=False, name="区里特批休息", acting_user=users["admin"])
    year, written = calendar_load_schedule(document=SCHEDULE_2027, acting_user=users["admin"])
    invalidate_calendar()
    cal = get_calendar()

    assert (year, CalendarYear.objects.get(year=2027).provisional) == (2027, False)
    assert not CalendarDay.objects.filter(date__year=2027, source=CalendarDay.Source.PROVISIONAL).exists()
    assert written == 7  # Jan 1, Feb 5/8/9/10/11 off on weekdays, and Saturday Feb 13 at work
    assert cal.is_workday(dt.date(2027, 2, 13)) and CalendarDay.objects.get(date=dt.date(2027, 2, 13)).name == "春节调休上班"
    assert not cal.is_workday(dt.date(2027, 2, 10))
    assert not cal.is_workday(dt.date(2027, 3, 3))  # the district's own day off survives
    assert cal.is_workday(dt.date(2027, 5, 3))  # no longer a provisional guess: the file said nothing of May
    assert AuditEntry.objects.filter(action="calendar.load", target="2027").exists()


@pytest.mark.parametrize("document, message", [
    ([], "mapping"),
    ({"year": "2027", "holidays": {}}, "four-digit year"),
    ({"year": 2027, "holidays": {"春节": ["2027-02-30"]}}, "not a date"),
    ({"year": 2027, "holidays": {"春节": ["2028-02-05"]}}, "not in 2027"),
    ({"year": 2027, "holidays": {"春节": ["2027-02-11..2027-02-05"]}}, "backwards"),
    ({"year": 2027, "holidays": {"春节": ["2027-02-05"]}, "workdays": {"春节": ["2027-02-05"]}}, "twice"),
    ({"year": 2027, "holidays": {}}, "holidays is empty"),
    ({"year": 2027, "holidays": {"元旦": "2027-01-01"}}, "list of dates"),
    ({"year": 2027, "holiday": {"元旦": ["2027-01-01"]}}, "unknown keys"),
])
def test_a_malformed_schedule_is_refused_and_changes_nothing(document, message):
    _forget(2027)
    calendar_load_provisional(year=2027)
    before = list(CalendarDay.objects.filter(date__year=2027).values_list("date", "source"))
    with pytest.raises(ValueError, match=message):
        calendar_load_schedule(document=document)
    assert list(CalendarDay.objects.filter(date__year=2027).values_list("date", "source")) == before
    assert CalendarYear.objects.get(year=2027).provisional


def test_the_command_loads_a_schedule_file_and_reports_the_years(tmp_path, capsys):
    import yaml

    _forget(2027)
    path = tmp_path / "2027.yaml"
    path.write_text(yaml.safe_dump(SCHEDULE_2027, allow_unicode=True), encoding="utf-8")
    call_command("calendar", "load", str(path))
    out = capsys.readouterr().out
    assert "2027: official schedule loaded" in out and "2027  official" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("year: 2027\nholidays: {春节: [not-a-date]}\n", encoding="utf-8")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a date"):
        call_command("calendar", "load", str(bad))


def test_the_admin_is_told_when_next_years_schedule_is_missing(client, users):
    import time_machine

    _forget(2027)
    calendar_load_provisional(year=2027)
    with time_machine.travel(dt.datetime(2026, 12, 1, 10, tzinfo=CST), tick=False):
        client.force_login(users["admin"])
        assert "2027年节假日安排尚未录入" in client.get("/desk/", follow=True).content.decode()
        client.force_login(users["dispatcher"])
        assert "节假日安排尚未录入" not in client.get("/desk/", follow=True).content.decode()  # only the admin can act on it
        calendar_load_schedule(document=SCHEDULE_2027)
        client.force_login(users["admin"])
        assert "节假日安排尚未录入" not in client.get("/desk/", follow=True).content.decode()
