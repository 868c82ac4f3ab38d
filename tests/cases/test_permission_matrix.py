"""Role × state × action: every allowed action works, every other is refused with a clear
error. The expectations are written out by hand from the lifecycle in DESIGN.md — not
derived from the transition table — so a wrong table entry fails here."""

import pytest

from minsheng.cases import services
from minsheng.cases.choices import CaseState
from minsheng.cases.errors import ActionNotAllowed
from minsheng.cases.models import Case, CaseEvent
from tests.factories import unit

pytestmark = pytest.mark.django_db

S = CaseState
ROLES = ["admin", "operator", "dispatcher", "leader", "street", "community", "other_street", "other_community", "dept", "other_dept"]
ALL_STATES = list(S.values)
HANDLED = [S.DISPATCHED, S.IN_PROGRESS, S.REPLIED, S.AWAITING_FEEDBACK, S.CLOSED]

# action → {role: states in which it is allowed}. Cases are located in community JSL03 and
# dispatched to the street office JSL, whose handler is "street".
EXPECTED = {
    "accept": {r: [S.SUBMITTED] for r in ("admin", "operator", "dispatcher")},
    "reject": {r: [S.SUBMITTED, S.ACCEPTED] for r in ("admin", "operator", "dispatcher")},
    "dispatch": {r: [S.SUBMITTED, S.ACCEPTED] for r in ("admin", "dispatcher")},
    "merge": {r: [S.SUBMITTED, S.ACCEPTED] for r in ("admin", "dispatcher")},
    "delegate": {"street": [S.DISPATCHED]},
    "acknowledge": {"street": [S.DISPATCHED]},
    "contact": {"street": [S.DISPATCHED, S.IN_PROGRESS]},
    "reply": {"street": [S.IN_PROGRESS]},
    "return": {"street": [S.DISPATCHED, S.IN_PROGRESS]},
    "request_extension": {"street": [S.DISPATCHED, S.IN_PROGRESS]},
    "approve": {r: [S.REPLIED] for r in ("admin", "dispatcher")},
    "send_back": {r: [S.REPLIED] for r in ("admin", "dispatcher")},
    "add_co_unit": {r: [S.DISPATCHED, S.IN_PROGRESS] for r in ("admin", "dispatcher")},
    "supervise": {r: [S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.REPLIED] for r in ("admin", "dispatcher")},
    "feedback": {"operator": [S.AWAITING_FEEDBACK]},
    "note": {**{r: ALL_STATES for r in ("admin", "operator", "dispatcher")}, "street": HANDLED},
}


def perform(action, case, actor, cases):
    if action == "accept":
        return services.case_accept(case=case, acting_user=actor)
    if action == "reject":
        return services.case_reject(case=case, acting_user=actor, reason="无效诉求")
    if action == "dispatch":
        return services.case_dispatch(case=case, acting_user=actor, unit=unit("street:JSL"))
    if action == "merge":
        master = Case.objects.exclude(pk=case.pk).filter(state=S.DISPATCHED).first() or cases.make(S.DISPATCHED)
        return services.case_merge(case=case, master=master, acting_user=actor)
    if action == "delegate":
        return services.case_delegate(case=case, acting_user=actor, community=unit("community:JSL03"))
    if action == "acknowledge":
        return services.case_acknowledge(case=case, acting_user=actor)
    if action == "contact":
        return services.case_contact(case=case, acting_user=actor, note="已电话联系")
    if action == "reply":
        return services.case_reply(case=case, acting_user=actor, reply_text="已现场处理完毕并回复群众。")
    if action == "return":
        return services.case_return(case=case, acting_user=actor, reason="非本单位职责")
    if action == "request_extension":
        return services.case_request_extension(case=case, acting_user=actor, working_days=3, reason="需要协调")
    if action == "approve":
        return services.case_approve(case=case, acting_user=actor)
    if action == "send_back":
        return services.case_send_back(case=case, acting_user=actor, reason="答复不清")
    if action == "add_co_unit":
        return services.case_add_co_unit(case=case, acting_user=actor, unit=unit("dept:ZFB"))
    if action == "supervise":
        return services.case_supervise(case=case, acting_user=actor, level=1, reason="多次反映")
    if action == "feedback":
        return services.case_record_feedback(case=case, rating="satisfied", acting_user=actor)
    if action == "note":
        return services.case_add_note(case=case, acting_user=actor, text="内部备注")
    raise AssertionError(action)


@pytest.mark.parametrize("action", list(EXPECTED))
@pytest.mark.parametrize("state", ALL_STATES)
def test_role_state_action_matrix(action, state, users, cases):
    case = cases.make(state)
    for role in ROLES:
        actor = users[role]
        fresh = Case.objects.get(pk=case.pk)
        events_before = CaseEvent.objects.filter(case=case).count()
        allowed = state in EXPECTED[action].get(role, [])
        if allowed:
            perform(action, fresh, actor, cases)
            assert CaseEvent.objects.filter(case=case).count() > events_before, (role, action, state)
            return  # the case has moved on; the roles after this one are checked in other states
        with pytest.raises(ActionNotAllowed) as refused:
            perform(action, fresh, actor, cases)
        assert refused.value.message, (role, action, state)
        assert CaseEvent.objects.filter(case=case).count() == events_before
        assert Case.objects.get(pk=case.pk).state == state


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(EXPECTED))
def test_each_allowed_role_can_act_in_each_allowed_state(role, action, users, cases):
    """The matrix above stops at the first allowed role; this runs every allowed pair."""
    for state in EXPECTED[action].get(role, []):
        case = cases.make(state)
        perform(action, case, users[role], cases)
        assert case.events.exclude(action__in=["submit"]).exists()


def test_leader_is_read_only(users, cases):
    case = cases.make(S.IN_PROGRESS)
    assert services.allowed_actions(case=case, actor=users["leader"]) == []
    assert Case.objects.visible_to(users["leader"]).filter(pk=case.pk).exists()


def test_a_deactivated_user_can_do_nothing(users, cases):
    case = cases.make(S.SUBMITTED)
    users["dispatcher"].is_active = False
    users["dispatcher"].save()
    with pytest.raises(ActionNotAllowed):
        services.case_accept(case=case, acting_user=users["dispatcher"])


def test_decide_extension_is_for_the_command_centre_only(users, cases):
    case = cases.make(S.IN_PROGRESS)
    ext = services.case_request_extension(case=case, acting_user=users["street"], working_days=3, reason="需要协调")
    for role in ROLES:
        if role in ("admin", "dispatcher"):
            continue
        with pytest.raises(ActionNotAllowed):
            services.case_decide_extension(extension=ext, acting_user=users[role], approve=True)
    services.case_decide_extension(extension=ext, acting_user=users["dispatcher"], approve=True)
    ext.refresh_from_db()
    assert ext.status == "approved"
