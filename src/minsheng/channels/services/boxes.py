"""Suggestion boxes (群众意见箱): opening boxes, notes dropped online or entered from paper,
and moderation before a note becomes an appeal."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from minsheng.cases.choices import Channel
from minsheng.cases.errors import InvalidInput
from minsheng.core.choices import UnitKind
from minsheng.core.models import Unit, User

from .. import rules
from ..choices import NoteSource, NoteStatus
from ..models import SOURCE_BOX_NOTE, NoteBatch, SuggestionBox, SuggestionNote
from .common import appeal_from_record, require

MAX_NOTE_CHARS = 2000
MAX_BATCH_NOTES = 200

# What marks a note as probably not a resident's problem. The check only flags a note for the
# moderator; a person decides.
_LINK = re.compile(r"https?://|www\.|\.(com|cn|net|top|xyz)\b", re.I)
_CONTACT_AD = re.compile(r"(加|\+)\s*(微信|vx|v信|qq|QQ)|微信号|扫码|代开|发票|贷款|刷单|兼职|博彩|彩票|赌场|返利|包过|办证")
_REPEATED = re.compile(r"(.)\1{7,}")
_ABUSE = re.compile(r"傻[逼比屄]|操你|草你|妈的|去死|滚蛋|狗东西|垃圾东西|王八蛋|fuck|shit", re.I)


def note_suspicion(text: str) -> str:
    """Why a note looks like spam or abuse, or '' when it does not."""
    reasons = []
    if _LINK.search(text):
        reasons.append("含网址")
    if _CONTACT_AD.search(text):
        reasons.append("疑似广告")
    if _REPEATED.search(text):
        reasons.append("大量重复字符")
    if _ABUSE.search(text):
        reasons.append("含不文明用语")
    content = re.sub(r"[\W_]+", "", text)
    if len(content) < 4:
        reasons.append("内容过短")
    return "、".join(reasons)


def _note_fields(*, text: str, address: str, name: str, phone: str, is_anonymous: bool) -> dict:
    text = (text or "").strip()
    if len(text) < 2:
        raise InvalidInput("请写下您的意见或建议。")
    if len(text) > MAX_NOTE_CHARS:
        raise InvalidInput(f"内容过长（最多{MAX_NOTE_CHARS}字）。")
    if is_anonymous:
        name, phone = "", ""
    return {"text": text, "address": (address or "").strip()[:300], "name": (name or "").strip()[:100], "phone": (phone or "").strip()[:20],
            "is_anonymous": bool(is_anonymous) or not (name or phone), "suspicion": note_suspicion(text)}


@transaction.atomic
def boxes_open(*, acting_user: User, units: Sequence[Unit]) -> list[SuggestionBox]:
    """Open a suggestion box for each community (or the district) that has none yet."""
    require(rules.can_open_boxes(acting_user), "您无权开设意见箱。")
    opened = []
    for unit in units:
        if unit.kind not in (UnitKind.COMMUNITY, UnitKind.DISTRICT):
            raise InvalidInput("意见箱只能设在社区或全区。")
        require(rules.can_manage(acting_user, unit), f"您无权为{unit.name}开设意见箱。")
        box, created = SuggestionBox.objects.get_or_create(unit=unit, defaults={"created_by": acting_user})
        if created:
            opened.append(box)
    return opened


@transaction.atomic
def box_set_active(*, box: SuggestionBox, acting_user: User, active: bool) -> SuggestionBox:
    require(rules.can_moderate_box(acting_user, box), "您无权管理该意见箱。")
    box.active = bool(active)
    box.save(update_fields=["active"])
    return box


@transaction.atomic
def note_submit_online(*, box: SuggestionBox, text: str, address: str = "", name: str = "", phone: str = "",
                       is_anonymous: bool = False) -> SuggestionNote:
    """A resident drops a note in the online box (no account; anonymous allowed)."""
    if not box.active:
        raise InvalidInput("该意见箱已停用。")
    return SuggestionNote.objects.create(
        box=box, source=NoteSource.ONLINE,
        **_note_fields(text=text, address=address, name=name, phone=phone, is_anonymous=is_anonymous),
    )


@transaction.atomic
def notes_enter_paper(*, box: SuggestionBox, acting_user: User, collected_on: dt.date, notes: Sequence[dict]) -> NoteBatch:
    """Enter the paper notes taken out of a box on one day (开箱登记). Each note is a dict
    with `text` and optionally `address`, `name`, `phone`. They wait for moderation like
    online notes."""
    require(rules.can_moderate_box(acting_user, box), "您无权为该意见箱登记留言。")
    notes = [n for n in notes if (n.get("text") or "").strip()]
    if not notes:
        raise InvalidInput("请至少录入一条留言。")
    if len(notes) > MAX_BATCH_NOTES:
        raise InvalidInput(f"一次最多录入{MAX_BATCH_NOTES}条。")
    if collected_on > timezone.localdate():
        raise InvalidInput("开箱日期不能晚于今天。")
    batch = NoteBatch.objects.create(box=box, collected_on=collected_on, entered_by=acting_user)
    at = timezone.make_aware(dt.datetime.combine(collected_on, dt.time(9, 0)))
    SuggestionNote.objects.bulk_create([
        SuggestionNote(
            box=box, source=NoteSource.PAPER, batch=batch, submitted_at=min(at, timezone.now()), entered_by=acting_user,
            **_note_fields(text=n.get("text", ""), address=n.get("address", ""), name=n.get("name", ""), phone=n.get("phone", ""),
                           is_anonymous=not (n.get("name") or n.get("phone"))),
        )
        for n in notes
    ])
    return batch


DECISIONS = (NoteStatus.APPEAL, NoteStatus.NO_ACTION, NoteStatus.SPAM, NoteStatus.ABUSE)


@transaction.atomic
def note_moderate(*, note: SuggestionNote, acting_user: User, decision: str, comment: str = "") -> SuggestionNote:
    """Decide on a note: it becomes an appeal (channel 意见箱), needs no action (thanks,
    praise), or is set aside as spam or abuse. A note that became an appeal stays one; the
    other decisions can be revisited."""
    box = note.box
    require(rules.can_moderate_box(acting_user, box), "您无权审核该意见箱的留言。")
    if decision not in DECISIONS:
        raise InvalidInput("审核结果选择有误。")
    note = SuggestionNote.objects.select_for_update().get(pk=note.pk)
    if note.status == NoteStatus.APPEAL:
        raise InvalidInput("该留言已转为诉求。")
    if decision == NoteStatus.APPEAL:
        community = box.unit if box.unit.kind == UnitKind.COMMUNITY else None
        note.case = appeal_from_record(
            text=note.text, channel=Channel.SUGGESTION_BOX, source_type=SOURCE_BOX_NOTE, source_id=note.pk, acting_user=acting_user,
            address=note.address, reporter_name=note.name, reporter_phone=note.phone, is_anonymous=note.is_anonymous,
            community=community, submitted_at=note.submitted_at,
        )
    note.status, note.moderated_by, note.moderated_at = decision, acting_user, timezone.now()
    note.moderation_note = (comment or "").strip()[:300]
    note.save(update_fields=["status", "moderated_by", "moderated_at", "moderation_note", "case"])
    return note
