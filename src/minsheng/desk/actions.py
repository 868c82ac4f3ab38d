"""The case actions of the workbench as a table: action → (form, service call). The case
page offers the actions `services.allowed_actions` returns, and `views.case_act` handles
all of them through this table, so adding an action is one form and one row here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from minsheng.cases import services
from minsheng.cases.choices import Feedback

from . import forms as f

Perform = Callable[..., Any]


@dataclass(frozen=True)
class Action:
    form: type[f.ActionForm]
    perform: Perform  # perform(case=, user=, version=, data=) → calls one service


def _classification(data: dict) -> dict:
    return {
        "category": data.get("category"),
        "urgency": data.get("urgency") or None,
        "street": data.get("street"),
        "community": data.get("community"),
    }


# Side actions (contact, note, co-unit, extension, supervision) do not take a version in the
# service: they do not move the case, so they cannot conflict with a colleague's form. The
# view still checks the version the user saw before calling them.
ACTIONS: dict[str, Action] = {
    "accept": Action(f.AcceptForm, lambda *, case, user, version, data: services.case_accept(
        case=case, acting_user=user, expected_version=version, **_classification(data))),
    "reject": Action(f.RejectForm, lambda *, case, user, version, data: services.case_reject(
        case=case, acting_user=user, reason=data["reason"], expected_version=version)),
    "dispatch": Action(f.DispatchForm, lambda *, case, user, version, data: services.case_dispatch(
        case=case, acting_user=user, unit=data["unit"], co_units=list(data.get("co_units") or ()), reason=data.get("reason", ""),
        expected_version=version, **_classification(data))),
    "merge": Action(f.MergeForm, lambda *, case, user, version, data: services.case_merge(
        case=case, master=data["master"], acting_user=user, reason=data.get("reason", ""), expected_version=version)),
    "delegate": Action(f.DelegateForm, lambda *, case, user, version, data: services.case_delegate(
        case=case, acting_user=user, community=data["community"], reason=data.get("reason", ""), expected_version=version)),
    "acknowledge": Action(f.AcknowledgeForm, lambda *, case, user, version, data: services.case_acknowledge(
        case=case, acting_user=user, expected_version=version)),
    "contact": Action(f.ContactForm, lambda *, case, user, version, data: services.case_contact(
        case=case, acting_user=user, note=data["note"], expected_version=version)),
    "reply": Action(f.ReplyForm, lambda *, case, user, version, data: services.case_reply(
        case=case, acting_user=user, reply_text=data["reply_text"], expected_version=version)),
    "return": Action(f.ReturnForm, lambda *, case, user, version, data: services.case_return(
        case=case, acting_user=user, reason=data["reason"], expected_version=version)),
    "request_extension": Action(f.RequestExtensionForm, lambda *, case, user, version, data: services.case_request_extension(
        case=case, acting_user=user, working_days=data["working_days"], reason=data["reason"], expected_version=version)),
    "decide_extension": Action(f.DecideExtensionForm, lambda *, case, user, version, data: services.case_decide_extension(
        extension=data["extension"], acting_user=user, approve=data["decision"] == "approve", note=data.get("note", ""),
        expected_version=version)),
    "approve": Action(f.ApproveForm, lambda *, case, user, version, data: services.case_approve(
        case=case, acting_user=user, expected_version=version)),
    "send_back": Action(f.SendBackForm, lambda *, case, user, version, data: services.case_send_back(
        case=case, acting_user=user, reason=data["reason"], expected_version=version)),
    "add_co_unit": Action(f.AddCoUnitForm, lambda *, case, user, version, data: services.case_add_co_unit(
        case=case, acting_user=user, unit=data["unit"], expected_version=version)),
    "supervise": Action(f.SuperviseForm, lambda *, case, user, version, data: services.case_supervise(
        case=case, acting_user=user, level=data["level"], reason=data["reason"], expected_version=version)),
    "feedback_close": Action(f.FeedbackCloseForm, lambda *, case, user, version, data: services.case_record_feedback(
        case=case, acting_user=user, rating=data["rating"], comment=data.get("comment", ""), expected_version=version)),
    "feedback_reopen": Action(f.FeedbackReopenForm, lambda *, case, user, version, data: services.case_record_feedback(
        case=case, acting_user=user, rating=Feedback.UNSATISFIED, comment=data.get("comment", ""), expected_version=version)),
    "note": Action(f.NoteForm, lambda *, case, user, version, data: services.case_add_note(
        case=case, acting_user=user, text=data["text"], expected_version=version)),
}

# Lifecycle moves first on the page, then side actions.
PRIMARY = ("accept", "dispatch", "acknowledge", "reply", "approve", "feedback_close", "merge", "delegate", "reject",
           "return", "send_back", "feedback_reopen")
