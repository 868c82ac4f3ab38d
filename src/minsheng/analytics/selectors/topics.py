"""Reads of 每月一题 topics: the list with the live status of each topic's cases, a topic's
cases, and the month's proposals with what is already adopted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from minsheng.cases.choices import OPEN_STATES, CaseState, DueFlag
from minsheng.cases.models import Case

from ..models import Topic, TopicCase
from .hotspots import Problem, month_problems, month_start


def _overdue_q(prefix: str, now: dt.datetime) -> Q:
    return Q(**{f"{prefix}state__in": OPEN_STATES}) & (
        Q(**{f"{prefix}due_flag": DueFlag.RED}) | Q(**{f"{prefix}resolve_due_at__lt": now})
    )


def case_status_counts(prefix: str = "", now: dt.datetime | None = None) -> dict:
    """Aggregates of total / open / closed / overdue cases (as annotations)."""
    now = now or timezone.now()
    return {
        "n_cases": Count("pk" if not prefix else f"{prefix}pk", distinct=bool(prefix)),
        "n_open": Count(f"{prefix}pk", filter=Q(**{f"{prefix}state__in": OPEN_STATES}), distinct=bool(prefix)),
        "n_closed": Count(f"{prefix}pk", filter=Q(**{f"{prefix}state": CaseState.CLOSED}), distinct=bool(prefix)),
        "n_overdue": Count(f"{prefix}pk", filter=_overdue_q(prefix, now), distinct=bool(prefix)),
    }


def topics_for(user, *, month: dt.date | None = None, status: str = "", owner_unit=None) -> QuerySet:
    """The topics `user` may read, filtered, each with its cases' live counts (one query)."""
    qs = Topic.objects.visible_to(user).select_related("category", "category__parent", "street", "community", "owner_unit", "adopted_by")
    if month is not None:
        qs = qs.filter(month=month_start(month))
    if status:
        qs = qs.filter(status=status)
    if owner_unit is not None:
        qs = qs.filter(owner_unit=owner_unit)
    now = timezone.now()
    active = Q(links__unlinked_at__isnull=True)
    return qs.annotate(
        n_cases=Count("links", filter=active, distinct=True),
        n_open=Count("links", filter=active & Q(links__case__state__in=OPEN_STATES), distinct=True),
        n_closed=Count("links", filter=active & Q(links__case__state=CaseState.CLOSED), distinct=True),
        n_overdue=Count("links", filter=active & _overdue_q("links__case__", now), distinct=True),
    ).order_by("-month", "-adopted_at", "-id")


@dataclass
class TopicCases:
    total: int
    open: int
    closed: int
    overdue: int
    visible: QuerySet  # the linked cases this user may open

    @property
    def hidden(self) -> int:
        """Linked cases outside the user's scope: counted, not listed."""
        return self.total - self.visible.count()


def topic_cases(topic: Topic, *, user) -> TopicCases:
    linked = Case.objects.filter(topic_links__topic=topic, topic_links__unlinked_at__isnull=True).order_by()
    counts = linked.aggregate(**case_status_counts(now=timezone.now()))
    visible = (Case.objects.visible_to(user).filter(topic_links__topic=topic, topic_links__unlinked_at__isnull=True)
               .select_related("category", "street", "community", "main_unit").order_by("-submitted_at", "-id"))
    return TopicCases(total=counts["n_cases"], open=counts["n_open"], closed=counts["n_closed"], overdue=counts["n_overdue"], visible=visible)


def is_overdue(case: Case, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return case.state in OPEN_STATES and (case.due_flag == DueFlag.RED or bool(case.resolve_due_at and case.resolve_due_at < now))


@dataclass
class Proposal:
    problem: Problem
    topic: Topic | None  # already adopted


def proposals(*, user, month: dt.date, limit: int = 10, category=None, street=None) -> list[Proposal]:
    """The month's top problems as `user` may see them, each with its topic if adopted."""
    problems = month_problems(month=month, user=user, limit=limit, category=category, street=street)
    adopted = {
        (t.category_id, t.place_id): t
        for t in Topic.objects.filter(month=month_start(month), category_id__in={p.category_id for p in problems})
    }
    return [Proposal(problem=p, topic=adopted.get((p.category_id, p.place.unit_id))) for p in problems]


def topic_links(topic: Topic) -> QuerySet:
    return TopicCase.objects.filter(topic=topic)
