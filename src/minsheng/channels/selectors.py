"""Reads of the channels' records that need care: scoping to the user's part of the org tree,
survey results and cross-tabs, ledgers."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from minsheng.cases.models import Case
from minsheng.core.choices import UnitKind
from minsheng.core.models import Unit

from . import rules
from .choices import CHOICE_KINDS, NoteStatus, QuestionKind, TargetScope
from .models import (
    Forum,
    ForumIssue,
    ForumPhoto,
    ImportBatch,
    SuggestionBox,
    SuggestionNote,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    Visit,
    VisitPhoto,
)

# ---------------------------------------------------------------- scoped lists


def surveys_visible_to(user) -> QuerySet[Survey]:
    return Survey.objects.filter(rules.unit_scope(user).q("owner_unit")) if rules.can_use_channels(user) else Survey.objects.none()


def boxes_visible_to(user) -> QuerySet[SuggestionBox]:
    if not rules.can_use_channels(user):
        return SuggestionBox.objects.none()
    return SuggestionBox.objects.filter(rules.unit_scope(user).q("unit")).select_related("unit", "unit__parent")


def notes_visible_to(user) -> QuerySet[SuggestionNote]:
    if not rules.can_use_channels(user):
        return SuggestionNote.objects.none()
    return SuggestionNote.objects.filter(rules.unit_scope(user).q("box__unit")).select_related("box", "box__unit", "case")


def forums_visible_to(user) -> QuerySet[Forum]:
    if not rules.can_use_channels(user):
        return Forum.objects.none()
    return Forum.objects.filter(rules.unit_scope(user).q("host_unit")).select_related("host_unit")


def visits_visible_to(user) -> QuerySet[Visit]:
    if not rules.can_use_channels(user):
        return Visit.objects.none()
    return Visit.objects.filter(rules.unit_scope(user).q("community")).select_related("community", "community__parent", "visitor")


def forum_photos_visible_to(user) -> QuerySet[ForumPhoto]:
    """Photos of the forums `user` sees (the forum's page and its ledger show them)."""
    return ForumPhoto.objects.filter(forum__in=forums_visible_to(user))


def visit_photos_visible_to(user) -> QuerySet[VisitPhoto]:
    """Photos of the field visits `user` sees (the visit's page shows them)."""
    return VisitPhoto.objects.filter(visit__in=visits_visible_to(user))


def import_batches_visible_to(user) -> QuerySet[ImportBatch]:
    return ImportBatch.objects.all() if rules.can_import(user) else ImportBatch.objects.none()


def boxes_missing(user) -> list[Unit]:
    """Communities (and, for district staff, the district) in the user's scope without a box."""
    if not rules.can_open_boxes(user):
        return []
    scope = rules.unit_scope(user)
    kinds = [UnitKind.COMMUNITY] + ([UnitKind.DISTRICT] if scope.everything else [])
    return list(
        Unit.objects.filter(scope.q("pk"), kind__in=kinds, active=True, suggestion_box__isnull=True)
        .select_related("parent").order_by("kind", "parent__sort_order", "sort_order")
    )


def box_counts(boxes) -> dict[int, dict[str, int]]:
    """Per box: pending notes, notes this month."""
    ids = [b.pk for b in boxes]
    month_start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rows = (
        SuggestionNote.objects.filter(box_id__in=ids)
        .values("box_id")
        .annotate(pending=Count("pk", filter=Q(status=NoteStatus.PENDING)), month=Count("pk", filter=Q(submitted_at__gte=month_start)))
    )
    return {r["box_id"]: r for r in rows}


# ---------------------------------------------------------------- survey structure


def survey_structure(survey: Survey) -> list[tuple]:
    """Sections with their questions, in order: [(section, [question, ...]), ...]."""
    sections = list(survey.sections.prefetch_related(Prefetch("questions", queryset=SurveyQuestion.objects.order_by("position", "id"))))
    return [(section, list(section.questions.all())) for section in sections]


def survey_questions(survey: Survey) -> list[SurveyQuestion]:
    return list(survey.questions.select_related("section", "show_if_question").order_by("section__position", "section_id", "position", "id"))


def target_communities(survey: Survey) -> QuerySet[Unit]:
    """The communities a respondent may say they live in: the survey's target area."""
    qs = Unit.objects.filter(kind=UnitKind.COMMUNITY, active=True).select_related("parent")
    targets = list(survey.target_units.all())
    if survey.target_scope == TargetScope.STREETS:
        qs = qs.filter(parent__in=targets)
    elif survey.target_scope == TargetScope.COMMUNITIES:
        qs = qs.filter(pk__in=[u.pk for u in targets])
    return qs.order_by("parent__sort_order", "sort_order", "code")


# ---------------------------------------------------------------- survey results


@dataclass
class QuestionResult:
    question: SurveyQuestion
    answered: int = 0
    counts: list[tuple[str, int]] = field(default_factory=list)  # choice / rating / date buckets
    average: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    texts: list[SurveyAnswer] = field(default_factory=list)
    text_total: int = 0

    @property
    def chart(self) -> dict | None:
        """What the page's chart script draws (ECharts bar chart data), or None."""
        if not self.counts:
            return None
        return {"id": self.question.pk, "title": self.question.text, "labels": [c[0] for c in self.counts], "values": [c[1] for c in self.counts],
                "horizontal": self.question.kind in CHOICE_KINDS}


@dataclass
class SurveyResults:
    survey: Survey
    responses: int
    questions: list[QuestionResult]
    by_street: list[tuple[str, int]]

    @property
    def charts(self) -> list[dict]:
        return [q.chart for q in self.questions if q.chart]


TEXT_ANSWERS_SHOWN = 200


def survey_results(survey: Survey) -> SurveyResults:
    """Counts per question: options, ratings 1–5, number statistics, dates by day, and the
    latest text answers (with the appeals some have become)."""
    questions = survey_questions(survey)
    responses = survey.responses.count()
    results = {q.pk: QuestionResult(question=q) for q in questions}
    tallies: dict[int, Counter] = defaultdict(Counter)
    numbers: dict[int, list[float]] = defaultdict(list)
    answers = SurveyAnswer.objects.filter(response__survey=survey).values_list("question_id", "choices", "number_value", "date_value", "text_value")
    for question_id, choices, number, date, text in answers.iterator(chunk_size=2000):
        result = results.get(question_id)
        if result is None:
            continue
        kind = result.question.kind
        if kind in CHOICE_KINDS:
            if not choices:
                continue
            tallies[question_id].update(choices)
        elif kind in (QuestionKind.RATING, QuestionKind.NUMBER):
            if number is None:
                continue
            numbers[question_id].append(number)
            if kind == QuestionKind.RATING:
                tallies[question_id][str(int(number))] += 1
        elif kind == QuestionKind.DATE:
            if date is None:
                continue
            tallies[question_id][date.isoformat()] += 1
        elif kind == QuestionKind.TEXT:
            if not text:
                continue
            result.text_total += 1
        result.answered += 1
    for q in questions:
        result = results[q.pk]
        tally = tallies[q.pk]
        if q.kind in CHOICE_KINDS:
            extra = [(label, n) for label, n in tally.items() if label not in q.options]
            result.counts = [(option, tally.get(option, 0)) for option in q.options] + extra
        elif q.kind == QuestionKind.RATING:
            result.counts = [(str(i), tally.get(str(i), 0)) for i in range(1, 6)]
        elif q.kind == QuestionKind.DATE:
            result.counts = sorted(tally.items())
        if numbers[q.pk]:
            values = numbers[q.pk]
            result.average, result.minimum, result.maximum = round(sum(values) / len(values), 2), min(values), max(values)
        if q.kind == QuestionKind.TEXT:
            result.texts = list(
                SurveyAnswer.objects.filter(question=q).exclude(text_value="")
                .select_related("response", "response__street", "response__community", "case")
                .order_by("-response__submitted_at", "-id")[:TEXT_ANSWERS_SHOWN]
            )
    by_street = list(
        survey.responses.values_list("street__name").annotate(n=Count("pk")).order_by("-n")
    )
    return SurveyResults(survey=survey, responses=responses, questions=[results[q.pk] for q in questions],
                         by_street=[(name or "", n) for name, n in by_street])


@dataclass
class CrossTab:
    question: SurveyQuestion
    columns: list[str]
    rows: list[tuple[str, list[int], int]]  # street name, counts per column, row total

    @property
    def chart(self) -> dict:
        return {"id": f"x{self.question.pk}", "title": self.question.text, "streets": [r[0] for r in self.rows],
                "series": [{"name": col, "values": [r[1][i] for r in self.rows]} for i, col in enumerate(self.columns)]}


def crosstab_questions(survey: Survey) -> list[SurveyQuestion]:
    return [q for q in survey_questions(survey) if q.kind in (*CHOICE_KINDS, QuestionKind.RATING)]


def survey_crosstab(survey: Survey, question: SurveyQuestion) -> CrossTab:
    """Answers to one choice or rating question by the respondent's street (街道交叉分析)."""
    columns = list(question.options) if question.kind in CHOICE_KINDS else [str(i) for i in range(1, 6)]
    streets = {u.pk: u for u in Unit.objects.filter(kind=UnitKind.STREET)}
    table: dict[int | None, Counter] = defaultdict(Counter)
    answers = SurveyAnswer.objects.filter(question=question).values_list("response__street_id", "choices", "number_value")
    for street_id, choices, number in answers.iterator(chunk_size=2000):
        if question.kind in CHOICE_KINDS:
            table[street_id].update(choices or [])
        elif number is not None:
            table[street_id][str(int(number))] += 1
    ordered = sorted(table, key=lambda sid: (sid is None, streets[sid].sort_order if sid in streets else 0))
    rows = []
    for sid in ordered:
        counts = [table[sid].get(col, 0) for col in columns]
        name = streets[sid].name if sid in streets else "（未填）"
        rows.append((name, counts, sum(counts)))
    return CrossTab(question=question, columns=columns, rows=rows)


def survey_responses_for_export(survey: Survey):
    """Every response with its answers, oldest first, for the raw-answers workbook."""
    return (
        SurveyResponse.objects.filter(survey=survey)
        .select_related("street", "community")
        .prefetch_related("answers")
        .order_by("submitted_at", "id")
    )


# ---------------------------------------------------------------- forums


def forum_issues(forum: Forum) -> list[ForumIssue]:
    """The issues raised at a meeting with the live state of the appeal each became."""
    return list(forum.issues.select_related("case", "case__main_unit", "case__category").order_by("position", "id"))


def forum_status_summary(issues: list[ForumIssue]) -> dict[str, int]:
    summary = Counter()
    for issue in issues:
        case = issue.case
        if case is None:
            summary["pending"] += 1
        elif case.state == "closed":
            summary["closed"] += 1
        elif case.state in ("rejected", "merged"):
            summary["other"] += 1
        else:
            summary["open"] += 1
    summary["total"] = len(issues)
    return dict(summary)


# ---------------------------------------------------------------- visits


def month_bounds(month: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime(month.year, month.month, 1, tzinfo=tz)
    end = dt.datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=tz)
    return start, end


def visit_ledger(*, user, community: Unit | None, month: dt.date) -> QuerySet[Visit]:
    """The visits of one month, for one community or all in the user's scope (走访台账)."""
    start, end = month_bounds(month)
    qs = visits_visible_to(user).filter(visited_at__gte=start, visited_at__lt=end)
    if community is not None:
        qs = qs.filter(community=community)
    return qs.prefetch_related("findings", "findings__case", "photos").order_by("community__parent__sort_order", "community__sort_order", "visited_at", "id")


# ---------------------------------------------------------------- the source of an appeal


def source_of_case(case: Case) -> dict | None:
    """The channel record an appeal came from, as {"kind", "label", "object"}, or None."""
    from . import models as m

    if not case.source_type or not case.source_id:
        return None
    try:
        pk = int(case.source_id)
    except ValueError:
        return None
    lookups = {
        m.SOURCE_SURVEY_ANSWER: lambda: SurveyAnswer.objects.select_related("response__survey", "question").get(pk=pk),
        m.SOURCE_BOX_NOTE: lambda: SuggestionNote.objects.select_related("box", "box__unit").get(pk=pk),
        m.SOURCE_FORUM_ISSUE: lambda: ForumIssue.objects.select_related("forum").get(pk=pk),
        m.SOURCE_VISIT_FINDING: lambda: m.VisitFinding.objects.select_related("visit", "visit__community").get(pk=pk),
        m.SOURCE_IMPORT: lambda: ImportBatch.objects.get(pk=pk),
    }
    lookup = lookups.get(case.source_type)
    if lookup is None:
        return None
    try:
        return {"kind": case.source_type, "object": lookup()}
    except Exception:  # the record was deleted
        return None


# ---------------------------------------------------------------- appeals by channel


def appeals_by_channel(*, user, start: dt.datetime, end: dt.datetime) -> list[tuple[str, str, int]]:
    """Appeals raised in [start, end) by channel, as (code, label, count), among the cases
    `user` may see — counted from the `submit` events (the event log, as every figure is)."""
    from minsheng.cases.choices import Channel
    from minsheng.cases.models import CaseEvent

    rows = (
        CaseEvent.objects.filter(action="submit", at__gte=start, at__lt=end, case__in=Case.objects.visible_to(user))
        .values_list("data__channel").annotate(n=Count("pk"))
    )
    counts = {code: n for code, n in rows}
    labels = dict(Channel.choices)
    return [(code, str(labels.get(code, code)), counts[code]) for code in [*Channel.values, *sorted(set(counts) - set(Channel.values))]
            if counts.get(code)]
