"""Reads the workbench needs beyond the case engine's selectors: the navigation (queues with
counts, the inbox), the routing default a dispatcher starts from, and the rows of a queue
page or export with everything their columns show loaded in a bounded number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.core.cache import cache
from django.db.models import F, Q, QuerySet

from minsheng.cases import selectors as case_selectors
from minsheng.cases.choices import AssignmentRole, ExtensionStatus, Routing
from minsheng.cases.models import Case, CaseAssignment, Category, ExtensionRequest
from minsheng.core.choices import Role, UnitKind
from minsheng.core.models import Notification, Unit

# The columns of a case list and export follow these relations; loading them with the rows
# keeps the page's query count independent of its length.
LIST_RELATED = ("category", "category__parent", "street", "community", "main_unit")

# What a list page never shows: the personal data (so a list decrypts nothing), the engine's
# suggestion, the long texts, and the place lists of the units in the row.
LIST_PAGE_UNREAD = (
    "address", "reporter_name", "reporter_phone", "reporter_id_number", "dispatch_meta", "reply_text", "feedback_comment",
    *(f"{unit}__{field}" for unit in ("street", "community", "main_unit") for field in ("aliases", "places", "roads")),
)

SORTS = {
    "submitted": ("submitted_at", "id"),
    "-submitted": ("-submitted_at", "-id"),
    "due": ("resolve_due_at", "id"),
    "-due": ("-resolve_due_at", "-id"),
}


@dataclass(frozen=True)
class QueueLink:
    key: str
    label: str
    count: int


# The navigation's counts are badges shown around every page of every staff user. Counted
# live, each page view ran one COUNT over the case table per queue (tens of milliseconds each
# once the district holds ~100,000 cases), taking database time from the residents' submissions.
# A count that is a few seconds old says the same to the reader, so the counts are kept in
# the shared cache for a short while, once per scope; the queue list and its own total stay
# live. (An index-only count would still read every row of a large queue on every page.)
NAV_COUNTS_SECONDS = 20


def _count_scope(user) -> str:
    """Users who see the same queues over the same cases share one set of counts: every
    district-wide role sees all cases (its role decides the queues), a leader or handler sees
    its unit's (see Case.objects.visible_to and cases.selectors.queue_cases)."""
    role = Role.ADMIN if user.is_superuser else user.role
    unit = user.unit_id if role in (Role.LEADER, Role.HANDLER) else ""
    return f"{role}:{unit}"


def nav_queues(user) -> list[QueueLink]:
    """The user's work queues with the number of cases in each, counted at most
    NAV_COUNTS_SECONDS ago."""
    queues = case_selectors.queues_for(user)
    key = f"desk:queue-counts:{_count_scope(user)}"
    counts = cache.get(key)
    if not isinstance(counts, dict) or any(k not in counts for k, _label in queues):
        counts = {k: case_selectors.queue_cases(user=user, queue=k).count() for k, _label in queues}
        cache.set(key, counts, NAV_COUNTS_SECONDS)
    return [QueueLink(k, label, counts[k]) for k, label in queues]


def notifications_for(user) -> QuerySet[Notification]:
    """The inbox of the user: messages to the user's unit and to the user personally."""
    if not user.is_authenticated:
        return Notification.objects.none()
    scope = Q(user=user)
    if user.unit_id:
        scope |= Q(unit_id=user.unit_id)
    return Notification.objects.filter(scope)


def queue_rows(*, user, queue: str, filters: dict, sort: str = "-submitted") -> QuerySet[Case]:
    """One queue, filtered as the list page and the export filter it, ready to display."""
    qs = case_selectors.queue_cases(user=user, queue=queue)
    qs = case_selectors.case_search(qs, **filters)
    field, tiebreak = SORTS.get(sort, SORTS["-submitted"])
    if field.lstrip("-") == "resolve_due_at":
        # Cases without a deadline (not yet dispatched) go last in either direction.
        field = F("resolve_due_at").desc(nulls_last=True) if field.startswith("-") else F("resolve_due_at").asc(nulls_last=True)
    return qs.select_related(*LIST_RELATED).order_by(field, tiebreak)


