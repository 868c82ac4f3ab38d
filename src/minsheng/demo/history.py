"""A year of believable history for the demo district, written fast.

Every generated case walks the real lifecycle (cases/workflow.py) in a small in-memory copy
of the case engine (`_Sim`): each action checks the transition table, updates the same
fields and writes the same event (action, from/to state, actor, actor kind and unit, unit,
reason, data keys, is_public) as the corresponding function of cases/services.py, with
deadlines from `compute_deadlines` on the official working calendar, and near-due/overdue
flags raised exactly when the periodic job (`cases_flag_due`) would have raised them. The
rows are then written in batches, one transaction per batch: cases, assignments, extension
requests and co-reporters with `bulk_create`, events (nine rows in ten) with `executemany`
through the very adapters `bulk_create` would use (`_insert_events`). Calling the services
30,000 times would take many minutes; this takes well under one on two cores.

A story is cut at "now": whatever would happen later has not happened yet, so recent cases
are still open in every state. A few recent cases are steered into the states a demo needs
to show (a returned case, a pending extension, an overdue one ...) so that every work queue
has content even in a small history.

Generated cases carry `source_type="demo"`; their presence means the history exists.
Nothing is random without the seed: the same seed, `now` and database give the same history.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import random
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from minsheng.cases import deadlines as deadlines_module
from minsheng.cases.choices import AssignmentRole, CaseKind, CaseState as S, Channel, DueFlag, ExtensionStatus, Feedback, Routing, Urgency
from minsheng.cases.deadlines import Duration, compute_deadlines, extend_by_working_days
from minsheng.cases.episodes import EpisodeWalk, judged_outcome
from minsheng.cases.models import Case, CaseAssignment, CaseEvent, Category, CoReporter, ExtensionRequest
from minsheng.cases.services import TRACKING_ALPHABET as _TRACKING_ALPHABET  # the same alphabet residents read codes in
from minsheng.cases.workflow import TRANSITIONS
from minsheng.core.bulk import insert_tuples
from minsheng.core.calendar import CalendarOutOfRange, WorkCalendar, get_calendar
from minsheng.core.choices import Role, UnitKind
from minsheng.core.models import Unit, User

from . import phrases as P
from .texts import Place, Slots, TextMaker

DEMO_SOURCE = "demo"
DEFAULT_CASES = 30_000
DEFAULT_DAYS = 365
DEFAULT_SEED = 12345

UTC = dt.timezone.utc
RESIDENT = "resident"
SYSTEM = "system"

# ---------------------------------------------------------------- the shape of a year

CHANNEL_SHARES = {
    Channel.HOTLINE: 45, Channel.WEB: 35, Channel.VISIT: 5, Channel.FORUM: 3.5, Channel.SURVEY: 3,
    Channel.SUGGESTION_BOX: 3.5, Channel.ENTERPRISE: 5,
}
# Hour-of-day weights (local time) by channel.
_H_HOTLINE = [0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.6, 1.8, 4.5, 6, 6, 5.5, 3.5, 3.2, 5, 5.5, 5.5, 4.8, 3.5, 3.2, 3, 2.4, 1.6, 0.8]
_H_WEB = [1.2, 0.6, 0.3, 0.2, 0.2, 0.3, 0.8, 1.8, 3, 3.8, 4, 3.8, 4, 3.6, 3.5, 3.4, 3.3, 3.2, 3, 3.3, 4.2, 4.6, 4, 2.4]
_H_OFFICE = [0] * 8 + [0.5, 4, 5, 4, 0.3, 0.3, 1, 4.5, 5, 4, 0.5] + [0] * 5
HOUR_WEIGHTS = {
    Channel.HOTLINE: _H_HOTLINE, Channel.WEB: _H_WEB, Channel.SURVEY: _H_WEB, Channel.SUGGESTION_BOX: _H_WEB,
    Channel.VISIT: _H_OFFICE, Channel.FORUM: _H_OFFICE, Channel.ENTERPRISE: _H_OFFICE,
}
OFFICE_CHANNELS = (Channel.VISIT, Channel.FORUM, Channel.ENTERPRISE)

# Relative yearly volume of each subcategory (a district hotline's usual mix). Unknown codes: 0.5.
BASE_WEIGHT = {
    "CGM.HJWS": 5, "CGM.ZDJY": 3, "CGM.WFJS": 2.5, "CGM.SRGG": 1.2, "CGM.YLLH": 1.5, "CGM.SZSS": 3, "CGM.CYYY": 2,
    "ZF.WYFW": 8, "ZF.LJXQ": 2.5, "ZF.FWWX": 3, "ZF.BDCZ": 2, "ZF.DT": 1.8,
    "GY.GS": 3.5, "GY.GD": 2, "GY.RQ": 1.5, "GY.GN": 6,
    "JT.WZTC": 3.5, "JT.XHBX": 1, "JT.GJDT": 1.2, "JT.CZC": 0.6, "JT.DLSG": 1.5,
    "HB.ZS": 4, "HB.DQ": 1.5, "HB.SW": 0.5,
    "SC.SPAQ": 1.8, "SC.XFWQ": 3.5, "SC.JG": 1,
    "RS.QX": 3, "RS.SB": 2, "RS.YB": 1.2, "RS.JY": 0.6,
    "JY.RX": 1.5, "JY.XW": 1, "JY.XY": 0.8, "WS.YLFW": 1, "WS.GW": 0.6,
    "MZ.DB": 1, "MZ.YL": 0.8, "MZ.CJ": 0.4, "TY.YF": 0.3, "TY.JY": 0.2, "TY.QY": 0.3,
    "QY.ZC": 0.6, "QY.SP": 0.4, "QY.JY": 0.4, "ZW.ZX": 2, "ZW.XL": 0.7, "ZW.HJ": 0.8,
    "AQ.ZA": 1.2, "AQ.XF": 1.2, "AQ.SC": 0.4, "SQ.LL": 1.5, "SQ.SS": 0.8, "SQ.CW": 1, "JX.JY": 0.6, "JX.BY": 0.4,
}
# What each channel hears more (or less) of, by code prefix.
CHANNEL_BIAS: dict[str, dict[str, float]] = {
    Channel.ENTERPRISE: {"QY.": 40, "ZW.": 3, "GY.GD": 2, "SC.": 1, "RS.SB": 1.5, "*": 0.15},
    Channel.VISIT: {"MZ.": 4, "SQ.": 3, "ZF.": 2, "TY.": 3, "QY.": 0.1},
    Channel.FORUM: {"ZF.LJXQ": 5, "SQ.": 3, "MZ.YL": 3, "ZF.WYFW": 2, "JX.JY": 4, "QY.": 0.1},
    Channel.SURVEY: {"JX.JY": 8, "SQ.SS": 4, "MZ.YL": 3, "ZW.XL": 3, "QY.": 0.1},
    Channel.SUGGESTION_BOX: {"JX.": 6, "ZW.XL": 4, "AQ.ZA": 1.5, "QY.": 0.1},
    Channel.HOTLINE: {"GY.": 1.25, "QY.": 0.3},
    Channel.WEB: {"ZW.ZX": 1.3, "QY.": 0.4},
}
# Relative chance of an urgent / complex case per subcategory; scaled so that about
# URGENT_SHARE / COMPLEX_SHARE of the year's cases get it.
URGENT_SHARE, COMPLEX_SHARE = 0.08, 0.05
URGENT_REL = {
    "GY.RQ": 3, "ZF.DT": 2.4, "GY.GS": 1.6, "GY.GD": 1.6, "GY.GN": 1.1, "AQ.XF": 2, "AQ.ZA": 1.2, "AQ.SC": 2.2,
    "RS.QX": 0.8, "CGM.SZSS": 1, "CGM.YLLH": 1,
}
COMPLEX_REL = {
    "ZF.LJXQ": 4, "ZF.BDCZ": 6, "CGM.WFJS": 4, "ZF.WYFW": 1.5, "SQ.LL": 2, "RS.QX": 2, "ZF.FWWX": 2, "HB.SW": 2.5,
    "QY.JY": 3, "HB.DQ": 1, "JT.DLSG": 1, "*": 0.35,
}
# Satisfaction is harder to earn for some problems.
UNSAT_REL = {"RS.QX": 1.7, "ZF.WYFW": 1.6, "ZF.BDCZ": 1.8, "CGM.WFJS": 1.6, "ZF.LJXQ": 1.4, "HB.ZS": 1.3, "SQ.LL": 1.4,
             "ZW.ZX": 0.3, "JX.BY": 0.05, "JX.JY": 0.5, "RS.JY": 0.6}

P_REJECT = 0.018
P_REPEAT = 0.035          # a new case repeats a recent one (same place, same problem)
P_MERGE_REPEAT = 0.6      # ... and the command centre merges it
P_WRONG_DISPATCH = 0.05   # dispatched to the wrong unit, returned (退单) and redispatched
P_AUTO = 0.22             # web cases dispatched automatically by the model
P_ACCEPT_FIRST = 0.62
P_DELEGATE = 0.45         # a street office passes a territorial case down to the community
P_CO_UNIT = 0.035
P_NO_CONTACT = 0.03
P_LATE = 0.055
P_SEND_BACK = 0.045
P_NO_FEEDBACK = 0.075
P_UNSAT = 0.063
P_BASIC = 0.2
P_OPERATOR_FEEDBACK = 0.35  # rated through the operator's return call (回访) rather than online
P_JOIN = 0.025

# Spring Festival (春节) — wage-arrears appeals peak in the weeks before it.
SPRING_FESTIVAL = {
    2023: dt.date(2023, 1, 22), 2024: dt.date(2024, 2, 10), 2025: dt.date(2025, 1, 29), 2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6), 2028: dt.date(2028, 1, 26), 2029: dt.date(2029, 2, 13), 2030: dt.date(2030, 2, 3),
}


def _heating(d: dt.date) -> float:
    """Zhengzhou heats from 15 November to 15 March; complaints start with the season."""
    md = (d.month, d.day)
    if (11, 15) <= md or md <= (3, 15):
        if (11, 15) <= md <= (11, 30):
            return 4.5  # the first weeks: radiators not warm yet, air in the pipes
        if d.month in (12, 1):
            return 3.2
        return 2.4
    if (11, 1) <= md < (11, 15):
        return 0.8  # when does heating start, fees
    if (3, 16) <= md <= (3, 31):
        return 0.3
    return 0.05


def season(code: str, d: dt.date) -> float:
    """How much more (or less) `code` is heard of on day `d` than on an average day."""
    m = d.month
    summer, winter = m in (6, 7, 8), m in (12, 1, 2)
    if code == "GY.GN":
        return _heating(d)
    if code == "RS.QX":
        sf = SPRING_FESTIVAL.get(d.year) or SPRING_FESTIVAL.get(d.year + 1)
        later = SPRING_FESTIVAL.get(d.year + 1)
        before = (sf - d).days if sf and sf >= d else ((later - d).days if later else 999)
        if 0 <= before <= 56:
            return 1 + 3.2 * math.exp(-((before - 9) ** 2) / 180)
        after = (d - sf).days if sf and d > sf else 999
        return 0.45 if after <= 20 else 0.9
    factors = {
        "HB.ZS": 1.9 if summer else (0.7 if winter else 1.0),
        "SC.SPAQ": 1.8 if summer else 0.8,
        "CGM.CYYY": 2.3 if summer else (0.5 if winter else 1.0),
        "CGM.ZDJY": 1.5 if summer else 0.8,
        "WS.GW": 2.2 if summer else 0.6,
        "GY.GD": 1.9 if m in (7, 8) else 0.8,
        "GY.GS": 1.4 if summer else (1.2 if winter else 0.9),
        "CGM.HJWS": 1.3 if summer else 1.0,
        "CGM.YLLH": 1.6 if m in (4, 5, 7, 8) else 0.7,
        "AQ.XF": 1.6 if winter else 0.9,
        "HB.DQ": 1.5 if winter or m == 10 else 0.8,
        "GY.RQ": 1.6 if winter else 0.8,
        "JY.RX": {5: 3, 6: 4.5, 7: 4.5, 8: 3.5, 9: 1.8}.get(m, 0.35),
        "JY.XW": 1.8 if m in (3, 9) else (1.4 if summer else 0.9),
        "JY.XY": 0.4 if m in (7, 8, 2) else 1.2,
        "ZF.LJXQ": 0.6 if winter else 1.2,
        "JT.DLSG": 0.6 if winter else 1.2,
        "AQ.SC": 0.7 if winter else 1.1,
        "RS.SB": {1: 1.5, 7: 1.4, 12: 1.3}.get(m, 0.95),
        "RS.YB": 1.4 if m in (9, 10, 11, 12, 1) else 0.8,
        "ZW.HJ": 1.3 if summer else 1.0,
        "MZ.DB": 1.4 if winter else 0.9,
        "SC.XFWQ": 1.3 if m in (6, 11) else 1.0,
        "SC.JG": 1.3 if winter else 1.0,
        "SQ.CW": 1.2 if summer else 1.0,
    }
    factor = factors.get(code, 1.0)
    if code == "HB.ZS" and m == 6 and d.day <= 25:
        factor *= 1.6  # 中考/高考: night construction noise during the exams
    return factor


def _prefix_factor(table: dict[str, float], code: str) -> float:
    if code in table:
        return table[code]
    for key, value in table.items():
        if key.endswith(".") and code.startswith(key):
            return value
    return table.get("*", 1.0)


# ---------------------------------------------------------------- results

@dataclass
class HistoryResult:
    cases: int = 0
    events: int = 0
    seconds: float = 0.0
    skipped: bool = False
    states: dict[str, int] = field(default_factory=dict)


class HistoryError(Exception):
    """The district or the demo accounts the history needs are missing."""


def history_exists() -> bool:
    return Case.objects.filter(source_type=DEMO_SOURCE).exists()


def history_generate(
    *,
    cases: int = DEFAULT_CASES,
    days: int = DEFAULT_DAYS,
    seed: int = DEFAULT_SEED,
    now: dt.datetime | None = None,
    progress: bool = False,
    batch_size: int = 1000,
) -> HistoryResult:
    """Generate `cases` demo cases submitted over the last `days` days, unless demo history
    exists already (then nothing is written and `skipped` is set)."""
    if history_exists():
        return HistoryResult(skipped=True, cases=Case.objects.filter(source_type=DEMO_SOURCE).count())
    started = time.perf_counter()
    now = (now or timezone.now()).astimezone(UTC)
    with _cached_deadline_policies():
        generator = _Generator(cases=cases, days=days, seed=seed, now=now, batch_size=batch_size)
        result = generator.run(progress=progress)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics after a bulk load
    result.seconds = time.perf_counter() - started
    return result


@contextmanager
def _cached_deadline_policies():
    """`compute_deadlines` reads the policy table on every call; 30,000 dispatches would make
    30,000 identical queries. Within generation the table does not change, so remember it."""
    original = deadlines_module.policy_for
    memo: dict[str, dict[str, str]] = {}

    def cached(urgency: str) -> dict[str, str]:
        if urgency not in memo:
            memo[urgency] = original(urgency)
        return dict(memo[urgency])

    deadlines_module.policy_for = cached
    try:
        yield
    finally:
        deadlines_module.policy_for = original


# ---------------------------------------------------------------- writing events

_EVENT_FIELDS = ("case_id", "action", "from_state", "to_state", "actor_id", "actor_kind", "actor_unit_id", "unit_id", "reason",
                 "data", "is_public", "at", "episode_at", "episode_unit_id", "due_at", "first_in_episode", "responded", "outcome",
                 "resolved")


def _insert_events(rows: list[tuple]) -> None:
    """Write CaseEvent rows (about nine in ten rows of the history) as tuples of plain values
    through the bulk writer (`core.bulk.insert_tuples`: the field's own adapters, one
    statement), not `bulk_create`, which spends three quarters of its time preparing each
    value through the generic field machinery (and SQLite caps it at 83 rows a statement)."""
    insert_tuples(CaseEvent, _EVENT_FIELDS, rows)


# ---------------------------------------------------------------- working time, indexed

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_US = dt.timedelta(microseconds=1)


def _us(t: dt.datetime) -> int:
    return (t - _EPOCH) // _US


class _IndexedCalendar:
    """The working calendar with its working periods indexed over the history's span.

    `WorkCalendar.add_working_time` walks day by day from the start; here each working period
    is stored (in integer microseconds, so results are exact) with the working time elapsed
    before it, and "n working hours after t" is a binary search. It offers the part of the
    `WorkCalendar` interface that `compute_deadlines` and `extend_by_working_days` use, with
    the same results to the microsecond and in the same time zone; past the indexed span it
    defers to the calendar itself.
    """

    def __init__(self, calendar: WorkCalendar, tz, first: dt.date, last: dt.date):
        self.calendar, self.tz = calendar, tz
        self.years, self.periods, self.exceptions = calendar.years, calendar.periods, calendar.exceptions
        self.hours_per_day = calendar.hours_per_day
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.before: list[int] = []
        total = 0
        day = first
        while day <= last:
            try:
                working = calendar.is_workday(day)
            except CalendarOutOfRange:
                break
            if working:
                for t0, t1 in calendar.periods:
                    start, end = _us(dt.datetime.combine(day, t0, tz)), _us(dt.datetime.combine(day, t1, tz))
                    self.starts.append(start)
                    self.ends.append(end)
                    self.before.append(total)
                    total += end - start
            day += dt.timedelta(days=1)
        self.total = total

    def is_workday(self, day: dt.date) -> bool:
        return self.calendar.is_workday(day)

    def _position(self, x: int) -> tuple[int, int] | None:
        i = bisect.bisect_right(self.ends, x)  # the first period that ends after x
        if i == len(self.ends):
            return None
        return i, self.before[i] + max(0, x - self.starts[i])

    def add_working_time(self, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        found = self._position(_us(start))
        target = found[1] + amount // _US if found else None
        if found is None or target > self.total:
            return self.calendar.add_working_time(start, amount)
        # the period holding `target`; a target on a boundary ends the earlier period, as
        # add_working_time does ("remaining <= available")
        j = max(found[0], bisect.bisect_left(self.before, target) - 1)
        return (_EPOCH + (self.starts[j] + target - self.before[j]) * _US).astimezone(self.tz)

    def working_time_between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        if b <= a:
            return dt.timedelta(0)
        pa, pb = self._position(_us(a)), self._position(_us(b))
        if pa is None or pb is None:
            return self.calendar.working_time_between(a, b)
        return (pb[1] - pa[1]) * _US


# ---------------------------------------------------------------- the in-memory engine

class _Stop(Exception):
    """The story reached the present (or a year the calendar does not know): it ends here."""


class _Ref:
    """A primary key known only once the referenced row is written (extension, master case)."""

    __slots__ = ("target",)

    def __init__(self, target):
        self.target = target

    def resolve(self) -> int:
        obj = self.target["obj"] if isinstance(self.target, dict) else self.target.obj
        return obj.pk


def _actor_fields(actor) -> tuple[int | None, str, int | None]:
    if actor == RESIDENT:
        return None, "resident", None
    if actor == SYSTEM:
        return None, "system", None
    return actor.pk, "staff", actor.unit_id


class _Sim:
    """One case's life, mirroring cases/services.py action by action."""

    def __init__(self, gen: "_Generator", fields: dict, *, sub: Category, street: Unit, community: Unit | None, slots: Slots,
                 core: str):
        self.g = gen
        self.f = fields
        self.sub, self.street, self.community, self.slots, self.core = sub, street, community, slots, core
        self.state: str | None = None
        self.version = 1
        self.main_unit: Unit | None = None
        self.due_flag = DueFlag.NONE
        self.reporter_count = 1
        self.events: list[dict] = []
        self.assignments: list[dict] = []
        self.extensions: list[dict] = []
        self.pending_extension: dict | None = None
        self.side: list[tuple[dt.datetime, int, str, dict]] = []
        self._side_seq = itertools.count()
        self.last: dt.datetime | None = None
        self.stop_after: str | None = None
        self.master: _Sim | None = None
        self.repeat_of: _Sim | None = None
        self.co_reporters: list[dict] = []
        self.obj: Case | None = None
        self.episodes = EpisodeWalk()  # what services._transition records on measured events

    # -------------------------------------------------- time and the periodic job

    @property
    def now(self) -> dt.datetime:
        return self.g.now

    def act(self, action: str, at: dt.datetime, **kw) -> None:
        """Take `action` at `at` (after catching up with what the periodic job and scheduled
        side actions did before), or stop the story if `at` lies in the future."""
        at = at.astimezone(UTC)
        self.catch_up(min(at, self.now))
        if self.last is not None and at <= self.last:
            at = self.last + dt.timedelta(seconds=self.g.rng.randint(20, 200))
        if at > self.now:
            raise _Stop
        getattr(self, "_" + action)(at, **kw)

    def schedule(self, at: dt.datetime, action: str, **kw) -> None:
        bisect.insort(self.side, (at.astimezone(UTC), next(self._side_seq), action, kw))

    # Side actions taken by someone other than the story's main thread, and the states in
    # which they still make sense (a scheduled urging is dropped once the case is replied).
    _SIDE_STATES = {
        "supervise": (S.DISPATCHED, S.IN_PROGRESS),
        "note": (S.DISPATCHED, S.IN_PROGRESS),
        "join": (S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.REPLIED),
    }

    def catch_up(self, until: dt.datetime) -> None:
        """Emit the flags and scheduled side actions that happen before `until`."""
        while True:
            flag = self._next_flag()
            side = self.side[0] if self.side else None
            side_at = None
            if side is not None:
                side_at = side[0] if self.last is None or side[0] > self.last else self.last + dt.timedelta(seconds=30)
            if flag is not None and flag[0] < until and (side_at is None or flag[0] <= side_at):
                self._flag(*flag)
                continue
            if side is not None and side_at < until:
                self.side.pop(0)
                _, _, action, kw = side
                if self.state in self._SIDE_STATES.get(action, ()):
                    getattr(self, "_" + action)(side_at, **kw)
                continue
            return

    def _next_flag(self):
        """When `cases_flag_due` would next flag this case, as (at, flag, stage, due)."""
        if self.state not in (S.DISPATCHED, S.IN_PROGRESS) or self.due_flag == DueFlag.RED:
            return None
        start = self.f["dispatched_at"]
        due = self.f["acknowledge_due_at"] if self.state == S.DISPATCHED else self.f["resolve_due_at"]
        if start is None or due is None:
            return None
        jitter = dt.timedelta(seconds=self.g.rng.uniform(2, 30))  # the job runs every 30 seconds
        if self.due_flag != DueFlag.YELLOW:
            at = max(self._near_due_at(start, due), self.last) + jitter
            flag = DueFlag.RED if at >= due else DueFlag.YELLOW
        else:
            at = max(due, self.last) + jitter
            flag = DueFlag.RED
        return at, flag, ("acknowledge" if self.state == S.DISPATCHED else "resolve"), due

    def _near_due_at(self, start, due):
        """services._near_due: the instant when only the near-due fraction of the allowed
        time is left — on the clock for urgent cases, in working time for the others."""
        fraction = self.g.near_due_fraction
        if self.f["urgency"] == "urgent":
            return due - (due - start) * fraction
        try:
            total = self.g.calendar.working_time_between(start, due)
            return self.g.calendar.add_working_time(start, total * (1 - fraction)).astimezone(UTC)
        except CalendarOutOfRange:
            return due - (due - start) * fraction

    def _flag(self, at, flag, stage, due) -> None:
        # services.cases_flag_due: not a transition (no version bump), no actor, not public.
        self.due_flag = flag
        self.events.append(dict(
            action="flag", from_state=self.state, to_state=self.state, actor_id=None, actor_kind="system", actor_unit_id=None,
            unit_id=self.main_unit.pk if self.main_unit else None, reason="",
            data={"flag": flag, "stage": stage, "due_at": due.astimezone(UTC).isoformat()}, is_public=False, at=at,
            outcome=flag,
        ))
        self.last = at

    # -------------------------------------------------- the event writer (services._transition)

    def _event(self, action: str, at: dt.datetime, actor, *, reason: str = "", data: dict | None = None, unit: Unit | None = None) -> None:
        transition = TRANSITIONS[action]
        if self.state not in transition.sources:
            raise AssertionError(f"{action} from {self.state}")  # a bug in the story, not in the data
        to_state = transition.target or self.state
        actor_id, kind, actor_unit_id = _actor_fields(actor)
        unit = unit or self.main_unit
        facts = self.episodes.step(action, at, unit.pk if unit else None, data)
        self.events.append(dict(
            action=action, from_state=self.state, to_state=to_state, actor_id=actor_id, actor_kind=kind,
            actor_unit_id=actor_unit_id, unit_id=unit.pk if unit else None, reason=reason.strip(), data=data or {},
            is_public=transition.public, at=at, **facts.as_fields(), **judged_outcome(action, data),
        ))
        if transition.target is not None:
            self.version += 1
        self.state = to_state
        self.last = at
        if self.stop_after == action:
            self.stop_after = None
            raise _Stop

    # -------------------------------------------------- actions (one per service function)

    def _submit(self, at, actor) -> None:
        actor_id, kind, actor_unit_id = _actor_fields(actor)
        self.events.append(dict(
            action="submit", from_state="", to_state=S.SUBMITTED, actor_id=actor_id, actor_kind=kind, actor_unit_id=actor_unit_id,
            unit_id=None, reason="", data={"channel": self.f["channel"]}, is_public=True, at=at,
        ))
        self.state = S.SUBMITTED
        self.last = at
        if self.stop_after == "submit":
            raise _Stop

    def _accept(self, at, actor) -> None:
        self.f["accepted_at"] = at
        self._event("accept", at, actor)

    def _reject(self, at, actor, reason) -> None:
        self.f["closed_at"] = at
        self._event("reject", at, actor, reason=reason)

    def _merge(self, at, actor, master: "_Sim") -> None:
        self.master = master
        self.f["closed_at"] = at
        # count_on_master: the duplicate's reporters join the master, which keeps them informed.
        self.g.count_on_master(master, self.reporter_count)
        self.g.co_reporter(master, name=self.f["reporter_name"], phone=self.f["reporter_phone"], text=self.f["text"], joined_at=at)
        self._event("merge", at, actor, reason=f"并入 {master.f['tracking_code']}",
                    data={"master": master.f["tracking_code"], "master_id": _Ref(master)})

    def _dispatch(self, at, actor, unit: Unit, co_units=(), meta=None, reason="") -> None:
        try:
            deadlines = compute_deadlines(urgency=self.f["urgency"], start=at, calendar=self.g.calendar)
        except CalendarOutOfRange:
            raise _Stop from None  # the engine refuses too: no deadline past the loaded years
        by = actor if actor not in (RESIDENT, SYSTEM) else None
        for assignment in self.assignments:
            assignment["active"] = False
        for assigned, role in ((unit, AssignmentRole.MAIN), *((co, AssignmentRole.CO) for co in co_units)):
            self.assignments.append(dict(unit_id=assigned.pk, role=role, active=True, assigned_at=at, assigned_by_id=by.pk if by else None))
        self.main_unit = unit
        self.f.update(
            dispatched_at=at, acknowledge_due_at=deadlines.acknowledge_due_at, contact_due_at=deadlines.contact_due_at,
            resolve_due_at=deadlines.resolve_due_at, acknowledged_at=None,
        )
        self.due_flag = DueFlag.NONE
        if self.f["accepted_at"] is None:
            self.f["accepted_at"] = at
        data = {
            "unit": unit.key,
            "co_units": [u.key for u in co_units],
            "subcategory": self.sub.code,
            "urgency": self.f["urgency"],
            "acknowledge_due_at": deadlines.acknowledge_due_at.isoformat(),
            "contact_due_at": deadlines.contact_due_at.isoformat(),
            "resolve_due_at": deadlines.resolve_due_at.isoformat(),
            **(meta or {}),
        }
        self._event("dispatch", at, actor, reason=reason, data=data, unit=unit)

    def _delegate(self, at, community: Unit, reason: str = "") -> None:
        actor = self.g.handler(self.main_unit)
        for assignment in self.assignments:
            if assignment["active"] and assignment["role"] == AssignmentRole.MAIN:
                assignment["active"] = False
        self.assignments.append(dict(unit_id=community.pk, role=AssignmentRole.MAIN, active=True, assigned_at=at, assigned_by_id=actor.pk))
        self.main_unit = community
        self._event("delegate", at, actor, reason=reason, data={"unit": community.key}, unit=community)

    def _acknowledge(self, at) -> None:
        self.f["acknowledged_at"] = at
        self.due_flag = DueFlag.NONE  # services.case_acknowledge clears an acknowledge-clock flag
        self._event("acknowledge", at, self.g.handler(self.main_unit))

    def _contact(self, at, note) -> None:
        if self.f["contacted_at"] is None:
            self.f["contacted_at"] = at
        self._event("contact", at, self.g.handler(self.main_unit), reason=note)

    def _return(self, at, reason) -> None:
        actor, returning = self.g.handler(self.main_unit), self.main_unit
        for assignment in self.assignments:
            assignment["active"] = False
        self.main_unit = None
        self.due_flag = DueFlag.NONE
        self._event("return", at, actor, reason=reason, unit=returning)

    def _reply(self, at, text) -> None:
        self.f.update(reply_text=text, replied_at=at)
        self._event("reply", at, self.g.handler(self.main_unit), reason=text)

    def _approve(self, at, actor) -> None:
        self.f["approved_at"] = at
        self._event("approve", at, actor, data={"reply": self.f["reply_text"]})

    def _rehandle(self, at) -> str:
        """services._rehandle_updates: a fresh resolve clock from now, flag cleared."""
        try:
            due = compute_deadlines(urgency=self.f["urgency"], start=at, calendar=self.g.calendar).resolve_due_at
        except CalendarOutOfRange:
            raise _Stop from None
        self.f["rehandle_count"] += 1
        self.f["resolve_due_at"] = due
        self.due_flag = DueFlag.NONE
        return due.isoformat()

    def _send_back(self, at, actor, reason) -> None:
        due = self._rehandle(at)
        self._event("send_back", at, actor, reason=reason, data={"resolve_due_at": due})

    def _feedback(self, at, actor, rating, comment="") -> None:
        # Was it resolved (是否解决)? Mostly as the rating says; some basically-satisfied
        # residents say it is not really solved, and a few unsatisfied ones say it is.
        roll = self.g.rng.random()
        resolved = {Feedback.SATISFIED: roll < 0.97, Feedback.BASIC: roll < 0.8, Feedback.UNSATISFIED: roll < 0.1}[rating]
        self.f.update(feedback=rating, feedback_comment=comment.strip()[:1000], feedback_at=at, feedback_resolved=resolved)
        data = {"rating": rating, "resolved": resolved}
        if rating == Feedback.UNSATISFIED:
            data["resolve_due_at"] = self._rehandle(at)
            self._event("feedback_reopen", at, actor, reason=comment, data=data)
        else:
            self.f.update(closed_at=at, no_feedback=False)
            self._event("feedback_close", at, actor, reason=comment, data=data)

    def _close_no_feedback(self, at) -> None:
        self.f.update(closed_at=at, no_feedback=True)
        self._event("close_no_feedback", at, SYSTEM)

    def _request_extension(self, at, working_days, reason) -> None:
        actor = self.g.handler(self.main_unit)
        extension = dict(unit_id=actor.unit_id, requested_by_id=actor.pk, requested_at=at, working_days=working_days,
                         reason=reason.strip(), status=ExtensionStatus.PENDING, decided_by_id=None, decided_at=None, decision_note="")
        self.extensions.append(extension)
        self.pending_extension = extension
        self._event("request_extension", at, actor, reason=reason, data={"working_days": working_days})

    def _decide_extension(self, at, actor, approve, note="") -> None:
        extension = self.pending_extension
        data = {"extension_id": _Ref(extension), "approved": approve, "working_days": extension["working_days"]}
        new_due = None
        if approve and self.f["resolve_due_at"]:
            try:  # the service reads resolve_due_at back from the database: UTC
                new_due = extend_by_working_days(self.f["resolve_due_at"].astimezone(UTC), extension["working_days"], self.g.calendar)
            except CalendarOutOfRange:
                raise _Stop from None
            data["resolve_due_at"] = new_due.isoformat()
        extension.update(status=ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED, decided_by_id=actor.pk,
                         decided_at=at, decision_note=note)
        self.pending_extension = None
        if new_due is not None:
            self.f["resolve_due_at"] = new_due
            self.due_flag = DueFlag.NONE
        self._event("decide_extension", at, actor, reason=note, data=data)

    def _supervise(self, at, level, reason, actor=None) -> None:
        self.f["supervision_level"] = level
        self._event("supervise", at, actor or self.g.dispatcher, reason=reason, data={"level": level})

    def _note(self, at, text, actor=None) -> None:
        self._event("note", at, actor or self.g.dispatcher, reason=text)

    def _join(self, at, actor, name, phone, text) -> None:
        self.co_reporters.append(dict(name=name, phone=phone, text=text, joined_at=at))
        self.reporter_count += 1
        self._event("join", at, actor, data={"channel": "join"})

    # -------------------------------------------------- the row

    def build(self) -> Case:
        f = self.f
        return Case(
            kind=f["kind"], tracking_code=f["tracking_code"], channel=f["channel"], state=self.state, version=self.version,
            text=f["text"], address=f["address"][:300], reporter_name=f["reporter_name"], reporter_phone=f["reporter_phone"],
            is_anonymous=f["is_anonymous"], category_id=self.sub.pk, urgency=f["urgency"], street_id=self.street.pk,
            community_id=self.community.pk if self.community else None, main_unit_id=self.main_unit.pk if self.main_unit else None,
            submitted_at=f["submitted_at"], accepted_at=f["accepted_at"], dispatched_at=f["dispatched_at"],
            acknowledged_at=f["acknowledged_at"], contacted_at=f["contacted_at"], replied_at=f["replied_at"],
            approved_at=f["approved_at"], closed_at=f["closed_at"], acknowledge_due_at=f["acknowledge_due_at"],
            contact_due_at=f["contact_due_at"], resolve_due_at=f["resolve_due_at"], due_flag=self.due_flag,
            reply_text=f["reply_text"], feedback=f["feedback"], feedback_comment=f["feedback_comment"], feedback_at=f["feedback_at"],
            feedback_resolved=f.get("feedback_resolved"), no_feedback=f["no_feedback"], supervision_level=f["supervision_level"], rehandle_count=f["rehandle_count"],
            reporter_count=self.reporter_count, merged_into=self.master.obj if self.master else None, idempotency_key=None,
            dispatch_meta={}, source_type=DEMO_SOURCE, source_id=f["source_id"], created_by_id=f["created_by_id"],
        )


