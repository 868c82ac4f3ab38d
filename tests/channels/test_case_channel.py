"""The channel of every appeal is visible: on the staff case page (with a link to the record it
came from, for those who may see that record), on the resident's tracking page and in the case
lists; and the workbench's menu leads to the channels."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from minsheng.channels import services
from tests.factories import unit


def _forum_case(users):
    forum = services.forum_record(
        acting_user=users["community"], kind="community", title="居民议事会", held_on=timezone.localdate() - dt.timedelta(days=1),
        place="社区会议室", host_unit=unit("community:JSL03"),
        issues=[{"text": "三号楼楼顶漏水，雨天墙面渗水", "phone": "13812345678"}],
    )
    return forum, forum.issues.get().case


def test_the_staff_case_page_shows_the_channel_and_links_the_meeting(login, users):
    forum, case = _forum_case(users)
    html = login(users["community"]).get(reverse("desk:case", args=[case.pk])).content.decode()
    assert "反映渠道" in html and "座谈会" in html
    assert reverse("channels:forum", args=[forum.pk]) in html and "居民议事会" in html


def test_district_staff_get_the_link_and_another_unit_gets_no_page(login, users):
    forum, case = _forum_case(users)
    html = login(users["dispatcher"]).get(reverse("desk:case", args=[case.pk])).content.decode()
    assert "居民议事会" in html
    # the dispatcher sees district-wide records, so the link is there; a department handler's
    # case page is out of its scope altogether (404)
    assert reverse("channels:forum", args=[forum.pk]) in html
    assert login(users["other_dept"]).get(reverse("desk:case", args=[case.pk])).status_code == 404


def test_the_resident_sees_the_channel_on_the_tracking_page(client, users):
    _forum, case = _forum_case(users)
    client.post(reverse("intake:track"), {"tracking_code": case.tracking_code, "phone_last4": "5678"})
    html = client.get(reverse("intake:case", args=[case.tracking_code])).content.decode()
    assert "反映渠道" in html and "座谈会" in html


def test_the_case_list_shows_the_channel(login, users):
    _forum, case = _forum_case(users)
    html = login(users["dispatcher"]).get(reverse("desk:queue", args=["all"])).content.decode()
    assert case.tracking_code in html and "座谈会" in html


def test_the_workbench_menu_leads_to_the_channels_and_the_visit_log_for_those_who_visit(login, users, client):
    community = login(users["community"]).get(reverse("desk:queue", args=["all"])).content.decode()
    assert reverse("channels:home") in community and reverse("channels:visit_create") in community
    client.logout()
    department = login(users["dept"]).get(reverse("desk:queue", args=["all"])).content.decode()
    assert reverse("channels:home") in department and reverse("channels:visit_create") not in department
