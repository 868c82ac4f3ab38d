"""The case engine's write path: intake, every lifecycle transition and side action, and
the periodic deadline jobs. The only code that changes a case.

Every transition runs `_transition`: inside one database transaction it re-reads the case
under a row lock, checks the expected version (optimistic locking: two people acting at once
→ one wins, the other gets `StaleCase`), checks the actor against the transition table,
updates the case with a conditional UPDATE, writes the event, and enqueues side effects in
the outbox.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from minsheng.core.calendar import CalendarOutOfRange
from minsheng.core.choices import Role, UnitKind
from minsheng.core.models import Unit, User
from minsheng.core.services import audit_record, outbox_enqueue
from minsheng.core.text import unstorable_text

from .choices import AssignmentRole, CaseState, Channel, DueFlag, ExtensionStatus, Feedback, Urgency
from .deadlines import compute_deadlines, extend_by_working_days
from .episodes import MEASURED_ACTIONS, NO_FACTS, episode_facts_of, judged_outcome
from .errors import ActionNotAllowed, InvalidInput, StaleCase
from .models import Attachment, Case, CaseAssignment, CaseEvent, Category, CoReporter, ExtensionRequest
from .workflow import RESIDENT, SYSTEM, TRANSITIONS, Transition

Actor = Any  # a core.User, or workflow.RESIDENT / workflow.SYSTEM

TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone


def tracking_code_new() -> str:
    """A code residents can read out on the phone: the date (yymmdd) + 5 random characters
    from an alphabet without look-alikes, e.g. 261129K7QX2."""
    today = timezone.localdate()
    return f"{today:%y%m%d}" + "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(5))


# ---------------------------------------------------------------- permission predicates

def actor_kind(actor: Actor) -> str:
    if actor is RESIDENT:
        return "resident"
    if actor is SYSTEM:
        return "system"
    return "staff"


def _actor_role(actor: Actor) -> str:
    if actor is RESIDENT or actor is SYSTEM:
        return actor.kind
    if getattr(actor, "is_superuser", False):
        return Role.ADMIN
    return actor.role


def _active_unit_ids(case: Case, roles: Iterable[str]) -> set[int]:
    return set(case.assignments.filter(active=True, role__in=list(roles)).values_list("unit_id", flat=True))


def refusal(actor: Actor, action: str, case: Case) -> str | None:
    """Why `actor` may not take `action` on `case` now, or None when it may."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        return f"未知的操作：{action}"
    if actor_kind(actor) == "staff" and not getattr(actor, "is_active", False):
        return "账号已停用。"
    role = _actor_role(actor)
    if role not in transition.roles:
        return f"您的角色无权执行“{transition.label}”。"
    if case.state not in transition.sources:
        return f"案件当前状态为“{case.get_state_display()}”，不能执行“{transition.label}”。"
    if actor_kind(actor) == "staff" and not _memo(case, ("visible", actor.pk), lambda: Case.objects.visible_to(actor).filter(pk=case.pk).exists()):
        return "无权访问该案件。"
    if transition.unit_bound and role == Role.HANDLER:
        allowed_roles = (AssignmentRole.MAIN, AssignmentRole.CO) if transition.co_units_too else (AssignmentRole.MAIN,)
        unit_ids = _memo(case, ("units", allowed_roles), lambda: _active_unit_ids(case, allowed_roles))
        if actor.unit_id is None or actor.unit_id not in unit_ids:
            return f"该案件不由您的单位承办，不能执行“{transition.label}”。"
    return None


