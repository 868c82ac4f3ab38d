"""What keeps the staff pages cheap on a large district: the navigation's queue counts come
from a short-lived cache kept per scope, a page reads the unit and category lists once however
many forms show them, and the long <select>s render the same markup as Django's templates."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from minsheng.cases.choices import CaseState
from minsheng.desk.forms import LongSelect, LongSelectMultiple
from minsheng.desk.selectors import nav_queues


def nav_count(html: str, key: str) -> int:
    return int(re.search(rf'href="/desk/queue/{key}/"[^>]*><span>[^<]*</span><span class="count[^"]*">(\d+)</span>', html).group(1))


def get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_nav_counts_are_kept_briefly_while_the_list_stays_live(client, users, cases):
    cases.make(CaseState.SUBMITTED)
    client.force_login(users["dispatcher"])
    assert nav_count(get(client, reverse("desk:queue", args=["all"])), "to_accept") == 1
    newer = cases.make(CaseState.SUBMITTED)
    html = get(client, reverse("desk:queue", args=["to_accept"]))
    assert nav_count(html, "to_accept") == 1  # the badge, counted a moment ago
    assert f'href="/desk/cases/{newer.pk}/"' in html  # the list itself is read now
    cache.clear()  # as when the counts expire
    assert nav_count(get(client, reverse("desk:queue", args=["all"])), "to_accept") == 2


def test_a_page_view_with_counts_kept_counts_only_its_own_list(client, users, cases):
    cases.make(CaseState.SUBMITTED)
    client.force_login(users["dispatcher"])
    get(client, reverse("desk:queue", args=["to_dispatch"]))
    with CaptureQueriesContext(connection) as ctx:
        get(client, reverse("desk:queue", args=["to_dispatch"]))
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"] and "cases_case" in q["sql"]]
    assert len(counts) == 1, counts  # the list's own total


def test_the_counts_are_kept_per_scope(users, cases):
    cases.make(CaseState.DISPATCHED, unit_key="street:JSL", community_key="community:JSL03")
    cases.make(CaseState.DISPATCHED, unit_key="street:JSL", community_key="community:JSL03")
    cases.make(CaseState.DISPATCHED, unit_key="street:LSZ", community_key="community:LSZ01")

    def counts(user) -> dict[str, int]:
        return {q.key: q.count for q in nav_queues(user)}

    assert counts(users["street"])["to_acknowledge"] == 2
    assert counts(users["other_street"])["to_acknowledge"] == 1
    assert counts(users["dispatcher"])["in_progress"] == 3
    assert counts(users["leader"])["in_progress"] == 3
    assert "to_acknowledge" not in counts(users["dispatcher"])
    # Read again, now from the cache: each scope still has its own.
    assert counts(users["street"])["to_acknowledge"] == 2
    assert counts(users["other_street"])["to_acknowledge"] == 1


def test_the_case_page_reads_the_unit_and_category_lists_once(client, users, cases):
    case = cases.make(CaseState.SUBMITTED)
    client.force_login(users["dispatcher"])
    with CaptureQueriesContext(connection) as ctx:
        html = get(client, reverse("desk:case", args=[case.pk]))
    # accept and dispatch both show units and categories, in six fields between them
    assert 'id="id_dispatch_unit"' in html and 'id="id_dispatch_co_units"' in html and 'id="id_accept_community"' in html
    unit_lists = [q for q in ctx.captured_queries if 'FROM "core_unit" LEFT OUTER JOIN "core_unit"' in q["sql"]]
    category_lists = [q for q in ctx.captured_queries if 'FROM "cases_category"' in q["sql"] and '"parent_id" AS' in q["sql"]]
    assert len(unit_lists) == 1 and len(category_lists) == 1


def test_the_queue_page_reads_the_unit_list_once_for_its_filter_and_bulk_dispatch(client, users, cases):
    cases.make(CaseState.SUBMITTED)
    client.force_login(users["dispatcher"])
    with CaptureQueriesContext(connection) as ctx:
        html = get(client, reverse("desk:queue", args=["to_dispatch"]))
    assert 'id="bulk"' in html and 'value="street:JSL"' in html
    assert len([q for q in ctx.captured_queries if 'FROM "core_unit" LEFT OUTER JOIN "core_unit"' in q["sql"]]) == 1


CHOICES = [("", "———"), ("街道", [("1", "A&B <x>"), ("2", "二")]), ("3", "plain"), ("部门", [("4", '"q"')])]


@pytest.mark.parametrize(("ours", "django_widget", "value"), [
    (LongSelect, forms.Select, "2"),
    (LongSelect, forms.Select, None),
    (LongSelectMultiple, forms.SelectMultiple, ["1", "4"]),
])
def test_a_long_select_renders_what_django_renders(ours, django_widget, value):
    attrs = {"class": "wide", "data-note": 'a "b" <c>'}
    extra = {"id": "id_unit", "required": True, "disabled": False}
    mine = ours(choices=CHOICES, attrs=attrs).render("unit", value, extra)
    assert mine == django_widget(choices=CHOICES, attrs=attrs).render("unit", value, extra)
    assert "A&amp;B &lt;x&gt;" in mine
    assert " selected>" in mine  # the value's option (the blank one for no value)
