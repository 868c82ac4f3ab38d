"""Reads for the public board (/board/) and the monthly briefing: the district's monthly
figures, what the month's appeals were about, the most frequent problems, and cases fit to
show the public — always through `anonymise_text`, never with a name, a phone, a door
number or a tracking code.

Figures come from the event log as the rates do (`district_rates`): a month's counts are the
events that happened in it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from minsheng.cases.choices import CaseKind
from minsheng.cases.models import Case, CaseEvent
from minsheng.core.models import Unit

from ..anonymise import anonymise_text
from . import hotspots
from .rates import _as_instant, district_rates, location_rates, month_bounds

PUBLIC_TEXT_LENGTH = 80
RESOLVED_PAGE_SIZE = 10
RESOLVED_LIMIT = 500
# How far back the board lists resolved cases.
RESOLVED_WINDOW = dt.timedelta(days=365)


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def months_back(month: dt.date, count: int) -> list[dt.date]:
    """The `count` months ending with `month` (its first days), oldest first."""
    result = [month_start(month)]
    while len(result) < count:
        result.append((result[-1] - dt.timedelta(days=1)).replace(day=1))
    return list(reversed(result))


def _month_events(month: dt.date, street: Unit | None):
    start, end = month_bounds(month_start(month))
    events = CaseEvent.objects.filter(at__gte=_as_instant(start), at__lt=_as_instant(end))
    return events.filter(case__street=street) if street is not None else events


def month_figures(month: dt.date, *, street: Unit | None = None) -> dict:
    """The district's figures for one month, as plain values (cacheable, JSON-able):
    appeals received (受理), dispatched, replied, closed (办结), the 三率 and the on-time rate
    (fractions 0..1 or None), red flags raised, average handling time and the composite score.

    With `street`: the figures of the appeals located in that street (`location_rates`),
    whichever unit handled them."""
    start, end = month_bounds(month_start(month))
    if street is None:
        rates = district_rates(start=start, end=end)
    else:
        (rates,) = location_rates(start=start, end=end, level="street", units=[street])
    counts = _month_events(month, street).aggregate(
        received=Count("id", filter=Q(action="submit")),
        closed=Count("id", filter=Q(action__in=["feedback_close", "close_no_feedback"])),
    )
    return {
        "month": f"{start:%Y-%m}",
        "received": counts["received"],
        "dispatched": rates.dispatches,
        "replied": rates.replies,
        "closed": counts["closed"],
        "feedbacks": rates.feedbacks,
        "response_rate": rates.response_rate,
        "resolution_rate": rates.resolution_rate,
        "satisfaction_rate": rates.satisfaction_rate,
        "on_time_rate": rates.on_time_rate,
        "overdue": rates.overdue,
        "avg_handling_hours": rates.avg_handling_hours,
        "score": rates.score,
    }


def month_series(month: dt.date, count: int = 12, *, street: Unit | None = None) -> list[dict]:
    """`month_figures` of the `count` months ending with `month`, oldest first."""
    return [month_figures(m, street=street) for m in months_back(month, count)]


def category_breakdown(month: dt.date, *, street: Unit | None = None) -> list[dict]:
    """Appeals received in the month (in `street`, if given) by category (大类), most first:
    [{"category", "count"}]."""
    rows = (
        _month_events(month, street).filter(action="submit")
        .values(category=Coalesce("case__category__parent__name", "case__category__name"))
        .annotate(count=Count("id"))
        .order_by("-count", "category")
    )
    return [{"category": row["category"] or "未分类", "count": row["count"]} for row in rows]


def top_problems(month: dt.date, limit: int = 5, *, street: Unit | None = None) -> list[dict]:
    """The month's top problems (每月一题 candidates) from the hotspot analysis, of the district
    (`hotspots.top_problems`) or of one street, each with a readable `title`."""
    if street is None:
        rows = hotspots.top_problems(month=month_start(month), limit=limit)
    else:
        rows = [problem.as_dict() for problem in hotspots.month_problems(month=month_start(month), limit=limit, street=street)]
    return [_problem_row(row) for row in rows[:limit]]


def _problem_row(row: dict) -> dict:
    """A hotspot problem row with a `title`: place (street and community) · subcategory."""
    street, place = row.get("street") or "", row.get("place") or ""
    where = place if not street or place.startswith(street) else f"{street}{place}"
    return {**row, "title": " · ".join(part for part in (where, row.get("category") or "") if part) or "—"}


# ---------------------------------------------------------------- cases shown to the public


@dataclass
class PublicCase:
    """A case as the public may see it: where, what about, when — nothing that picks out
    the resident and no tracking code."""

    category: str
    street: str
    community: str
    submitted_on: dt.date
    closed_on: dt.date | None
    text: str
    reply: str
    unit: str = ""
    feedback: str = ""
    due_on: dt.date | None = None
    comment: str = ""


def _names_of(case: Case) -> tuple[str, ...]:
    return tuple(name for name in [case.reporter_name, *(co.name for co in case.co_reporters.all())] if name)


def public_case(case: Case, *, limit: int = PUBLIC_TEXT_LENGTH) -> PublicCase:
    """`case` anonymised: text, reply and comment without personal data, shortened."""
    names = _names_of(case)
    category = case.category
    local = timezone.localtime
    return PublicCase(
        category=(f"{category.parent.name}/{category.name}" if category and category.parent_id else (category.name if category else "")),
        street=case.street.name if case.street_id else "",
        community=case.community.name if case.community_id else "",
        submitted_on=local(case.submitted_at).date(),
        closed_on=local(case.closed_at).date() if case.closed_at else None,
        text=anonymise_text(case.text, names=names, limit=limit),
        reply=anonymise_text(case.reply_text, names=names, limit=limit),
        unit=case.main_unit.name if case.main_unit_id else "",
        feedback=case.get_feedback_display() if case.feedback else "",
        due_on=local(case.resolve_due_at).date() if case.resolve_due_at else None,
        comment=anonymise_text(case.feedback_comment, names=names, limit=limit),
    )


def _public_cases():
    return Case.objects.select_related("category__parent", "street", "community", "main_unit").prefetch_related("co_reporters")


def resolved_cases_page(*, page: int | str | None = 1, per_page: int = RESOLVED_PAGE_SIZE, now: dt.datetime | None = None) -> Page:
    """One page of the appeals the residents confirmed resolved in the last year (the newest
    RESOLVED_LIMIT of them), newest first, each a `PublicCase`. Read from the closing events (`feedback_close` with resolved),
    newest first along the (action, at) index, so a page costs the same at any volume; merged,
    rejected and unanswered cases are not listed, nor cases whose personal data was erased."""
    now = now or timezone.now()
    closes = (
        CaseEvent.objects.filter(action="feedback_close", at__gte=now - RESOLVED_WINDOW, at__lte=now, resolved=True,
                                 case__kind=CaseKind.APPEAL, case__personal_data_erased_at__isnull=True)
        .order_by("-at", "-id")
        .values_list("case_id", flat=True)
    )
    # The newest RESOLVED_LIMIT only: counting every close of the year would cost a pass over
    # all of them on each view; a count that stops at the limit costs a few hundred rows.
    result = Paginator(closes[:RESOLVED_LIMIT], per_page).get_page(page)
    ids = list(result.object_list)
    loaded = _public_cases().in_bulk(ids)
    result.object_list = [public_case(loaded[pk]) for pk in ids if pk in loaded]
    return result


def notable_cases(month: dt.date, *, limit: int = 3, street: Unit | None = None) -> dict[str, list[PublicCase]]:
    """Cases for the briefing's 典型案例 (of the district, or located in `street`): `praised` —
    closed in the month with the resident satisfied (those with a written comment first);
    `overdue` — given a red flag (红牌) in the month, most recent first. Anonymised."""
    events = _month_events(month, street)
    praised_events = list(
        events.filter(action="feedback_close", outcome="satisfied")
        .order_by("-at", "-id")
        .values_list("case_id", "reason")
    )
    with_comment = [case_id for case_id, reason in praised_events if reason.strip()]
    others = [case_id for case_id, reason in praised_events if not reason.strip()]
    praised_ids = list(dict.fromkeys(with_comment + others))[:limit]
    overdue_ids = list(dict.fromkeys(
        events.filter(action="flag", outcome="red").order_by("-at", "-id").values_list("case_id", flat=True)
    ))[:limit]
    loaded = _public_cases().in_bulk(praised_ids + overdue_ids)
    return {
        "praised": [public_case(loaded[pk]) for pk in praised_ids if pk in loaded],
        "overdue": [public_case(loaded[pk]) for pk in overdue_ids if pk in loaded],
    }


# ---------------------------------------------------------------- the public board


BOARD_CACHE_SECONDS = 300
# A finished month's figures do not change (every figure is anchored on events inside the
# month, and events are only ever appended at the time they happen), so they are kept longer.
PAST_MONTH_CACHE_SECONDS = 24 * 3600


def board_figures(*, today: dt.date | None = None) -> dict:
    """The board's figures: this month so far (`current`) and the 12 months ending with it
    (`series`, oldest first), each a `month_figures` dict, plus when they were computed.

    Cached: the board is public and may be opened by many residents at once. This month's
    figures for MINSHENG_BOARD_CACHE_SECONDS (default 300) — a few minutes' delay in a monthly
    figure is harmless — and the eleven finished months for a day."""
    today = today or timezone.localdate()
    current_timeout = int(getattr(settings, "MINSHENG_BOARD_CACHE_SECONDS", BOARD_CACHE_SECONDS))
    series = []
    for month in months_back(today, 12):
        key = f"analytics:board:month:{month:%Y-%m}:{'current' if month == month_start(today) else 'final'}"
        figures = cache.get(key)
        if figures is None:
            figures = month_figures(month)
            figures["computed_at"] = timezone.now().isoformat(timespec="seconds")
            cache.set(key, figures, current_timeout if month == month_start(today) else PAST_MONTH_CACHE_SECONDS)
        series.append(figures)
    return {"current": series[-1], "series": series, "computed_at": series[-1]["computed_at"]}
