"""Hotspots (热点): where and about what residents appeal, week by week, which places are
rising against their own history, who appeals again and again, which places keep coming
back, and the month's top problems (每月一题) a leader may adopt as a topic.

What is counted: appeals by the day they were submitted (`Case.submitted_at`, on the
district's wall clock), whatever their state, except those rejected as invalid and project
milestones (which nobody reported). The category is the case's subcategory and its parent;
the place is the community, or the street office when the community is not known. Weeks are
ISO weeks (Monday to Sunday), named by their Monday.

Cost: every function is one or two grouped SQL queries over the period's cases (through the
`submitted_at` index); Python only walks the grouped rows, whose number is bounded by
places × categories × weeks, never by cases. Scoping is `Case.objects.visible_to(user)`,
except `top_problems`, which is the district's figure for the monthly briefing.

The rising-trend rule, documented in docs/metrics.md ("Hotspots and topics"):

    history  = the place's counts in the 8 ISO weeks before the week (zeros included)
    expected = mean(history)
    spread   = max(sample standard deviation of history, sqrt(max(expected, 1)))
    rising   ⇔ count ≥ MIN_COUNT (5)  and  count > expected + 3 × spread

The spread is never below the Poisson noise of the expected count (nor below 1), so a quiet
place does not flag on a handful and a steady place flags only on a real jump; a place whose
history is bursty has a large sample spread and flags only on a larger burst.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.core import signing
from django.db.models import Count, DateField, Max, Min, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from minsheng.cases.choices import CaseKind, CaseState
from minsheng.cases.models import Case, Category
from minsheng.cases.privacy import may_reveal
from minsheng.core.crypto import mask_phone, normalise_phone
from minsheng.core.models import Unit

HISTORY_WEEKS = 8
RISING_MIN_COUNT = 5
RISING_SIGMAS = 3.0
REPEAT_MIN_CASES = 3
RECURRING_WEEKS = 4
RECURRING_MIN_WEEKS = 3
TOP_PROBLEMS_MIN_COUNT = 3
REPORTER_TOKEN_SALT = "minsheng.analytics.repeat-reporter"
REPORTER_TOKEN_MAX_AGE = 24 * 3600


# ---------------------------------------------------------------- scope and periods


def counted_cases(user=None) -> QuerySet:
    """The appeals hotspots count, as `user` may see them (all of them when `user` is None:
    the district's figures for the briefing)."""
    base = Case.objects.all() if user is None else Case.objects.visible_to(user)
    return base.exclude(state=CaseState.REJECTED).exclude(kind=CaseKind.MILESTONE).order_by()


def week_start(day: dt.date) -> dt.date:
    """The Monday of `day`'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def weeks_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """The Mondays of the ISO weeks that meet [start, end]."""
    first, weeks = week_start(start), []
    while first <= end:
        weeks.append(first)
        first += dt.timedelta(days=7)
    return weeks


def local_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, the day after end 00:00) on the district's wall clock."""
    tz = timezone.get_current_timezone()
    begin = dt.datetime.combine(start, dt.time.min).replace(tzinfo=tz)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min).replace(tzinfo=tz)
    return begin, finish


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def previous_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def _week_expr():
    """The Monday of `submitted_at`'s ISO week on the district's wall clock (date_trunc on
    PostgreSQL), as a date: a DateField result skips Django's per-row time-zone handling of
    a datetime result, and date_trunc is cheaper than EXTRACT of the ISO year and week."""
    return TruncWeek("submitted_at", tzinfo=timezone.get_current_timezone(), output_field=DateField())


def _monday(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):  # a backend that hands the truncated value back as text
        return dt.date.fromisoformat(value[:10])
    return value


def filter_cases(qs: QuerySet, *, category: Category | None = None, street: Unit | None = None,
                 community: Unit | None = None) -> QuerySet:
    """Narrow to a category (a 大类 takes its subcategories) and a place."""
    if category is not None:
        qs = qs.filter(category=category) if category.parent_id else qs.filter(Q(category=category) | Q(category__parent=category))
    if street is not None:
        qs = qs.filter(street=street)
    if community is not None:
        qs = qs.filter(community=community)
    return qs


