"""The leaders' dashboard (数据看板): the overview of a scope (today, a month or any range,
a 12-month trend, breakdowns by category and channel), the ranking tables, and the cases
behind any figure shown (drill-down, 穿透).

Scope follows the org tree (see `scope_for`): the district roles see the district; a street
office sees its street and its communities; a community its community; a department itself.
Operators record calls and have no dashboard.

Two kinds of figure, each with its drill-down defined the same way as the figure:

- **Event figures** come from `rates.py` (counted from the event log, credited to the
  event's unit, street offices with their communities rolled up; see docs/metrics.md). The
  cases behind one are the cases of its anchor events, one row per anchor event: a case
  dispatched twice in the month is listed twice, because the figure counts it twice.
- **Intake figures** (来件量, by category, by channel, and the snapshot of cases now
  overdue) count cases by their submission time, among the cases the user may see
  (`Case.objects.visible_to`).

Cost: the overview is a fixed number of aggregate queries whatever the number of cases
(the rates' three statements, one grouped query for the trend, three for intake); a
drill-down is one indexed join, paginated in the database.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connections, transaction
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.cases.choices import OPEN_STATES, Channel, DueFlag
from minsheng.cases.models import Case, CaseEvent, Category
from minsheng.core.choices import Role, UnitKind
from minsheng.core.models import Unit

from .. import conf
from .rates import (
    RANKED_KINDS,
    Ranking,
    RankingRow,
    UnitRates,
    district_rates,
    month_bounds,
    monthly_rankings,
    read_in_parallel,
    unit_rates,
)

FEEDBACK_ACTIONS = ("feedback_close", "feedback_reopen")
CLOSE_ACTIONS = ("feedback_close", "close_no_feedback")
TREND_MONTHS = 12

# ---------------------------------------------------------------- scope

DISTRICT_ROLES = (Role.ADMIN, Role.DISPATCHER, Role.LEADER)


@dataclass(frozen=True)
class Scope:
    """What part of the district a user's dashboard covers: `unit` None is the whole district."""

    unit: Unit | None
    unit_ids: tuple[int, ...] = ()  # the unit and, for a street office, its communities

    @property
    def is_district(self) -> bool:
        return self.unit is None

    def covers(self, unit: Unit) -> bool:
        return self.is_district or unit.pk in self.unit_ids


def _unit_scope(unit: Unit) -> Scope:
    ids = [unit.pk]
    if unit.kind == UnitKind.STREET:
        ids += list(Unit.objects.filter(kind=UnitKind.COMMUNITY, parent=unit).values_list("id", flat=True))
    return Scope(unit=unit, unit_ids=tuple(ids))


def scope_for(user) -> Scope:
    """The dashboard scope of `user`; PermissionDenied for operators, for handlers without a
    handling unit and for anyone not signed in."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise PermissionDenied
    if user.is_superuser or user.role in (Role.ADMIN, Role.DISPATCHER):
        return Scope(unit=None)
    unit = user.unit
    if user.role == Role.LEADER:
        if unit is None or unit.kind == UnitKind.DISTRICT:
            return Scope(unit=None)
        return _unit_scope(unit)
    if user.role == Role.HANDLER and unit is not None and unit.kind in RANKED_KINDS:
        return _unit_scope(unit)
    raise PermissionDenied


DISTRICT = "district"


def briefing_scope(user) -> str | Unit | None:
    """The monthly briefing (月度通报) a user may download: DISTRICT for the district's
    briefing, a street `Unit` for that street's own, None when the user may have none."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser or user.role in (Role.ADMIN, Role.DISPATCHER):
        return DISTRICT
    unit = user.unit
    if user.role == Role.LEADER and (unit is None or unit.kind == UnitKind.DISTRICT):
        return DISTRICT
    if user.role in (Role.LEADER, Role.HANDLER) and unit is not None and unit.kind == UnitKind.STREET:
        return unit
    return None


def may_download_briefing(user) -> bool:
    return briefing_scope(user) is not None


