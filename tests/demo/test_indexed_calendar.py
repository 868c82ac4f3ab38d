"""The history generator counts working time on an indexed copy of the calendar; it must
give what the engine's calendar gives, to the microsecond and in the same time zone."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from minsheng.cases.deadlines import compute_deadlines, extend_by_working_days
from minsheng.core.calendar import get_calendar
from minsheng.demo.history import _IndexedCalendar

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc


@pytest.fixture
def calendars():
    calendar = get_calendar()
    # indexed over part of the range only, so the fall-back past its end is exercised too
    return calendar, _IndexedCalendar(calendar, ZoneInfo("Asia/Shanghai"), dt.date(2025, 12, 1), dt.date(2026, 5, 31))


def _instants(n: int, seed: int):
    rng = random.Random(seed)
    start = dt.datetime(2025, 12, 1, tzinfo=UTC)
    for _ in range(n):
        yield rng, start + dt.timedelta(seconds=rng.uniform(0, 200 * 86400), microseconds=rng.randrange(10**6))


def test_adding_working_time_gives_the_same_instant(calendars):
    calendar, indexed = calendars
    for rng, t in _instants(3000, 1):
        amount = dt.timedelta(hours=rng.choice([0, 0.5, 3.5, 7.5, 52.5, rng.uniform(0, 120)]))
        expected, got = calendar.add_working_time(t, amount), indexed.add_working_time(t, amount)
        assert (got, got.isoformat()) == (expected, expected.isoformat()), (t, amount)


def test_working_time_between_two_instants_is_the_same(calendars):
    calendar, indexed = calendars
    for rng, t in _instants(3000, 2):
        later = t + dt.timedelta(hours=rng.uniform(-5, 400))
        assert indexed.working_time_between(t, later) == calendar.working_time_between(t, later), (t, later)


def test_deadlines_and_extensions_are_the_same(calendars):
    calendar, indexed = calendars
    for rng, t in _instants(1000, 3):
        urgency = rng.choice(["urgent", "normal", "complex"])
        expected = compute_deadlines(urgency=urgency, start=t, calendar=calendar)
        got = compute_deadlines(urgency=urgency, start=t, calendar=indexed)
        assert got == expected
        assert got.resolve_due_at.isoformat() == expected.resolve_due_at.isoformat()
        due = expected.resolve_due_at.astimezone(UTC)
        assert extend_by_working_days(due, 5, indexed) == extend_by_working_days(due, 5, calendar)
