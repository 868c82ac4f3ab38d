"""Who may do what in the listening channels: named predicates, checked by the services
(object level) and named by the views.

Scope follows the org tree as it does for cases (Case.objects.visible_to): the district's
roles (admin, dispatcher, operator, a district leader) see every channel record; a street
office sees its own and its communities'; a community sees its own; a department sees what it
hosts. Leaders read, never write. Importing spreadsheets is the command centre's job.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from minsheng.core.choices import Role, UnitKind
from minsheng.core.models import Unit

DISTRICT_ROLES = (Role.ADMIN, Role.DISPATCHER, Role.OPERATOR)
INTAKE_ROLES = (Role.ADMIN, Role.DISPATCHER, Role.OPERATOR)


@dataclass(frozen=True)
class UnitScope:
    """The units whose channel records a user may see: everything, or a set of unit ids."""

    everything: bool = False
    unit_ids: frozenset[int] = frozenset()

    def allows(self, unit_id: int | None) -> bool:
        return self.everything or (unit_id is not None and unit_id in self.unit_ids)

    def q(self, field: str) -> Q:
        """A filter on `field` (a foreign key to Unit) that keeps what the scope allows."""
        if self.everything:
            return Q()
        return Q(**{f"{field}__in": list(self.unit_ids)})

    @property
    def empty(self) -> bool:
        return not self.everything and not self.unit_ids


def _active(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def role_of(user) -> str:
    return Role.ADMIN if getattr(user, "is_superuser", False) else getattr(user, "role", "")


def unit_scope(user) -> UnitScope:
    """The units `user` sees channel records of (see the module docstring)."""
    if not _active(user):
        return UnitScope()
    role = role_of(user)
    unit = user.unit
    if role in DISTRICT_ROLES:
        return UnitScope(everything=True)
    if role == Role.LEADER and (unit is None or unit.kind == UnitKind.DISTRICT):
        return UnitScope(everything=True)
    if role not in (Role.LEADER, Role.HANDLER) or unit is None:
        return UnitScope()
    if unit.kind == UnitKind.STREET:
        ids = {unit.pk, *Unit.objects.filter(parent=unit, kind=UnitKind.COMMUNITY).values_list("pk", flat=True)}
        return UnitScope(unit_ids=frozenset(ids))
    return UnitScope(unit_ids=frozenset({unit.pk}))


def may_write(user) -> bool:
    """Staff who record things (every working role; leaders only read)."""
    return _active(user) and role_of(user) in (*DISTRICT_ROLES, Role.HANDLER)


def can_view(user, unit: Unit | None) -> bool:
    return unit is not None and unit_scope(user).allows(unit.pk)


def can_manage(user, unit: Unit | None) -> bool:
    """Change a record that belongs to `unit`."""
    return may_write(user) and can_view(user, unit)


def units_to_act_for(user, kinds: tuple[str, ...]) -> list[Unit]:
    """The active units of the given kinds `user` may record things for (host a forum, own a
    survey, visit in): the user's own unit first."""
    if not may_write(user):
        return []
    scope = unit_scope(user)
    units = list(Unit.objects.filter(scope.q("pk"), kind__in=kinds, active=True).select_related("parent")
                 .order_by("kind", "parent__sort_order", "sort_order", "code"))
    own = [u for u in units if u.pk == user.unit_id]
    return own + [u for u in units if u.pk != user.unit_id]


# ---------------------------------------------------------------- per channel

def can_use_channels(user) -> bool:
    """Sees the channels menu at all."""
    return _active(user) and not unit_scope(user).empty


def can_build_surveys(user) -> bool:
    return may_write(user) and (role_of(user) in DISTRICT_ROLES or user.unit_id is not None)


def can_open_boxes(user) -> bool:
    return may_write(user) and (role_of(user) in DISTRICT_ROLES or _unit_kind(user) in (UnitKind.STREET, UnitKind.COMMUNITY))


def can_moderate_box(user, box) -> bool:
    return can_manage(user, box.unit)


def can_record_forums(user) -> bool:
    return can_build_surveys(user)


def can_record_visits(user) -> bool:
    return can_open_boxes(user)


def can_import(user) -> bool:
    return _active(user) and role_of(user) in INTAKE_ROLES


def _unit_kind(user) -> str | None:
    unit = getattr(user, "unit", None)
    return unit.kind if unit is not None else None