def _memo(case: Case, key: tuple, compute):
    """Cache a permission lookup on this case instance: the case page asks for every action,
    and each answer needs the same two queries. A fresh instance (as in `_transition`, which
    re-reads under lock) starts with an empty cache."""
    cache = case.__dict__.setdefault("_permission_cache", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def allowed_actions(*, case: Case, actor: Actor, actions: Sequence[str] | None = None) -> list[str]:
    """The actions `actor` may take on `case` now, in display order."""
    from .workflow import STAFF_ACTIONS

    return [a for a in (actions or STAFF_ACTIONS) if refusal(actor, a, case) is None]


# ---------------------------------------------------------------- the transition core

def _transition(
    *,
    case: Case,
    actor: Actor,
    action: str,
    reason: str = "",
    data: dict | None = None,
    updates: dict[str, Any] | None = None,
    expected_version: int | None = None,
    target: str | None = None,
    unit: Unit | None = None,
    before_update=None,
) -> CaseEvent:
    """Check and apply one action. `target` overrides the table's target state only for the
    transitions whose table entry allows several (none today besides the table's own)."""
    transition: Transition = TRANSITIONS[action]
    reason = (reason or "").strip()
    if transition.needs_reason and not reason:
        raise InvalidInput(f"“{transition.label}”需要填写说明。")
    expected = case.version if expected_version is None else expected_version
    with transaction.atomic():
        fresh = Case.objects.select_for_update().get(pk=case.pk)
        if fresh.version != expected:
            raise StaleCase()
        why = refusal(actor, action, fresh)
        if why:
            raise ActionNotAllowed(why)
        if before_update is not None:
            before_update(fresh)
        now = timezone.now()
        # Read before the event is written: the facts come from the events before it.
        facts = episode_facts_of(
            CaseEvent.objects.filter(case_id=fresh.pk).order_by("id").values_list("action", "at", "unit_id", "data"), action, now
        ) if action in MEASURED_ACTIONS else NO_FACTS
        to_state = target or transition.target
        fields = dict(updates or {})
        if to_state and to_state != fresh.state:
            fields["state"] = to_state
        if transition.target is not None:
            # Only lifecycle moves bump the version; side actions (notes, contact) must not
            # make a colleague's open form stale.
            fields["version"] = F("version") + 1
        if fields:
            changed = Case.objects.filter(pk=fresh.pk, version=fresh.version).update(**fields)
            if changed != 1:
                raise StaleCase()
        event = CaseEvent.objects.create(
            case=fresh,
            action=action,
            from_state=fresh.state,
            to_state=to_state or fresh.state,
            actor=actor if actor_kind(actor) == "staff" else None,
            actor_kind=actor_kind(actor),
            actor_unit=getattr(actor, "unit", None) if actor_kind(actor) == "staff" else None,
            unit=unit or fresh.main_unit,
            reason=reason,
            data=data or {},
            is_public=transition.public,
            at=now,
            **facts.as_fields(),
            **judged_outcome(action, data),
        )
        outbox_enqueue(
            topic=f"case.{action}",
            payload={"case_id": fresh.pk, "event_id": event.pk, "tracking_code": fresh.tracking_code, "to_state": event.to_state},
        )
        # Last in the transaction: the audit chain's head is held until the commit.
        _audit_case_event(event=event, case=fresh, actor=actor)
    case.refresh_from_db()
    case.__dict__.pop("_permission_cache", None)
    return event


def _audit_case_event(*, event: CaseEvent, case: Case, actor: Actor) -> None:
    """One audit entry per lifecycle event (the case's own timeline holds the details)."""
    kind = actor_kind(actor)
    audit_record(
        action=f"case.{event.action}", actor=actor if kind == "staff" else None, actor_name=kind if kind != "staff" else "",
        target=f"case:{case.tracking_code}", detail={"event_id": event.pk, "from": event.from_state, "to": event.to_state},
    )


# ---------------------------------------------------------------- intake

def _clean_phone(phone: str) -> str:
    digits = "".join(ch for ch in (phone or "") if ch.isdigit() or ch == "-")
    if phone and (len(digits.replace("-", "")) < 7 or len(digits) > 20):
        raise InvalidInput("联系电话格式不正确。")
    return digits


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def clean_id_number(number: str) -> str:
    """A resident identity card number (GB 11643): 17 digits and a check character (ISO 7064
    MOD 11-2). Returns it upper-cased; "" for none; InvalidInput when malformed."""
    number = "".join((number or "").split()).upper()
    if not number:
        return ""
    if len(number) != 18 or not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise InvalidInput("身份证号应为18位。")
    check = "10X98765432"[sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS)) % 11]
    if number[17] != check:
        raise InvalidInput("身份证号校验位不正确，请核对。")
    return number


def case_submit(
    *,
    text: str,
    channel: str,
    address: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    is_anonymous: bool = False,
    category: Category | None = None,
    urgency: str = Urgency.NORMAL,
    street: Unit | None = None,
    community: Unit | None = None,
    kind: str = "appeal",
    acting_user: User | None = None,
    idempotency_key: str | None = None,
    submitted_at: dt.datetime | None = None,
    dispatch_meta: dict | None = None,
    source_type: str = "",
    source_id: str = "",
    reporter_id_number: str = "",
) -> Case:
    """Register a new case in `submitted`. With an idempotency key, a retried submission
    returns the case the first one created instead of creating another."""
    text = (text or "").strip()
    if any(unstorable_text(value or "") for value in (text, address, reporter_name, reporter_phone, reporter_id_number, source_id)):
        raise InvalidInput("内容含有无法保存的字符（如 NUL），请删除后重试。")
    if len(text) < 5:
        raise InvalidInput("诉求内容太短，请至少写5个字，说明问题和地点。")
    if len(text) > 5000:
        raise InvalidInput("诉求内容过长（最多5000字）。")
    if channel not in Channel.values:
        raise InvalidInput(f"未知的渠道：{channel}")
    if urgency not in Urgency.values:
        raise InvalidInput(f"未知的紧急程度：{urgency}")
    if category is not None and not category.is_subcategory:
        raise InvalidInput("请选择到小类。")
    phone = _clean_phone(reporter_phone)
    id_number = clean_id_number(reporter_id_number)
    if is_anonymous:
        reporter_name, phone, id_number = "", "", ""
    if community is not None and street is None:
        street = community.parent
    # Everything that can refuse the input is above, outside the transaction. Below, the
    # writes run in the caller's transaction without a savepoint of their own (two round trips
    # on every filing): a failure here leaves nothing worth keeping, so the caller's whole
    # transaction rolls back with it — the case, its event, its outbox row and audit entry are
    # one unit. A clash on the tracking code or the idempotency key has its own savepoint.
    with transaction.atomic(savepoint=False):
        if idempotency_key:
            existing = Case.objects.filter(idempotency_key=idempotency_key).first()
            if existing:
                return existing
        for attempt in range(5):
            try:
                with transaction.atomic():
                    case = Case.objects.create(
                        kind=kind,
                        tracking_code=tracking_code_new(),
                        channel=channel,
                        text=text,
                        address=(address or "").strip()[:300],
                        reporter_name=(reporter_name or "").strip()[:100],
                        reporter_phone=phone,
                        reporter_id_number=id_number,
                        is_anonymous=is_anonymous,
                        category=category,
                        urgency=urgency,
                        street=street,
                        community=community,
                        submitted_at=submitted_at or timezone.now(),
                        idempotency_key=idempotency_key or None,
                        dispatch_meta=dispatch_meta or {},
                        source_type=source_type,
                        source_id=str(source_id or ""),
                        created_by=acting_user if acting_user and acting_user.pk else None,
                    )
                break
            except IntegrityError:
                if idempotency_key:
                    existing = Case.objects.filter(idempotency_key=idempotency_key).first()
                    if existing:
                        return existing
                if attempt == 4:
                    raise
        staff = acting_user is not None and getattr(acting_user, "pk", None)
        CaseEvent.objects.create(
            case=case,
            action="submit",
            to_state=CaseState.SUBMITTED,
            actor=acting_user if staff else None,
            actor_kind="staff" if staff else "resident",
            actor_unit=acting_user.unit if staff else None,
            data={"channel": channel},
            is_public=True,
            at=case.submitted_at,
        )
        outbox_enqueue(topic="case.submit", payload={"case_id": case.pk, "tracking_code": case.tracking_code, "to_state": case.state})
        audit_record(
            action="case.submit", actor=acting_user if staff else None, actor_name="" if staff else "resident",
            target=f"case:{case.tracking_code}", detail={"channel": channel, "to": CaseState.SUBMITTED},
        )
        return case


