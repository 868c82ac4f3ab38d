"""Working time as a running total, so that handling times of many cases cost O(1) each.

`core.calendar.WorkCalendar.working_time_between(a, b)` walks the days from a to b; summing
it over a month of replies would walk tens of thousands of day ranges. `WorkClock` instead
tabulates, once per calendar, the working seconds elapsed before each local day of the loaded
years, so that the working time up to an instant is one table look-up plus the part of that
day's working periods already past:

    W(t) = before[day(t)] + (working seconds of day(t)'s periods before the time of day of t)
    working_time_between(a, b) = W(b) - W(a)        for a <= b

Instants are passed as POSIX seconds (UTC), which is what the selectors read from the
database; the wall clock of the district's time zone decides the day and the time of day,
as in `WorkCalendar`.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from minsheng.core.calendar import CalendarOutOfRange, WorkCalendar, get_calendar

_DAY = 86400
_EPOCH = dt.date(1970, 1, 1)


class WorkClock:
    """Cumulative working seconds per local day of the calendar's loaded years."""

    def __init__(self, calendar: WorkCalendar, tz: dt.tzinfo | None = None):
        self.calendar = calendar
        self.tz = tz or timezone.get_current_timezone()
        self.periods = tuple(
            (t0.hour * 3600 + t0.minute * 60 + t0.second, t1.hour * 3600 + t1.minute * 60 + t1.second)
            for t0, t1 in calendar.periods
        )
        self.day_seconds = sum(p1 - p0 for p0, p1 in self.periods)
        years = sorted(calendar.years)
        if years:
            first, last = dt.date(years[0], 1, 1), dt.date(years[-1], 12, 31)
        else:
            first, last = dt.date(1970, 1, 1), dt.date(1969, 12, 31)  # empty table
        self.first_day = (first - _EPOCH).days
        self.workday: list[bool] = []
        self.before: list[int] = []
        total = 0
        day = first
        while day <= last:
            # A gap in the loaded years (rare: an admin skipped one) leaves those days out of
            # the table, and an instant there raises as WorkCalendar does.
            works = calendar.is_workday(day) if day.year in calendar.years else None
            self.workday.append(bool(works))
            self.before.append(total if works is not None else -1)
            if works:
                total += self.day_seconds
            day += dt.timedelta(days=1)
        self._fixed_offset = self._constant_offset(years)

    def _constant_offset(self, years: list[int]) -> int | None:
        """The zone's UTC offset in seconds if it is the same all through the loaded years
        (Asia/Shanghai has had no daylight saving since 1991), else None."""
        if not years:
            return 0
        offsets = set()
        for year in range(years[0], years[-1] + 1):
            for month in (1, 4, 7, 10):
                offsets.add(dt.datetime(year, month, 1, 12, tzinfo=self.tz).utcoffset())
        return int(offsets.pop().total_seconds()) if len(offsets) == 1 else None

    def local_seconds(self, epoch: float) -> float:
        """Seconds since 1970-01-01 00:00 on the district's wall clock."""
        if self._fixed_offset is not None:
            return epoch + self._fixed_offset
        offset = dt.datetime.fromtimestamp(epoch, self.tz).utcoffset()
        return epoch + offset.total_seconds()

    def elapsed(self, epoch: float) -> float:
        """W(t): working seconds from the start of the table to the instant `epoch`."""
        local = self.local_seconds(epoch)
        day = int(local // _DAY)
        index = day - self.first_day
        if index < 0 or index >= len(self.before) or self.before[index] < 0:
            raise CalendarOutOfRange((_EPOCH + dt.timedelta(days=day)).year)
        total = self.before[index]
        if self.workday[index]:
            second = local - day * _DAY
            for p0, p1 in self.periods:
                if second <= p0:
                    break
                total += (second if second < p1 else p1) - p0
        return total

    def between(self, start: float, end: float) -> float:
        """Working seconds from `start` to `end` (POSIX seconds); zero if end <= start."""
        if end <= start:
            return 0.0
        return self.elapsed(end) - self.elapsed(start)


_cache: dict[str, tuple[WorkCalendar, str, WorkClock]] = {}


def get_work_clock() -> WorkClock:
    """The clock of the current calendar, rebuilt when `get_calendar()` hands out a new
    snapshot (after `invalidate_calendar()`) or the active time zone changes."""
    calendar = get_calendar()
    tz = timezone.get_current_timezone()
    key = str(tz)
    cached = _cache.get("current")
    if cached is None or cached[0] is not calendar or cached[1] != key:
        clock = WorkClock(calendar, tz)
        _cache["current"] = (calendar, key, clock)
        return clock
    return cached[2]
