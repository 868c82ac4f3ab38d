"""Outbox handlers for case events: notifications into units' workbench inboxes."""

from __future__ import annotations

from django.urls import reverse

from minsheng.core.choices import UnitKind
from minsheng.core.models import Notification, OutboxMessage, Unit
from minsheng.core.outbox import handles

from .models import Case

# Who hears about what: the handling unit, or the command centre (the district unit).
_TO_UNIT = {"dispatch": "新派单", "delegate": "街道下派", "send_back": "退回重办", "feedback_reopen": "群众不满意，需重办", "supervise": "督办", "flag": "时限预警"}
_TO_CENTRE = {"reply": "已答复待审核", "return": "退单", "request_extension": "延期申请"}


@handles("case.")
def notify_units(message: OutboxMessage) -> None:
    action = message.topic.removeprefix("case.")
    if action not in _TO_UNIT and action not in _TO_CENTRE:
        return
    case = Case.objects.filter(pk=message.payload.get("case_id")).select_related("main_unit").first()
    if case is None:
        return
    if action in _TO_UNIT:
        unit, label = case.main_unit, _TO_UNIT[action]
    else:
        unit, label = Unit.objects.filter(kind=UnitKind.DISTRICT).first(), _TO_CENTRE[action]
    if unit is None:
        return
    Notification.objects.get_or_create(
        source_key=f"{message.pk}:{unit.pk}",
        defaults={"unit": unit, "text": f"{label}：{case.tracking_code} {case.summary}", "link": reverse("desk:case", args=[case.pk])},
    )