def case_attach(*, case: Case, content: bytes, filename: str, content_type: str, acting_user: User | None = None, is_public: bool = True) -> Attachment:
    """Store an already validated and re-encoded upload on a case (see core.uploads)."""
    from django.core.files.base import ContentFile

    stored_name = f"{secrets.token_hex(8)}{_extension_for(content_type)}"
    attachment = Attachment(
        case=case,
        stored_name=stored_name,
        content_type=content_type,
        size=len(content),
        uploaded_by=acting_user if acting_user and getattr(acting_user, "pk", None) else None,
        is_public=is_public,
    )
    attachment.file.save(stored_name, ContentFile(content), save=False)
    attachment.save()
    return attachment


def _extension_for(content_type: str) -> str:
    return {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf"}.get(content_type, ".bin")


# ---------------------------------------------------------------- command centre

def _classification_updates(*, category: Category | None, urgency: str | None, street: Unit | None, community: Unit | None) -> dict:
    updates: dict[str, Any] = {}
    if category is not None:
        if not category.is_subcategory:
            raise InvalidInput("请选择到小类。")
        updates["category"] = category
    if urgency is not None:
        if urgency not in Urgency.values:
            raise InvalidInput(f"未知的紧急程度：{urgency}")
        updates["urgency"] = urgency
    if community is not None:
        if community.kind != UnitKind.COMMUNITY:
            raise InvalidInput("社区选择有误。")
        updates["community"] = community
        updates["street"] = community.parent
    elif street is not None:
        if street.kind != UnitKind.STREET:
            raise InvalidInput("街道选择有误。")
        updates["street"] = street
    return updates


def case_accept(
    *,
    case: Case,
    acting_user: User,
    category: Category | None = None,
    urgency: str | None = None,
    street: Unit | None = None,
    community: Unit | None = None,
    expected_version: int | None = None,
) -> CaseEvent:
    updates = _classification_updates(category=category, urgency=urgency, street=street, community=community)
    updates["accepted_at"] = timezone.now()
    return _transition(case=case, actor=acting_user, action="accept", updates=updates, expected_version=expected_version)


def case_reject(*, case: Case, acting_user: User, reason: str, expected_version: int | None = None) -> CaseEvent:
    return _transition(
        case=case, actor=acting_user, action="reject", reason=reason, expected_version=expected_version, updates={"closed_at": timezone.now()}
    )


def case_dispatch(
    *,
    case: Case,
    acting_user: Actor,
    unit: Unit,
    co_units: Sequence[Unit] = (),
    category: Category | None = None,
    urgency: str | None = None,
    street: Unit | None = None,
    community: Unit | None = None,
    reason: str = "",
    meta: dict | None = None,
    expected_version: int | None = None,
) -> CaseEvent:
    """Send the case to its main handling unit (and co-handling units), starting the clocks.

    Used for the first dispatch and for redispatch after a return. `meta` records where the
    decision came from (model version and confidence for an automatic dispatch).
    """
    if unit is None or unit.kind not in (UnitKind.DEPARTMENT, UnitKind.STREET, UnitKind.COMMUNITY) or not unit.active:
        raise InvalidInput("请选择有效的承办单位。")
    co_units = [u for u in co_units if u.pk != unit.pk]
    for co in co_units:
        if co.kind not in (UnitKind.DEPARTMENT, UnitKind.STREET, UnitKind.COMMUNITY) or not co.active:
            raise InvalidInput("协办单位选择有误。")
    updates = _classification_updates(category=category, urgency=urgency, street=street, community=community)
    now = timezone.now()
    try:
        deadlines = compute_deadlines(urgency=updates.get("urgency", case.urgency), start=now)
    except CalendarOutOfRange as exc:
        raise InvalidInput(str(exc)) from exc
    updates.update(
        main_unit=unit,
        dispatched_at=now,
        acknowledge_due_at=deadlines.acknowledge_due_at,
        contact_due_at=deadlines.contact_due_at,
        resolve_due_at=deadlines.resolve_due_at,
        due_flag=DueFlag.NONE,
        acknowledged_at=None,
        contacted_at=None,  # the new unit's first contact is what its response rate measures
    )
    if case.accepted_at is None:
        updates["accepted_at"] = now

    def reassign(fresh: Case) -> None:
        fresh.assignments.filter(active=True).update(active=False)
        by = acting_user if actor_kind(acting_user) == "staff" else None
        CaseAssignment.objects.create(case=fresh, unit=unit, role=AssignmentRole.MAIN, assigned_by=by, assigned_at=now)
        for co in co_units:
            CaseAssignment.objects.create(case=fresh, unit=co, role=AssignmentRole.CO, assigned_by=by, assigned_at=now)

    chosen_category = updates.get("category", case.category)
    data = {
        "unit": unit.key,
        "co_units": [u.key for u in co_units],
        "subcategory": chosen_category.code if chosen_category else None,
        "urgency": updates.get("urgency", case.urgency),
        "acknowledge_due_at": deadlines.acknowledge_due_at.isoformat(),
        "contact_due_at": deadlines.contact_due_at.isoformat(),
        "resolve_due_at": deadlines.resolve_due_at.isoformat(),
        **(meta or {}),
    }
    return _transition(
        case=case, actor=acting_user, action="dispatch", reason=reason, data=data, updates=updates,
        expected_version=expected_version, unit=unit, before_update=reassign,
    )


def case_merge(*, case: Case, master: Case, acting_user: User, reason: str = "", expected_version: int | None = None) -> CaseEvent:
    """Merge a duplicate into a master case (并案): the duplicate closes as `merged`, its
    reporter is counted on the master and kept informed through it."""
    if master.pk == case.pk:
        raise InvalidInput("不能并入自身。")
    if master.state in (CaseState.MERGED, CaseState.REJECTED):
        raise InvalidInput("主案件已并案或已退回，不能并入。")
    if not Case.objects.visible_to(acting_user).filter(pk=master.pk).exists():
        raise ActionNotAllowed("无权访问主案件。")

    def count_on_master(fresh: Case) -> None:
        Case.objects.filter(pk=master.pk).update(reporter_count=F("reporter_count") + fresh.reporter_count)
        CoReporter.objects.create(case=master, name=fresh.reporter_name, phone=fresh.reporter_phone, text=fresh.text)

    return _transition(
        case=case, actor=acting_user, action="merge", reason=reason or f"并入 {master.tracking_code}",
        data={"master": master.tracking_code, "master_id": master.pk},
        updates={"merged_into": master, "closed_at": timezone.now()},
        expected_version=expected_version, before_update=count_on_master,
    )


# ---------------------------------------------------------------- handling units

def case_delegate(*, case: Case, acting_user: User, community: Unit, reason: str = "", expected_version: int | None = None) -> CaseEvent:
    """A street office passes a dispatched case down to one of its communities (下派);
    the deadlines keep running."""
    def reassign(fresh: Case) -> None:
        # Checked after the permission check, so a stranger hears "not allowed", not why.
        if community.kind != UnitKind.COMMUNITY or community.parent_id != getattr(acting_user, "unit_id", None):
            raise InvalidInput("只能下派给本街道所辖社区。")
        fresh.assignments.filter(active=True, role=AssignmentRole.MAIN).update(active=False)
        CaseAssignment.objects.create(case=fresh, unit=community, role=AssignmentRole.MAIN, assigned_by=acting_user)

    return _transition(
        case=case, actor=acting_user, action="delegate", reason=reason, data={"unit": community.key},
        updates={"main_unit": community}, expected_version=expected_version, unit=community, before_update=reassign,
    )


def case_acknowledge(*, case: Case, acting_user: User, expected_version: int | None = None) -> CaseEvent:
    # A flag raised while the case waited to be signed for concerned the acknowledge clock.
    updates = {"acknowledged_at": timezone.now(), "due_flag": DueFlag.NONE}
    return _transition(case=case, actor=acting_user, action="acknowledge", updates=updates, expected_version=expected_version)


def case_contact(*, case: Case, acting_user: User, note: str, expected_version: int | None = None) -> CaseEvent:
    """Record contact with the resident (联系群众) — what the response rate measures."""
    updates = {} if case.contacted_at else {"contacted_at": timezone.now()}
    return _transition(case=case, actor=acting_user, action="contact", reason=note, updates=updates, expected_version=expected_version)


def case_return(*, case: Case, acting_user: User, reason: str, expected_version: int | None = None) -> CaseEvent:
    """Return a wrongly dispatched case (退单) to the command centre for redispatch."""
    def release(fresh: Case) -> None:
        fresh.assignments.filter(active=True).update(active=False)

    return _transition(
        case=case, actor=acting_user, action="return", reason=reason, updates={"main_unit": None, "due_flag": DueFlag.NONE},
        expected_version=expected_version, before_update=release,
    )


def case_reply(*, case: Case, acting_user: User, reply_text: str, expected_version: int | None = None) -> CaseEvent:
    """The handling unit's answer (办结答复): what was done. Goes to review before the resident."""
    reply_text = (reply_text or "").strip()
    if len(reply_text) < 10:
        raise InvalidInput("答复内容过于简单，请写明办理情况（至少10个字）。")
    return _transition(
        case=case, actor=acting_user, action="reply", reason=reply_text,
        updates={"reply_text": reply_text, "replied_at": timezone.now()}, expected_version=expected_version,
    )


def case_approve(*, case: Case, acting_user: User, expected_version: int | None = None) -> CaseEvent:
    return _transition(case=case, actor=acting_user, action="approve", updates={"approved_at": timezone.now()}, expected_version=expected_version,
                       data={"reply": case.reply_text})


def _rehandle_updates(case: Case) -> dict[str, Any]:
    """Re-handling (重办) starts a fresh resolve clock: the unit gets the full time its
    urgency allows again, rather than a deadline that may already have passed."""
    try:
        due = compute_deadlines(urgency=case.urgency, start=timezone.now()).resolve_due_at
    except CalendarOutOfRange as exc:
        raise InvalidInput(str(exc)) from exc
    return {"rehandle_count": F("rehandle_count") + 1, "resolve_due_at": due, "due_flag": DueFlag.NONE}


def case_send_back(*, case: Case, acting_user: User, reason: str, expected_version: int | None = None) -> CaseEvent:
    updates = _rehandle_updates(case)
    return _transition(
        case=case, actor=acting_user, action="send_back", reason=reason, updates=updates,
        data={"resolve_due_at": updates["resolve_due_at"].isoformat()}, expected_version=expected_version,
    )


def case_record_feedback(
    *,
    case: Case,
    rating: str,
    resolved: bool | None = None,
    comment: str = "",
    acting_user: Actor = RESIDENT,
    expected_version: int | None = None,
) -> CaseEvent:
    """The resident's verdict: was it resolved (是否解决) and how satisfied (是否满意).
    Satisfied or basically satisfied closes the case; unsatisfied reopens it for re-handling
    (重办). An operator may record it from a return call (回访). When the resident does not
    answer the "resolved" question, a satisfied rating is taken as resolved."""
    if rating not in Feedback.values:
        raise InvalidInput("请选择评价：满意、基本满意或不满意。")
    if resolved is None:
        resolved = rating != Feedback.UNSATISFIED
    now = timezone.now()
    base = {"feedback": rating, "feedback_resolved": resolved, "feedback_comment": (comment or "").strip()[:1000], "feedback_at": now}
    data = {"rating": rating, "resolved": resolved}
    if rating == Feedback.UNSATISFIED:
        updates = {**base, **_rehandle_updates(case)}
        data["resolve_due_at"] = updates["resolve_due_at"].isoformat()
        return _transition(case=case, actor=acting_user, action="feedback_reopen", reason=comment, data=data,
                           updates=updates, expected_version=expected_version)
    updates = {**base, "closed_at": now, "no_feedback": False}
    return _transition(case=case, actor=acting_user, action="feedback_close", reason=comment, data=data,
                       updates=updates, expected_version=expected_version)


def case_close_without_feedback(*, case: Case) -> CaseEvent:
    return _transition(case=case, actor=SYSTEM, action="close_no_feedback", updates={"closed_at": timezone.now(), "no_feedback": True})


# ---------------------------------------------------------------- side actions

def case_record_suggestion(
    *,
    case: Case,
    meta: dict,
    category: Category | None = None,
    urgency: str | None = None,
    street: Unit | None = None,
    community: Unit | None = None,
) -> CaseEvent:
    """Store the dispatch engine's suggestions on a new case (智能分拨建议) and pre-fill the
    classification fields the submitter left empty. The dispatcher still confirms them."""
    return _transition(case=case, actor=SYSTEM, action="suggest", data=_suggestion_data(meta),
                       updates=_suggestion_updates(case, Suggested(meta, category, urgency, street, community)))


@dataclass(frozen=True)
class Suggested:
    """What the dispatch engine suggests for one case: `case_record_suggestion`'s arguments."""

    meta: dict
    category: Category | None = None
    urgency: str | None = None
    street: Unit | None = None
    community: Unit | None = None


def _suggestion_updates(case: Case, suggested: Suggested) -> dict[str, Any]:
    updates: dict[str, Any] = {"dispatch_meta": suggested.meta}
    if case.category_id is None and suggested.category is not None:
        updates["category"] = suggested.category
    if suggested.urgency and case.urgency == Urgency.NORMAL and suggested.urgency != Urgency.NORMAL:
        updates["urgency"] = suggested.urgency
    if case.street_id is None and suggested.street is not None:
        updates["street"] = suggested.street
        if suggested.community is not None and suggested.community.parent_id == suggested.street.pk:
            updates["community"] = suggested.community
    return updates


def _suggestion_data(meta: dict) -> dict:
    return {k: meta.get(k) for k in ("model_version", "unit", "unit_confidence") if k in meta}


#: The case fields `case_record_suggestions_many` reads and may write.
SUGGESTION_FIELDS = ("pk", "tracking_code", "state", "version", "main_unit_id", "category_id", "urgency", "street_id",
                     "community_id", "dispatch_meta")


def case_record_suggestions_many(items: Sequence[tuple[Case, Suggested]]) -> int:
    """`case_record_suggestion` for many new cases at once (the worker routing a batch of
    appeals): the same checks, the same case fields, suggest events, outbox messages and audit
    entries, written as one INSERT per table and one short UPDATE per case instead of a dozen
    statements per case. A suggestion is a side action (no state change, no version bump), so
    no other case of the batch depends on it.

    The caller holds the cases' row locks (select_for_update in its transaction) and loaded at
    least SUGGESTION_FIELDS. Raises, writing nothing, if the engine refuses any of them.
    Returns how many were recorded."""
    from minsheng.core.bulk import insert_tuples, reserve_ids
    from minsheng.core.models import OutboxMessage
    from minsheng.core.services import outbox_nudge

    from .bulk_intake import EVENT_COLUMNS, OUTBOX_COLUMNS

    if not items:
        return 0
    transition = TRANSITIONS["suggest"]
    assert transition.target is None and "suggest" not in MEASURED_ACTIONS  # a side action without episode facts
    for case, _suggested in items:
        why = refusal(SYSTEM, "suggest", case)
        if why:
            raise ActionNotAllowed(why)
    now = timezone.now()
    outcome = judged_outcome("suggest", None)
    for case, suggested in items:
        # One short UPDATE per case: bulk_update's CASE WHEN over a JSON column costs ten times
        # as much to build as these do to run.
        Case.objects.filter(pk=case.pk).update(**_suggestion_updates(case, suggested))
    event_ids = reserve_ids(CaseEvent, len(items))
    insert_tuples(CaseEvent, (*EVENT_COLUMNS, *outcome), [
        (case.pk, "suggest", case.state, case.state, None, "system", None, case.main_unit_id, "",
         _suggestion_data(suggested.meta), transition.public, now, *outcome.values())
        for case, suggested in items
    ], ids=event_ids)
    insert_tuples(OutboxMessage, OUTBOX_COLUMNS, [
        ("case.suggest", {"case_id": case.pk, "event_id": event_id, "tracking_code": case.tracking_code, "to_state": case.state}, now, now)
        for (case, _suggested), event_id in zip(items, event_ids)
    ])
    transaction.on_commit(outbox_nudge)
    for (case, _suggested), event_id in zip(items, event_ids):
        audit_record(action="case.suggest", actor_name="system", target=f"case:{case.tracking_code}",
                     detail={"event_id": event_id, "from": case.state, "to": case.state})
    return len(items)


def case_add_note(*, case: Case, acting_user: User, text: str, expected_version: int | None = None) -> CaseEvent:
    return _transition(case=case, actor=acting_user, action="note", reason=text, expected_version=expected_version)


def case_add_co_unit(*, case: Case, acting_user: User, unit: Unit, expected_version: int | None = None) -> CaseEvent:
    if unit.kind not in (UnitKind.DEPARTMENT, UnitKind.STREET, UnitKind.COMMUNITY):
        raise InvalidInput("协办单位选择有误。")

    def add(fresh: Case) -> None:
        if fresh.assignments.filter(active=True, unit=unit).exists():
            raise InvalidInput("该单位已在办理本案件。")
        CaseAssignment.objects.create(case=fresh, unit=unit, role=AssignmentRole.CO, assigned_by=acting_user)

    return _transition(case=case, actor=acting_user, action="add_co_unit", data={"unit": unit.key}, unit=unit, before_update=add,
                       expected_version=expected_version)


def case_request_extension(*, case: Case, acting_user: User, working_days: int, reason: str, expected_version: int | None = None) -> ExtensionRequest:
    if not 1 <= int(working_days) <= 30:
        raise InvalidInput("延期天数应为1至30个工作日。")
    holder: dict[str, ExtensionRequest] = {}

    def create(fresh: Case) -> None:
        if fresh.extensions.filter(status=ExtensionStatus.PENDING).exists():
            raise InvalidInput("已有待审批的延期申请。")
        holder["ext"] = ExtensionRequest.objects.create(
            case=fresh, unit=acting_user.unit, requested_by=acting_user, working_days=working_days, reason=reason.strip()
        )

    _transition(case=case, actor=acting_user, action="request_extension", reason=reason, data={"working_days": working_days}, before_update=create,
                expected_version=expected_version)
    return holder["ext"]


def case_decide_extension(
    *, extension: ExtensionRequest, acting_user: User, approve: bool, note: str = "", expected_version: int | None = None
) -> CaseEvent:
    """Approve (moving the resolve-by deadline by the requested working days) or refuse."""
    case = extension.case

    def decide(fresh: Case) -> None:
        ext = ExtensionRequest.objects.select_for_update().get(pk=extension.pk)
        if ext.status != ExtensionStatus.PENDING:
            raise InvalidInput("该延期申请已处理。")
        ext.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
        ext.decided_by, ext.decided_at, ext.decision_note = acting_user, timezone.now(), note
        ext.save()

    updates: dict[str, Any] = {}
    data: dict[str, Any] = {"extension_id": extension.pk, "approved": approve, "working_days": extension.working_days}
    if approve and case.resolve_due_at:
        new_due = extend_by_working_days(case.resolve_due_at, extension.working_days)
        updates = {"resolve_due_at": new_due, "due_flag": DueFlag.NONE}
        data["resolve_due_at"] = new_due.isoformat()
    event = _transition(case=case, actor=acting_user, action="decide_extension", reason=note, data=data, updates=updates, before_update=decide,
                        expected_version=expected_version)
    extension.refresh_from_db()
    return event


def case_supervise(*, case: Case, acting_user: User, level: int, reason: str, expected_version: int | None = None) -> CaseEvent:
    """Put the case under supervision (督办); a higher level escalates it."""
    if not 1 <= int(level) <= 3:
        raise InvalidInput("督办级别应为1（一般）至3（挂牌）。")
    return _transition(case=case, actor=acting_user, action="supervise", reason=reason, data={"level": int(level)},
                       updates={"supervision_level": int(level)}, expected_version=expected_version)


def case_join(*, case: Case, name: str = "", phone: str = "", text: str = "", acting_user: Actor = RESIDENT) -> CoReporter:
    """Another resident reports the same problem and joins this case (多人同诉)."""
    holder: dict[str, CoReporter] = {}

    def add(fresh: Case) -> None:
        holder["co"] = CoReporter.objects.create(case=fresh, name=name.strip()[:100], phone=_clean_phone(phone), text=text.strip()[:2000])

    _transition(case=case, actor=acting_user, action="join", data={"channel": "join"}, updates={"reporter_count": F("reporter_count") + 1}, before_update=add)
    return holder["co"]


# ---------------------------------------------------------------- periodic jobs

def _current_due(case: Case) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(start, due) of the clock that matters now: acknowledge while dispatched, else resolve."""
    if case.state == CaseState.DISPATCHED and case.acknowledge_due_at:
        return case.dispatched_at, case.acknowledge_due_at
    return case.dispatched_at, case.resolve_due_at


def _near_due(case: Case, start: dt.datetime, due: dt.datetime, now: dt.datetime, fraction: float) -> bool:
    """Whether less than `fraction` of the allowed time is left. Urgent clocks run around
    the clock; the others count working time, so a Friday-evening dispatch does not turn
    yellow over the weekend."""
    if case.urgency == Urgency.URGENT:
        return due - now <= (due - start) * fraction
    from minsheng.core.calendar import get_calendar

    calendar = get_calendar()
    try:
        return calendar.working_time_between(now, due) <= calendar.working_time_between(start, due) * fraction
    except CalendarOutOfRange:
        return due - now <= (due - start) * fraction


def cases_flag_due(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Raise near-due (黄牌) and overdue (红牌) flags and record a `flag` event for each.

    Safe in several workers at once: a flag is claimed with a conditional UPDATE, and only
    the worker whose UPDATE changed the row writes the event.
    """
    now = now or timezone.now()
    counts = {"yellow": 0, "red": 0}
    fraction = settings.MINSHENG_NEAR_DUE_FRACTION
    candidates = Case.objects.filter(state__in=[CaseState.DISPATCHED, CaseState.IN_PROGRESS]).exclude(due_flag=DueFlag.RED)
    for case in candidates.only("id", "state", "urgency", "dispatched_at", "acknowledge_due_at", "resolve_due_at", "due_flag", "main_unit_id").iterator():
        start, due = _current_due(case)
        if due is None or start is None:
            continue
        if now >= due:
            flag = DueFlag.RED
        elif case.due_flag != DueFlag.YELLOW and _near_due(case, start, due, now, fraction):
            flag = DueFlag.YELLOW
        else:
            continue
        with transaction.atomic():
            claimed = Case.objects.filter(pk=case.pk, state=case.state).exclude(due_flag=flag).exclude(due_flag=DueFlag.RED).update(due_flag=flag)
            if claimed != 1:
                continue
            stage = "acknowledge" if case.state == CaseState.DISPATCHED else "resolve"
            CaseEvent.objects.create(
                case_id=case.pk, action="flag", from_state=case.state, to_state=case.state, actor_kind="system",
                unit_id=case.main_unit_id, data={"flag": flag, "stage": stage, "due_at": due.isoformat()}, at=now,
                outcome=flag,
            )
            outbox_enqueue(topic="case.flag", payload={"case_id": case.pk, "flag": flag, "stage": stage})
        counts[flag] += 1
    return counts


def cases_close_unanswered(*, now: dt.datetime | None = None) -> int:
    """Close cases whose resident has not rated the reply within the feedback window."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.MINSHENG_FEEDBACK_DAYS)
    closed = 0
    for case in Case.objects.filter(state=CaseState.AWAITING_FEEDBACK, approved_at__lte=cutoff).iterator():
        try:
            case_close_without_feedback(case=case)
            closed += 1
        except (StaleCase, ActionNotAllowed):
            continue  # another worker (or the resident) got there first
    return closed


# ---------------------------------------------------------------- taxonomy

@transaction.atomic
def taxonomy_load(*, taxonomy: dict) -> dict[str, int]:
    """Create or update categories, subcategories (with routing) and deadline policies from
    a taxonomy document. Idempotent; categories no longer listed are deactivated."""
    from .deadlines import Duration
    from .models import DeadlinePolicy

    departments = {u.code: u for u in Unit.objects.filter(kind=UnitKind.DEPARTMENT)}
    seen: set[str] = set()
    counts = {"categories": 0, "subcategories": 0, "policies": 0}
    for c_index, cat in enumerate(taxonomy.get("categories", [])):
        parent, _ = Category.objects.update_or_create(
            code=cat["code"], defaults={"name": cat["name"], "parent": None, "routing": "", "department": None, "active": True, "sort_order": c_index * 100}
        )
        seen.add(cat["code"])
        counts["categories"] += 1
        for s_index, sub in enumerate(cat.get("subcategories", [])):
            dept = departments.get(sub.get("dept", ""))
            if sub.get("dept") and dept is None:
                raise InvalidInput(f"小类 {sub['code']} 的主管部门 {sub['dept']} 不在部门列表中。")
            if sub.get("routing") not in ("territorial", "department"):
                raise InvalidInput(f"小类 {sub['code']} 的派单规则应为 territorial 或 department。")
            Category.objects.update_or_create(
                code=sub["code"],
                defaults={
                    "name": sub["name"], "parent": parent, "routing": sub["routing"], "department": dept,
                    "note": sub.get("note", ""), "active": True, "sort_order": c_index * 100 + s_index + 1,
                },
            )
            seen.add(sub["code"])
            counts["subcategories"] += 1
    Category.objects.exclude(code__in=seen).update(active=False)
    for urgency, policy in (taxonomy.get("urgency") or {}).items():
        if urgency not in Urgency.values:
            raise InvalidInput(f"未知的紧急程度：{urgency}")
        fields = {k: policy[k] for k in ("acknowledge_within", "contact_within", "resolve_within")}
        for value in fields.values():
            Duration.parse(value)
        DeadlinePolicy.objects.update_or_create(urgency=urgency, defaults={**fields, "note": policy.get("note", "")})
        counts["policies"] += 1
    from .deadlines import invalidate_policies

    transaction.on_commit(invalidate_policies)
    return counts


def district_load_files(*, taxonomy_path, gazetteer_path) -> dict[str, int]:
    """Load a district (org tree, taxonomy, calendar) from its two YAML files."""
    import yaml

    from minsheng.core.services import calendar_ensure_years, calendar_sync_official, district_load

    try:
        taxonomy = yaml.safe_load(open(taxonomy_path, encoding="utf-8"))
        gazetteer = yaml.safe_load(open(gazetteer_path, encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"无法读取地区数据文件：{exc}") from exc
    if not isinstance(taxonomy, dict) or "categories" not in taxonomy:
        raise InvalidInput(f"{taxonomy_path} 不是分类文件（缺少 categories）。")
    if not isinstance(gazetteer, dict) or "streets" not in gazetteer or "district" not in gazetteer:
        raise InvalidInput(f"{gazetteer_path} 不是地名库文件（缺少 district/streets）。")
    with transaction.atomic():
        counts = district_load(taxonomy=taxonomy, gazetteer=gazetteer)
        counts.update(taxonomy_load(taxonomy=taxonomy))
        counts["calendar_days"] = calendar_sync_official()
        counts["calendar_days"] += sum(calendar_ensure_years().values())
    return counts


# ---------------------------------------------------------------- bulk intake

@dataclass
class BulkCase:
    """One new case for `cases_intake_many`: what `case_submit` takes, the dispatch engine's
    suggestion as `case_record_suggestion` stores it, and — when the engine was sure enough —
    the unit `case_dispatch` would send it to."""

    text: str
    channel: str
    idempotency_key: str
    address: str = ""
    reporter_name: str = ""
    reporter_phone: str = ""
    reporter_id_number: str = ""
    submitted_at: dt.datetime | None = None
    kind: str = "appeal"
    source_type: str = ""
    source_id: str = ""
    dispatch_meta: dict | None = None
    category: Category | None = None
    urgency: str = Urgency.NORMAL
    street: Unit | None = None
    community: Unit | None = None
    auto_dispatch_unit: Unit | None = None
    auto_dispatch_meta: dict = field(default_factory=dict)


def _tracking_codes_new(count: int) -> list[str]:
    """`count` distinct tracking codes not yet in use (a bulk import makes thousands a day, so
    collisions among them and with today's cases are checked, not left to the unique index)."""
    codes: set[str] = set()
    while len(codes) < count:
        wanted = {tracking_code_new() for _ in range(count - len(codes))} - codes
        taken = set(Case.objects.filter(tracking_code__in=list(wanted)).values_list("tracking_code", flat=True))
        codes |= wanted - taken
    return list(codes)


def cases_intake_many(*, items: Sequence[BulkCase], acting_user: User | None = None, plain: bool = False) -> list:
    """Register many new cases at once (bulk import), each exactly as `case_submit` followed
    by `case_record_suggestion` and, for an item with `auto_dispatch_unit`, `case_dispatch`
    by the system would: the same case fields, events, assignment and outbox messages, written
    in a few bulk statements instead of a dozen queries per case.

    Items are validated like `case_submit` (InvalidInput names the item). An item whose
    idempotency key is already taken — the same row imported before, or twice in `items` — is
    skipped. Returns the created cases in the order of `items` — with `plain`, as
    `bulk_intake.IntakeResult` (id, key, tracking code, main unit) instead of Case instances
    read back (what a bulk import needs, without reading every case again).
    """
    for number, item in enumerate(items, start=1):
        text = (item.text or "").strip()
        if not 5 <= len(text) <= 5000:
            raise InvalidInput(f"第{number}条：诉求内容应为5至5000字。")
        if item.channel not in Channel.values:
            raise InvalidInput(f"第{number}条：未知的渠道：{item.channel}")
        if item.urgency not in Urgency.values:
            raise InvalidInput(f"第{number}条：未知的紧急程度：{item.urgency}")
        if item.category is not None and not item.category.is_subcategory:
            raise InvalidInput(f"第{number}条：请选择到小类。")
        if not item.idempotency_key:
            raise InvalidInput(f"第{number}条：缺少幂等键。")
        unit = item.auto_dispatch_unit
        if unit is not None and (unit.kind not in (UnitKind.DEPARTMENT, UnitKind.STREET, UnitKind.COMMUNITY) or not unit.active):
            raise InvalidInput(f"第{number}条：请选择有效的承办单位。")
    cleaned = [
        {"address": (item.address or "").strip()[:300], "reporter_name": (item.reporter_name or "").strip()[:100],
         "reporter_phone": _clean_phone(item.reporter_phone), "reporter_id_number": clean_id_number(item.reporter_id_number)}
        for item in items
    ]
    for attempt in range(3):
        try:
            with transaction.atomic():
                written = _intake_many(items, cleaned, acting_user)
            break
        except IntegrityError:
            # Another process took a key or a tracking code meanwhile: look again.
            if attempt == 2:
                raise
    return written if plain else _as_cases(written)


def _intake_many(items: Sequence[BulkCase], cleaned: Sequence[dict], acting_user: User | None) -> list:
    from . import bulk_intake

    taken = bulk_intake.existing_keys([item.idempotency_key for item in items])
    fresh, fresh_cleaned = [], []
    for item, personal in zip(items, cleaned):
        if item.idempotency_key not in taken:
            taken.add(item.idempotency_key)
            fresh.append(item)
            fresh_cleaned.append(personal)
    if not fresh:
        return []
    return bulk_intake.intake_many(fresh, cleaned=fresh_cleaned, codes=_tracking_codes_new(len(fresh)), acting_user=acting_user)


def _as_cases(written: list) -> list[Case]:
    by_pk = Case.objects.in_bulk([w.pk for w in written])
    return [by_pk[w.pk] for w in written]