def queue_page_rows(*, user, queue: str, filters: dict, sort: str = "-submitted") -> QuerySet[Case]:
    """`queue_rows` with only what the list page shows read from the database."""
    return queue_rows(user=user, queue=queue, filters=filters, sort=sort).defer(*LIST_PAGE_UNREAD)


def routing_default(case: Case) -> Unit | None:
    """The unit the taxonomy routes this case to: a territorial subcategory goes to the
    street office of the case's street, any other to the subcategory's department."""
    category = case.category
    if category is None or not category.is_subcategory:
        return None
    if category.routing == Routing.TERRITORIAL:
        if case.street_id:
            return case.street
        return None
    return category.department


def co_units(case: Case) -> list[CaseAssignment]:
    return list(
        case.assignments.filter(active=True, role=AssignmentRole.CO).select_related("unit", "unit__parent").order_by("assigned_at")
    )


def assignment_history(case: Case) -> list[CaseAssignment]:
    return list(case.assignments.select_related("unit", "assigned_by").order_by("assigned_at", "id"))


def pending_extension(case: Case) -> ExtensionRequest | None:
    return case.extensions.filter(status=ExtensionStatus.PENDING).select_related("unit", "requested_by").first()


def caller_history_visible(*, user, phone: str, exclude_pk: int | None = None, limit: int = 10) -> list[Case]:
    """The caller's earlier cases that `user` may see."""
    return list(case_selectors.caller_history(user=user, phone=phone, exclude_pk=exclude_pk, limit=limit))


HANDLING_KINDS = (UnitKind.STREET, UnitKind.DEPARTMENT, UnitKind.COMMUNITY)


class SelectOptions:
    """The unit and category options of a page's <select>s, each list read from the database
    at most once per instance. A case page shows the unit list in up to five fields of its
    action forms (and Django reads a field's options twice while rendering it), so the views
    hand one instance to all the forms of a page. Plain rows, not model instances: a few
    hundred options each time."""

    @cached_property
    def _units(self) -> list[tuple[int, str, str, str, str | None]]:
        return list(
            case_selectors.handling_units()
            .order_by("kind", "sort_order", "code")
            .values_list("pk", "kind", "code", "name", "parent__name")
        )

    @cached_property
    def _categories(self) -> list[tuple[int, str, str, int | None]]:
        return list(Category.objects.filter(active=True).order_by("sort_order", "code").values_list("pk", "code", "name", "parent_id"))

    @staticmethod
    def _unit_label(kind: str, name: str, parent_name: str | None) -> str:
        return f"{parent_name} / {name}" if kind == UnitKind.COMMUNITY and parent_name else name

    def units(self, kinds: tuple[str, ...] = HANDLING_KINDS) -> list:
        """Handling units by primary key, grouped for a <select> in the order of `kinds`:
        street offices, departments, then communities labelled with their street."""
        groups: dict[str, list[tuple[str, str]]] = {kind: [] for kind in kinds}
        for pk, kind, _code, name, parent_name in self._units:
            if kind in groups:
                groups[kind].append((str(pk), self._unit_label(kind, name, parent_name)))
        labels = dict(UnitKind.choices)
        return [(labels[kind], groups[kind]) for kind in kinds if groups[kind]]

    def unit_keys(self) -> list:
        """Every handling unit by its key (``street:JSL``), grouped by kind, for a filter."""
        labels = dict(UnitKind.choices)
        grouped: dict[str, list[tuple[str, str]]] = {}
        for _pk, kind, code, name, parent_name in self._units:
            grouped.setdefault(labels[kind], []).append((f"{kind}:{code}", self._unit_label(kind, name, parent_name)))
        return list(grouped.items())

    def streets(self) -> list[tuple[str, str]]:
        """Street offices by code."""
        return [(code, name) for _pk, kind, code, name, _parent in self._units if kind == UnitKind.STREET]

    def categories(self, *, subcategories_only: bool) -> list:
        """Categories grouped by their top-level category, for a <select>."""
        groups: dict[int, tuple[str, list]] = {}
        for pk, code, name, parent_id in self._categories:
            if parent_id is None:
                groups[pk] = (name, [] if subcategories_only else [(code, f"{name}（全部）")])
        for _pk, code, name, parent_id in self._categories:
            if parent_id in groups:
                groups[parent_id][1].append((code, name))
        return [(label, items) for label, items in groups.values() if items]


