"""Every staff page of the channels renders for the administrator (and says no politely to
roles without channels)."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_every_list_page_renders_for_the_admin(login, users):
    client = login(users["admin"])
    for name in ("home", "surveys", "survey_create", "boxes", "notes", "forums", "forum_create", "visits", "visit_create",
                 "visit_ledger", "import_home"):
        response = client.get(reverse(f"channels:{name}"))
        assert response.status_code == 200, name


def test_the_overview_counts_this_month_s_appeals_by_channel(login, users, monkeypatch):
    from django.utils import timezone

    from minsheng.cases import services as case_services
    from minsheng.channels import services
    from tests.factories import unit

    monkeypatch.setattr("minsheng.channels.services.common.route_new_case", lambda case: None)
    services.forum_record(acting_user=users["admin"], kind="community", title="议事会", held_on=timezone.localdate(), place="会议室",
                          host_unit=unit("community:JSL03"), issues=[{"text": "南门路灯不亮一个多月了"}, {"text": "菜市场门口占道经营严重"}])
    case_services.case_submit(text="碧沙岗公园南门人行道地砖松动", channel="hotline", community=unit("community:JSL03"))
    html = login(users["community"]).get(reverse("channels:home")).content.decode()
    assert "本月各渠道诉求" in html
    from minsheng.channels.selectors import appeals_by_channel

    month_start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    counts = {code: n for code, _label, n in appeals_by_channel(user=users["community"], start=month_start, end=timezone.now() + timezone.timedelta(seconds=1))}
    assert counts == {"hotline": 1, "forum": 2}
    assert appeals_by_channel(user=users["other_community"], start=month_start, end=timezone.now()) == []
