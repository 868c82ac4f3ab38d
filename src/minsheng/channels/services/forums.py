"""Forums (座谈会, including the biweekly enterprise forums): the meeting record and the issues
raised there, each of which becomes an appeal linked to the meeting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from minsheng.cases.choices import CaseKind, Channel
from minsheng.cases.errors import InvalidInput
from minsheng.core.choices import UnitKind
from minsheng.core.models import Unit, User
from minsheng.intake.services import Photo

from .. import rules
from ..choices import ForumKind
from ..models import SOURCE_FORUM_ISSUE, Forum, ForumAttendee, ForumIssue, ForumPhoto
from .common import appeal_from_record, photo_save, require

MAX_ISSUES = 100
MAX_ATTENDEES = 300
MAX_PHOTOS = 12


def _record_fields(*, kind: str, title: str, held_on: dt.date, start_time: dt.time | None, place: str, host_unit: Unit, minutes: str) -> dict:
    if kind not in ForumKind.values:
        raise InvalidInput("会议类型选择有误。")
    if not (title or "").strip():
        raise InvalidInput("请填写会议名称。")
    if not (place or "").strip():
        raise InvalidInput("请填写会议地点。")
    if held_on > timezone.localdate():
        raise InvalidInput("会议日期不能晚于今天：座谈会开完后再登记。")
    return {"kind": kind, "title": title.strip()[:150], "held_on": held_on, "start_time": start_time, "place": place.strip()[:200],
            "host_unit": host_unit, "minutes": (minutes or "").strip()}


def _attendee_rows(forum: Forum, attendees: Sequence[dict]) -> list[ForumAttendee]:
    rows = [a for a in attendees if (a.get("name") or "").strip()]
    if len(rows) > MAX_ATTENDEES:
        raise InvalidInput(f"参会人员最多{MAX_ATTENDEES}人。")
    return [
        ForumAttendee(forum=forum, position=i, name=a["name"].strip()[:60], organisation=(a.get("organisation") or "").strip()[:150],
                      post=(a.get("post") or "").strip()[:60])
        for i, a in enumerate(rows, start=1)
    ]


@transaction.atomic
def forum_record(
    *,
    acting_user: User,
    kind: str,
    title: str,
    held_on: dt.date,
    place: str,
    host_unit: Unit,
    start_time: dt.time | None = None,
    minutes: str = "",
    attendees: Sequence[dict] = (),
    issues: Sequence[dict] = (),
    photos: Sequence[Photo] = (),
) -> Forum:
    """Record a meeting with its attendees, minutes, photos and the issues raised there."""
    require(rules.can_record_forums(acting_user) and rules.can_manage(acting_user, host_unit), "您无权以该单位名义登记座谈会。")
    forum = Forum.objects.create(created_by=acting_user, **_record_fields(
        kind=kind, title=title, held_on=held_on, start_time=start_time, place=place, host_unit=host_unit, minutes=minutes))
    ForumAttendee.objects.bulk_create(_attendee_rows(forum, attendees))
    _add_photos(forum, photos, acting_user)
    _add_issues(forum, issues, acting_user)
    return forum


@transaction.atomic
def forum_update(
    *,
    forum: Forum,
    acting_user: User,
    kind: str,
    title: str,
    held_on: dt.date,
    place: str,
    host_unit: Unit,
    start_time: dt.time | None = None,
    minutes: str = "",
    attendees: Sequence[dict] = (),
) -> Forum:
    """Correct the meeting record (the issues already raised keep their appeals)."""
    require(rules.can_manage(acting_user, forum.host_unit) and rules.can_manage(acting_user, host_unit), "您无权修改该座谈会。")
    for name, value in _record_fields(kind=kind, title=title, held_on=held_on, start_time=start_time, place=place,
                                      host_unit=host_unit, minutes=minutes).items():
        setattr(forum, name, value)
    forum.save()
    forum.attendees.all().delete()
    ForumAttendee.objects.bulk_create(_attendee_rows(forum, attendees))
    return forum


@transaction.atomic
def forum_add_issues(*, forum: Forum, acting_user: User, issues: Sequence[dict]) -> list[ForumIssue]:
    """Add issues raised at the meeting; each becomes an appeal linked to it."""
    require(rules.can_manage(acting_user, forum.host_unit), "您无权为该座谈会登记问题。")
    return _add_issues(forum, issues, acting_user)


@transaction.atomic
def forum_add_photos(*, forum: Forum, acting_user: User, photos: Sequence[Photo]) -> None:
    require(rules.can_manage(acting_user, forum.host_unit), "您无权为该座谈会上传照片。")
    _add_photos(forum, photos, acting_user)


def _add_photos(forum: Forum, photos: Sequence[Photo], acting_user: User) -> None:
    if forum.photos.count() + len(photos) > MAX_PHOTOS:
        raise InvalidInput(f"每场座谈会最多{MAX_PHOTOS}张照片。")
    for photo in photos:
        photo_save(model=ForumPhoto, photo=photo, acting_user=acting_user, forum=forum)


def _raised_at(forum: Forum) -> dt.datetime:
    """When the issues were raised: the meeting's start (9:00 when not recorded), not later than now."""
    at = timezone.make_aware(dt.datetime.combine(forum.held_on, forum.start_time or dt.time(9, 0)))
    return min(at, timezone.now())


def _add_issues(forum: Forum, issues: Sequence[dict], acting_user: User) -> list[ForumIssue]:
    issues = [i for i in issues if (i.get("text") or "").strip()]
    if forum.issues.count() + len(issues) > MAX_ISSUES:
        raise InvalidInput(f"每场座谈会最多登记{MAX_ISSUES}个问题。")
    enterprise = forum.kind == ForumKind.ENTERPRISE
    host = forum.host_unit
    community = host if host.kind == UnitKind.COMMUNITY else None
    street = host if host.kind == UnitKind.STREET else None
    position = forum.issues.aggregate(m=Max("position"))["m"] or 0
    created = []
    for data in issues:
        position += 1
        issue = ForumIssue.objects.create(
            forum=forum, position=position, text=data["text"].strip(), raised_by=(data.get("raised_by") or "").strip()[:60],
            organisation=(data.get("organisation") or "").strip()[:150], phone=(data.get("phone") or "").strip()[:20],
            address=(data.get("address") or "").strip()[:300],
        )
        issue.case = appeal_from_record(
            text=issue.text, channel=Channel.ENTERPRISE if enterprise else Channel.FORUM,
            kind=CaseKind.ENTERPRISE if enterprise else CaseKind.APPEAL, source_type=SOURCE_FORUM_ISSUE, source_id=issue.pk,
            acting_user=acting_user, address=issue.address, reporter_name=_reporter(issue), reporter_phone=issue.phone,
            street=street, community=community, submitted_at=_raised_at(forum),
        )
        issue.save(update_fields=["case"])
        created.append(issue)
    return created


def _reporter(issue: ForumIssue) -> str:
    if issue.raised_by and issue.organisation:
        return f"{issue.raised_by}（{issue.organisation}）"[:100]
    return issue.raised_by or issue.organisation[:100]


__all__ = ["MAX_PHOTOS", "forum_add_issues", "forum_add_photos", "forum_record", "forum_update"]