def may_see_dashboard(user) -> bool:
    """Whether `user` has a dashboard (the same rule as `scope_for`, without its queries:
    the navigation asks on every page)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.role in DISTRICT_ROLES:
        return True
    return user.role == Role.HANDLER and user.unit is not None and user.unit.kind in RANKED_KINDS


def _target_unit(scope: Scope, unit_id: int | None) -> Unit | None:
    """The unit a figure is about: `unit_id` if the scope covers it (else PermissionDenied, so
    a handler cannot read another unit's figures), or the scope's own unit."""
    if unit_id is None:
        return scope.unit
    unit = Unit.objects.filter(pk=unit_id, kind__in=RANKED_KINDS).first()
    if unit is None or not scope.covers(unit):
        raise PermissionDenied
    return unit


# ---------------------------------------------------------------- periods


def _instant(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(dt.datetime.combine(value, dt.time.min))


def _shift_month(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@contextmanager
def tuned_reads(using: str):
    """Evaluate the dashboard's own statements inside this block. On PostgreSQL: one
    transaction with the JIT compiler off — the per-event sub-queries make the planner's
    cost estimates large enough to switch it on, and compiling took longer than the query
    (measured 3.5 s against 0.7 s for a month's responded dispatches). Not around the
    `rates` calls, which run their statements in parallel outside a transaction."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


# ---------------------------------------------------------------- metrics


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    kind: str  # "event": anchored on events (rates.py); "intake": cases by submission time


# The figures a leader can drill into. Event metrics map onto the counts of `rates.Tally`.
METRICS = {
    m.key: m
    for m in [
        Metric("received", _("收件量"), "event"),
        Metric("dispatched", _("派单量"), "event"),
        Metric("responded", _("按时响应"), "event"),
        Metric("returned", _("退单"), "event"),
        Metric("replied", _("答复"), "event"),
        Metric("replied_on_time", _("按期答复"), "event"),
        Metric("rehandled", _("重办"), "event"),
        Metric("extended", _("延期"), "event"),
        Metric("overdue", _("超期(红牌)"), "event"),
        Metric("rated", _("评价"), "event"),
        Metric("resolved", _("已解决"), "event"),
        Metric("satisfied", _("满意(含基本满意)"), "event"),
        Metric("unsatisfied", _("不满意"), "event"),
        Metric("no_feedback", _("未评价办结"), "event"),
        Metric("closed", _("办结"), "event"),
        Metric("intake", _("来件量"), "intake"),
        Metric("open_overdue", _("当前超期未办结"), "intake"),
    ]
}


def figure_of(rates: UnitRates, metric: str) -> int:
    """The count a metric's figure shows, read from the rates of a unit or the district."""
    return {
        "received": lambda r: r.received,
        "dispatched": lambda r: r.dispatches,
        "responded": lambda r: r.responded,
        "returned": lambda r: r.returns,
        "replied": lambda r: r.replies,
        "replied_on_time": lambda r: r.replies_on_time,
        "rehandled": lambda r: r.send_backs + r.reopens,
        "extended": lambda r: r.extensions_approved,
        "overdue": lambda r: r.overdue,
        "rated": lambda r: r.feedbacks,
        "resolved": lambda r: r.resolved,
        "satisfied": lambda r: r.satisfied + r.basic,
        "unsatisfied": lambda r: r.unsatisfied,
        "no_feedback": lambda r: r.no_feedback_closes,
    }[metric](rates)


def metric_label(metric: str) -> str:
    """A readable name for any drill-down metric, including "category:<code>" and
    "channel:<code>"; ValueError for an unknown one."""
    if metric in METRICS:
        return str(METRICS[metric].label)
    kind, _sep, code = metric.partition(":")
    if kind == "category":
        if code == "none":
            return str(_("未分类"))
        name = Category.objects.filter(code=code).values_list("name", flat=True).first()
        if name is None:
            raise ValueError(f"unknown category {code!r}")
        return f"{_('分类')}：{name}"
    if kind == "channel":
        labels = dict(Channel.choices)
        if code not in labels:
            raise ValueError(f"unknown channel {code!r}")
        return f"{_('渠道')}：{labels[code]}"
    raise ValueError(f"unknown metric {metric!r}")


_EVENT_FILTERS = {
    "dispatched": Q(action="dispatch"),
    "returned": Q(action="return"),
    "replied": Q(action="reply"),
    "rehandled": Q(action__in=["send_back", "feedback_reopen"]),
    "extended": Q(action="decide_extension", outcome="approved"),
    "overdue": Q(action="flag", outcome="red"),
    "rated": Q(action__in=FEEDBACK_ACTIONS),
    "resolved": Q(action__in=FEEDBACK_ACTIONS, resolved=True),
    "satisfied": Q(action__in=FEEDBACK_ACTIONS, outcome__in=["satisfied", "basic"]),
    "unsatisfied": Q(action__in=FEEDBACK_ACTIONS, outcome="unsatisfied"),
    "no_feedback": Q(action="close_no_feedback"),
    "closed": Q(action__in=CLOSE_ACTIONS),
}


def _credited(unit: Unit | None, field: str = "unit_id") -> Q:
    """Events credited to `unit` as the rates credit them (a street office with its
    communities), by the unit in `field`; no condition for the district."""
    if unit is None:
        return Q()
    return Q(**{f"{field}__in": list(_unit_scope(unit).unit_ids)})


def _received(unit: Unit | None) -> Q:
    """Dispatches and delegations in; a street office's roll-up leaves out the delegations it
    made to its own communities (they are not new cases for its territory)."""
    if unit is None:
        return Q(action__in=["dispatch", "delegate"])
    ids = list(_unit_scope(unit).unit_ids)
    return Q(action="dispatch", unit_id__in=ids) | Q(action="delegate", unit_id=unit.pk)


def _prefixed(q: Q, prefix: str) -> Q:
    """The same condition on a related event (`events__action=...` from a case)."""
    result = Q()
    result.connector, result.negated = q.connector, q.negated
    result.children = [_prefixed(child, prefix) if isinstance(child, Q) else (prefix + child[0], child[1]) for child in q.children]
    return result


def _anchor_condition(metric: str, unit: Unit | None, start, end) -> Q:
    """Which events a metric counts, before any pairing with the case's other events."""
    period = Q(at__gte=_instant(start), at__lt=_instant(end))
    if metric == "received":
        return period & _received(unit)
    if metric == "responded":
        # A dispatch answered in time has exactly one event marked as completing its response
        # (cases/episodes.py): that event stands for it, found by its dispatch's time and unit
        # through a partial index of those events alone.
        return Q(responded=True, episode_at__gte=_instant(start), episode_at__lt=_instant(end)) & _credited(unit, "episode_unit_id")
    action = {"replied_on_time": Q(action="reply")}.get(metric) or _EVENT_FILTERS[metric]
    return period & _credited(unit) & action


# The anchor's time as the list shows it: the dispatch's for the response figure.
_ANCHOR_TIME = {"responded": "episode_at"}


def _pair(qs: QuerySet, metric: str, prefix: str) -> QuerySet:
    """Keep the anchor rows of `qs` (events, or cases joined to their anchor event through
    `prefix`) that a paired figure counts, by what the event recorded when it was appended
    (cases/episodes.py), as the rates read it. replied_on_time: the reply at or before the
    deadline in force when it was written. (The response figure's anchor is itself the
    event that completed a timely response: nothing to pair.)"""
    if metric == "replied_on_time":
        # Annotations, then a filter on them: references to the joined event resolved in a
        # new filter() call would join a second, unrelated event.
        return qs.alias(p_at=F(f"{prefix}at"), p_due=F(f"{prefix}due_at")).filter(p_at__lte=F("p_due"))
    return qs


def anchor_events(*, metric: str, unit: Unit | None, start, end) -> QuerySet:
    """The events an event figure counts, for `unit` (rolled up) or the district."""
    if metric not in METRICS or METRICS[metric].kind != "event":
        raise ValueError(f"not an event metric: {metric!r}")
    anchors = _anchor_condition(metric, unit, start, end)
    return _pair(CaseEvent.objects.filter(anchors).order_by(), metric, "")


def _intake_filter(metric: str, start, end) -> Q:
    if metric == "open_overdue":
        return Q(state__in=OPEN_STATES, due_flag=DueFlag.RED)
    period = Q(submitted_at__gte=_instant(start), submitted_at__lt=_instant(end))
    if metric == "intake":
        return period
    kind, _sep, code = metric.partition(":")
    if kind == "category":
        if code == "none":
            return period & Q(category__isnull=True)
        return period & (Q(category__code=code, category__parent__isnull=True) | Q(category__parent__code=code))
    if kind == "channel":
        return period & Q(channel=code)
    raise ValueError(f"unknown metric {metric!r}")


def cases_behind(*, user, metric: str, unit_id: int | None, start, end) -> QuerySet:
    """The cases behind a figure of the dashboard, newest first, among those `user` may see.

    Event metrics (received, responded, resolved, satisfied, overdue...): one row per anchor
    event, annotated `anchor_at` (when it happened) and `anchor_action`, for `unit_id`
    (rolled up) or, with None, the user's scope. Intake metrics ("intake",
    "category:<code>", "channel:<code>", "open_overdue"): one row per case, `anchor_at` its
    submission time; they cover the user's scope and take no unit.

    One statement: the cases joined to their anchor events (read through the (action, at)
    index), the paired figures' conditions as per-row sub-queries on the case's own events.

    PermissionDenied for a user without a dashboard or a unit outside their scope;
    ValueError for an unknown metric."""
    scope = scope_for(user)
    metric_label(metric)  # validates
    visible = Case.objects.visible_to(user).select_related("category__parent", "street", "community", "main_unit")
    if metric in METRICS and METRICS[metric].kind == "event":
        unit = _target_unit(scope, unit_id)
        # One filter() call: every condition applies to the same joined event row.
        anchors = _anchor_condition(metric, unit, start, end)
        joined = visible.filter(_prefixed(anchors, "events__"))
        return (
            _pair(joined, metric, "events__")
            .annotate(anchor_at=F("events__" + _ANCHOR_TIME.get(metric, "at")), anchor_action=F("events__action"),
                      anchor_id=F("events__id"))
            .order_by("-anchor_at", "-anchor_id")
        )
    if unit_id is not None and (scope.unit is None or unit_id != scope.unit.pk):
        raise ValueError("intake figures cover the whole scope: no unit")
    return visible.filter(_intake_filter(metric, start, end)).annotate(anchor_at=F("submitted_at")).order_by("-submitted_at", "-id")


def _rates_for(unit: Unit | None, start, end) -> UnitRates:
    if unit is None:
        return district_rates(start=start, end=end)
    return unit_rates(start=start, end=end, units=[unit])[0]


def _rate(numerator: float, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def trend_cache_seconds() -> int:
    """How long the trend keeps a month that has ended (MINSHENG_DASHBOARD_CACHE_SECONDS,
    default 600; 0 turns the cache off). Figures are anchored on events, so an ended month
    changes only through late events (a back-dated submission, a red flag raised late)."""
    return int(getattr(settings, "MINSHENG_DASHBOARD_CACHE_SECONDS", 600))


def _trend(user, scope: Scope, last_month: dt.date) -> list[dict]:
    """The intake, the received count and the resolution and satisfaction rates of the 12
    months up to `last_month`: grouped queries over the events and over the cases, for the
    months not in the cache (ended months are kept `trend_cache_seconds()`; the current
    one is always counted afresh)."""
    first = _shift_month(last_month, -(TREND_MONTHS - 1))
    months = [_shift_month(first, i) for i in range(TREND_MONTHS)]
    this_month = timezone.localdate().replace(day=1)
    weight = conf.basic_satisfaction_weight()
    seconds = trend_cache_seconds()

    def key(month: dt.date) -> str:
        return f"minsheng:dashboard:trend:{scope.unit.pk if scope.unit else 'district'}:{month:%Y-%m}:{weight}"

    ended = [m for m in months if m < this_month]
    cached = cache.get_many([key(m) for m in ended]) if seconds > 0 and ended else {}
    missing = [m for m in months if key(m) not in cached]
    fresh: dict[dt.date, dict] = {}
    if missing:
        span = [m for m in months if missing[0] <= m <= missing[-1]]  # consecutive, cached ones included
        # A few months per statement, the statements at once (`read_in_parallel`): each is a
        # range of the (action, at) index, and a year of them is a million entries at a
        # million cases.
        chunks = [span[i:i + TREND_MONTHS_PER_READ] for i in range(0, len(span), TREND_MONTHS_PER_READ)]
        by_month, intake = {}, {}
        for events, cases in read_in_parallel([lambda chunk=chunk: _trend_counts(user, scope, chunk) for chunk in chunks]):
            by_month.update(events)
            intake.update(cases)
        for month in missing:
            row = by_month.get(month.isoformat(), {})
            feedbacks = row.get("feedbacks", 0)
            fresh[month] = {
                "month": month,
                "intake": intake.get(month.isoformat(), 0),
                "received": row.get("received", 0),
                "feedbacks": feedbacks,
                "resolution_rate": _rate(row.get("resolved", 0), feedbacks),
                "satisfaction_rate": _rate(row.get("satisfied", 0) + weight * row.get("basic", 0), feedbacks),
            }
        if seconds > 0:
            cache.set_many({key(m): fresh[m] for m in missing if m < this_month}, seconds)
    return [fresh[m] if m in fresh else cached[key(m)] for m in months]


TREND_MONTHS_PER_READ = 4


def _trend_counts(user, scope: Scope, months: list[dt.date]) -> tuple[dict, dict]:
    """For each of `months`: the counts behind the trend (received, the residents' answers
    and their verdicts) from the events, and the intake from the cases. A month at a time,
    plain conditional counts over one index range: grouping a year of events by a computed
    month cost fifteen times as much on SQLite as counting them."""
    feedback = Q(action__in=FEEDBACK_ACTIONS)
    received = _received(scope.unit)
    if scope.unit is None:
        wanted = Q(action__in=["dispatch", "delegate", *FEEDBACK_ACTIONS])  # one index range per action
    else:
        wanted = received | (_credited(scope.unit) & feedback)
    visible = Case.objects.visible_to(user)
    by_month, intake = {}, {}
    for month in months:
        start, end = _instant(month), _instant(_shift_month(month, 1))
        by_month[month.isoformat()] = (
            CaseEvent.objects.filter(at__gte=start, at__lt=end).filter(wanted).order_by()
            .aggregate(
                received=Count("id", filter=received),
                feedbacks=Count("id", filter=feedback),
                resolved=Count("id", filter=feedback & Q(resolved=True)),
                satisfied=Count("id", filter=feedback & Q(outcome="satisfied")),
                basic=Count("id", filter=feedback & Q(outcome="basic")),
            )
        )
        intake[month.isoformat()] = visible.filter(submitted_at__gte=start, submitted_at__lt=end).count()
    return by_month, intake


def _categories(visible: QuerySet, start, end) -> list[dict]:
    rows = (
        visible.filter(submitted_at__gte=_instant(start), submitted_at__lt=_instant(end))
        .order_by().values(top=Coalesce("category__parent_id", "category_id")).annotate(n=Count("id"))
    )
    counts = {row["top"]: row["n"] for row in rows}
    names = {c.pk: c for c in Category.objects.filter(pk__in=[k for k in counts if k is not None])}
    result = [
        {"metric": f"category:{names[pk].code}", "code": names[pk].code, "name": names[pk].name, "count": n}
        for pk, n in counts.items() if pk is not None
    ]
    result.sort(key=lambda row: (-row["count"], row["code"]))
    if counts.get(None):
        result.append({"metric": "category:none", "code": "", "name": str(_("未分类")), "count": counts[None]})
    return result


def _channels(visible: QuerySet, start, end) -> list[dict]:
    counts = dict(
        visible.filter(submitted_at__gte=_instant(start), submitted_at__lt=_instant(end))
        .order_by().values_list("channel").annotate(n=Count("id"))
    )
    return [
        {"metric": f"channel:{code}", "code": code, "name": str(label), "count": counts.get(code, 0)}
        for code, label in Channel.choices
    ]


@dataclass
class Period:
    start: dt.date
    end: dt.date  # exclusive
    month: dt.date | None  # set when the period is exactly one calendar month

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)


def period_of(*, month: dt.date | None = None, start: dt.date | None = None, end: dt.date | None = None) -> Period:
    """A month, or [start, end) when both are given (a whole month then counts as one)."""
    if start is not None and end is not None:
        if end <= start:
            raise ValueError("the end of the period must be after its start")
        first, following = month_bounds(start)
        return Period(start, end, first if (start, end) == (first, following) else None)
    if month is None:
        raise ValueError("a month or a start and an end are needed")
    first, following = month_bounds(month)
    return Period(first, following, first)


def district_overview(*, user, month: dt.date, start: dt.date | None = None, end: dt.date | None = None) -> dict:
    """Everything the dashboard's overview shows for the scope `user` may see: today's
    intake, closures and red flags; the period's counts and rates (a month, or [start, end));
    a 12-month trend up to the period's last month; intake by category and by channel.

    PermissionDenied for a user without a dashboard (see `scope_for`)."""
    scope = scope_for(user)
    period = period_of(month=month, start=start, end=end)
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    visible = Case.objects.visible_to(user)
    # The rates and the trend at once, each running its own statements at once on their own
    # connections: outside the tuned transaction below.
    rates, trend = read_in_parallel(
        [lambda: _rates_for(scope.unit, period.start, period.end), lambda: _trend(user, scope, period.last_day.replace(day=1))],
        tuned=False,
    )
    with tuned_reads(visible.db):
        return {
            "scope": scope,
            "period": period,
            "today": {
                "date": today,
                "tomorrow": tomorrow,
                "intake": visible.filter(submitted_at__gte=_instant(today), submitted_at__lt=_instant(tomorrow)).count(),
                "closed": anchor_events(metric="closed", unit=scope.unit, start=today, end=tomorrow).count(),
                "overdue": anchor_events(metric="overdue", unit=scope.unit, start=today, end=tomorrow).count(),
                "open_overdue": visible.filter(_intake_filter("open_overdue", today, tomorrow)).count(),
            },
            "rates": rates,
            "figures": {key: figure_of(rates, key) for key, m in METRICS.items() if m.kind == "event" and key != "closed"},
            "closed": anchor_events(metric="closed", unit=scope.unit, start=period.start, end=period.end).count(),
            "intake": visible.filter(_intake_filter("intake", period.start, period.end)).count(),
            "trend": trend,
            "categories": _categories(visible, period.start, period.end),
            "channels": _channels(visible, period.start, period.end),
        }


# ---------------------------------------------------------------- rankings


@dataclass
class RankingTable:
    """One class of units for the ranking tables: the official monthly ranking (with 红榜/黑榜)
    when the period is a calendar month, else the units' rates over the range by score."""

    kind: str
    label: str
    rows: list[RankingRow]
    red: list[RankingRow] = field(default_factory=list)
    black: list[RankingRow] = field(default_factory=list)
    official: bool = True


KIND_LABELS = {UnitKind.DEPARTMENT: _("区直部门"), UnitKind.STREET: _("街道"), UnitKind.COMMUNITY: _("社区/村")}


def ranking_tables(*, user, period: Period) -> list[RankingTable]:
    """The ranking tables the user may see: every class of unit for the district; for a unit,
    its own row (a street office: its own and its communities' rows), ranks as in the
    district-wide ranking."""
    scope = scope_for(user)
    kinds = RANKED_KINDS if scope.is_district else ((UnitKind.STREET, UnitKind.COMMUNITY) if scope.unit.kind == UnitKind.STREET else (scope.unit.kind,))
    if period.month is not None:
        rankings: dict[str, Ranking] = monthly_rankings(month=period.month, kinds=kinds)
        tables = [RankingTable(kind, str(KIND_LABELS[kind]), r.rows, r.red, r.black) for kind, r in rankings.items()]
    else:
        tables = []
        for kind in kinds:
            units = list(Unit.objects.filter(kind=kind, active=True).order_by("sort_order", "code"))
            if not scope.is_district:
                units = [u for u in units if scope.covers(u)]
            rows = unit_rates(start=period.start, end=period.end, units=units)
            rows.sort(key=lambda r: (r.score is None, -(r.score or 0), -r.received))
            tables.append(RankingTable(kind, str(KIND_LABELS[kind]), [RankingRow(r, None) for r in rows], official=False))
    if not scope.is_district:
        for table in tables:
            table.rows = [row for row in table.rows if scope.covers(row.unit)]
            table.red = [row for row in table.red if scope.covers(row.unit)]
            table.black = [row for row in table.black if scope.covers(row.unit)]
    return tables


MAP_METRICS = {
    "score": _("综合得分"),
    "response_rate": _("响应率"),
    "resolution_rate": _("解决率"),
    "satisfaction_rate": _("满意率"),
    "received": _("收件量"),
    "overdue": _("超期(红牌)"),
}


def street_map_values(tables: list[RankingTable]) -> list[dict]:
    """One entry per street office in the tables, for the schematic map: the street's code,
    name, drill-down unit id and every map metric (rates in %, None when undefined)."""
    result = []
    for table in tables:
        if table.kind != UnitKind.STREET:
            continue
        for row in table.rows:
            r = row.rates
            values = {}
            for key in MAP_METRICS:
                value = getattr(r, key)
                if value is not None and key.endswith("_rate"):
                    value = round(100 * value, 1)
                elif value is not None and key == "score":
                    value = round(value, 1)
                values[key] = value
            result.append({"code": row.unit.code, "name": row.unit.name, "unit": row.unit.pk, "rank": row.rank, **values})
    return result


__all__ = [
    "METRICS", "MAP_METRICS", "Period", "RankingTable", "Scope", "cases_behind", "district_overview",
    "figure_of", "may_see_dashboard", "metric_label", "period_of", "ranking_tables", "scope_for", "street_map_values",
]
