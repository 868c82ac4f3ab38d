"""Forums (座谈会): the meeting record, its issues each becoming an appeal linked to the
meeting, the live status of everything raised, the printable ledger."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from minsheng.cases import services as case_services
from minsheng.cases.errors import ActionNotAllowed, InvalidInput
from minsheng.cases.models import Case
from minsheng.channels import services
from minsheng.channels.models import Forum, ForumIssue
from tests.factories import unit

from .conftest import jpeg_bytes

pytestmark = pytest.mark.django_db

ISSUES = [
    {"text": "绿东村小区南门路灯不亮一个多月了", "raised_by": "王大爷", "organisation": "绿东村小区"},
    {"text": "菜市场门口早上占道经营严重，车辆无法通行", "raised_by": "李女士"},
    {"text": "三号楼楼顶漏水，雨天家里墙面渗水", "raised_by": "张先生", "phone": "13800003333", "address": "绿东村小区3号楼"},
]


def record(user, *, kind="community", host="community:JSL03", issues=ISSUES):
    return services.forum_record(
        acting_user=user, kind=kind, title="三季度居民议事会", held_on=timezone.localdate() - dt.timedelta(days=1),
        start_time=dt.time(15, 0), place="社区会议室", host_unit=unit(host), minutes="会议听取了居民意见……",
        attendees=[{"name": "王大爷", "organisation": "居民代表"}, {"name": "赵书记", "organisation": "社区党委", "post": "书记"}],
        issues=issues,
    )


def form_data(**over):
    data = {
        "kind": "community", "title": "三季度居民议事会", "held_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        "start_time": "15:00", "place": "社区会议室", "host_unit": unit("community:JSL03").pk,
        "attendees": "王大爷，居民代表\n赵书记 社区党委 书记\n", "minutes": "会议听取了居民意见。",
        "issues-TOTAL_FORMS": "4", "issues-INITIAL_FORMS": "0", "issues-MIN_NUM_FORMS": "0", "issues-MAX_NUM_FORMS": "100",
    }
    for i, issue in enumerate(ISSUES):
        for key, value in issue.items():
            data[f"issues-{i}-{key}"] = value
    data.update(over)
    return data


def test_a_forum_with_three_issues_files_three_linked_appeals(login, users, django_capture_on_commit_callbacks, monkeypatch):
    routed = []
    monkeypatch.setattr("minsheng.channels.services.common.route_new_case", routed.append)
    client = login(users["community"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("channels:forum_create"), form_data())
    forum = Forum.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("channels:forum", args=[forum.pk])
    issues = list(forum.issues.select_related("case"))
    assert len(issues) == 3 and all(i.case for i in issues)
    for issue in issues:
        case = issue.case
        assert (case.channel, case.kind, case.source_type, case.source_id) == ("forum", "appeal", "forum_issue", str(issue.pk))
        assert case.community == unit("community:JSL03")
        assert case.submitted_at == timezone.make_aware(dt.datetime.combine(forum.held_on, dt.time(15, 0)))
    assert issues[0].case.reporter_name == "王大爷（绿东村小区）" and issues[2].case.reporter_phone == "13800003333"
    assert sorted(c.pk for c in routed) == sorted(i.case_id for i in issues)
    attendees = list(forum.attendees.values_list("name", "organisation", "post"))
    assert attendees == [("王大爷", "居民代表", ""), ("赵书记", "社区党委", "书记")]


def test_an_enterprise_forum_files_enterprise_appeals(users):
    forum = record(users["dept"], kind="enterprise", host="dept:CGJ", issues=ISSUES[:1])
    case = forum.issues.get().case
    assert (case.channel, case.kind) == ("enterprise", "enterprise")
    assert case.community is None  # a department hosts: the place is left to the dispatch engine


def test_the_meeting_page_shows_the_live_status_of_every_issue(login, users):
    forum = record(users["community"])
    first = forum.issues.first().case
    case_services.case_dispatch(case=first, acting_user=users["dispatcher"], unit=unit("street:JSL"))
    html = login(users["community"]).get(reverse("channels:forum", args=[forum.pk])).content.decode()
    assert all(i.case.tracking_code in html for i in forum.issues.all())
    assert "待签收" in html and 'hx-trigger="every 30s"' in html
    fragment = login(users["community"]).get(reverse("channels:forum_status", args=[forum.pk])).content.decode()
    assert 'id="forum-issues"' in fragment and "共 3 个问题：办理中 3，已办结 0" in fragment and "待签收" in fragment


def test_more_issues_can_be_added_after_the_meeting(users):
    forum = record(users["community"], issues=ISSUES[:1])
    services.forum_add_issues(forum=forum, acting_user=users["community"], issues=ISSUES[1:])
    assert list(forum.issues.values_list("position", flat=True)) == [1, 2, 3]
    assert Case.objects.filter(source_type="forum_issue").count() == 3


def test_a_forum_cannot_be_recorded_before_it_happens(users):
    with pytest.raises(InvalidInput):
        services.forum_record(acting_user=users["community"], kind="community", title="明天的会", held_on=timezone.localdate() + dt.timedelta(days=1),
                              place="会议室", host_unit=unit("community:JSL03"))


def test_a_community_cannot_record_a_forum_for_another_community(users):
    with pytest.raises(ActionNotAllowed):
        record(users["community"], host="community:LSZ01")


def test_photos_are_re_encoded_and_kept_with_the_meeting(login, users):
    photo = SimpleUploadedFile("meeting.jpg", jpeg_bytes(), content_type="image/jpeg")
    login(users["community"]).post(reverse("channels:forum_create"), form_data(photos=photo))
    forum = Forum.objects.get()
    assert forum.photos.count() == 1 and forum.photos.get().content_type == "image/jpeg"


def test_a_file_that_is_not_an_image_is_refused(login, users):
    bogus = SimpleUploadedFile("meeting.jpg", b"not an image at all", content_type="image/jpeg")
    response = login(users["community"]).post(reverse("channels:forum_create"), form_data(photos=bogus))
    assert response.status_code == 200 and not Forum.objects.exists()


def test_the_printable_ledger_lists_the_record_and_the_issues(login, users):
    forum = record(users["community"])
    html = login(users["community"]).get(reverse("channels:forum_ledger", args=[forum.pk])).content.decode()
    assert "座谈会台账" in html and "社区会议室" in html and "data-print" in html
    assert "赵**" in html and "赵书记" not in html  # attendees' names masked, as everywhere
    assert all(i.case.tracking_code in html for i in forum.issues.all())
    assert "channels/print.css" in html


def test_the_forum_ledger_exports_one_row_per_issue(login, users):
    record(users["community"])
    response = login(users["admin"]).get(reverse("channels:forum_export"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.freeze_panes == "A2" and len(rows) == 4
    assert isinstance(rows[1][0], dt.datetime)  # the meeting date is a date cell


def test_issues_keep_their_appeals_when_the_record_is_corrected(users):
    forum = record(users["community"])
    services.forum_update(forum=forum, acting_user=users["community"], kind="community", title="三季度居民议事会（更正）",
                          held_on=forum.held_on, place="社区活动中心", host_unit=forum.host_unit, attendees=[{"name": "王大爷"}])
    forum.refresh_from_db()
    assert forum.place == "社区活动中心" and forum.attendees.count() == 1
    assert ForumIssue.objects.filter(forum=forum, case__isnull=False).count() == 3
