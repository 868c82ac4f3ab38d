"""Cases acted on at chosen local times through the real services, for hand-computed
scenarios: `story.at("2026-11-30 09:00", "dispatch", case, unit="street:JSL")`."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from minsheng.cases import services
from minsheng.cases.models import Case, Category, ExtensionRequest
from minsheng.core.models import User
from tests.factories import make_user, unit

CST = ZoneInfo("Asia/Shanghai")


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=CST)


class Story:
    def __init__(self, users, maker):
        self.users = users
        self.maker = maker

    def new(self, when: str, *, community: str | None = "community:JSL03", urgency: str = "normal", subcategory: str = "CGM.HJWS") -> Case:
        with time_machine.travel(local(when), tick=False):
            return services.case_submit(
                text="计划路菜市场门口垃圾三天没人清运，气味很大", channel="web", reporter_phone="13812345678",
                community=unit(community) if community else None, category=Category.objects.get(code=subcategory), urgency=urgency,
            )

    def handler(self, case: Case):
        case.refresh_from_db()
        key = case.main_unit.key
        for user in self.users.values():
            if user.role == "handler" and user.unit and user.unit.key == key:
                return user
        name = f"h-{key.replace(':', '-')}"
        return User.objects.filter(username=name).first() or make_user(name, "handler", key)

    def at(self, when: str, action: str, case: Case | None, **kw):
        if case is not None:
            case.refresh_from_db()
        dispatcher = self.users["dispatcher"]
        with time_machine.travel(local(when), tick=False):
            if action == "accept":
                return services.case_accept(case=case, acting_user=dispatcher)
            if action == "reject":
                return services.case_reject(case=case, acting_user=dispatcher, reason="重复无效诉求")
            if action == "dispatch":
                return services.case_dispatch(case=case, acting_user=dispatcher, unit=unit(kw.get("unit", "street:JSL")))
            if action == "delegate":
                return services.case_delegate(case=case, acting_user=self.handler(case), community=unit(kw["community"]))
            if action == "acknowledge":
                return services.case_acknowledge(case=case, acting_user=self.handler(case))
            if action == "contact":
                return services.case_contact(case=case, acting_user=self.handler(case), note="已电话联系群众")
            if action == "return":
                return services.case_return(case=case, acting_user=self.handler(case), reason="不属于本单位职责")
            if action == "reply":
                return services.case_reply(case=case, acting_user=self.handler(case), reply_text="已安排人员现场处理完毕，情况已反馈。")
            if action == "approve":
                return services.case_approve(case=case, acting_user=dispatcher)
            if action == "send_back":
                return services.case_send_back(case=case, acting_user=dispatcher, reason="答复不完整")
            if action == "feedback":
                return services.case_record_feedback(case=case, rating=kw["rating"], resolved=kw.get("resolved"))
            if action == "close_no_feedback":
                return services.case_close_without_feedback(case=case)
            if action == "extend":
                ext = services.case_request_extension(case=case, acting_user=self.handler(case), working_days=kw.get("days", 3), reason="需协调施工单位")
                return ext
            if action == "decide":
                ext = ExtensionRequest.objects.get(case=case, status="pending")
                return services.case_decide_extension(extension=ext, acting_user=dispatcher, approve=kw.get("approve", True))
            if action == "flag":
                return services.cases_flag_due(now=local(when))
        raise ValueError(action)

    def run(self, case: Case, steps: list[tuple]) -> Case:
        for step in steps:
            when, action, *rest = step
            self.at(when, action, case, **(rest[0] if rest else {}))
        case.refresh_from_db()
        return case


@pytest.fixture
def story(users, cases):
    return Story(users, cases)
