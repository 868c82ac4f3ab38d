"""Work queues: the home redirect, filters, sorting, paging, the query count, bulk dispatch."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from minsheng.cases import services
from minsheng.cases.choices import CaseState
from minsheng.cases.models import Case, Category
from tests.factories import unit


def listed(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'<td class="code"><a href="/desk/cases/(\d+)/"', html)}


def get(client, key, **params):
    response = client.get(reverse("desk:queue", args=[key]), params)
    assert response.status_code == 200
    return response.content.decode()


def submit(text="小区门口的路灯坏了很久没人修", **kw) -> Case:
    kw.setdefault("community", unit("community:JSL03"))
    kw.setdefault("category", Category.objects.get(code="CGM.SZSS"))
    return services.case_submit(text=text, channel=kw.pop("channel", "web"), reporter_phone="13812345678", **kw)


@pytest.mark.parametrize(("role", "first"), [("dispatcher", "to_accept"), ("operator", "to_accept"), ("street", "to_acknowledge"), ("leader", "in_progress")])
def test_home_opens_the_first_queue_of_the_role(client, users, role, first):
    client.force_login(users[role])
    response = client.get(reverse("desk:home"))
    assert response.status_code == 302 and response.url == reverse("desk:queue", args=[first])


def test_home_needs_a_login(client):
    response = client.get(reverse("desk:home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_queue_the_role_does_not_have_is_404(client, users):
    client.force_login(users["street"])
    assert client.get(reverse("desk:queue", args=["to_dispatch"])).status_code == 404
    assert client.get(reverse("desk:queue", args=["nonsense"])).status_code == 404


def test_the_nav_shows_the_queues_with_counts(client, users, cases):
    cases.make(CaseState.SUBMITTED)
    cases.make(CaseState.SUBMITTED)
    client.force_login(users["dispatcher"])
    html = get(client, "to_accept")
    assert re.search(r'href="/desk/queue/to_accept/" class="active" aria-current="page"><span>待受理</span><span class="count">2</span>', html)
    assert "待派单" in html and "延期待审批" in html


def test_filters_narrow_the_list(client, users, cases):
    water = submit("自来水水压太低，楼上几乎没水", category=Category.objects.get(code="GY.GS"), urgency="urgent", channel="hotline")
    lamp = submit("路灯不亮晚上走路很危险", community=unit("community:LSZ01"))
    old = submit("去年的老问题一直没有解决", submitted_at=timezone.now() - dt.timedelta(days=40))
    dispatched = cases.make(CaseState.DISPATCHED)
    client.force_login(users["dispatcher"])
    assert listed(get(client, "all", q="水压")) == {water.pk}
    assert listed(get(client, "all", q="路灯 危险")) == {lamp.pk}
    assert listed(get(client, "all", q=lamp.tracking_code)) == {lamp.pk}
    assert water.pk in listed(get(client, "all", category="GY")) and lamp.pk not in listed(get(client, "all", category="GY"))
    assert listed(get(client, "all", category="GY.GS")) == {water.pk}
    assert listed(get(client, "all", street="LSZ")) == {lamp.pk}
    assert listed(get(client, "all", channel="hotline")) == {water.pk}
    assert listed(get(client, "all", urgency="urgent")) == {water.pk}
    assert listed(get(client, "all", state="dispatched")) == {dispatched.pk}
    assert listed(get(client, "all", unit="street:JSL")) == {dispatched.pk}
    recent = listed(get(client, "all", date_from=(timezone.localdate() - dt.timedelta(days=7)).isoformat()))
    assert old.pk not in recent and water.pk in recent
    assert listed(get(client, "all", date_to=(timezone.localdate() - dt.timedelta(days=30)).isoformat())) == {old.pk}


def test_the_flag_filter_shows_red_and_yellow_cards(client, users, cases):
    red = cases.make(CaseState.IN_PROGRESS)
    Case.objects.filter(pk=red.pk).update(due_flag="red")
    cases.make(CaseState.IN_PROGRESS)
    client.force_login(users["dispatcher"])
    html = get(client, "all", flag="red")
    assert listed(html) == {red.pk}
    assert '<span class="badge red"' in html and "红牌" in html


def test_an_invalid_filter_is_ignored_and_reported(client, users, cases):
    case = cases.make(CaseState.SUBMITTED)
    client.force_login(users["dispatcher"])
    html = get(client, "all", date_from="not-a-date", state="nonsense")
    assert case.pk in listed(html)
    assert "errorlist" in html


def test_sorting_by_deadline_puts_undated_cases_last(client, users, cases):
    urgent = cases.make(CaseState.DISPATCHED, urgency="urgent")
    normal = cases.make(CaseState.DISPATCHED)
    undated = cases.make(CaseState.SUBMITTED)
    client.force_login(users["dispatcher"])
    order = [int(pk) for pk in re.findall(r'<td class="code"><a href="/desk/cases/(\d+)/"', get(client, "all", sort="due"))]
    assert order == [urgent.pk, normal.pk, undated.pk]
    order = [int(pk) for pk in re.findall(r'<td class="code"><a href="/desk/cases/(\d+)/"', get(client, "all", sort="-due"))]
    assert order == [normal.pk, urgent.pk, undated.pk]
    order = [int(pk) for pk in re.findall(r'<td class="code"><a href="/desk/cases/(\d+)/"', get(client, "all", sort="submitted"))]
    assert order == [urgent.pk, normal.pk, undated.pk]


def test_the_list_is_paged_by_fifty(client, users):
    for i in range(53):
        submit(f"第{i}号诉求：楼下噪音扰民严重")
    client.force_login(users["dispatcher"])
    first = get(client, "to_accept")
    assert len(listed(first)) == 50 and "第 1 / 2 页" in first
    assert len(listed(get(client, "to_accept", page=2))) == 3


def _queue_queries(client, n: int) -> int:
    cache.clear()  # both measurements count the navigation's queues too
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("desk:queue", args=["all"]))
    assert response.status_code == 200
    assert len(listed(response.content.decode())) == n
    return len(ctx.captured_queries)


def test_the_queue_page_query_count_does_not_grow_with_its_rows(client, users, cases):
    client.force_login(users["dispatcher"])
    cases.make(CaseState.DISPATCHED)
    submit()
    few = _queue_queries(client, 2)
    for i in range(20):
        submit(f"第{i}号：小区垃圾清运不及时", community=unit("community:LSZ01") if i % 2 else unit("community:JSL03"))
    for _ in range(3):
        cases.make(CaseState.IN_PROGRESS, unit_key="dept:CGJ")
    many = _queue_queries(client, 25)
    assert many == few
    assert many <= 30, many


def test_bulk_dispatch_sends_each_selected_case_and_reports_failures(client, users, cases):
    a, b = cases.make(CaseState.SUBMITTED), cases.make(CaseState.ACCEPTED)
    already = cases.make(CaseState.DISPATCHED)
    stale = cases.make(CaseState.SUBMITTED)
    stale_version = stale.version
    services.case_accept(case=stale, acting_user=users["operator"])
    client.force_login(users["dispatcher"])
    response = client.post(reverse("desk:bulk_dispatch", args=["to_dispatch"]), {
        "unit": unit("dept:CGJ").pk,
        "cases": [f"{a.pk}:{a.version}", f"{b.pk}:{b.version}", f"{already.pk}:{already.version}", f"{stale.pk}:{stale_version}"],
        "next": reverse("desk:queue", args=["to_dispatch"]) + "?q=x",
    }, follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("desk:queue", args=["to_dispatch"]) + "?q=x"
    for case in (a, b):
        case.refresh_from_db()
        assert case.state == CaseState.DISPATCHED and case.main_unit.key == "dept:CGJ"
    already.refresh_from_db()
    assert already.main_unit.key == "street:JSL"
    stale.refresh_from_db()
    assert stale.state == CaseState.ACCEPTED
    assert "已派单 2 件" in html
    assert f"{already.tracking_code} 未派单" in html and f"{stale.tracking_code} 未派单" in html
    assert "该案件已被他人更新" in html


def test_bulk_dispatch_is_for_dispatchers_only(client, users, cases):
    case = cases.make(CaseState.SUBMITTED)
    client.force_login(users["operator"])
    html = get(client, "to_accept")
    assert 'id="bulk"' not in html
    response = client.post(reverse("desk:bulk_dispatch", args=["to_accept"]), {"unit": unit("dept:CGJ").pk, "cases": [f"{case.pk}:{case.version}"]})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED


def test_bulk_dispatch_cannot_reach_cases_the_user_cannot_see(client, users, cases):
    client.force_login(users["dispatcher"])
    response = client.post(reverse("desk:bulk_dispatch", args=["all"]), {"unit": unit("dept:CGJ").pk, "cases": ["999999:1"]}, follow=True)
    assert "#999999 未派单" in response.content.decode()


def test_bulk_dispatch_ignores_an_offsite_next(client, users, cases):
    case = cases.make(CaseState.SUBMITTED)
    client.force_login(users["dispatcher"])
    response = client.post(reverse("desk:bulk_dispatch", args=["all"]), {
        "unit": unit("dept:CGJ").pk, "cases": [f"{case.pk}:{case.version}"], "next": "https://evil.example/",
    })
    assert response.url == reverse("desk:queue", args=["all"])
