"""The running working-time clock agrees with `WorkCalendar.working_time_between`."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minsheng.analytics.clock import WorkClock, get_work_clock
from minsheng.core.calendar import CalendarOutOfRange, get_calendar
from tests.analytics.conftest import CST, local

pytestmark = pytest.mark.django_db

instants = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2026, 12, 31, 23, 59)).map(lambda d: d.replace(tzinfo=CST))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # read-only use
@given(a=instants, b=instants)
def test_it_agrees_with_the_calendar_for_any_two_instants(db, a, b):
    calendar = get_calendar()
    clock = WorkClock(calendar)
    expected = calendar.working_time_between(a, b).total_seconds()
    assert clock.between(a.timestamp(), b.timestamp()) == pytest.approx(expected, abs=1e-6)


def test_it_skips_lunch_nights_weekends_and_holidays(db):
    clock = get_work_clock()

    def hours(a, b):
        return clock.between(local(a).timestamp(), local(b).timestamp()) / 3600

    assert hours("2026-11-30 09:00", "2026-11-30 14:30") == pytest.approx(4)
    assert hours("2026-12-04 17:00", "2026-12-07 09:30") == pytest.approx(2)
    assert hours("2026-09-30 17:00", "2026-10-08 09:00") == pytest.approx(1.5)
    assert hours("2026-10-10 08:30", "2026-10-10 18:00") == pytest.approx(8)  # Saturday, 调休 working day
    assert hours("2026-11-30 10:00", "2026-11-30 09:00") == 0


def test_it_refuses_years_the_calendar_has_not_loaded(db):
    clock = get_work_clock()
    far = dt.datetime(2099, 6, 1, 10, tzinfo=CST).timestamp()
    with pytest.raises(CalendarOutOfRange):
        clock.between(local("2026-11-30 09:00").timestamp(), far)


def test_it_is_rebuilt_when_the_calendar_changes(db):
    from minsheng.core.calendar import invalidate_calendar
    from minsheng.core.models import CalendarDay

    clock = get_work_clock()
    assert get_work_clock() is clock
    CalendarDay.objects.create(date=dt.date(2026, 12, 1), is_workday=False, name="本地休息日", source="local")
    invalidate_calendar()
    assert get_work_clock() is not clock
    assert get_work_clock().between(local("2026-12-01 08:00").timestamp(), local("2026-12-01 20:00").timestamp()) == 0