# ---------------------------------------------------------------- names


class _Names:
    """Names of the categories and places met in grouped rows: two small queries."""

    def __init__(self, category_ids=(), unit_ids=()):
        self.categories = {c.pk: c for c in Category.objects.filter(pk__in={i for i in category_ids if i}).select_related("parent")}
        self.units = {u.pk: u for u in Unit.objects.filter(pk__in={i for i in unit_ids if i})}

    def category(self, pk) -> Category | None:
        return self.categories.get(pk)

    def category_name(self, pk) -> str:
        c = self.categories.get(pk)
        return c.name if c else "未分类"

    def parent_name(self, pk) -> str:
        c = self.categories.get(pk)
        if c is None:
            return "未分类"
        return c.parent.name if c.parent_id else c.name

    def unit_name(self, pk) -> str:
        u = self.units.get(pk)
        return u.name if u else ""


@dataclass(frozen=True)
class Place:
    """Where a group of appeals is: a community, or a street office when the community is not
    known (or when counting by street)."""

    street_id: int | None
    community_id: int | None
    street: str
    name: str

    @property
    def unit_id(self) -> int | None:
        return self.community_id or self.street_id


def _place(names: _Names, street_id, community_id) -> Place:
    street = names.unit_name(street_id)
    if community_id:
        return Place(street_id, community_id, street, names.unit_name(community_id))
    return Place(street_id, None, street, street or "地点未定")


def _group_fields(by: str, place: str) -> list[str]:
    """The columns to group on: always the subcategory (`category_id`), never a join to the
    category table; `_category_key` folds subcategories into their 大类 in Python, over the
    grouped rows."""
    if by not in ("category", "subcategory"):
        raise ValueError(f"by must be 'category' or 'subcategory', not {by!r}")
    if place not in ("street", "community"):
        raise ValueError(f"place must be 'street' or 'community', not {place!r}")
    return ["category_id", "street_id"] + (["community_id"] if place == "community" else [])


def _category_key(by: str):
    """category_id → the id to count under: itself, or its 大类 (a case filed directly under
    a 大类 has no parent: it is its own)."""
    if by == "subcategory":
        return lambda pk: pk
    parents = dict(Category.objects.values_list("pk", "parent_id"))
    return lambda pk: parents.get(pk) or pk


# ---------------------------------------------------------------- weekly counts


@dataclass
class HotspotRow:
    category_id: int | None
    category: str  # the 大类's name when counting by category, else the subcategory's
    parent: str  # the 大类's name
    place: Place
    weeks: dict[dt.date, int]
    total: int


@dataclass
class WeeklyCounts:
    start: dt.date
    end: dt.date
    weeks: list[dt.date]
    rows: list[HotspotRow]  # by total, largest first
    total: int

    def by_week(self) -> dict[dt.date, int]:
        out = {w: 0 for w in self.weeks}
        for row in self.rows:
            for w, n in row.weeks.items():
                out[w] = out.get(w, 0) + n
        return out


