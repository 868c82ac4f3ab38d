"""The case lifecycle as data. `TRANSITIONS` is the one table that says which action may
move a case from which states to which, and who may take it; `services.py` enforces it and
is the only code that changes a case's state.

Actors are staff users, or the two non-staff actors below: the resident (identified at the
boundary by tracking code and phone) and the system (periodic jobs).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from minsheng.core.choices import Role

from .choices import CaseState as S


class _PseudoActor:
    """A non-staff actor. Not a user: it has no unit and no account."""

    is_authenticated = False
    is_active = True
    is_superuser = False
    pk = None
    unit = None
    unit_id = None

    def __init__(self, kind: str):
        self.kind = kind
        self.role = kind
        self.username = kind

    def __repr__(self) -> str:
        return f"<{self.kind}>"


RESIDENT = _PseudoActor("resident")
SYSTEM = _PseudoActor("system")

STAFF_DISPATCH = frozenset({Role.DISPATCHER, Role.ADMIN})
STAFF_INTAKE = frozenset({Role.OPERATOR, Role.DISPATCHER, Role.ADMIN})
HANDLER = frozenset({Role.HANDLER})
ANY_WORKING_STAFF = frozenset({Role.OPERATOR, Role.DISPATCHER, Role.ADMIN, Role.HANDLER})


@dataclass(frozen=True)
class Transition:
    """One action of the lifecycle.

    target None means a side action: it is recorded but leaves the state as it is.
    unit_bound: a handler may take it only for a case whose main unit is the handler's unit
    (co_units_too: a co-handling unit may also take it).
    """

    action: str
    label: str
    sources: frozenset[str]
    target: str | None
    roles: frozenset[str]
    unit_bound: bool = False
    co_units_too: bool = False
    needs_reason: bool = False
    public: bool = False


def _t(action, label, sources, target, roles, **kw) -> Transition:
    return Transition(action=action, label=label, sources=frozenset(sources), target=target, roles=frozenset(roles), **kw)


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("accept", _("受理"), [S.SUBMITTED], S.ACCEPTED, STAFF_INTAKE, public=True),
        _t("reject", _("不予受理"), [S.SUBMITTED, S.ACCEPTED], S.REJECTED, STAFF_INTAKE, needs_reason=True, public=True),
        _t("dispatch", _("派单"), [S.SUBMITTED, S.ACCEPTED], S.DISPATCHED, STAFF_DISPATCH | {"system"}, public=True),
        _t("merge", _("并案"), [S.SUBMITTED, S.ACCEPTED], S.MERGED, STAFF_DISPATCH, public=True),
        _t("delegate", _("下派社区"), [S.DISPATCHED], S.DISPATCHED, HANDLER, unit_bound=True),
        _t("acknowledge", _("签收"), [S.DISPATCHED], S.IN_PROGRESS, HANDLER, unit_bound=True, public=True),
        _t("return", _("退单"), [S.DISPATCHED, S.IN_PROGRESS], S.ACCEPTED, HANDLER, unit_bound=True, needs_reason=True),
        _t("reply", _("办结答复"), [S.IN_PROGRESS], S.REPLIED, HANDLER, unit_bound=True, needs_reason=True),
        _t("approve", _("审核通过"), [S.REPLIED], S.AWAITING_FEEDBACK, STAFF_DISPATCH, public=True),
        _t("send_back", _("退回重办"), [S.REPLIED], S.IN_PROGRESS, STAFF_DISPATCH, needs_reason=True),
        _t("feedback_close", _("评价办结"), [S.AWAITING_FEEDBACK], S.CLOSED, {"resident", Role.OPERATOR}, public=True),
        _t("feedback_reopen", _("不满意重办"), [S.AWAITING_FEEDBACK], S.IN_PROGRESS, {"resident", Role.OPERATOR}, public=True),
        _t("close_no_feedback", _("逾期未评价办结"), [S.AWAITING_FEEDBACK], S.CLOSED, {"system"}, public=True),
        # Side actions: recorded, state unchanged.
        _t("contact", _("联系群众"), [S.DISPATCHED, S.IN_PROGRESS], None, HANDLER, unit_bound=True, co_units_too=True, needs_reason=True),
        _t("note", _("内部备注"), [*S.values], None, ANY_WORKING_STAFF, unit_bound=True, co_units_too=True, needs_reason=True),
        _t("add_co_unit", _("增加协办单位"), [S.DISPATCHED, S.IN_PROGRESS], None, STAFF_DISPATCH),
        _t("request_extension", _("申请延期"), [S.DISPATCHED, S.IN_PROGRESS], None, HANDLER, unit_bound=True, needs_reason=True),
        _t("decide_extension", _("审批延期"), [S.DISPATCHED, S.IN_PROGRESS], None, STAFF_DISPATCH),
        _t("supervise", _("督办"), [S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.REPLIED], None, STAFF_DISPATCH, needs_reason=True),
        _t("join", _("共同反映"), [S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.REPLIED], None, {"resident", "system", *STAFF_INTAKE}),
        _t("flag", _("时限预警"), [S.DISPATCHED, S.IN_PROGRESS], None, {"system"}),
        _t("suggest", _("智能分拨建议"), [S.SUBMITTED, S.ACCEPTED], None, {"system"}),
    ]
}

# Actions a person picks from the case page (the rest are taken by the system or residents).
STAFF_ACTIONS = (
    "accept",
    "dispatch",
    "reject",
    "merge",
    "delegate",
    "acknowledge",
    "contact",
    "reply",
    "return",
    "request_extension",
    "decide_extension",
    "approve",
    "send_back",
    "add_co_unit",
    "supervise",
    "feedback_close",
    "feedback_reopen",
    "note",
)
