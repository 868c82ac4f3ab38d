"""Row scoping: who sees which cases (Case.objects.visible_to)."""

import pytest

from minsheng.cases import services
from minsheng.cases.choices import CaseState
from minsheng.cases.models import Case
from minsheng.cases.selectors import case_for_user, queue_cases
from tests.factories import make_user, unit

pytestmark = pytest.mark.django_db


def visible(user, case):
    return Case.objects.visible_to(user).filter(pk=case.pk).exists()


def test_district_roles_see_everything(users, cases):
    case = cases.make(CaseState.DISPATCHED)
    for role in ("admin", "operator", "dispatcher", "leader"):
        assert visible(users[role], case), role


def test_street_office_sees_its_territory_and_community_its_own(users, cases):
    case = cases.make(CaseState.DISPATCHED, unit_key="dept:CGJ", community_key="community:JSL03")
    assert visible(users["street"], case)
    assert visible(users["community"], case)
    assert visible(users["dept"], case)
    assert not visible(users["other_street"], case)
    assert not visible(users["other_community"], case)
    assert not visible(users["other_dept"], case)


def test_a_community_does_not_see_its_neighbours_cases(users, cases):
    case = cases.make(CaseState.DISPATCHED, community_key="community:JSL01")
    assert visible(users["street"], case)
    assert not visible(users["community"], case)


def test_a_department_sees_only_what_was_assigned_to_it(users, cases):
    theirs = cases.make(CaseState.DISPATCHED, unit_key="dept:SJJ", subcategory="SC.SPAQ")
    co = cases.make(CaseState.DISPATCHED)
    services.case_add_co_unit(case=co, acting_user=users["dispatcher"], unit=unit("dept:CGJ"))
    assert not visible(users["dept"], theirs)
    assert visible(users["other_dept"], theirs)
    assert visible(users["dept"], co)


def test_a_street_leader_sees_only_the_street(users, cases):
    leader = make_user("leader-LSZ", "leader", "street:LSZ")
    assert not visible(leader, cases.make(CaseState.DISPATCHED))
    assert visible(leader, cases.make(CaseState.DISPATCHED, unit_key="street:LSZ", community_key="community:LSZ01"))


def test_an_inactive_or_anonymous_user_sees_nothing(users, cases):
    from django.contrib.auth.models import AnonymousUser

    cases.make(CaseState.DISPATCHED)
    assert not Case.objects.visible_to(AnonymousUser()).exists()
    users["dispatcher"].is_active = False
    assert not Case.objects.visible_to(users["dispatcher"]).exists()


def test_reading_another_units_case_raises_does_not_exist(users, cases):
    case = cases.make(CaseState.DISPATCHED)
    with pytest.raises(Case.DoesNotExist):
        case_for_user(user=users["other_street"], pk=case.pk)


def test_queues_are_scoped_to_the_main_unit(users, cases):
    case = cases.make(CaseState.DISPATCHED)
    assert case in queue_cases(user=users["street"], queue="to_acknowledge")
    assert case not in queue_cases(user=users["community"], queue="to_acknowledge")
    assert case not in queue_cases(user=users["other_street"], queue="all")
