"""Cases, events and deliveries as the REST API shows them (plain dicts for the schemas).
Staff see the reporter's name and phone masked, as on the workbench (where revealing the
phone is a separate, audited act)."""

from __future__ import annotations

from django.urls import reverse

from minsheng.cases import selectors as case_selectors
from minsheng.cases.models import Case, CaseEvent
from minsheng.cases.services import allowed_actions
from minsheng.cases.workflow import TRANSITIONS
from minsheng.core.services import unit_by_key
from minsheng.intake.selectors import Progress

from ..models import WebhookDelivery, WebhookEndpoint
from ..selectors import case_auto_dispatched, pending_extension


def unit(u) -> dict | None:
    return {"key": u.key, "name": u.name, "kind": u.kind} if u is not None else None


def category(c) -> dict | None:
    if c is None:
        return None
    return {"code": c.code, "name": c.name, "group": c.parent.name if c.parent_id else None}


def case_item(case: Case) -> dict:
    return {
        "id": case.pk,
        "tracking_code": case.tracking_code,
        "kind": case.kind,
        "channel": case.channel,
        "state": case.state,
        "state_label": str(case.get_state_display()),
        "version": case.version,
        "summary": case.summary,
        "address": case.address_masked,  # masked like the workbench; exact only via an audited reveal
        "category": category(case.category),
        "urgency": case.urgency,
        "street": unit(case.street),
        "community": unit(case.community),
        "main_unit": unit(case.main_unit),
        "submitted_at": case.submitted_at,
        "resolve_due_at": case.resolve_due_at,
        "due_flag": case.due_flag,
        "supervision_level": case.supervision_level,
        "reporter_count": case.reporter_count,
    }


def event(e: CaseEvent) -> dict:
    transition = TRANSITIONS.get(e.action)
    return {
        "id": e.pk,
        "action": e.action,
        "label": str(transition.label) if transition else ("提交诉求" if e.action == "submit" else e.action),
        "from_state": e.from_state,
        "to_state": e.to_state,
        "at": e.at,
        "actor": e.actor.username if e.actor_id else None,
        "actor_kind": e.actor_kind,
        "actor_unit": unit(e.actor_unit),
        "unit": unit(e.unit),
        "reason": e.reason,
        "data": e.data or {},
        "is_public": e.is_public,
    }


def case_detail(case: Case, *, user, request) -> dict:
    extension = pending_extension(case)
    return {
        **case_item(case),
        "text": case.text,
        "reporter_name_masked": case.name_masked,
        "reporter_phone_masked": case.phone_masked,
        "is_anonymous": case.is_anonymous,
        "dispatched_at": case.dispatched_at,
        "acknowledge_due_at": case.acknowledge_due_at,
        "acknowledged_at": case.acknowledged_at,
        "replied_at": case.replied_at,
        "closed_at": case.closed_at,
        "reply_text": case.reply_text,
        "feedback": case.feedback,
        "merged_into": case.merged_into.tracking_code if case.merged_into_id else None,
        "allowed_actions": allowed_actions(case=case, actor=user),
        "assignments": [
            {"unit": unit(a.unit), "role": a.role, "active": a.active, "assigned_at": a.assigned_at}
            for a in case.assignments.select_related("unit").order_by("assigned_at", "id")
        ],
        "pending_extension": {
            "id": extension.pk, "unit": unit(extension.unit), "working_days": extension.working_days,
            "reason": extension.reason, "status": extension.status, "requested_at": extension.requested_at,
        } if extension else None,
        "attachments": [
            {"id": a.pk, "url": request.build_absolute_uri(reverse("api-v1:case_attachment", args=[case.pk, a.pk])),
             "content_type": a.content_type, "size": a.size, "is_public": a.is_public}
            for a in case.attachments.order_by("created_at", "id")
        ],
        "timeline": [event(e) for e in case_selectors.case_timeline(case=case, public=False)],
    }


def appeal_outcome(case: Case) -> dict:
    """A public submission's answer: where the appeal stands after intelligent dispatch.
    Computed from what is stored, so a retried submission gets the same answer."""
    meta = case.dispatch_meta or {}
    suggested = unit_by_key(meta["unit"]) if meta.get("unit") else None
    return {
        "tracking_code": case.tracking_code,
        "state": case.state,
        "state_label": str(case.get_state_display()),
        "submitted_at": case.submitted_at,
        "dispatch": {
            # Routing runs in a worker after the answer (intake.services.route_new_case_later).
            "pending": case.state == "submitted" and not meta,
            # Only a case with a handling unit can have been sent on by the engine: a new
            # appeal (the common answer) needs no look-up of its events.
            "auto_dispatched": case.main_unit_id is not None and case_auto_dispatched(case),
            "suggested_unit": suggested.name if suggested else None,
            "assigned_unit": case.main_unit.name if case.main_unit_id else None,
            "category": category(case.category),
        },
    }


def progress(p: Progress) -> dict:
    return {
        "tracking_code": p.case.tracking_code,
        "state": p.case.state,
        "headline": str(p.headline),
        "next_step": str(p.next_step),
        "category": p.category,
        "handling_unit": p.handling_unit,
        "submitted_at": p.case.submitted_at,
        "timeline": [{"at": t.at, "text": str(t.text), "detail": t.detail} for t in p.timeline],
        "reply": p.reply,
        "resolve_due_at": p.resolve_due_at,
        "overdue": p.overdue,
        "feedback_due_at": p.feedback_due_at,
        "can_rate": p.can_rate,
        "version": p.case.version,
    }


def webhook(endpoint: WebhookEndpoint, *, secret: bool = False) -> dict:
    data = {
        "id": endpoint.pk, "url": endpoint.url, "event_types": endpoint.event_types, "description": endpoint.description,
        "active": endpoint.active, "created_at": endpoint.created_at,
    }
    if secret:
        data["secret"] = endpoint.secret
    return data


def delivery(d: WebhookDelivery) -> dict:
    return {
        "delivery_id": str(d.delivery_id), "endpoint_id": d.endpoint_id, "event_type": d.event_type, "status": d.status,
        "attempts": d.attempts, "response_code": d.response_code, "last_error": d.last_error, "created_at": d.created_at,
        "last_attempt_at": d.last_attempt_at, "next_attempt_at": d.next_attempt_at, "delivered_at": d.delivered_at,
        "payload": d.payload,
    }
