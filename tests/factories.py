"""Test data built through the real services, so a case in state X got there the way a
real one does."""

from __future__ import annotations

from minsheng.cases import services
from minsheng.cases.choices import CaseState
from minsheng.cases.models import Case, Category
from minsheng.core.models import Unit, User

PASSWORD = "test-pass-123"


def unit(key: str) -> Unit:
    kind, _, code = key.partition(":")
    return Unit.objects.get(kind=kind, code=code)


def make_user(username: str, role: str, unit_key: str | None = None) -> User:
    if unit_key is None:
        unit_obj = Unit.objects.get(kind="district")
    else:
        unit_obj = unit(unit_key)
    user = User.objects.create_user(username=username, password=PASSWORD, role=role, unit=unit_obj)
    return user


# One user per role for permission tests: the district roles, and handlers of a street office
# (JSL), one of its communities (JSL03), another street (LSZ) and its community (LSZ01), and two
# departments (CGJ, SJJ).
ROLE_USERS = {
    "admin": ("admin", "admin", None),
    "operator": ("operator", "operator", None),
    "dispatcher": ("dispatcher", "dispatcher", None),
    "leader": ("leader", "leader", None),
    "street": ("street-JSL", "handler", "street:JSL"),
    "community": ("community-JSL03", "handler", "community:JSL03"),
    "other_street": ("street-LSZ", "handler", "street:LSZ"),
    "other_community": ("community-LSZ01", "handler", "community:LSZ01"),
    "dept": ("dept-CGJ", "handler", "dept:CGJ"),
    "other_dept": ("dept-SJJ", "handler", "dept:SJJ"),
}


def make_role_users() -> dict[str, User]:
    return {key: make_user(username, role, unit_key) for key, (username, role, unit_key) in ROLE_USERS.items()}


# The path each state is reached by, from a new submission.
PATHS = {
    CaseState.SUBMITTED: [],
    CaseState.ACCEPTED: ["accept"],
    CaseState.DISPATCHED: ["dispatch"],
    CaseState.IN_PROGRESS: ["dispatch", "acknowledge"],
    CaseState.REPLIED: ["dispatch", "acknowledge", "reply"],
    CaseState.AWAITING_FEEDBACK: ["dispatch", "acknowledge", "reply", "approve"],
    CaseState.CLOSED: ["dispatch", "acknowledge", "reply", "approve", "rate_satisfied"],
    CaseState.REJECTED: ["reject"],
    CaseState.MERGED: ["merge"],
}


class CaseMaker:
    def __init__(self, users: dict[str, User]):
        self.users = users

    def make(
        self,
        state: str = CaseState.SUBMITTED,
        *,
        unit_key: str = "street:JSL",
        community_key: str | None = "community:JSL03",
        subcategory: str = "CGM.HJWS",
        text: str = "计划路菜市场门口垃圾三天没人清运，气味很大",
        phone: str = "13812345678",
        urgency: str = "normal",
    ) -> Case:
        community = unit(community_key) if community_key else None
        case = services.case_submit(
            text=text, channel="web", address="计划路", reporter_phone=phone, reporter_name="张三",
            community=community, category=Category.objects.get(code=subcategory), urgency=urgency,
        )
        handler = self.handler_for(unit_key)
        dispatcher = self.users["dispatcher"]
        for step in PATHS[state]:
            if step == "accept":
                services.case_accept(case=case, acting_user=dispatcher)
            elif step == "dispatch":
                services.case_dispatch(case=case, acting_user=dispatcher, unit=unit(unit_key))
            elif step == "acknowledge":
                services.case_acknowledge(case=case, acting_user=handler)
            elif step == "reply":
                services.case_reply(case=case, acting_user=handler, reply_text="已安排人员现场处理完毕，情况已反馈。")
            elif step == "approve":
                services.case_approve(case=case, acting_user=dispatcher)
            elif step == "rate_satisfied":
                services.case_record_feedback(case=case, rating="satisfied")
            elif step == "reject":
                services.case_reject(case=case, acting_user=dispatcher, reason="重复无效诉求")
            elif step == "merge":
                master = self.make(CaseState.DISPATCHED, unit_key=unit_key, community_key=community_key)
                services.case_merge(case=case, master=master, acting_user=dispatcher)
        case.refresh_from_db()
        assert case.state == state, (case.state, state)
        return case

    def handler_for(self, unit_key: str) -> User:
        for user in self.users.values():
            if user.role == "handler" and user.unit and user.unit.key == unit_key:
                return user
        return make_user(f"h-{unit_key.replace(':', '-')}", "handler", unit_key)
