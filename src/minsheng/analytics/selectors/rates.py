"""Reads of the measuring layer (问效于民): the rates of every unit, place and the whole
district for any period, the composite score, and the monthly ranking with its red and
black lists (红黑榜). The definitions are in docs/metrics.md; this module is their one
implementation.

Everything is computed from the event log (`CaseEvent`), never from the mutable columns of
`Case`: a figure for March stays what it was when April's events arrive. Each figure is
anchored on one kind of event and counted in the period that event falls in, for the unit
named in that event's `unit` (the main handling unit it concerns).

Cost: a handful of queries per call, whatever the number of cases, each reading one index
range of the period's events. The counts are conditional aggregates. The figures that pair an
event with its case's earlier ones (was the dispatch acknowledged by its deadline? which
deadline was in force at the reply?) read what the engine recorded on the acknowledgement,
contact or reply when it was appended (`cases/episodes.py`: the episode's dispatch time and
unit, the deadline it was held to, whether it is the episode's first), so no statement joins
an event to its case's history. Only the working-hours arithmetic runs in Python, O(1) per
first reply (see `clock.py`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from typing import Iterable

from django.db import NotSupportedError, connection, transaction
from django.db.models import Case, Count, F, FloatField, Func, IntegerField, Q, Value, When
from django.utils import timezone

from minsheng.cases.models import CaseEvent
from minsheng.core.choices import UnitKind
from minsheng.core.models import Unit

from .. import conf
from ..clock import get_work_clock

FEEDBACK_ACTIONS = ("feedback_close", "feedback_reopen")
RANKED_KINDS = (UnitKind.DEPARTMENT, UnitKind.STREET, UnitKind.COMMUNITY)
HANDLING_KINDS = RANKED_KINDS
# Run the three statements of a figure at once on PostgreSQL (see `_tallies`).
PARALLEL = True


# ---------------------------------------------------------------- results


@dataclass
class Tally:
    """The counts behind the rates of one unit (or place, or the district) in one period."""

    dispatches: int = 0  # 派单 events to the unit
    responded: int = 0  # of those: acknowledged by the deadline and resident contacted by the deadline
    acknowledged_on_time: int = 0
    contacted_on_time: int = 0
    delegations_in: int = 0  # 下派 from the street office to this community
    returns: int = 0  # 退单
    replies: int = 0  # 办结答复, every one (a re-handled case replies again)
    replies_on_time: int = 0
    first_replies: int = 0  # the first reply after each dispatch: what handling time measures
    handling_seconds: float = 0.0  # working seconds, dispatch → first reply, summed
    send_backs: int = 0  # 退回重办 by the command centre
    reopens: int = 0  # 不满意重办 by the resident
    extensions_approved: int = 0
    feedbacks: int = 0  # residents' answers (评价): closes and reopens
    resolved: int = 0
    satisfied: int = 0
    basic: int = 0
    unsatisfied: int = 0
    no_feedback_closes: int = 0  # closed after the feedback window without an answer
    overdue: int = 0  # red flags (红牌) raised

    def add(self, other: "Tally", *, as_roll_up: bool = False) -> None:
        for f in fields(Tally):
            if as_roll_up and f.name == "delegations_in":
                continue  # a street office passing a case to its own community receives nothing new
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def received(self) -> int:
        """Cases received (收件量): dispatches plus delegations from the street office."""
        return self.dispatches + self.delegations_in


def _ratio(numerator: float, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass
class UnitRates(Tally):
    """The counts and rates of one unit (a department, street office or community), one
    place (street or community, by the case's location) or the district, in one period.
    A rate is a fraction 0..1, None when its denominator is 0; the score is 0..100."""

    unit: Unit | None = None
    response_rate: float | None = None
    resolution_rate: float | None = None
    satisfaction_rate: float | None = None
    on_time_rate: float | None = None
    return_rate: float | None = None
    rehandle_rate: float | None = None
    extension_rate: float | None = None
    avg_handling_hours: float | None = None
    score: float | None = None

    @classmethod
    def build(cls, unit: Unit | None, tally: Tally, *, basic_weight: float, weights: dict[str, float]) -> "UnitRates":
        counts = {f.name: getattr(tally, f.name) for f in fields(Tally)}
        rates = cls(unit=unit, **counts)
        rates.response_rate = _ratio(tally.responded, tally.dispatches)
        rates.resolution_rate = _ratio(tally.resolved, tally.feedbacks)
        rates.satisfaction_rate = _ratio(tally.satisfied + basic_weight * tally.basic, tally.feedbacks)
        rates.on_time_rate = _ratio(tally.replies_on_time, tally.replies)
        rates.return_rate = _ratio(tally.returns, tally.dispatches)
        rates.rehandle_rate = _ratio(tally.send_backs + tally.reopens, tally.replies)
        rates.extension_rate = _ratio(tally.extensions_approved, tally.dispatches)
        hours = _ratio(tally.handling_seconds, tally.first_replies)
        rates.avg_handling_hours = hours / 3600 if hours is not None else None
        rates.score = composite_score(
            {"response": rates.response_rate, "resolution": rates.resolution_rate, "satisfaction": rates.satisfaction_rate},
            weights,
        )
        return rates


def composite_score(components: dict[str, float | None], weights: dict[str, float]) -> float | None:
    """0..100: the weighted mean of the component rates that have a value. A component
    without a denominator in the period (no feedback yet, say) drops out and the others are
    re-weighted, so a unit is not punished or rewarded for what did not happen."""
    used = {key: weights[key] for key, value in components.items() if value is not None and weights.get(key, 0) > 0}
    if not used:
        return None
    return 100 * sum(components[key] * w for key, w in used.items()) / sum(used.values())


# ---------------------------------------------------------------- periods


def _as_instant(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    """[first day of the month, first day of the next month)."""
    first = month.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following


# ---------------------------------------------------------------- SQL pieces


class Epoch(Func):
    """POSIX seconds (UTC) of a timestamp column, to the microsecond on PostgreSQL and the
    millisecond on SQLite."""

    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"EXTRACT(EPOCH FROM {sql})::double precision", params

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"(CAST(strftime('%%s', {sql}) AS REAL) + CAST(substr(strftime('%%f', {sql}), 3) AS REAL))",
            [*params, *params],
        )

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError("analytics: Epoch() is written for PostgreSQL and SQLite")


def on_time() -> Q:
    """An acknowledgement, first contact or reply at or before the deadline it was held to."""
    return Q(at__lte=F("due_at"))


GROUP_KEYS = {
    "unit": "unit_id",
    "street": "case__street_id",
    "community": "case__community_id",
    "district": None,
}
# A response is credited to the unit its episode's dispatch went to, not to the unit (a
# community, after a delegation) that acknowledged or contacted.
RESPONSE_GROUP_KEYS = {**GROUP_KEYS, "unit": "episode_unit_id"}


def _events(start: dt.datetime, end: dt.datetime, group: str, ids: Iterable[int] | None):
    qs = CaseEvent.objects.filter(at__gte=start, at__lt=end)
    key = GROUP_KEYS[group]
    if ids is not None and key is not None:
        qs = qs.filter(**{f"{key}__in": list(ids)})
    return qs.order_by(), (F(key) if key else Value(0, output_field=IntegerField()))


def _tallies(*, start, end, group: str, ids: Iterable[int] | None = None) -> dict[int | None, Tally]:
    """Counts per group key (unit id, street id, community id, or 0 for the district).

    Three statements (plain counts, responses, replies), each a scan of its own rows, run at
    once where they can be (`read_in_parallel`)."""
    start, end, ids = _as_instant(start), _as_instant(end), (list(ids) if ids is not None else None)
    parts = (_count_events, _count_responses, _count_replies)
    results = read_in_parallel([lambda part=part: part(start, end, group, ids) for part in parts])
    tallies: dict[int | None, Tally] = {}
    for result in results:
        for key, counts in result.items():
            tallies.setdefault(key, Tally()).add(counts)
    return tallies


def _tune(conn) -> None:
    with conn.cursor() as cursor:
        # Short queries over many rows: the JIT compiler, which their cost estimates switch
        # on, spends more time compiling than it saves.
        cursor.execute("SET LOCAL jit = off")
        # A month of events hashed and sorted in memory, not on disk (the default is 4 MB).
        cursor.execute("SET LOCAL work_mem = '64MB'")
        # The place figures join tens of thousands of events to their cases: a hash join reads
        # each side once, where the nested loop the planner sometimes picks visits a case's
        # scattered row once per event (measured 5-10x slower at a million cases).
        cursor.execute("SET LOCAL enable_nestloop = off")


def _may_read_in_parallel() -> bool:
    """PostgreSQL, or SQLite in a file (an in-memory database is private to its connection)."""
    if connection.vendor == "postgresql":
        return True
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict.get("NAME") or "")
        return bool(name) and not connection.is_in_memory_db()
    return False


def read_in_parallel(reads: list, *, tuned: bool = True) -> list:
    """The results of `reads` (callables that query the database), in order. Outside a
    transaction, each runs on its own connection at once (both drivers release the GIL while
    the database works, so they take the time of the longest); inside one (a test, a caller's
    atomic block) one after the other on the caller's connection, which sees its uncommitted
    rows. PostgreSQL reads run in a tuned transaction (`_tune`); SQLite reads in autocommit —
    the embedded deployment begins transactions IMMEDIATE, which would make a read wait for
    writers and block them. `tuned=False` leaves each thread outside any transaction, for
    reads that themselves call `read_in_parallel`."""
    if len(reads) > 1 and not connection.in_atomic_block and PARALLEL and _may_read_in_parallel():
        with ThreadPoolExecutor(max_workers=len(reads)) as pool:
            return list(pool.map(_on_own_connection if tuned else _closing_connection, reads))
    if connection.vendor == "postgresql" and tuned:
        with transaction.atomic():  # SET LOCAL lasts until its end
            _tune(connection)
            return [read() for read in reads]
    return [read() for read in reads]


def _closing_connection(read):
    try:
        return read()
    finally:
        connection.close()


def _on_own_connection(read):
    """Run one read on this worker thread's own connection, then close it."""
    try:
        if connection.vendor != "postgresql":
            return read()
        with transaction.atomic():
            _tune(connection)
            return read()
    finally:
        connection.close()


# Counts that need only the action: read from the (action, at, unit, case, id) index alone.
PLAIN_COUNTS = {
    "dispatch": "dispatches",
    "delegate": "delegations_in",
    "return": "returns",
    "reply": "replies",
    "send_back": "send_backs",
    "feedback_reopen": "reopens",
    "close_no_feedback": "no_feedback_closes",
}


def _count_events(start: dt.datetime, end: dt.datetime, group: str, ids: list[int] | None) -> dict[int | None, Tally]:
    tallies: dict[int | None, Tally] = defaultdict(Tally)
    # 1. Plain counts of the period's events, in two reads: the counts that need only the
    #    action, and those of the events whose verdict decides whether they count (approved
    #    extensions, red flags, the residents' answers).
    events, key = _events(start, end, group, ids)
    for row in events.filter(action__in=list(PLAIN_COUNTS)).values_list(key, "action").annotate(n=Count("id")):
        k, action, n = row
        setattr(tallies[k], PLAIN_COUNTS[action], n)
    #    Their verdict is in the `outcome` and `resolved` columns, copied from `data` when
    #    the event was appended (cases/episodes.py::judged_outcome), so this read stays in
    #    the index too.
    feedback = Q(action__in=FEEDBACK_ACTIONS)
    judged = (
        events.filter(action__in=["decide_extension", "flag", *FEEDBACK_ACTIONS])
        .values(k=key)
        .annotate(
            extensions_approved=Count("id", filter=Q(action="decide_extension", outcome="approved")),
            overdue=Count("id", filter=Q(action="flag", outcome="red")),
            feedbacks=Count("id", filter=feedback),
            resolved=Count("id", filter=feedback & Q(resolved=True)),
            satisfied=Count("id", filter=feedback & Q(outcome="satisfied")),
            basic=Count("id", filter=feedback & Q(outcome="basic")),
            unsatisfied=Count("id", filter=feedback & Q(outcome="unsatisfied")),
        )
    )
    for row in judged:
        t = tallies[row.pop("k")]
        for name, value in row.items():
            setattr(t, name, value)
    return tallies


def _count_responses(start: dt.datetime, end: dt.datetime, group: str, ids: list[int] | None) -> dict[int | None, Tally]:
    tallies: dict[int | None, Tally] = defaultdict(Tally)
    # 2. Response, anchored on the period's dispatches: the first acknowledgements and first
    #    contacts of the episodes whose dispatch falls in the period, whenever they came, each
    #    with the deadline it was held to, and the event that completed a timely response
    #    marked (cases/episodes.py). One range of the (action, episode_at, ...) index; the
    #    credited unit is the dispatch's.
    key = RESPONSE_GROUP_KEYS[group]
    answers = CaseEvent.objects.filter(action__in=["acknowledge", "contact"], episode_at__gte=start, episode_at__lt=end, first_in_episode=True)
    if ids is not None and key is not None:
        answers = answers.filter(**{f"{key}__in": ids})
    timely = on_time()
    rows = (
        answers.order_by()
        .values(k=F(key) if key else Value(0, output_field=IntegerField()))
        .annotate(
            acknowledged_on_time=Count("id", filter=timely & Q(action="acknowledge")),
            contacted_on_time=Count("id", filter=timely & Q(action="contact")),
            responded=Count("id", filter=Q(responded=True)),
        )
    )
    for row in rows:
        t = tallies[row.pop("k")]
        for name, value in row.items():
            setattr(t, name, value)
    return tallies


def _count_replies(start: dt.datetime, end: dt.datetime, group: str, ids: list[int] | None) -> dict[int | None, Tally]:
    tallies: dict[int | None, Tally] = defaultdict(Tally)
    # 3. Replies: on time against the deadline in force at the reply, and the handling time
    #    of each episode's first reply, both recorded on the reply when it was appended
    #    (cases/episodes.py) and read from the (action, at, ...) index. Only the working-hours
    #    arithmetic runs in Python, O(1) per first reply (clock.py).
    events, key = _events(start, end, group, ids)
    timely = Case(When(on_time(), then=Value(1)), default=Value(0), output_field=IntegerField())
    first = Case(When(first_in_episode=True, then=Epoch("episode_at")), default=Value(None), output_field=FloatField())
    rows = events.filter(action="reply").values_list(key, timely, first, Epoch("at"))
    clock = None
    for k, on_time_, dispatched, replied in rows:
        t = tallies[k]
        t.replies_on_time += on_time_
        if dispatched is not None:
            clock = clock or get_work_clock()
            t.first_replies += 1
            t.handling_seconds += clock.between(dispatched, replied)
    return tallies


# ---------------------------------------------------------------- public selectors


def _build(unit: Unit | None, tally: Tally) -> UnitRates:
    return UnitRates.build(unit, tally, basic_weight=conf.basic_satisfaction_weight(), weights=conf.score_weights())


def unit_rates(
    *,
    start: dt.date | dt.datetime,
    end: dt.date | dt.datetime,
    unit_kind: str | None = None,
    units: Iterable[Unit] | None = None,
    rollup: bool = True,
) -> list[UnitRates]:
    """The rates of handling units over [start, end) (dates are local midnights).

    `units` (or every unit of `unit_kind`, or every handling unit) in org-tree order, one row
    each, zeros included. A unit is credited with the events whose `unit` is it; with
    `rollup`, a street office's row also includes its communities' events (the street answers
    for its territory), except the delegations it made to them.
    """
    if units is None:
        units = list(Unit.objects.filter(kind__in=[unit_kind] if unit_kind else HANDLING_KINDS).order_by("kind", "sort_order", "code"))
        counted = None if unit_kind is None else units
    else:
        units = counted = list(units)
    return _per_unit(start=start, end=end, units=units, counted=counted, rollup=rollup)


def _per_unit(*, start, end, units: list[Unit], counted: list[Unit] | None, rollup: bool) -> list[UnitRates]:
    """Rows for `units`; the queries are restricted to `counted` (and their communities) when
    given, and read every unit's events when None (cheaper than a long IN list)."""
    children: dict[int, list[int]] = {}
    if rollup:
        street_ids = [u.pk for u in units if u.kind == UnitKind.STREET]
        for child_id, parent_id in Unit.objects.filter(kind=UnitKind.COMMUNITY, parent_id__in=street_ids).values_list("id", "parent_id"):
            children.setdefault(parent_id, []).append(child_id)
    wanted = None if counted is None else {u.pk for u in counted} | {c for ids in children.values() for c in ids}
    tallies = _tallies(start=start, end=end, group="unit", ids=wanted)
    result = []
    for unit in units:
        total = Tally()
        total.add(tallies.get(unit.pk, Tally()))
        for child_id in children.get(unit.pk, ()):
            total.add(tallies.get(child_id, Tally()), as_roll_up=True)
        result.append(_build(unit, total))
    return result


def location_rates(
    *, start: dt.date | dt.datetime, end: dt.date | dt.datetime, level: str, units: Iterable[Unit] | None = None
) -> list[UnitRates]:
    """The rates by where the problem is (the case's street or community), whichever unit
    handled it: `level` is "street" or "community". One row per street/community."""
    if level not in ("street", "community"):
        raise ValueError("level must be 'street' or 'community'")
    kind = UnitKind.STREET if level == "street" else UnitKind.COMMUNITY
    units = list(units) if units is not None else list(Unit.objects.filter(kind=kind).order_by("sort_order", "code"))
    tallies = _tallies(start=start, end=end, group=level, ids=[u.pk for u in units])
    return [_build(unit, tallies.get(unit.pk, Tally())) for unit in units]


def district_rates(*, start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> UnitRates:
    """The whole district's rates over [start, end): every event, whichever unit."""
    tallies = _tallies(start=start, end=end, group="district")
    district = Unit.objects.filter(kind=UnitKind.DISTRICT).first()
    return _build(district, next(iter(tallies.values()), Tally()))


# ---------------------------------------------------------------- ranking


@dataclass
class RankingRow:
    rates: UnitRates
    rank: int | None  # None: not ranked (see `note`)
    note: str = ""

    @property
    def unit(self) -> Unit:
        return self.rates.unit


@dataclass
class Ranking:
    """The month's ranking of one class of units (部门 / 街道 / 社区) and its red list
    (红榜, the best) and black list (黑榜, the worst, worst first)."""

    month: dt.date
    kind: str
    rows: list[RankingRow]
    red: list[RankingRow]
    black: list[RankingRow]
    min_volume: int
    list_size: int
    weights: dict[str, float]


def monthly_ranking(*, month: dt.date, kind: str, min_volume: int | None = None, list_size: int | None = None) -> Ranking:
    """Rank the active units of `kind` by composite score for `month` (streets with their
    communities rolled up). Units that received fewer than `min_volume` cases, or have no
    scored rate, are listed unranked after the ranked ones. Equal scores share a rank
    (1, 2, 2, 4); ties are listed by volume, then org order."""
    return monthly_rankings(month=month, kinds=(kind,), min_volume=min_volume, list_size=list_size)[kind]


def monthly_rankings(
    *, month: dt.date, kinds: Iterable[str] = RANKED_KINDS, min_volume: int | None = None, list_size: int | None = None
) -> dict[str, Ranking]:
    """`monthly_ranking` for several classes of units at once, from one pass over the month's
    events (what the monthly briefing and the ranking page need)."""
    kinds = tuple(kinds)
    for kind in kinds:
        if kind not in RANKED_KINDS:
            raise ValueError(f"kind must be one of {', '.join(RANKED_KINDS)}")
    min_volume = conf.ranking_min_volume() if min_volume is None else min_volume
    list_size = conf.ranking_list_size() if list_size is None else list_size
    start, end = month_bounds(month)
    units = list(Unit.objects.filter(kind__in=kinds, active=True).order_by("sort_order", "code"))
    every_class = set(kinds) == set(RANKED_KINDS)
    all_rates = _per_unit(start=start, end=end, units=units, counted=None if every_class else units, rollup=True)
    return {
        kind: _rank(start, kind, [r for r in all_rates if r.unit.kind == kind], min_volume, list_size)
        for kind in kinds
    }


def _rank(month: dt.date, kind: str, all_rates: list[UnitRates], min_volume: int, list_size: int) -> Ranking:
    ranked, unranked = [], []
    for order, rates in enumerate(all_rates):
        if rates.received < min_volume:
            unranked.append(RankingRow(rates, None, f"收件量不足{min_volume}件"))
        elif rates.score is None:
            unranked.append(RankingRow(rates, None, "无可评分数据"))
        else:
            ranked.append((order, rates))
    ranked.sort(key=lambda pair: (-round(pair[1].score, 9), -pair[1].received, pair[0]))
    rows: list[RankingRow] = []
    for position, (_, rates) in enumerate(ranked, start=1):
        tied = rows and round(rows[-1].rates.score, 9) == round(rates.score, 9)
        rows.append(RankingRow(rates, rows[-1].rank if tied else position))
    red = rows[:list_size]
    black = list(reversed(rows[max(list_size, len(rows) - list_size):]))
    return Ranking(
        month=month, kind=kind, rows=rows + unranked, red=red, black=black,
        min_volume=min_volume, list_size=list_size, weights=conf.score_weights(),
    )
