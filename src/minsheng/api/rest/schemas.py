"""The REST API's request and response bodies. Units are named by their key (street:JSL,
community:JSL03, dept:CGJ), categories by their code (ZF.DT), cases by id (staff) or
tracking code (residents)."""

import datetime as dt
import re
from typing import Any, Literal, Optional

from ninja import Field, Schema
from pydantic import field_validator

from minsheng.cases.choices import CaseState, Channel, DueFlag, Feedback, Urgency
from minsheng.cases.selectors import QUEUES

from ..choices import ALL_EVENTS, EVENT_TYPES, DeliveryStatus

StateName = Literal[tuple(CaseState.values)]  # type: ignore[valid-type]
ChannelName = Literal[tuple(Channel.values)]  # type: ignore[valid-type]
UrgencyName = Literal[tuple(Urgency.values)]  # type: ignore[valid-type]
QueueName = Literal[tuple(QUEUES)]  # type: ignore[valid-type]
FlagName = Literal[tuple(v for v in DueFlag.values if v)]  # type: ignore[valid-type]
EventType = Literal[(ALL_EVENTS, *EVENT_TYPES)]  # type: ignore[valid-type]

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")


# ---------------------------------------------------------------- errors


class ErrorDetail(Schema):
    loc: list[Any] = []
    msg: str


class ErrorOut(Schema):
    """Every error: a stable code to branch on and a message for a person."""

    code: str = Field(..., examples=["not_allowed"])
    message: str
    errors: Optional[list[ErrorDetail]] = None


# ---------------------------------------------------------------- shared pieces


class UnitOut(Schema):
    key: str
    name: str
    kind: str


class CategoryOut(Schema):
    code: str
    name: str
    group: Optional[str] = None


class MeOut(Schema):
    username: str
    name: str
    role: str
    unit: Optional[UnitOut] = None


# ---------------------------------------------------------------- staff: cases


class CaseFilters(Schema):
    """The workbench's list filters (cases.selectors.case_search), plus a work queue."""

    q: str = Field("", max_length=100, description="Words that must all appear in the text, the address or the tracking code.")
    state: Optional[StateName] = None
    category: str = Field("", max_length=32, description="A category or subcategory code, e.g. ZF or ZF.DT.")
    street: str = Field("", max_length=32, description="A street office's code, e.g. JSL.")
    unit: str = Field("", max_length=64, description="The main handling unit's key, e.g. dept:CGJ.")
    channel: Optional[ChannelName] = None
    urgency: Optional[UrgencyName] = None
    flag: Optional[FlagName] = None
    date_from: Optional[dt.date] = None
    date_to: Optional[dt.date] = None
    queue: Optional[QueueName] = Field(None, description="One of the workbench's work queues.")
    cursor: str = Field("", max_length=200, description="next_cursor of the previous page.")
    limit: int = Field(50, ge=1, le=200)


class CaseListItem(Schema):
    id: int
    tracking_code: str
    kind: str
    channel: str
    state: str
    state_label: str
    version: int
    summary: str
    address: str
    category: Optional[CategoryOut] = None
    urgency: str
    street: Optional[UnitOut] = None
    community: Optional[UnitOut] = None
    main_unit: Optional[UnitOut] = None
    submitted_at: dt.datetime
    resolve_due_at: Optional[dt.datetime] = None
    due_flag: str
    supervision_level: int
    reporter_count: int


class CasePage(Schema):
    items: list[CaseListItem]
    next_cursor: Optional[str] = None


class EventOut(Schema):
    id: int
    action: str
    label: str
    from_state: str
    to_state: str
    at: dt.datetime
    actor: Optional[str] = None
    actor_kind: str
    actor_unit: Optional[UnitOut] = None
    unit: Optional[UnitOut] = None
    reason: str
    data: dict[str, Any]
    is_public: bool


class AssignmentOut(Schema):
    unit: UnitOut
    role: str
    active: bool
    assigned_at: dt.datetime


class ExtensionOut(Schema):
    id: int
    unit: UnitOut
    working_days: int
    reason: str
    status: str
    requested_at: dt.datetime


class AttachmentOut(Schema):
    id: int
    url: str
    content_type: str
    size: int
    is_public: bool


class CaseDetail(CaseListItem):
    text: str
    reporter_name_masked: str
    reporter_phone_masked: str
    is_anonymous: bool
    dispatched_at: Optional[dt.datetime] = None
    acknowledge_due_at: Optional[dt.datetime] = None
    acknowledged_at: Optional[dt.datetime] = None
    replied_at: Optional[dt.datetime] = None
    closed_at: Optional[dt.datetime] = None
    reply_text: str
    feedback: str
    merged_into: Optional[str] = None
    allowed_actions: list[str]
    assignments: list[AssignmentOut]
    pending_extension: Optional[ExtensionOut] = None
    attachments: list[AttachmentOut]
    timeline: list[EventOut]


# ---------------------------------------------------------------- staff: actions

_REASON = Field(..., min_length=1, max_length=2000)


class ActionIn(Schema):
    expected_version: int = Field(..., ge=1, description="The case's version as you last read it (optimistic locking).")


class ClassificationIn(ActionIn):
    category: Optional[str] = Field(None, max_length=32, description="Subcategory code.")
    urgency: Optional[UrgencyName] = None
    street: Optional[str] = Field(None, max_length=64, description="Street office key, e.g. street:JSL.")
    community: Optional[str] = Field(None, max_length=64, description="Community key, e.g. community:JSL03.")


class AcceptIn(ClassificationIn):
    pass


class RejectIn(ActionIn):
    reason: str = _REASON


