"""Writes of the analytics: 每月一题 topics — adoption, edits, status, progress notes, the
cases linked to a topic. Each is one transaction; adoption and every status change are
recorded in the audit log.

Who may do what:
- a leader (district, or a street's leader for problems in its street) or an admin adopts a
  problem as a topic, edits it, moves its status and links or unlinks cases;
- the owner unit's handlers add progress notes (so do leaders and admins);
- everyone else in scope reads (`Topic.objects.visible_to`).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from minsheng.cases.errors import ActionNotAllowed, InvalidInput
from minsheng.cases.models import Case, Category
from minsheng.core.choices import Role, UnitKind
from minsheng.core.models import Unit, User
from minsheng.core.services import audit_record
from minsheng.core.text import unstorable_text

from .models import TOPIC_TRANSITIONS, Topic, TopicCase, TopicNote, TopicStatus
from .selectors.hotspots import month_start, next_month, previous_month, problem_cases

TITLE_MAX = 120
TEXT_MAX = 5000
HANDLING_KINDS = (UnitKind.DEPARTMENT, UnitKind.STREET, UnitKind.COMMUNITY)


# ---------------------------------------------------------------- permissions


def may_manage_topics(user) -> bool:
    """Adopt, edit, change status, link cases: leaders and admins."""
    return bool(user and user.is_authenticated and user.is_active and (user.is_superuser or user.role in (Role.LEADER, Role.ADMIN)))


def may_manage_topic(user, topic: Topic) -> bool:
    return may_manage_topics(user) and Topic.objects.visible_to(user).filter(pk=topic.pk).exists()


def may_add_note(user, topic: Topic) -> bool:
    if may_manage_topic(user, topic):
        return True
    return bool(user and user.is_authenticated and user.is_active and user.role == Role.HANDLER
                and user.unit_id is not None and user.unit_id == topic.owner_unit_id)


def _leader_street(user) -> Unit | None:
    """The street a street's leader is limited to; None for the district's leaders and admins."""
    if user.is_superuser or user.role == Role.ADMIN:
        return None
    unit = user.unit
    if unit is None or unit.kind == UnitKind.DISTRICT:
        return None
    return unit.street or unit


# ---------------------------------------------------------------- validation


def _clean_text(value: str, *, label: str, max_length: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(_("请填写%(label)s。") % {"label": label})
    if len(value) > max_length:
        raise InvalidInput(_("%(label)s过长（最多%(n)d字）。") % {"label": label, "n": max_length})
    if unstorable_text(value):
        raise InvalidInput(_("%(label)s含有无法保存的字符（如 NUL），请删除后重试。") % {"label": label})
    return value


def _check_owner(owner_unit: Unit | None) -> Unit:
    if owner_unit is None or owner_unit.kind not in HANDLING_KINDS or not owner_unit.active:
        raise InvalidInput(_("责任单位应为在用的部门、街道办事处或社区。"))
    return owner_unit


def _check_place(*, acting_user: User, street: Unit | None, community: Unit | None) -> Unit:
    if street is None or street.kind != UnitKind.STREET:
        raise InvalidInput(_("请选择街道。"))
    if community is not None and (community.kind != UnitKind.COMMUNITY or community.parent_id != street.pk):
        raise InvalidInput(_("社区不属于所选街道。"))
    limit = _leader_street(acting_user)
    if limit is not None and limit.pk != street.pk:
        raise ActionNotAllowed(_("只能采纳本街道的问题。"))
    return community or street


# ---------------------------------------------------------------- adoption


@transaction.atomic
def topic_adopt(*, acting_user: User, month: dt.date, category: Category, street: Unit, community: Unit | None = None,
                owner_unit: Unit, title: str, plan: str, ip: str | None = None) -> Topic:
    """Adopt the problem "`category` at `community` (or `street`) in `month`" as a topic:
    the topic is created with its plan and owner unit, and the problem's cases of that month
    (as the leader may see them) are linked to it."""
    if not may_manage_topics(acting_user):
        raise ActionNotAllowed(_("只有领导或系统管理员可以采纳每月一题。"))
    if category is None:
        raise InvalidInput(_("请选择问题类别。"))
    first = month_start(month)
    if first > timezone.localdate():
        raise InvalidInput(_("不能采纳未来月份的问题。"))
    place = _check_place(acting_user=acting_user, street=street, community=community)
    owner_unit = _check_owner(owner_unit)
    title = _clean_text(title, label=_("题目"), max_length=TITLE_MAX)
    plan = _clean_text(plan, label=_("跟进计划"), max_length=TEXT_MAX)
    if Topic.objects.filter(month=first, category=category, place=place).exists():
        raise InvalidInput(_("该问题本月已采纳为每月一题。"))
    cases = problem_cases(user=acting_user, month=first, category=category, street=street, community=community)
    previous = problem_cases(user=acting_user, month=previous_month(first), category=category, street=street, community=community)
    now = timezone.now()
    try:
        with transaction.atomic():
            topic = Topic.objects.create(
                title=title, month=first, category=category, street=street, community=community, place=place,
                owner_unit=owner_unit, plan=plan, adopted_by=acting_user, adopted_at=now, updated_at=now,
                proposed_count=cases.count(), previous_count=previous.count(),
            )
    except IntegrityError:
        # Two leaders adopting the same problem at once: the other one won.
        raise InvalidInput(_("该问题本月已采纳为每月一题。")) from None
    linked = _link_auto(topic, cases, acting_user=acting_user, now=now)
    TopicNote.objects.create(topic=topic, kind=TopicNote.Kind.STATUS, text=_("采纳为每月一题，自动关联案件 %(n)d 件。") % {"n": linked},
                             author=acting_user, author_unit=acting_user.unit, to_status=TopicStatus.ADOPTED, at=now)
    audit_record(action="topic.adopt", actor=acting_user, target=f"topic:{topic.pk}", ip=ip, detail={
        "month": f"{first:%Y-%m}", "category": category.code, "place": place.key, "owner_unit": owner_unit.key, "cases": linked,
    })
    return topic


def _link_auto(topic: Topic, cases, *, acting_user: User, now: dt.datetime) -> int:
    """Link the cases not linked yet (nor unlinked by hand before): returns how many."""
    known = set(TopicCase.objects.filter(topic=topic).values_list("case_id", flat=True))
    ids = [pk for pk in cases.values_list("pk", flat=True) if pk not in known]
    TopicCase.objects.bulk_create(
        [TopicCase(topic=topic, case_id=pk, source=TopicCase.Source.AUTO, linked_by=acting_user, linked_at=now) for pk in ids],
        batch_size=1000,
    )
    return len(ids)


def _locked(topic: Topic, acting_user: User, *, manage: bool = True) -> Topic:
    visible = Topic.objects.visible_to(acting_user)
    if manage and not may_manage_topics(acting_user):
        raise ActionNotAllowed(_("只有领导或系统管理员可以修改每月一题。"))
    locked = visible.select_for_update().filter(pk=topic.pk).first()
    if locked is None:
        raise ActionNotAllowed(_("无权访问该每月一题。"))
    return locked


@transaction.atomic
def topic_update(*, acting_user: User, topic: Topic, title: str, plan: str, owner_unit: Unit, ip: str | None = None) -> Topic:
    """Change the title, the follow-up plan or the owner unit."""
    topic = _locked(topic, acting_user)
    title = _clean_text(title, label=_("题目"), max_length=TITLE_MAX)
    plan = _clean_text(plan, label=_("跟进计划"), max_length=TEXT_MAX)
    owner_unit = _check_owner(owner_unit)
    changed = [name for name, value in (("title", title), ("plan", plan), ("owner_unit", owner_unit)) if getattr(topic, name) != value]
    if not changed:
        return topic
    before_owner = topic.owner_unit
    topic.title, topic.plan, topic.owner_unit, topic.updated_at = title, plan, owner_unit, timezone.now()
    topic.save(update_fields=["title", "plan", "owner_unit", "updated_at"])
    text = _("修改了：%(fields)s") % {"fields": "、".join({"title": _("题目"), "plan": _("跟进计划"), "owner_unit": _("责任单位")}[c] for c in changed)}
    TopicNote.objects.create(topic=topic, kind=TopicNote.Kind.EDIT, text=text, author=acting_user, author_unit=acting_user.unit)
    audit_record(action="topic.edit", actor=acting_user, target=f"topic:{topic.pk}", ip=ip, detail={
        "fields": changed, "owner_unit": [before_owner.key, owner_unit.key] if "owner_unit" in changed else None,
    })
    return topic


@transaction.atomic
def topic_set_status(*, acting_user: User, topic: Topic, status: str, note: str = "", ip: str | None = None) -> Topic:
    """Move the topic: adopted → in progress → done (and back to in progress when the
    problem returns). Recorded in its log and in the audit log."""
    topic = _locked(topic, acting_user)
    if status not in TopicStatus.values:
        raise InvalidInput(_("未知的状态。"))
    if status not in TOPIC_TRANSITIONS[TopicStatus(topic.status)]:
        raise InvalidInput(_("不能从“%(a)s”改为“%(b)s”。") % {"a": topic.get_status_display(), "b": TopicStatus(status).label})
    note = _clean_text(note, label=_("说明"), max_length=TEXT_MAX, required=status == TopicStatus.DONE)
    before = topic.status
    now = timezone.now()
    topic.status, topic.updated_at = status, now
    topic.done_at = now if status == TopicStatus.DONE else None
    topic.save(update_fields=["status", "updated_at", "done_at"])
    TopicNote.objects.create(topic=topic, kind=TopicNote.Kind.STATUS, text=note or TopicStatus(status).label, author=acting_user,
                             author_unit=acting_user.unit, from_status=before, to_status=status, at=now)
    audit_record(action="topic.status", actor=acting_user, target=f"topic:{topic.pk}", ip=ip, detail={"from": before, "to": status})
    return topic


@transaction.atomic
def topic_add_note(*, acting_user: User, topic: Topic, text: str) -> TopicNote:
    """A progress note from the owner unit (or a leader)."""
    topic = _locked(topic, acting_user, manage=False)
    if not may_add_note(acting_user, topic):
        raise ActionNotAllowed(_("只有责任单位或领导可以填写进展。"))
    text = _clean_text(text, label=_("进展"), max_length=TEXT_MAX)
    now = timezone.now()
    Topic.objects.filter(pk=topic.pk).update(updated_at=now)
    return TopicNote.objects.create(topic=topic, kind=TopicNote.Kind.NOTE, text=text, author=acting_user, author_unit=acting_user.unit, at=now)


# ---------------------------------------------------------------- linked cases


@transaction.atomic
def topic_link_case(*, acting_user: User, topic: Topic, tracking_code: str) -> Case:
    """Link one more case by its tracking code (one the leader may see)."""
    topic = _locked(topic, acting_user)
    code = (tracking_code or "").strip().upper()
    if not code or unstorable_text(code):
        raise InvalidInput(_("请填写查询码。"))
    case = Case.objects.visible_to(acting_user).filter(tracking_code=code).first()
    if case is None:
        raise InvalidInput(_("没有找到查询码为 %(code)s 的案件，或无权访问。") % {"code": code[:20]})
    link = TopicCase.objects.filter(topic=topic, case=case).first()
    if link is not None and link.unlinked_at is None:
        raise InvalidInput(_("案件 %(code)s 已关联。") % {"code": code})
    now = timezone.now()
    if link is None:
        TopicCase.objects.create(topic=topic, case=case, source=TopicCase.Source.MANUAL, linked_by=acting_user, linked_at=now)
    else:
        TopicCase.objects.filter(pk=link.pk).update(unlinked_at=None, source=TopicCase.Source.MANUAL, linked_by=acting_user, linked_at=now)
    TopicNote.objects.create(topic=topic, kind=TopicNote.Kind.LINK, text=_("关联案件 %(code)s") % {"code": code},
                             author=acting_user, author_unit=acting_user.unit, at=now)
    return case


@transaction.atomic
def topic_unlink_case(*, acting_user: User, topic: Topic, case_id: int) -> None:
    """Take a case off the topic; a later refresh does not link it again."""
    topic = _locked(topic, acting_user)
    link = TopicCase.objects.filter(topic=topic, case_id=case_id, unlinked_at__isnull=True).select_related("case").first()
    if link is None:
        raise InvalidInput(_("该案件未关联此每月一题。"))
    now = timezone.now()
    TopicCase.objects.filter(pk=link.pk).update(unlinked_at=now)
    TopicNote.objects.create(topic=topic, kind=TopicNote.Kind.LINK, text=_("取消关联案件 %(code)s") % {"code": link.case.tracking_code},
                             author=acting_user, author_unit=acting_user.unit, at=now)


@transaction.atomic
def topic_refresh_links(*, acting_user: User, topic: Topic) -> int:
    """Link the problem's cases that arrived since adoption (from the month's first day to
    today), except those unlinked by hand; returns how many were added."""
    topic = _locked(topic, acting_user)
    through = max(timezone.localdate(), next_month(topic.month) - dt.timedelta(days=1))
    cases = problem_cases(user=acting_user, month=topic.month, category=topic.category, street=topic.street,
                          community=topic.community, through=through)
    added = _link_auto(topic, cases, acting_user=acting_user, now=timezone.now())
    if added:
        TopicNote.objects.create(topic=topic, kind=TopicNote.Kind.LINK, text=_("自动关联新案件 %(n)d 件") % {"n": added},
                                 author=acting_user, author_unit=acting_user.unit)
    return added


# ---------------------------------------------------------------- ledgers


def ledger_export_record(*, acting_user: User, target: str, filters: dict, rows: int, ip: str | None = None) -> None:
    """An exported hotspot or topic ledger, in the audit log (as every export is)."""
    audit_record(action="export", actor=acting_user, target=target, ip=ip, detail={
        "filters": {k: str(v) for k, v in filters.items() if v not in (None, "")}, "rows": rows, "format": "xlsx",
    })