def weekly_counts(*, user, start: dt.date, end: dt.date, by: str = "category", place: str = "street",
                  category: Category | None = None, street: Unit | None = None) -> WeeklyCounts:
    """Appeals by category (or subcategory) × place (street, or community) × ISO week, for
    the days [start, end] as `user` may see them. One grouped query."""
    if end < start:
        raise ValueError("end before start")
    fields_ = _group_fields(by, place)
    begin, finish = local_bounds(start, end)
    qs = filter_cases(counted_cases(user), category=category, street=street).filter(submitted_at__gte=begin, submitted_at__lt=finish)
    grouped = qs.annotate(week=_week_expr()).values(*fields_, "week").annotate(n=Count("id")).order_by()
    category_key = _category_key(by)
    acc: dict[tuple, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    for row in grouped:
        key = (category_key(row["category_id"]), row["street_id"], row.get("community_id"))
        acc[key][_monday(row["week"])] += row["n"]
    names = _Names([k[0] for k in acc], [k[1] for k in acc] + [k[2] for k in acc])
    rows = []
    for (cat_id, street_id, community_id), weeks in acc.items():
        rows.append(HotspotRow(
            category_id=cat_id, category=names.category_name(cat_id), parent=names.parent_name(cat_id),
            place=_place(names, street_id, community_id), weeks=dict(weeks), total=sum(weeks.values()),
        ))
    rows.sort(key=lambda r: (-r.total, r.parent, r.category, r.place.street, r.place.name))
    return WeeklyCounts(start=start, end=end, weeks=weeks_between(start, end), rows=rows, total=sum(r.total for r in rows))


@dataclass
class HeatTable:
    """Places down, categories across: the range's counts, for a shaded table."""

    categories: list[tuple[int | None, str]]
    places: list[Place]
    cells: list[list[int]]  # [place][category]
    row_totals: list[int]
    column_totals: list[int]
    maximum: int

    def shaded(self) -> list[tuple[Place, int, list[tuple[int, int]]]]:
        """(place, total, [(count, shade 0..5)]) rows for the template."""
        out = []
        for place, total, cells in zip(self.places, self.row_totals, self.cells):
            out.append((place, total, [(n, 0 if not n else min(5, 1 + int(5 * n / (self.maximum + 1)))) for n in cells]))
        return out


def heat_table(counts: WeeklyCounts, *, max_categories: int = 12) -> HeatTable:
    """The weekly counts folded into place × category; the categories beyond the
    `max_categories` largest are left out of the columns (their cases stay in the totals)."""
    by_cat: dict = defaultdict(int)
    names: dict = {}
    for row in counts.rows:
        by_cat[row.category_id] += row.total
        names[row.category_id] = row.category
    cat_ids = sorted(by_cat, key=lambda c: (-by_cat[c], names[c]))[:max_categories]
    index = {c: i for i, c in enumerate(cat_ids)}
    places: dict[Place, list[int]] = {}
    totals: dict[Place, int] = defaultdict(int)
    for row in counts.rows:
        cells = places.setdefault(row.place, [0] * len(cat_ids))
        if row.category_id in index:
            cells[index[row.category_id]] += row.total
        totals[row.place] += row.total
    ordered = sorted(places, key=lambda p: (-totals[p], p.street, p.name))
    cells = [places[p] for p in ordered]
    return HeatTable(
        categories=[(c, names[c]) for c in cat_ids],
        places=ordered,
        cells=cells,
        row_totals=[totals[p] for p in ordered],
        column_totals=[by_cat[c] for c in cat_ids],
        maximum=max((n for row in cells for n in row), default=0),
    )


# ---------------------------------------------------------------- rising trends


@dataclass
class Rising:
    category_id: int | None
    category: str
    parent: str
    place: Place
    week: dt.date
    count: int
    history: list[int]  # oldest first
    expected: float
    spread: float
    threshold: float

    @property
    def score(self) -> float:
        """How many spreads above the expected count: the list's order."""
        return (self.count - self.expected) / self.spread


def rising_rule(count: int, history: list[int], *, min_count: int = RISING_MIN_COUNT,
                sigmas: float = RISING_SIGMAS) -> tuple[bool, float, float, float]:
    """(rising?, expected, spread, threshold) for one place's week against its history. The
    rule is in the module's docstring; a pure function so that it is tested on its own."""
    n = len(history)
    expected = sum(history) / n if n else 0.0
    sample_sd = math.sqrt(sum((h - expected) ** 2 for h in history) / (n - 1)) if n > 1 else 0.0
    spread = max(sample_sd, math.sqrt(max(expected, 1.0)))
    threshold = expected + sigmas * spread
    return (count >= min_count and count > threshold), expected, spread, threshold


def rising_places(*, user, week: dt.date, by: str = "category", place: str = "community",
                  category: Category | None = None, street: Unit | None = None,
                  history_weeks: int = HISTORY_WEEKS, min_count: int = RISING_MIN_COUNT,
                  sigmas: float = RISING_SIGMAS) -> list[Rising]:
    """The place × category groups whose count in `week` (the ISO week containing that day)
    is well above their own previous `history_weeks` weeks. One grouped query over the
    history and the week; largest excess first."""
    week = week_start(week)
    fields_ = _group_fields(by, place)
    first = week - dt.timedelta(weeks=history_weeks)
    begin, finish = local_bounds(first, week + dt.timedelta(days=6))
    qs = filter_cases(counted_cases(user), category=category, street=street).filter(submitted_at__gte=begin, submitted_at__lt=finish)
    grouped = qs.annotate(week=_week_expr()).values(*fields_, "week").annotate(n=Count("id")).order_by()
    category_key = _category_key(by)
    series: dict[tuple, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    for row in grouped:
        series[(category_key(row["category_id"]), row["street_id"], row.get("community_id"))][_monday(row["week"])] += row["n"]
    history_mondays = [first + dt.timedelta(weeks=i) for i in range(history_weeks)]
    found = []
    for key, weeks in series.items():
        count = weeks.get(week, 0)
        if count < min_count:
            continue
        history = [weeks.get(m, 0) for m in history_mondays]
        flagged, expected, spread, threshold = rising_rule(count, history, min_count=min_count, sigmas=sigmas)
        if flagged:
            found.append((key, count, history, expected, spread, threshold))
    names = _Names([k[0][0] for k in found], [k[0][1] for k in found] + [k[0][2] for k in found])
    out = [
        Rising(category_id=cat_id, category=names.category_name(cat_id), parent=names.parent_name(cat_id),
               place=_place(names, street_id, community_id), week=week, count=count, history=history,
               expected=expected, spread=spread, threshold=threshold)
        for (cat_id, street_id, community_id), count, history, expected, spread, threshold in found
    ]
    out.sort(key=lambda r: (-r.score, -r.count, r.place.name))
    return out


# ---------------------------------------------------------------- recurring places


@dataclass
class Recurring:
    category_id: int | None
    category: str
    parent: str
    place: Place
    weeks_with_cases: int
    weeks: int
    count: int
    last_at: dt.datetime


def recurring_places(*, user, end: dt.date, weeks: int = RECURRING_WEEKS, min_weeks: int = RECURRING_MIN_WEEKS,
                     category: Category | None = None, street: Unit | None = None) -> list[Recurring]:
    """Place × subcategory groups with appeals in at least `min_weeks` of the `weeks` ISO
    weeks ending with the one containing `end`: the problem comes back. One grouped query
    (COUNT(DISTINCT week))."""
    if not 1 <= min_weeks <= weeks:
        raise ValueError("min_weeks must be between 1 and weeks")
    last = week_start(end)
    first = last - dt.timedelta(weeks=weeks - 1)
    begin, finish = local_bounds(first, last + dt.timedelta(days=6))
    qs = filter_cases(counted_cases(user), category=category, street=street).filter(submitted_at__gte=begin, submitted_at__lt=finish)
    grouped = (
        qs.values("category_id", "street_id", "community_id")
        .annotate(w=Count(_week_expr(), distinct=True), n=Count("id"), last=Max("submitted_at"))
        .filter(w__gte=min_weeks).order_by()
    )
    rows = list(grouped)
    names = _Names([r["category_id"] for r in rows], [r["street_id"] for r in rows] + [r["community_id"] for r in rows])
    out = [
        Recurring(category_id=r["category_id"], category=names.category_name(r["category_id"]), parent=names.parent_name(r["category_id"]),
                  place=_place(names, r["street_id"], r["community_id"]), weeks_with_cases=r["w"], weeks=weeks, count=r["n"], last_at=r["last"])
        for r in rows
    ]
    out.sort(key=lambda r: (-r.weeks_with_cases, -r.count, r.place.name))
    return out


# ---------------------------------------------------------------- repeat reporters


def may_see_repeat_reporters(user) -> bool:
    """The list is about people: only roles whose work needs residents' details get it."""
    return may_reveal(user)


@dataclass
class RepeatReporter:
    phone_masked: str
    count: int
    first_at: dt.datetime
    last_at: dt.datetime
    categories: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    token: str = ""  # signed, opens the reporter's cases (see `reporter_cases`)


def repeat_reporters(*, user, start: dt.date, end: dt.date, min_cases: int = REPEAT_MIN_CASES,
                     category: Category | None = None, street: Unit | None = None, limit: int = 100) -> list[RepeatReporter]:
    """Phones (through their blind index) that reported at least `min_cases` appeals in
    [start, end], most first; the phone masked (138****5678). Empty for roles that may not
    see personal data. Two grouped queries and one small fetch for the `limit` shown."""
    if not may_see_repeat_reporters(user):
        return []
    if min_cases < 2:
        raise ValueError("min_cases must be at least 2")
    begin, finish = local_bounds(start, end)
    qs = (filter_cases(counted_cases(user), category=category, street=street)
          .filter(submitted_at__gte=begin, submitted_at__lt=finish).exclude(reporter_phone_index=""))
    groups = list(
        qs.values("reporter_phone_index").annotate(n=Count("id"), first=Min("submitted_at"), last=Max("submitted_at"), latest=Max("id"))
        .filter(n__gte=min_cases).order_by("-n", "-last")[:limit]
    )
    if not groups:
        return []
    indexes = [g["reporter_phone_index"] for g in groups]
    phones = dict(Case.objects.filter(pk__in=[g["latest"] for g in groups]).values_list("reporter_phone_index", "reporter_phone"))
    # What each phone appealed about and where: grouped, never per case.
    detail = qs.filter(reporter_phone_index__in=indexes).values("reporter_phone_index", "category_id", "street_id", "community_id").annotate(n=Count("id")).order_by("-n")
    detail = list(detail)
    names = _Names([d["category_id"] for d in detail], [d["street_id"] for d in detail] + [d["community_id"] for d in detail])
    cats: dict[str, list[str]] = defaultdict(list)
    places: dict[str, list[str]] = defaultdict(list)
    for d in detail:
        c = names.category_name(d["category_id"])
        p = _place(names, d["street_id"], d["community_id"]).name
        if c not in cats[d["reporter_phone_index"]]:
            cats[d["reporter_phone_index"]].append(c)
        if p not in places[d["reporter_phone_index"]]:
            places[d["reporter_phone_index"]].append(p)
    return [
        RepeatReporter(
            phone_masked=mask_phone(normalise_phone(phones.get(g["reporter_phone_index"]) or "")), count=g["n"], first_at=g["first"], last_at=g["last"],
            categories=cats[g["reporter_phone_index"]][:5], places=places[g["reporter_phone_index"]][:5],
            token=signing.dumps(g["reporter_phone_index"], salt=REPORTER_TOKEN_SALT),
        )
        for g in groups
    ]


def reporter_cases(*, user, token: str) -> QuerySet:
    """The cases of the repeat reporter behind a token from `repeat_reporters`, as `user`
    may see them. The token is signed and expires: the blind index never appears in a URL in
    the clear, and a link cannot be forged to look up an arbitrary phone."""
    if not may_see_repeat_reporters(user):
        return Case.objects.none()
    try:
        index = signing.loads(token, salt=REPORTER_TOKEN_SALT, max_age=REPORTER_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return Case.objects.none()
    if not isinstance(index, str) or not index:
        return Case.objects.none()
    return Case.objects.visible_to(user).filter(reporter_phone_index=index).select_related("category", "street", "community", "main_unit").order_by("-submitted_at", "-id")


# ---------------------------------------------------------------- 每月一题


@dataclass
class Problem:
    """One candidate for 每月一题: a subcategory at a place in a month."""

    category_id: int
    category: str
    parent: str
    place: Place
    count: int
    previous_count: int

    @property
    def change(self) -> int:
        return self.count - self.previous_count

    @property
    def growth(self) -> float | None:
        """The change as a fraction of the previous month; None when it had none."""
        return self.change / self.previous_count if self.previous_count else None

    def as_dict(self) -> dict:
        return {
            "category": self.category,
            "parent_category": self.parent,
            "place": self.place.name,
            "street": self.place.street,
            "count": self.count,
            "previous_count": self.previous_count,
            "change": self.change,
            "growth": self.growth,
            "category_id": self.category_id,
            "street_id": self.place.street_id,
            "community_id": self.place.community_id,
        }


def month_problems(*, month: dt.date, user=None, limit: int = 10, min_count: int = TOP_PROBLEMS_MIN_COUNT,
                   category: Category | None = None, street: Unit | None = None) -> list[Problem]:
    """The month's top problems: subcategory × place (community, or street when unknown),
    ranked by the month's count, then by growth over the previous month. Groups below
    `min_count` are not problems yet. Two grouped queries."""
    first = month_start(month)
    prev = previous_month(first)
    begin, finish = local_bounds(first, next_month(first) - dt.timedelta(days=1))
    qs = filter_cases(counted_cases(user), category=category, street=street).exclude(category__isnull=True).exclude(street__isnull=True)
    current = list(
        qs.filter(submitted_at__gte=begin, submitted_at__lt=finish)
        .values("category_id", "street_id", "community_id").annotate(n=Count("id")).filter(n__gte=min_count).order_by()
    )
    if not current:
        return []
    # Rank by count and change before reading the previous month for the top ones only.
    keys = {(r["category_id"], r["street_id"], r["community_id"]): r["n"] for r in current}
    pbegin, pfinish = local_bounds(prev, first - dt.timedelta(days=1))
    cat_ids = {k[0] for k in keys}
    before = (
        qs.filter(submitted_at__gte=pbegin, submitted_at__lt=pfinish, category_id__in=cat_ids)
        .values("category_id", "street_id", "community_id").annotate(n=Count("id")).order_by()
    )
    previous = {(r["category_id"], r["street_id"], r["community_id"]): r["n"] for r in before}
    ranked = sorted(keys, key=lambda k: (-keys[k], -(keys[k] - previous.get(k, 0)), k[0], k[1], k[2] or 0))[:limit]
    names = _Names([k[0] for k in ranked], [k[1] for k in ranked] + [k[2] for k in ranked])
    return [
        Problem(category_id=k[0], category=names.category_name(k[0]), parent=names.parent_name(k[0]),
                place=_place(names, k[1], k[2]), count=keys[k], previous_count=previous.get(k, 0))
        for k in ranked
    ]


def top_problems(*, month: dt.date, limit: int = 5) -> list[dict]:
    """The district's top problems of the month containing `month`, for the monthly
    briefing: a list of dicts with the keys ``category`` (subcategory name),
    ``parent_category``, ``place`` (community, or street office), ``street``, ``count``,
    ``previous_count`` (the month before), ``change`` (count − previous_count), ``growth``
    (change / previous_count, None when the previous month had none) and the ids
    ``category_id``, ``street_id``, ``community_id``. Largest first; see `month_problems`."""
    return [p.as_dict() for p in month_problems(month=month, limit=limit)]


def problem_cases(*, user, month: dt.date, category: Category, street: Unit, community: Unit | None,
                  through: dt.date | None = None) -> QuerySet:
    """The cases behind a problem: that subcategory at that place, submitted from the
    month's first day to the end of the month (or to `through`, for later arrivals)."""
    first = month_start(month)
    last = through or (next_month(first) - dt.timedelta(days=1))
    begin, finish = local_bounds(first, last)
    qs = counted_cases(user).filter(category=category, street=street, submitted_at__gte=begin, submitted_at__lt=finish)
    return qs.filter(community=community) if community is not None else qs.filter(community__isnull=True)
