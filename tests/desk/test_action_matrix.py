"""Role × state × action through the HTTP layer: every staff action posted by every role to a
case in every state succeeds exactly when the engine's `refusal` says it may, moves the case
as the transition table says, and otherwise is refused with the case untouched.

The users and the nine cases are built once for the module, inside a transaction that each
test's own transaction nests in (as Django's TestCase does with setUpTestData) and that is
rolled back at the end: 1,620 tests share one set of data, and each test still sees it
untouched."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import transaction

from minsheng.cases import services
from minsheng.cases.choices import CaseState
from minsheng.cases.models import Case
from minsheng.cases.services import refusal
from minsheng.cases.workflow import STAFF_ACTIONS, TRANSITIONS
from tests.factories import CaseMaker, make_role_users

from .conftest import act, errors_in, valid_data

ROLES = ["admin", "operator", "dispatcher", "leader", "street", "community", "other_street", "other_community", "dept", "other_dept"]
STATES = list(CaseState.values)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            users = make_role_users()
            maker = CaseMaker(users)
            cases = {state: maker.make(state).pk for state in STATES}
            master = maker.make(CaseState.DISPATCHED)
            yield SimpleNamespace(users=users, cases=cases, master=master)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _prepare(world, case: Case, action: str) -> Case:
    """Give an action what it needs beyond the state: a pending extension to decide."""
    if action == "decide_extension" and case.state in (CaseState.DISPATCHED, CaseState.IN_PROGRESS):
        services.case_request_extension(case=case, acting_user=world.users["street"], working_days=3, reason="需要协调多个部门")
        case = Case.objects.get(pk=case.pk)
    return case


@pytest.mark.parametrize("action", STAFF_ACTIONS)
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_action_matrix(client, db, world, role, state, action):
    user = world.users[role]
    case = _prepare(world, Case.objects.get(pk=world.cases[state]), action)
    allowed = refusal(user, action, case) is None
    visible = Case.objects.visible_to(user).filter(pk=case.pk).exists()
    events_before = case.events.count()
    version_before = case.version

    client.force_login(user)
    response = act(client, case, action, valid_data(action, master=world.master))
    after = Case.objects.get(pk=case.pk)

    if allowed:
        assert response.status_code == 302, (response.status_code, errors_in(response))
        target = TRANSITIONS[action].target or state
        assert after.state == target
        assert after.events.filter(action=action).count() >= 1
        assert after.events.count() == events_before + 1
    else:
        assert response.status_code == (403 if visible else 404)
        assert after.state == state
        assert after.version == version_before
        assert after.events.count() == events_before


def test_the_matrix_exercises_every_action(db, world):
    """Each staff action is allowed for some role in some state, so no column of the matrix
    only ever tests refusals."""
    for action in STAFF_ACTIONS:
        assert any(
            refusal(world.users[role], action, Case.objects.get(pk=world.cases[state])) is None
            for role in ROLES
            for state in TRANSITIONS[action].sources
        ), action

