"""Each handler sees its own unit's cases and nothing of another unit's: not on the case
page (404), not in any of its queues, not in search results, not in the export, and it
cannot act on them (404)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from minsheng.cases.choices import CaseState
from minsheng.cases.selectors import queues_for

from .conftest import act

# handler → (its own case: main unit, community), (another unit's case: main unit, community)
SCOPES = {
    "street": (("street:JSL", "community:JSL03"), ("street:LSZ", "community:LSZ01")),
    "community": (("community:JSL03", "community:JSL03"), ("street:JSL", "community:JSL02")),
    "dept": (("dept:CGJ", "community:JSL03"), ("dept:SJJ", "community:LSZ01")),
    "other_street": (("street:LSZ", "community:LSZ01"), ("street:JSL", "community:JSL03")),
    "other_community": (("community:LSZ01", "community:LSZ01"), ("street:LSZ", "community:LSZ02")),
    "other_dept": (("dept:SJJ", "community:LSZ01"), ("dept:CGJ", "community:JSL03")),
}
PHONE = "13900001111"


@pytest.fixture(params=sorted(SCOPES))
def scope(request, users, cases):
    role = request.param
    (own_unit, own_place), (other_unit, other_place) = SCOPES[role]
    own = cases.make(CaseState.DISPATCHED, unit_key=own_unit, community_key=own_place, phone=PHONE, text="本单位的案件：楼道灯不亮好几天了")
    other = cases.make(CaseState.DISPATCHED, unit_key=other_unit, community_key=other_place, phone=PHONE, text="外单位的案件：小区门口占道经营")
    return users[role], own, other


def listed(html: str, case) -> bool:
    """Whether a list page links to the case (the search box may echo its code)."""
    return f'href="{reverse("desk:case", args=[case.pk])}"' in html


def test_a_handler_cannot_open_another_units_case(client, scope):
    user, own, other = scope
    client.force_login(user)
    assert client.get(reverse("desk:case", args=[own.pk])).status_code == 200
    assert client.get(reverse("desk:case", args=[other.pk])).status_code == 404


def test_another_units_case_is_in_none_of_the_handlers_queues(client, scope):
    user, own, other = scope
    client.force_login(user)
    seen_own = False
    for key, _label in queues_for(user):
        html = client.get(reverse("desk:queue", args=[key])).content.decode()
        assert not listed(html, other), key
        seen_own |= listed(html, own)
    assert seen_own


def test_searching_for_another_units_case_finds_nothing(client, scope):
    user, own, other = scope
    client.force_login(user)
    found = client.get(reverse("desk:queue", args=["all"]), {"q": other.tracking_code}).content.decode()
    assert not listed(found, other)
    found = client.get(reverse("desk:queue", args=["all"]), {"q": "占道经营"}).content.decode()
    assert not listed(found, other)
    mine = client.get(reverse("desk:queue", args=["all"]), {"q": own.tracking_code}).content.decode()
    assert listed(mine, own)


def test_another_units_case_is_not_in_the_export(client, scope):
    user, own, other = scope
    client.force_login(user)
    response = client.get(reverse("desk:export", args=["all"]))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    codes = {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert own.tracking_code in codes
    assert other.tracking_code not in codes


def test_a_handler_cannot_act_on_another_units_case(client, scope):
    user, _own, other = scope
    client.force_login(user)
    for action, data in (("acknowledge", {}), ("note", {"text": "看看"}), ("return", {"reason": "不是我们的"})):
        assert act(client, other, action, data).status_code == 404
    other.refresh_from_db()
    assert other.state == CaseState.DISPATCHED
    assert not other.events.filter(action__in=["acknowledge", "note", "return"]).exists()


def test_the_callers_history_shows_only_cases_the_handler_may_see(client, scope):
    user, own, other = scope
    client.force_login(user)
    html = client.get(reverse("desk:case", args=[own.pk])).content.decode()
    assert other.tracking_code not in html
    assert not listed(html, other)
