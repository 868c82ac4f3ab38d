"""Deadlines of a case from its urgency: acknowledge-by, contact-by and resolve-by.

Durations are written '4 hours working', '7 days working', '24 hours calendar'. Working
clocks count only working periods of working days (see core.calendar); a working day is
`hours_per_day` hours of working time, so '7 days working' from 10:00 on a Tuesday ends at
10:00 seven working days later.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from django.conf import settings

from minsheng.core.calendar import WorkCalendar, get_calendar

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(hour|hours|day|days)\s+(working|calendar)\s*$")


class InvalidDuration(ValueError):
    pass


@dataclass(frozen=True)
class Duration:
    amount: float
    unit: str  # "hours" or "days"
    clock: str  # "working" or "calendar"

    @classmethod
    def parse(cls, text: str) -> "Duration":
        match = _DURATION.match(text or "")
        if not match:
            raise InvalidDuration(f"无法识别的时限写法：{text!r}（应如 '4 hours working'、'7 days working'、'24 hours calendar'）")
        amount, unit, clock = match.groups()
        return cls(float(amount), "hours" if unit.startswith("hour") else "days", clock)

    def after(self, start: dt.datetime, calendar: WorkCalendar | None = None) -> dt.datetime:
        if self.clock == "calendar":
            delta = dt.timedelta(hours=self.amount) if self.unit == "hours" else dt.timedelta(days=self.amount)
            return start + delta
        calendar = calendar or get_calendar()
        hours = self.amount if self.unit == "hours" else self.amount * calendar.hours_per_day
        return calendar.add_working_time(start, dt.timedelta(hours=hours))


@dataclass(frozen=True)
class Deadlines:
    acknowledge_due_at: dt.datetime
    contact_due_at: dt.datetime
    resolve_due_at: dt.datetime


_policy_cache: dict[str, tuple[float, object]] = {}
POLICY_CACHE_SECONDS = 60


def invalidate_policies() -> None:
    _policy_cache.clear()


def _policy_row(urgency: str):
    """The DeadlinePolicy row, cached for a minute: every dispatch needs it and it changes
    only when the admin edits it (which invalidates the cache in this process)."""
    import time

    from .models import DeadlinePolicy

    hit = _policy_cache.get(urgency)
    if hit and time.monotonic() - hit[0] < POLICY_CACHE_SECONDS:
        return hit[1]
    row = DeadlinePolicy.objects.filter(urgency=urgency).first() or DeadlinePolicy.objects.filter(urgency="normal").first()
    _policy_cache[urgency] = (time.monotonic(), row)
    return row


def policy_for(urgency: str) -> dict[str, str]:
    """The durations for an urgency: the database policy, then settings overrides on top."""
    policy = _policy_row(urgency)
    result = {
        "acknowledge_within": policy.acknowledge_within if policy else "4 hours working",
        "contact_within": policy.contact_within if policy else "24 hours calendar",
        "resolve_within": policy.resolve_within if policy else "7 days working",
    }
    if settings.MINSHENG_DEADLINE_OVERRIDES:
        overrides = json.loads(settings.MINSHENG_DEADLINE_OVERRIDES)
        result.update(overrides.get(urgency, {}))
    return result


def compute_deadlines(*, urgency: str, start: dt.datetime, calendar: WorkCalendar | None = None) -> Deadlines:
    policy = policy_for(urgency)
    return Deadlines(
        acknowledge_due_at=Duration.parse(policy["acknowledge_within"]).after(start, calendar),
        contact_due_at=Duration.parse(policy["contact_within"]).after(start, calendar),
        resolve_due_at=Duration.parse(policy["resolve_within"]).after(start, calendar),
    )


def extend_by_working_days(due: dt.datetime, working_days: int, calendar: WorkCalendar | None = None) -> dt.datetime:
    calendar = calendar or get_calendar()
    return calendar.add_working_time(due, dt.timedelta(hours=working_days * calendar.hours_per_day))
