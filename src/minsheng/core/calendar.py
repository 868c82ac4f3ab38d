"""China's working calendar: which days are working days (with 调休 and public holidays),
and arithmetic in working time for deadlines.

The official schedule is copied from chinesecalendar into `CalendarDay` rows so the admin can
add local days off and next year's schedule as soon as the State Council announces it
(`minsheng calendar load FILE`). Until then the next year is *provisional*: weekends and the
public holidays the law fixes, without the yearly 调休 — close enough for deadlines that
reach into January, and flagged to the admin. A working-time deadline that would fall in a
year with neither raises `CalendarOutOfRange` instead of guessing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.utils import timezone


class CalendarOutOfRange(Exception):
    """A working-time computation reached a year whose holiday schedule is not loaded."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(f"{year}年的节假日安排尚未录入工作日历，无法计算工作日期限；请管理员在“工作日历”中录入。")


def parse_working_hours(spec: str) -> tuple[tuple[dt.time, dt.time], ...]:
    """'08:30-12:00,13:30-18:00' → ((08:30, 12:00), (13:30, 18:00))."""
    periods = []
    for part in spec.split(","):
        start, _, end = part.strip().partition("-")
        t0 = dt.time.fromisoformat(start.strip())
        t1 = dt.time.fromisoformat(end.strip())
        if t1 <= t0:
            raise ValueError(f"working period {part!r} ends before it starts")
        periods.append((t0, t1))
    periods.sort()
    return tuple(periods)


@dataclass(frozen=True)
class WorkCalendar:
    """A snapshot of the calendar: the exceptions to Mon–Fri, the loaded years, and the
    working periods of a day."""

    exceptions: dict[dt.date, bool]
    years: frozenset[int]
    periods: tuple[tuple[dt.time, dt.time], ...]

    def is_workday(self, day: dt.date) -> bool:
        if day.year not in self.years:
            raise CalendarOutOfRange(day.year)
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    @property
    def hours_per_day(self) -> float:
        return sum(
            (dt.datetime.combine(dt.date.min, t1) - dt.datetime.combine(dt.date.min, t0)).total_seconds()
            for t0, t1 in self.periods
        ) / 3600

    def add_working_time(self, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """The instant when `amount` of working time has elapsed after `start`.

        Time outside working periods does not count; a start outside them begins counting at
        the next working period. Works in the local time zone and returns an aware datetime.
        """
        tz = timezone.get_current_timezone()
        local = timezone.localtime(start, tz) if timezone.is_aware(start) else timezone.make_aware(start, tz)
        remaining = amount
        day = local.date()
        cursor = local
        for _ in range(3660):  # ten years of days is a bug, not a deadline
            if self.is_workday(day):
                for t0, t1 in self.periods:
                    p0 = timezone.make_aware(dt.datetime.combine(day, t0), tz)
                    p1 = timezone.make_aware(dt.datetime.combine(day, t1), tz)
                    if cursor >= p1:
                        continue
                    begin = max(cursor, p0)
                    available = p1 - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
                    cursor = p1
            day += dt.timedelta(days=1)
            cursor = timezone.make_aware(dt.datetime.combine(day, dt.time.min), tz)
        raise RuntimeError("working-time computation did not terminate")

    def working_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Working time elapsed from `start` to `end` (zero if end <= start)."""
        if end <= start:
            return dt.timedelta(0)
        tz = timezone.get_current_timezone()
        start = timezone.localtime(start, tz)
        end = timezone.localtime(end, tz)
        total = dt.timedelta(0)
        day = start.date()
        while day <= end.date():
            if self.is_workday(day):
                for t0, t1 in self.periods:
                    p0 = timezone.make_aware(dt.datetime.combine(day, t0), tz)
                    p1 = timezone.make_aware(dt.datetime.combine(day, t1), tz)
                    lo, hi = max(p0, start), min(p1, end)
                    if hi > lo:
                        total += hi - lo
            day += dt.timedelta(days=1)
        return total


def _load_calendar() -> WorkCalendar:
    from .models import CalendarDay, CalendarYear

    exceptions = dict(CalendarDay.objects.values_list("date", "is_workday"))
    years = frozenset(CalendarYear.objects.values_list("year", flat=True))
    return WorkCalendar(exceptions=exceptions, years=years, periods=parse_working_hours(settings.MINSHENG_WORKING_HOURS))


_cache: dict[str, WorkCalendar] = {}


def get_calendar() -> WorkCalendar:
    """The current calendar, cached in the process until `invalidate_calendar()`."""
    calendar = _cache.get("current")
    if calendar is None:
        calendar = _cache["current"] = _load_calendar()
    return calendar


def invalidate_calendar() -> None:
    _cache.pop("current", None)


@lru_cache(maxsize=1)
def official_years() -> tuple[int, ...]:
    """Years chinesecalendar knows the official schedule of."""
    import chinese_calendar

    years = []
    for year in range(2004, dt.date.today().year + 3):
        try:
            chinese_calendar.is_workday(dt.date(year, 6, 1))
        except NotImplementedError:
            continue
        years.append(year)
    return tuple(years)


def official_exceptions(year: int) -> list[tuple[dt.date, bool, str]]:
    """The days of `year` that differ from Mon–Fri, per the official schedule."""
    import chinese_calendar

    rows = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        is_work = chinese_calendar.is_workday(day)
        if is_work != (day.weekday() < 5):
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
            label = _HOLIDAY_NAMES.get(name or "", name or "")
            rows.append((day, is_work, f"{label}调休上班" if is_work else label))
        day += dt.timedelta(days=1)
    return rows


def statutory_days_off(year: int) -> list[tuple[dt.date, str]]:
    """The public holidays the law fixes for `year` (全国年节及纪念日放假办法, as revised in
    2024: 13 days), lunar dates converted with lunardate and 清明 from the solar terms. The
    State Council's yearly notice adds the bridging days and the adjusted working weekends
    (调休), which no rule can predict; this is what a provisional year is made of until the
    notice is loaded."""
    import chinese_calendar
    from lunardate import LunarDate

    new_year = LunarDate(year, 1, 1).to_solar_date()
    days = [(dt.date(year, 1, 1), "元旦")]
    days += [(new_year + dt.timedelta(days=offset), "春节") for offset in range(-1, 3)]
    qingming = [day for day, name in chinese_calendar.get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 10)) if name == "清明"]
    days += [(qingming[0], "清明节")]
    days += [(dt.date(year, 5, 1), "劳动节"), (dt.date(year, 5, 2), "劳动节")]
    days += [(LunarDate(year, 5, 5).to_solar_date(), "端午节"), (LunarDate(year, 8, 15).to_solar_date(), "中秋节")]
    days += [(dt.date(year, 10, day), "国庆节") for day in (1, 2, 3)]
    return sorted(day for day in days if day[0].year == year)


_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}