class DispatchIn(ClassificationIn):
    unit: str = Field(..., max_length=64, description="Main handling unit key, e.g. street:JSL or dept:CGJ.")
    co_units: list[str] = Field(default_factory=list, max_length=10)
    reason: str = Field("", max_length=2000)


class MergeIn(ActionIn):
    master: str = Field(..., max_length=16, description="Tracking code of the case to merge into.")
    reason: str = Field("", max_length=2000)


class DelegateIn(ActionIn):
    community: str = Field(..., max_length=64, description="Key of one of your street's communities.")
    reason: str = Field("", max_length=2000)


class AcknowledgeIn(ActionIn):
    pass


class ContactIn(ActionIn):
    note: str = _REASON


class ReplyIn(ActionIn):
    reply_text: str = Field(..., min_length=1, max_length=5000)


class ReturnIn(ActionIn):
    reason: str = _REASON


class RequestExtensionIn(ActionIn):
    working_days: int = Field(..., ge=1, le=30)
    reason: str = _REASON


class DecideExtensionIn(ActionIn):
    decision: Literal["approve", "refuse"]
    note: str = Field("", max_length=2000)


class ApproveIn(ActionIn):
    pass


class SendBackIn(ActionIn):
    reason: str = _REASON


class AddCoUnitIn(ActionIn):
    unit: str = Field(..., max_length=64)


class SuperviseIn(ActionIn):
    level: int = Field(..., ge=1, le=3)
    reason: str = _REASON


class FeedbackCloseIn(ActionIn):
    rating: Literal["satisfied", "basic"]
    comment: str = Field("", max_length=1000)


class FeedbackReopenIn(ActionIn):
    comment: str = Field("", max_length=1000)


class NoteIn(ActionIn):
    text: str = _REASON


# ---------------------------------------------------------------- residents


def clean_phone(value: str) -> str:
    digits = re.sub(r"[\s\-()（）]", "", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if digits and not (_MOBILE.match(digits) or _LANDLINE.match(digits)):
        raise ValueError("请填写11位手机号码，或带区号的固定电话。")
    return digits


class AppealIn(Schema):
    """A resident's appeal. As JSON, or as multipart/form-data with up to three photos."""

    text: str = Field(..., min_length=5, max_length=5000, description="What happened, where, for how long.")
    address: str = Field("", max_length=300)
    name: str = Field("", max_length=100)
    phone: str = Field("", max_length=20, description="Mobile or landline; its last four digits are needed to follow the appeal.")
    channel: ChannelName = Field("api", description="Where the appeal was raised, when relayed by another system.")

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return clean_phone(value)


class DispatchOutcome(Schema):
    pending: bool = Field(False, description="Intelligent dispatch has not run yet: it runs in a worker right after the answer; "
                          "follow the appeal to see where it went.")
    auto_dispatched: bool = Field(..., description="Sent to the unit by intelligent dispatch, without a dispatcher.")
    suggested_unit: Optional[str] = Field(None, description="The unit intelligent dispatch suggests.")
    assigned_unit: Optional[str] = Field(None, description="The unit handling it now, once dispatched.")
    category: Optional[CategoryOut] = None


class AppealOut(Schema):
    tracking_code: str
    state: str
    state_label: str
    submitted_at: dt.datetime
    dispatch: DispatchOutcome


class TimelineEntryOut(Schema):
    at: dt.datetime
    text: str
    detail: str


class TrackOut(Schema):
    tracking_code: str
    state: str
    headline: str
    next_step: str
    category: str
    handling_unit: str
    submitted_at: dt.datetime
    timeline: list[TimelineEntryOut]
    reply: str
    resolve_due_at: Optional[dt.datetime] = None
    overdue: bool
    feedback_due_at: Optional[dt.datetime] = None
    can_rate: bool
    version: int


class FeedbackIn(Schema):
    phone_last4: str = Field("", pattern=r"^(\d{4})?$", description="Last four digits of the phone given with the appeal.")
    rating: Literal[tuple(Feedback.values)]  # type: ignore[valid-type]
    resolved: Optional[bool] = Field(None, description="Whether the problem is really solved; omitted = taken from the rating.")
    comment: str = Field("", max_length=1000)
    expected_version: Optional[int] = Field(None, ge=1, description="The version shown by GET; a newer one means the appeal moved on.")


# ---------------------------------------------------------------- webhooks and tokens


class WebhookIn(Schema):
    url: str = Field(..., max_length=500, examples=["https://12345.example.gov.cn/minsheng/hook"])
    event_types: list[EventType] = Field(..., min_length=1)
    description: str = Field("", max_length=200)


class WebhookPatch(Schema):
    url: Optional[str] = Field(None, max_length=500)
    event_types: Optional[list[EventType]] = Field(None, min_length=1)
    description: Optional[str] = Field(None, max_length=200)
    active: Optional[bool] = None
    rotate_secret: bool = False


class WebhookOut(Schema):
    id: int
    url: str
    event_types: list[str]
    description: str
    active: bool
    created_at: dt.datetime


class WebhookSecretOut(WebhookOut):
    secret: Optional[str] = Field(None, description="Shown when the endpoint is made or its secret rotated.")


class DeliveryOut(Schema):
    delivery_id: str
    endpoint_id: int
    event_type: str
    status: Literal[tuple(DeliveryStatus.values)]  # type: ignore[valid-type]
    attempts: int
    response_code: Optional[int] = None
    last_error: str
    created_at: dt.datetime
    last_attempt_at: Optional[dt.datetime] = None
    next_attempt_at: Optional[dt.datetime] = None
    delivered_at: Optional[dt.datetime] = None
    payload: dict[str, Any]