# ---------------------------------------------------------------- steering recent cases

@dataclass(frozen=True)
class _Target:
    """A state some recent cases are steered into, so every queue of the workbench has content."""

    name: str
    days: tuple[float, float]          # submitted this many days before now
    force: dict
    check: Callable[["_Sim"], bool]


def _open_target(state):
    return lambda s: s.state == state


TARGETS = [
    _Target("submitted", (0.02, 0.4), {"stop": "submit"}, _open_target(S.SUBMITTED)),
    _Target("accepted", (0.1, 1.5), {"stop": "accept", "mode": "accept"}, _open_target(S.ACCEPTED)),
    _Target("returned", (0.3, 3), {"stop": "return", "wrong": True},
            lambda s: s.state == S.ACCEPTED and any(e["action"] == "return" for e in s.events)),
    _Target("dispatched", (0.05, 1), {"stop": "dispatch"}, _open_target(S.DISPATCHED)),
    _Target("delegated", (0.1, 1.5), {"stop": "delegate", "territorial": True, "delegate": True},
            lambda s: s.state == S.DISPATCHED and s.main_unit is not None and s.main_unit.kind == UnitKind.COMMUNITY),
    _Target("in_progress", (0.5, 4), {"stop": "contact", "contact": True}, lambda s: s.state == S.IN_PROGRESS and not s.due_flag),
    _Target("extension", (4, 12), {"stop": "request_extension", "ext": True, "contact": True},
            lambda s: s.state == S.IN_PROGRESS and s.pending_extension is not None),
    _Target("due_soon", (5, 11), {"stop": "contact", "contact": True}, lambda s: s.state == S.IN_PROGRESS and s.due_flag == DueFlag.YELLOW),
    _Target("overdue", (11, 25), {"stop": "contact", "late": True, "ext": False, "contact": True},
            lambda s: s.state == S.IN_PROGRESS and s.due_flag == DueFlag.RED),
    _Target("supervised", (11, 25), {"stop": "supervise", "late": True, "ext": False, "supervise": True},
            lambda s: s.state in (S.DISPATCHED, S.IN_PROGRESS) and s.f["supervision_level"] > 0),
    _Target("replied", (1, 8), {"stop": "reply"}, _open_target(S.REPLIED)),
    _Target("sent_back", (2, 9), {"stop": "send_back", "send_back": True},
            lambda s: s.state == S.IN_PROGRESS and s.f["rehandle_count"] > 0),
    _Target("awaiting_feedback", (1.5, 7), {"stop": "approve"}, _open_target(S.AWAITING_FEEDBACK)),
    _Target("reopened", (3, 12), {"stop": "feedback_reopen", "unsat": True},
            lambda s: s.state == S.IN_PROGRESS and s.f["feedback"] == Feedback.UNSATISFIED),
]


