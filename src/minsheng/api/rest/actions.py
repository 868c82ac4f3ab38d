"""Every staff action of the case engine as an API operation: action → (input schema, the
service call). The workbench does the same with forms (desk/actions.py); both call
cases.services, which alone decides who may do what."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from minsheng.cases import services
from minsheng.cases.choices import Feedback
from minsheng.cases.errors import InvalidInput
from minsheng.cases.models import Case, Category
from minsheng.cases.workflow import STAFF_ACTIONS
from minsheng.core.models import Unit
from minsheng.core.services import unit_by_key

from ..selectors import pending_extension
from . import schemas as s


@dataclass(frozen=True)
class ApiAction:
    schema: type[s.ActionIn]
    perform: Callable[..., Any]  # perform(case=, user=, data=) → calls one service


def _unit(key: str | None, what: str = "单位") -> Unit | None:
    if not key:
        return None
    found = unit_by_key(key)
    if found is None:
        raise InvalidInput(f"未知的{what}：{key}（应如 street:JSL、community:JSL03、dept:CGJ）")
    return found


def _category(code: str | None) -> Category | None:
    if not code:
        return None
    found = Category.objects.filter(code=code, active=True).select_related("parent").first()
    if found is None:
        raise InvalidInput(f"未知的分类：{code}")
    return found


def _classification(data: s.ClassificationIn) -> dict:
    return {
        "category": _category(data.category),
        "urgency": data.urgency or None,
        "street": _unit(data.street, "街道"),
        "community": _unit(data.community, "社区"),
    }


def _master(user, code: str) -> Case:
    master = Case.objects.visible_to(user).filter(tracking_code=code.strip().upper()).first()
    if master is None:
        raise InvalidInput(f"未找到查询码为 {code} 的案件。")
    return master


def _decide_extension(*, case, user, data):
    extension = pending_extension(case)
    if extension is None:
        raise InvalidInput("没有待审批的延期申请。")
    return services.case_decide_extension(extension=extension, acting_user=user, approve=data.decision == "approve", note=data.note)


ACTIONS: dict[str, ApiAction] = {
    "accept": ApiAction(s.AcceptIn, lambda *, case, user, data: services.case_accept(
        case=case, acting_user=user, expected_version=data.expected_version, **_classification(data))),
    "reject": ApiAction(s.RejectIn, lambda *, case, user, data: services.case_reject(
        case=case, acting_user=user, reason=data.reason, expected_version=data.expected_version)),
    "dispatch": ApiAction(s.DispatchIn, lambda *, case, user, data: services.case_dispatch(
        case=case, acting_user=user, unit=_unit(data.unit), co_units=[_unit(k) for k in data.co_units], reason=data.reason,
        expected_version=data.expected_version, **_classification(data))),
    "merge": ApiAction(s.MergeIn, lambda *, case, user, data: services.case_merge(
        case=case, master=_master(user, data.master), acting_user=user, reason=data.reason, expected_version=data.expected_version)),
    "delegate": ApiAction(s.DelegateIn, lambda *, case, user, data: services.case_delegate(
        case=case, acting_user=user, community=_unit(data.community, "社区"), reason=data.reason, expected_version=data.expected_version)),
    "acknowledge": ApiAction(s.AcknowledgeIn, lambda *, case, user, data: services.case_acknowledge(
        case=case, acting_user=user, expected_version=data.expected_version)),
    "contact": ApiAction(s.ContactIn, lambda *, case, user, data: services.case_contact(
        case=case, acting_user=user, note=data.note)),
    "reply": ApiAction(s.ReplyIn, lambda *, case, user, data: services.case_reply(
        case=case, acting_user=user, reply_text=data.reply_text, expected_version=data.expected_version)),
    "return": ApiAction(s.ReturnIn, lambda *, case, user, data: services.case_return(
        case=case, acting_user=user, reason=data.reason, expected_version=data.expected_version)),
    "request_extension": ApiAction(s.RequestExtensionIn, lambda *, case, user, data: services.case_request_extension(
        case=case, acting_user=user, working_days=data.working_days, reason=data.reason)),
    "decide_extension": ApiAction(s.DecideExtensionIn, _decide_extension),
    "approve": ApiAction(s.ApproveIn, lambda *, case, user, data: services.case_approve(
        case=case, acting_user=user, expected_version=data.expected_version)),
    "send_back": ApiAction(s.SendBackIn, lambda *, case, user, data: services.case_send_back(
        case=case, acting_user=user, reason=data.reason, expected_version=data.expected_version)),
    "add_co_unit": ApiAction(s.AddCoUnitIn, lambda *, case, user, data: services.case_add_co_unit(
        case=case, acting_user=user, unit=_unit(data.unit))),
    "supervise": ApiAction(s.SuperviseIn, lambda *, case, user, data: services.case_supervise(
        case=case, acting_user=user, level=data.level, reason=data.reason)),
    "feedback_close": ApiAction(s.FeedbackCloseIn, lambda *, case, user, data: services.case_record_feedback(
        case=case, acting_user=user, rating=data.rating, comment=data.comment, expected_version=data.expected_version)),
    "feedback_reopen": ApiAction(s.FeedbackReopenIn, lambda *, case, user, data: services.case_record_feedback(
        case=case, acting_user=user, rating=Feedback.UNSATISFIED, comment=data.comment, expected_version=data.expected_version)),
    "note": ApiAction(s.NoteIn, lambda *, case, user, data: services.case_add_note(
        case=case, acting_user=user, text=data.text)),
}

assert set(ACTIONS) == set(STAFF_ACTIONS), "every staff action of the engine needs an API operation"