def unit_choices(*, kinds: tuple[str, ...] = HANDLING_KINDS) -> list:
    return SelectOptions().units(kinds)


def category_choices(*, subcategories_only: bool) -> list:
    return SelectOptions().categories(subcategories_only=subcategories_only)


@dataclass
class DispatchPanel:
    """What the dispatch engine suggested for a case, ready for the dispatcher: the top
    classes with their probabilities, the place and why, the unit and how sure, the open
    cases it may repeat, and the values a one-click confirmation would dispatch with."""

    model_version: str
    subcategories: list[dict]
    urgency: str
    urgency_probability: float | None
    location: dict
    unit: Unit | None
    unit_confidence: float | None
    needs_location: bool
    reasons: list[str]
    key_terms: list[str]
    duplicates: list[dict]
    confirm: dict | None  # hidden fields of the one-click dispatch form, None when it cannot be confirmed as is


def dispatch_panel(case: Case) -> DispatchPanel | None:
    """The engine's suggestion recorded on the case at intake (see dispatch.services)."""
    meta = case.dispatch_meta or {}
    if not meta.get("subcategory"):
        return None
    names = dict(Category.objects.filter(code__in=[c for c, _ in meta["subcategory"]]).values_list("code", "name"))
    subcategories = [{"code": code, "name": names.get(code, code), "probability": p} for code, p in meta["subcategory"][:3]]
    unit = None
    if meta.get("unit"):
        kind, _, code = meta["unit"].partition(":")
        unit = Unit.objects.filter(kind=kind, code=code, active=True).first()
    loc = dict(meta.get("location") or {})
    street = Unit.objects.filter(kind=UnitKind.STREET, code=loc.get("street")).first() if loc.get("street") else None
    community = Unit.objects.filter(kind=UnitKind.COMMUNITY, code=loc.get("community")).first() if loc.get("community") else None
    loc["street_name"] = street.name if street else ""
    loc["community_name"] = community.name if community else ""
    duplicates = []
    for row in meta.get("duplicates") or []:
        other = Case.objects.filter(pk=row.get("case_id")).only("pk", "state", "tracking_code").first()
        if other is not None and other.is_open:
            duplicates.append({**row, "pk": other.pk})
    confirm = None
    if unit is not None:
        confirm = {
            "unit": unit.pk,
            "category": subcategories[0]["code"],
            "urgency": meta.get("urgency") or case.urgency,
            "street": street.pk if street else "",
            "community": community.pk if community else "",
        }
    return DispatchPanel(
        model_version=meta.get("model_version", ""),
        subcategories=subcategories,
        urgency=meta.get("urgency", ""),
        urgency_probability=meta.get("urgency_probability"),
        location=loc,
        unit=unit,
        unit_confidence=meta.get("unit_confidence"),
        needs_location=bool(meta.get("needs_location")),
        reasons=list(meta.get("reasons") or []),
        key_terms=list(meta.get("key_terms") or []),
        duplicates=duplicates,
        confirm=confirm,
    )


def unit_names() -> dict[str, str]:
    """Unit key → name, for showing the keys recorded in event data."""
    return {f"{kind}:{code}": name for kind, code, name in Unit.objects.values_list("kind", "code", "name")}
