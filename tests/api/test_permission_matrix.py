"""Role × state × action over the API, as over the workbench: every staff action posted with
every role's token to a case in every state succeeds exactly when the engine's `refusal`
says it may, moves the case as the transition table says, and otherwise is refused — 404
when the role may not see the case at all, 403 when it may — with the case untouched.

The users and cases are built once for the module inside a transaction that every test's
own transaction nests in, and that is rolled back at the end (as in tests/desk)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import transaction

from minsheng.api.services.tokens import token_create
from minsheng.cases import services
from minsheng.cases.choices import CaseState
from minsheng.cases.models import Case
from minsheng.cases.services import refusal
from minsheng.cases.workflow import STAFF_ACTIONS, TRANSITIONS
from tests.factories import CaseMaker, make_role_users

from .conftest import ApiClient, action_url

ROLES = ["admin", "operator", "dispatcher", "leader", "street", "community", "other_street", "other_community", "dept", "other_dept"]
STATES = list(CaseState.values)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            users = make_role_users()
            keys = {role: token_create(user=user, name="matrix")[1] for role, user in users.items()}
            maker = CaseMaker(users)
            cases = {state: maker.make(state).pk for state in STATES}
            master = maker.make(CaseState.DISPATCHED)
            yield SimpleNamespace(users=users, keys=keys, cases=cases, master=master)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def valid_body(action: str, case: Case, master: Case) -> dict:
    """Input the action's schema and service accept, for a case dispatched to street:JSL."""
    body = {
        "accept": {},
        "reject": {"reason": "不属于受理范围"},
        "dispatch": {"unit": "street:JSL"},
        "merge": {"master": master.tracking_code},
        "delegate": {"community": "community:JSL03"},
        "acknowledge": {},
        "contact": {"note": "已电话联系群众，约定明天上午到现场查看"},
        "reply": {"reply_text": "已协调环卫所清运垃圾，并安排每日巡查，群众表示认可。"},
        "return": {"reason": "该问题属于供水公司职责，请改派"},
        "request_extension": {"working_days": 3, "reason": "需要协调多个部门现场会商"},
        "decide_extension": {"decision": "approve", "note": "同意"},
        "approve": {},
        "send_back": {"reason": "答复未说明处理结果，请补充"},
        "add_co_unit": {"unit": "dept:SJJ"},
        "supervise": {"level": 2, "reason": "群众多次反映，请加快办理"},
        "feedback_close": {"rating": "satisfied", "comment": "处理及时"},
        "feedback_reopen": {"comment": "垃圾又堆起来了"},
        "note": {"text": "已与街道城管科沟通"},
    }[action]
    return {"expected_version": case.version, **body}


def _prepare(world, case: Case, action: str) -> Case:
    """Give an action what it needs beyond the state: a pending extension to decide."""
    if action == "decide_extension" and case.state in (CaseState.DISPATCHED, CaseState.IN_PROGRESS):
        services.case_request_extension(case=case, acting_user=world.users["street"], working_days=3, reason="需要协调多个部门")
        case = Case.objects.get(pk=case.pk)
    return case


@pytest.mark.parametrize("action", STAFF_ACTIONS)
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("role", ROLES)
def test_api_action_matrix(db, world, role, state, action):
    user = world.users[role]
    case = _prepare(world, Case.objects.get(pk=world.cases[state]), action)
    allowed = refusal(user, action, case) is None
    visible = Case.objects.visible_to(user).filter(pk=case.pk).exists()
    events_before = case.events.count()
    version_before = case.version

    response = ApiClient(world.keys[role]).post_json(action_url(case, action), valid_body(action, case, world.master))
    after = Case.objects.get(pk=case.pk)

    if allowed:
        assert response.status_code == 200, response.content.decode()
        assert after.state == (TRANSITIONS[action].target or state)
        assert after.events.count() == events_before + 1
        assert after.events.filter(action=action).exists()
    else:
        expected = (403, "not_allowed") if visible else (404, "not_found")
        assert (response.status_code, response.json()["code"]) == expected
        assert after.state == state
        assert after.version == version_before
        assert after.events.count() == events_before