# ---------------------------------------------------------------- the generator

class _Generator:
    def __init__(self, *, cases: int, days: int, seed: int, now: dt.datetime, batch_size: int):
        self.n, self.days, self.seed, self.now, self.batch_size = cases, days, seed, now, batch_size
        self.rng = random.Random(seed)
        self.tz = ZoneInfo(settings.TIME_ZONE)
        local_now = now.astimezone(self.tz).date()
        # compute_deadlines and extend_by_working_days take the calendar to count on: give them
        # the indexed one (same results, a binary search instead of a walk through the days).
        self.calendar = _IndexedCalendar(
            get_calendar(), self.tz, local_now - dt.timedelta(days=days + 2), local_now + dt.timedelta(days=120)
        )
        self.near_due_fraction = settings.MINSHENG_NEAR_DUE_FRACTION
        self.feedback_window = dt.timedelta(days=settings.MINSHENG_FEEDBACK_DAYS)
        self.texts = TextMaker(self.rng, settings.MINSHENG_DISTRICT_NAME)
        self._load_world()
        self.codes = set(Case.objects.values_list("tracking_code", flat=True))
        self.recent: deque[_Sim] = deque(maxlen=400)
        self.pending_co: list[tuple[_Sim, dict]] = []
        self.master_counts: Counter[int] = Counter()
        self.result = HistoryResult()
        self.states: Counter[str] = Counter()

    # -------------------------------------------------- the district and its staff

    def _load_world(self) -> None:
        units = list(Unit.objects.filter(active=True).select_related("parent"))
        self.district = next((u for u in units if u.kind == UnitKind.DISTRICT), None)
        self.streets = sorted((u for u in units if u.kind == UnitKind.STREET), key=lambda u: (u.sort_order, u.code))
        self.departments = [u for u in units if u.kind == UnitKind.DEPARTMENT]
        communities = defaultdict(list)
        for u in units:
            if u.kind == UnitKind.COMMUNITY and u.parent_id:
                communities[u.parent_id].append(u)
        self.communities = communities
        self.subcats = list(Category.objects.filter(parent__isnull=False, active=True).select_related("parent", "department"))
        if self.district is None or not self.streets or not self.subcats:
            raise HistoryError("演示地区尚未加载：请先运行 minsheng load-district。")
        users = list(User.objects.filter(is_active=True).select_related("unit"))
        by_name = {u.username: u for u in users}
        self.handlers: dict[int, User] = {}
        for u in users:
            if u.role == Role.HANDLER and u.unit_id and u.unit_id not in self.handlers:
                self.handlers[u.unit_id] = u
        for unit in units:  # the demo account of a unit (street-JSL, dept-CGJ) wins over any other handler of it
            demo = by_name.get(f"{unit.kind}-{unit.code}")
            if demo is not None and demo.role == Role.HANDLER and demo.unit_id == unit.pk:
                self.handlers[unit.pk] = demo

        def staff(name: str, role: str) -> User:
            user = by_name.get(name)
            if user is None or user.role != role:
                user = next((u for u in users if u.role == role), None)
            if user is None:
                raise HistoryError(f"缺少角色为 {role} 的工作人员：请先创建演示账号。")
            return user

        self.operator = staff("operator", Role.OPERATOR)
        self.dispatcher = staff("dispatcher", Role.DISPATCHER)
        handling = [u for u in units if u.kind in (UnitKind.STREET, UnitKind.COMMUNITY, UnitKind.DEPARTMENT)]
        missing = [u.key for u in handling if u.pk not in self.handlers]
        if missing:
            raise HistoryError(f"以下单位没有承办人账号：{', '.join(missing[:8])}{' …' if len(missing) > 8 else ''}；请先创建演示账号。")
        rng = self.rng
        # Some units answer faster and please residents more than others: rankings need spread.
        self.quality = {u.pk: min(2.6, max(0.35, rng.lognormvariate(0, 0.45))) for u in handling}
        # Big streets hear more; so do some communities.
        self.places: dict[int, Place] = {}
        weights, pool = [], []
        for street in self.streets:
            comms = self.communities.get(street.pk, [])
            street_roads = tuple(dict.fromkeys(r for c in comms for r in (c.roads or [])))
            street_factor = rng.uniform(0.85, 1.25)
            for c in comms:
                self.places[c.pk] = Place(c.name, street.name, tuple(c.places or ()), tuple(c.roads or ()), street_roads)
                pool.append(c)
                weights.append(street_factor * rng.lognormvariate(0, 0.4))
        self.community_pool = pool
        self.community_cum = list(itertools.accumulate(weights))
        self.resolve_clock = {u: Duration.parse(deadlines_module.policy_for(u)["resolve_within"]).clock for u in Urgency.values}
        self._calibrate_urgency()

    def _calibrate_urgency(self) -> None:
        """Scale the per-subcategory chances so the year's mix hits the target shares."""
        year = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(0, 365, 7)]
        volume = {c.code: sum(BASE_WEIGHT.get(c.code, 0.5) * season(c.code, d) for d in year) for c in self.subcats}
        total = sum(volume.values()) or 1
        urgent_rel = {c.code: URGENT_REL.get(c.code, 0.0) if (self.texts.pool(c.code).get("U")) else 0.0 for c in self.subcats}
        complex_rel = {c.code: _prefix_factor(COMPLEX_REL, c.code) for c in self.subcats}
        u_mass = sum(volume[k] * urgent_rel[k] for k in volume) / total or 1
        c_mass = sum(volume[k] * complex_rel[k] for k in volume) / total or 1
        self.p_urgent = {k: min(0.6, urgent_rel[k] * URGENT_SHARE / u_mass) for k in volume}
        self.p_complex = {k: min(0.5, complex_rel[k] * COMPLEX_SHARE / c_mass) for k in volume}

    def handler(self, unit: Unit) -> User:
        return self.handlers[unit.pk]

    def count_on_master(self, master: _Sim, n: int) -> None:
        if master.obj is not None:
            self.master_counts[master.obj.pk] += n
        else:
            master.reporter_count += n

    def co_reporter(self, sim: _Sim, **fields) -> None:
        self.pending_co.append((sim, fields))

    # -------------------------------------------------- when, where, what

    def _day_weights(self) -> tuple[list[dt.date], list[float], dict[dt.date, dict[str, float]]]:
        rng = self.rng
        local_now = self.now.astimezone(self.tz)
        first = (local_now - dt.timedelta(days=self.days)).date()
        days = [first + dt.timedelta(days=i) for i in range((local_now.date() - first).days + 1)]
        incidents: dict[dt.date, dict[str, float]] = {}
        # A summer rainstorm, a cold wave and a water main burst: the hotspots of the year.
        for months, boosts in (
            ((7, 8), {"*": 2.2, "CGM.YLLH": 9, "GY.GD": 5, "CGM.SZSS": 5, "ZF.FWWX": 4, "JT.DLSG": 2}),
            ((12, 1), {"*": 1.5, "GY.GN": 2.2, "GY.GS": 4, "ZF.FWWX": 1.5}),
            ((4, 5, 9, 10), {"*": 1.3, "GY.GS": 8}),
        ):
            candidates = [d for d in days if d.month in months]
            if candidates:
                day = rng.choice(candidates)
                incidents[day] = boosts
                incidents.setdefault(day + dt.timedelta(days=1), {k: 1 + (v - 1) * 0.35 for k, v in boosts.items()})
        weights = []
        for i, d in enumerate(days):
            try:
                workday = self.calendar.is_workday(d)
            except CalendarOutOfRange:
                workday = d.weekday() < 5
            w = 1.0 if workday else (0.58 if d.weekday() >= 5 else 0.45)
            sf = SPRING_FESTIVAL.get(d.year)
            if sf and -1 <= (d - sf).days <= 6:
                w *= 0.5
            w *= 0.92 + 0.16 * i / max(1, len(days) - 1)
            w *= rng.lognormvariate(0, 0.12)
            w *= incidents.get(d, {}).get("*", 1.0)
            weights.append(w)
        return days, weights, incidents

    def _subcat_picker(self, incidents):
        cache: dict[tuple[dt.date, str], list[float]] = {}
        subcats = self.subcats

        def pick(day: dt.date, channel: str) -> Category:
            key = (day, channel)
            cum = cache.get(key)
            if cum is None:
                bias = CHANNEL_BIAS.get(channel, {})
                boost = incidents.get(day, {})
                cum = list(itertools.accumulate(
                    BASE_WEIGHT.get(c.code, 0.5) * season(c.code, day) * _prefix_factor(bias, c.code) * boost.get(c.code, 1.0)
                    for c in subcats
                ))
                cache[key] = cum
            return self.rng.choices(subcats, cum_weights=cum)[0]

        return pick

    def _when(self, day: dt.date, channel: str) -> dt.datetime:
        rng = self.rng
        start = self.now - dt.timedelta(days=self.days)
        for _ in range(30):
            hour = rng.choices(range(24), weights=HOUR_WEIGHTS.get(channel, _H_WEB))[0]
            local = dt.datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), rng.randrange(10**6),
                                tzinfo=self.tz)
            at = local.astimezone(UTC)
            if start <= at <= self.now:
                return at
        return min(max(start, self.now - dt.timedelta(minutes=rng.randint(5, 600))), self.now)

    def _channel(self, day: dt.date) -> str:
        rng = self.rng
        channels, shares = zip(*CHANNEL_SHARES.items())
        channel = rng.choices(channels, weights=shares)[0]
        try:
            workday = self.calendar.is_workday(day)
        except CalendarOutOfRange:
            workday = day.weekday() < 5
        while channel in OFFICE_CHANNELS and not workday and rng.random() < 0.85:
            channel = rng.choices(channels, weights=shares)[0]
        return channel

    def _tracking_code(self, submitted_at: dt.datetime) -> str:
        # services.tracking_code_new, with the submission's date and a uniqueness check.
        prefix = f"{submitted_at.astimezone(self.tz):%y%m%d}"
        while True:
            code = prefix + "".join(self.rng.choice(_TRACKING_ALPHABET) for _ in range(5))
            if code not in self.codes:
                self.codes.add(code)
                return code

    def _new_case(self, at: dt.datetime, channel: str, sub: Category, *, repeat: _Sim | None = None, force: dict | None = None) -> _Sim:
        rng, texts = self.rng, self.texts
        if repeat is not None:
            community, sub = repeat.community, repeat.sub
        else:
            community = rng.choices(self.community_pool, cum_weights=self.community_cum)[0]
            if force and force.get("territorial"):
                sub = rng.choice([c for c in self.subcats if c.routing == Routing.TERRITORIAL] or [sub])
        street = community.parent
        urgency = Urgency.NORMAL
        if not force:
            r = rng.random()
            if r < self.p_urgent.get(sub.code, 0):
                urgency = Urgency.URGENT
            elif r < self.p_urgent.get(sub.code, 0) + self.p_complex.get(sub.code, 0):
                urgency = Urgency.COMPLEX
        anonymous = rng.random() < {Channel.SUGGESTION_BOX: 0.85, Channel.SURVEY: 0.4, Channel.WEB: 0.05}.get(channel, 0.01)
        name, phone = "", ""
        if not anonymous:
            if rng.random() < 0.06:
                name, phone = rng.choice(self.frequent_callers)  # repeat callers (重复来电)
            else:
                name = texts.person(formal=channel != Channel.HOTLINE or rng.random() < 0.6)
                phone = texts.phone()
        caller = name if name.endswith(("女士", "先生")) else (name[:1] + rng.choice(("女士", "先生")) if name else "")
        place = self.places[community.pk]
        if repeat is not None:
            appeal = texts.appeal(code=sub.code, name=sub.name, note=sub.note, channel=channel, place=place, caller=caller,
                                  urgent=urgency == Urgency.URGENT, core=repeat.core, slots=repeat.slots)
            appeal.address = repeat.f["address"]
        else:
            appeal = texts.appeal(code=sub.code, name=sub.name, note=sub.note, channel=channel, place=place, caller=caller,
                                  urgent=urgency == Urgency.URGENT)
        kind = CaseKind.ENTERPRISE if channel == Channel.ENTERPRISE or sub.parent.code == "QY" else CaseKind.APPEAL
        creator = self._submitter(channel, community, street)
        fields = dict(
            kind=kind, tracking_code="", channel=channel, text=appeal.text, address=appeal.address, reporter_name=name,
            reporter_phone=phone, is_anonymous=anonymous, urgency=urgency, submitted_at=at, accepted_at=None, dispatched_at=None,
            acknowledged_at=None, contacted_at=None, replied_at=None, approved_at=None, closed_at=None, acknowledge_due_at=None,
            contact_due_at=None, resolve_due_at=None, reply_text="", feedback="", feedback_comment="", feedback_at=None,
            no_feedback=False, supervision_level=0, rehandle_count=0, source_id=f"history-{self.seed}",
            created_by_id=creator.pk if creator not in (RESIDENT, SYSTEM) else None, submitter=creator,
        )
        return _Sim(self, fields, sub=sub, street=street, community=community, slots=appeal.slots, core=appeal.core)

    def _submitter(self, channel: str, community: Unit, street: Unit):
        if channel == Channel.HOTLINE:
            return self.operator  # the operator records the call
        if channel == Channel.VISIT:
            return self.handlers.get(community.pk, self.operator)  # the community's visit log
        if channel == Channel.FORUM:
            return self.handlers.get(street.pk, self.operator)  # minutes of the street's forum
        return RESIDENT

    # -------------------------------------------------- clocks of the people involved

    def _work(self, t: dt.datetime, lo: float, hi: float, mode: float | None = None) -> dt.datetime:
        """`t` plus lo..hi hours of working time: when office staff get round to it."""
        hours = self.rng.triangular(lo, hi, lo + (hi - lo) * 0.25 if mode is None else mode)
        return self.calendar.add_working_time(t, dt.timedelta(hours=hours)).astimezone(UTC)

    def _minutes(self, t: dt.datetime, lo: float, hi: float) -> dt.datetime:
        return t + dt.timedelta(minutes=self.rng.uniform(lo, hi))

    def _daytime(self, t: dt.datetime) -> dt.datetime:
        """Residents rarely act between 23:00 and 07:00."""
        local = t.astimezone(self.tz)
        if local.hour >= 23 or local.hour < 7:
            day = local.date() if local.hour < 7 else local.date() + dt.timedelta(days=1)
            local = dt.datetime.combine(day, dt.time(7, 0), self.tz) + dt.timedelta(minutes=self.rng.uniform(0, 180))
        return local.astimezone(UTC)

    def _centre(self, s: _Sim, lo: float = 0.05, hi: float = 2.5) -> dt.datetime:
        """The command centre: on duty round the clock for urgent cases, else office hours."""
        if s.f["urgency"] == Urgency.URGENT:
            return self._minutes(s.last, 2, 25)
        return self._work(s.last, lo, hi)

    def _unit_time(self, s: _Sim, lo: float, hi: float) -> dt.datetime:
        if s.f["urgency"] == Urgency.URGENT:
            return s.last + dt.timedelta(hours=self.rng.uniform(lo, hi) / 4)
        return self._work(s.last, lo, hi)

    def _between(self, s: _Sim, a: dt.datetime, b: dt.datetime, frac: float) -> dt.datetime:
        """The point `frac` of the way from a to b on the clock of the case's resolve deadline."""
        if self.resolve_clock.get(s.f["urgency"]) == "calendar":
            return a + (b - a) * frac
        return self.calendar.add_working_time(a, self.calendar.working_time_between(a, b) * frac).astimezone(UTC)

    # -------------------------------------------------- the story of one case

    def _correct_unit(self, s: _Sim) -> Unit:
        if s.sub.routing == Routing.DEPARTMENT and s.sub.department_id and s.sub.department.active:
            return s.sub.department
        return s.street

    def _wrong_unit(self, s: _Sim, correct: Unit) -> Unit | None:
        rng = self.rng
        if correct.kind == UnitKind.STREET:
            if s.sub.department_id and s.sub.department.active and rng.random() < 0.6:
                return s.sub.department
            others = [u for u in self.streets if u.pk != correct.pk]
        else:
            if rng.random() < 0.6:
                return s.street
            others = [u for u in self.departments if u.pk != correct.pk]
        return rng.choice(others) if others else None

    def _co_units(self, s: _Sim, correct: Unit) -> list[Unit]:
        if correct.kind == UnitKind.STREET:
            co = s.sub.department if s.sub.department_id and s.sub.department.active else None
        else:
            co = s.street
        return [co] if co is not None and co.pk != correct.pk else []

    def story(self, s: _Sim, force: dict | None) -> None:
        force = dict(force or {})
        s.stop_after = force.get("stop")
        try:
            s.act("submit", s.f["submitted_at"], actor=s.f.pop("submitter"))
            self._intake(s, force)
        except (_Stop, CalendarOutOfRange):
            pass
        s.catch_up(self.now)

    def _intake(self, s: _Sim, force: dict) -> None:
        rng = self.rng
        intake_actor = self.operator if s.f["channel"] == Channel.HOTLINE or rng.random() < 0.5 else self.dispatcher
        repeat_of = s.repeat_of
        if not force and repeat_of is not None and repeat_of.state not in (S.MERGED, S.REJECTED) and rng.random() < P_MERGE_REPEAT:
            if rng.random() < 0.35:
                s.act("accept", self._centre(s), actor=intake_actor)
            s.act("merge", self._centre(s, 0.1, 4), actor=self.dispatcher, master=repeat_of)
            return
        if not force and rng.random() < P_REJECT:
            if rng.random() < 0.3:
                s.act("accept", self._centre(s), actor=intake_actor)
            s.act("reject", self._centre(s, 0.1, 4), actor=intake_actor, reason=rng.choice(P.REJECT_REASONS))
            return
        mode = force.get("mode")
        if mode is None:
            if s.f["channel"] in (Channel.WEB, Channel.ENTERPRISE) and rng.random() < P_AUTO:
                mode = "auto"
            else:
                mode = "accept" if rng.random() < P_ACCEPT_FIRST else "direct"
        correct = self._correct_unit(s)
        wrong = force.get("wrong", rng.random() < P_WRONG_DISPATCH)
        first = self._wrong_unit(s, correct) if wrong else correct
        if first is None:
            first, wrong = correct, False
        co_units = self._co_units(s, correct) if not wrong and not force and rng.random() < P_CO_UNIT else []
        if mode == "auto":
            meta = {"auto": True, "confidence": round(rng.uniform(0.9, 0.99), 2)}
            s.act("dispatch", s.last + dt.timedelta(seconds=rng.uniform(15, 240)), actor=SYSTEM, unit=first, co_units=co_units, meta=meta)
        else:
            if mode == "accept":
                s.act("accept", self._centre(s), actor=intake_actor)
            s.act("dispatch", self._centre(s), actor=self.dispatcher, unit=first, co_units=co_units)
        self._schedule_joins(s)
        if wrong:
            if rng.random() < 0.4:
                s.act("acknowledge", self._unit_time(s, 0.05, 2))
            reason = rng.choice(P.RETURN_REASONS).format(correct=correct.name)
            s.act("return", self._unit_time(s, 0.3, 5), reason=reason)
            s.act("dispatch", self._centre(s, 0.2, 3), actor=self.dispatcher, unit=correct,
                  reason=rng.choice(P.REDISPATCH_REASONS).format(correct=correct.name))
        self._handle(s, force)

    def _schedule_joins(self, s: _Sim) -> None:
        rng = self.rng
        if rng.random() >= P_JOIN:
            return
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            at = self._daytime(s.last + dt.timedelta(hours=rng.uniform(1, 120)))
            actor = self.operator if rng.random() < 0.6 else RESIDENT
            s.schedule(at, "join", actor=actor, name=self.texts.person(), phone=self.texts.phone(), text=rng.choice(P.JOIN_TEXTS))

    def _handle(self, s: _Sim, force: dict) -> None:
        rng = self.rng
        urgent = s.f["urgency"] == Urgency.URGENT
        if s.main_unit.kind == UnitKind.STREET and s.community is not None and force.get("delegate", rng.random() < P_DELEGATE):
            s.act("delegate", self._unit_time(s, 0.05, 1.5), community=s.community, reason=rng.choice(["", "请社区核实处理。", "请社区先行对接诉求人。"]))
        quality = self.quality[s.main_unit.pk]
        # acknowledge (签收)
        if urgent:
            s.act("acknowledge", self._minutes(s.last, 3, 150 if rng.random() < 0.04 else 55))
        elif rng.random() < 0.012 * quality:
            s.act("acknowledge", self._work(s.last, 4.2, 10))
        else:  # most units sign for a case within the hour; the acknowledge clock is 4 working hours
            s.act("acknowledge", self._work(s.last, 0.02, 2.2, 0.25))
        # contact the resident (联系群众)
        if force.get("contact") or rng.random() >= P_NO_CONTACT:
            if urgent:
                at = self._minutes(s.last, 5, 100)
            elif rng.random() < 0.05 * quality:
                at = self._daytime(s.last + dt.timedelta(hours=rng.uniform(26, 60)))
            else:
                at = self._work(s.last, 0.05, 5, 0.5)
            s.act("contact", at, note=rng.choice(P.CONTACT_NOTES))
        late = force.get("late", rng.random() < P_LATE * quality * (1.5 if s.f["urgency"] == Urgency.COMPLEX else 1))
        if not late and rng.random() < 0.006:
            s.schedule(self._work(s.last, 2, 20), "supervise", level=1, reason=rng.choice(P.SUPERVISE_REASONS))
        ext = force.get("ext")
        if ext is None:
            ext = not urgent and rng.random() < (0.45 if late else (0.12 if s.f["urgency"] == Urgency.COMPLEX else 0.015))
        due = s.f["resolve_due_at"]
        if ext:
            s.act("request_extension", self._between(s, max(s.last, s.f["dispatched_at"]), due, rng.uniform(0.45, 0.9)),
                  working_days=rng.choice((5, 7, 10, 15) if s.f["urgency"] == Urgency.COMPLEX else (2, 3, 3, 5, 5, 7)),
                  reason=rng.choice(P.EXTENSION_REASONS))
            approve = rng.random() < 0.85
            note = rng.choice(P.EXTENSION_APPROVE_NOTES if approve else P.EXTENSION_REFUSE_NOTES)
            s.act("decide_extension", self._work(s.last, 0.3, 6), actor=self.dispatcher, approve=approve, note=note)
            if approve and late and rng.random() < 0.75:
                late = False
            due = s.f["resolve_due_at"]
        if late:
            reply_at = self._unit_time_from(s, max(due, s.last), 1, 35)
            if force.get("supervise") or rng.random() < 0.35:
                # 督办 of an overdue case; the unit answers some time after being urged
                level = rng.choices((1, 2, 3), weights=(70, 25, 5))[0]
                supervise_at = self._unit_time_from(s, max(due, s.last), 0.5, 8)
                s.schedule(supervise_at, "supervise", level=level, reason=rng.choice(P.SUPERVISE_REASONS))
                reply_at = max(reply_at, self._unit_time_from(s, supervise_at, 1, 16))
            if rng.random() < 0.3:
                s.schedule(self._unit_time_from(s, due, 0.3, 4), "note", text=rng.choice(P.NOTE_TEXTS))
        else:
            r = rng.random()
            frac = rng.uniform(0.04, 0.3) if r < 0.45 else (rng.uniform(0.3, 0.75) if r < 0.85 else rng.uniform(0.75, 0.97))
            start = s.f["dispatched_at"]
            reply_at = self._between(s, start, due, frac)
            if reply_at <= s.last:
                reply_at = self._between(s, s.last, due, rng.uniform(0.05, 0.6))
        s.act("reply", reply_at, text=self._reply_text(s))
        self._review(s, force, rounds=0)
        self._rate(s, force)

    def _reply_text(self, s: _Sim, rehandle: bool = False) -> str:
        return self.texts.reply(code=s.sub.code, name=s.sub.name, note=s.sub.note, slots=s.slots, core=s.core, rehandle=rehandle)

    def _unit_time_from(self, s: _Sim, t: dt.datetime, lo: float, hi: float) -> dt.datetime:
        if s.f["urgency"] == Urgency.URGENT:
            return t + dt.timedelta(hours=self.rng.uniform(lo, hi) / 3)
        return self._work(t, lo, hi)

    def _review(self, s: _Sim, force: dict, rounds: int) -> None:
        rng = self.rng
        quality = self.quality[s.main_unit.pk]
        while True:
            send_back = force.pop("send_back", None)
            if send_back is None:
                send_back = rng.random() < P_SEND_BACK * math.sqrt(quality) / (1 + 2 * rounds)
            if not send_back:
                s.act("approve", self._centre(s, 0.2, 5), actor=self.dispatcher)
                return
            rounds += 1
            s.act("send_back", self._centre(s, 0.2, 5), actor=self.dispatcher, reason=rng.choice(P.SEND_BACK_REASONS))
            if rng.random() < 0.5:
                s.act("contact", self._unit_time(s, 0.2, 4), note=rng.choice(P.CONTACT_NOTES_REHANDLE))
            s.act("reply", self._unit_time(s, 3, 24),
                  text=self._reply_text(s, rehandle=True))

    def _rating(self, s: _Sim, round_: int) -> str:
        rng = self.rng
        if round_ >= 2:
            return Feedback.BASIC if rng.random() < 0.6 else Feedback.SATISFIED
        p_unsat = P_UNSAT * self.quality[s.main_unit.pk] ** 0.7 * UNSAT_REL.get(s.sub.code, 1.0)
        if s.f["rehandle_count"]:
            p_unsat *= 1.5
        if s.due_flag == DueFlag.RED:
            p_unsat *= 1.6
        r = rng.random()
        if r < min(0.5, p_unsat):
            return Feedback.UNSATISFIED
        return Feedback.BASIC if r < min(0.5, p_unsat) + P_BASIC else Feedback.SATISFIED

    def _rate(self, s: _Sim, force: dict) -> None:
        rng = self.rng
        round_ = 0
        while True:
            approved = s.f["approved_at"]
            unsat = force.pop("unsat", False)
            if not unsat and rng.random() < P_NO_FEEDBACK:
                # services.cases_close_unanswered: approved_at <= now - window, seen by the next round of the job
                s.act("close_no_feedback", approved + self.feedback_window + dt.timedelta(seconds=rng.uniform(3, 40)))
                return
            rating = Feedback.UNSATISFIED if unsat else self._rating(s, round_)
            if rng.random() < P_OPERATOR_FEEDBACK:
                actor, at = self.operator, self._work(approved, 1, 20)
            else:
                actor = RESIDENT
                r = rng.random()
                hours = rng.uniform(0.1, 8) if r < 0.45 else (rng.uniform(8, 72) if r < 0.8 else rng.uniform(72, 160))
                at = self._daytime(approved + dt.timedelta(hours=hours))
            if at >= approved + self.feedback_window - dt.timedelta(minutes=5):
                at = approved + dt.timedelta(hours=rng.uniform(1, 48))
            s.act("feedback", at, actor=actor, rating=rating, comment=rng.choice(P.FEEDBACK_COMMENTS[rating]))
            if rating != Feedback.UNSATISFIED:
                return
            round_ += 1
            if rng.random() < 0.8:
                s.act("contact", self._unit_time(s, 0.3, 6), note=rng.choice(P.CONTACT_NOTES_REHANDLE))
            s.act("reply", self._unit_time(s, 4, 40),
                  text=self._reply_text(s, rehandle=True))
            self._review(s, {}, rounds=round_)

    # -------------------------------------------------- the run

    def run(self, *, progress: bool) -> HistoryResult:
        from tqdm import tqdm

        rng = self.rng
        self.frequent_callers = [(self.texts.person(), self.texts.phone()) for _ in range(300)]
        per_target = max(1, round(self.n / 6000))
        steered = [t for t in TARGETS for _ in range(per_target)][: self.n]
        natural = self.n - len(steered)
        days, day_weights, incidents = self._day_weights()
        pick_subcat = self._subcat_picker(incidents)
        slots = []
        for day in sorted(rng.choices(days, weights=day_weights, k=natural)):
            channel = self._channel(day)
            slots.append((self._when(day, channel), day, channel))
        slots.sort(key=lambda x: x[0])
        bar = tqdm(total=self.n, desc="生成历史案件", unit="件", disable=not progress, mininterval=0.5)
        batch: list[_Sim] = []
        try:
            for at, day, channel in slots:
                repeat = None
                if rng.random() < P_REPEAT:
                    window = [r for r in self.recent if dt.timedelta(0) < at - r.f["submitted_at"] <= dt.timedelta(days=7)]
                    repeat = rng.choice(window) if window else None
                sim = self._new_case(at, channel, pick_subcat(day, channel), repeat=repeat)
                sim.repeat_of = repeat
                sim.f["tracking_code"] = self._tracking_code(at)
                self.story(sim, None)
                self.recent.append(sim)
                batch.append(sim)
                if len(batch) >= self.batch_size:
                    self._flush(batch)
                    bar.update(len(batch))
                    batch = []
            for target in steered:
                sim = self._steer(target, pick_subcat)
                batch.append(sim)
                if len(batch) >= self.batch_size:
                    self._flush(batch)
                    bar.update(len(batch))
                    batch = []
            if batch:
                self._flush(batch)
                bar.update(len(batch))
        finally:
            bar.close()
        self.result.states = dict(sorted(self.states.items()))
        return self.result

    def _steer(self, target: _Target, pick_subcat) -> _Sim:
        """A recent case that ends in `target`'s state: retried with other times until it does."""
        rng = self.rng
        sim = None
        for _ in range(40):
            at = self.now - dt.timedelta(days=rng.uniform(*target.days))
            day = at.astimezone(self.tz).date()
            channel = rng.choice((Channel.HOTLINE, Channel.WEB, Channel.WEB, Channel.HOTLINE, Channel.VISIT))
            sim = self._new_case(at, channel, pick_subcat(day, channel), force=target.force)
            self.story(sim, target.force)
            if target.check(sim):
                break
        sim.f["tracking_code"] = self._tracking_code(sim.f["submitted_at"])
        return sim

    def _flush(self, batch: list[_Sim]) -> None:
        with transaction.atomic():
            plain = [s for s in batch if s.master is None]
            merged = [s for s in batch if s.master is not None]
            for group in (plain, merged):
                objs = [s.build() for s in group]
                Case.objects.bulk_create(objs)
                for s, obj in zip(group, objs):
                    s.obj = obj
            for pk, n in self.master_counts.items():
                Case.objects.filter(pk=pk).update(reporter_count=F("reporter_count") + n)
            self.master_counts.clear()
            CaseAssignment.objects.bulk_create([CaseAssignment(case_id=s.obj.pk, **a) for s in batch for a in s.assignments])
            extensions = []
            for s in batch:
                for e in s.extensions:
                    e["obj"] = ExtensionRequest(case_id=s.obj.pk, **{k: v for k, v in e.items() if k != "obj"})
                    extensions.append(e["obj"])
            ExtensionRequest.objects.bulk_create(extensions)
            co_reporters = [CoReporter(case_id=s.obj.pk, **fields) for s in batch for fields in s.co_reporters]
            co_reporters += [CoReporter(case_id=sim.obj.pk, **fields) for sim, fields in self.pending_co]
            CoReporter.objects.bulk_create(co_reporters)
            self.pending_co.clear()
            events = []
            for s in batch:
                case_id = s.obj.pk
                for e in s.events:
                    data = e["data"]
                    if any(isinstance(v, _Ref) for v in data.values()):
                        data = {k: (v.resolve() if isinstance(v, _Ref) else v) for k, v in data.items()}
                    # Facts and verdicts the event does not carry are null.
                    events.append((case_id, *(data if name == "data" else e.get(name) for name in _EVENT_FIELDS[1:])))
                self.states[s.state] += 1
            _insert_events(events)
        self.result.cases += len(batch)
        self.result.events += len(events)
        for s in batch:  # keep what a later merge needs, drop the rest
            s.events, s.assignments, s.extensions, s.co_reporters, s.side = [], [], [], [], []
