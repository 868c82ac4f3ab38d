"""Demo accounts: one per role at district level and one handler per handling unit."""

from __future__ import annotations

import pytest

from minsheng.core.models import Unit, User
from minsheng.demo.services import demo_users_ensure

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {kind: Unit.objects.filter(kind=kind, active=True).count() for kind in ("street", "community", "dept")}


def test_it_creates_the_district_accounts_with_their_roles():
    demo_users_ensure(password="demo-pass-123")
    district = Unit.objects.get(kind="district")
    admin = User.objects.get(username="admin")
    assert (admin.role, admin.is_staff, admin.is_superuser, admin.unit) == ("admin", True, True, district)
    for username in ("operator", "dispatcher", "leader"):
        user = User.objects.get(username=username)
        assert (user.role, user.unit, user.is_staff, user.is_superuser) == (username, district, False, False)


def test_it_creates_a_handler_for_every_street_community_and_department():
    result = demo_users_ensure(password="demo-pass-123")
    counts = _counts()
    assert counts == {"street": 14, "community": 152, "dept": 26}
    assert len(result.created) == 4 + sum(counts.values())
    for username, key in (("street-JSL", "street:JSL"), ("community-JSL01", "community:JSL01"), ("dept-CGJ", "dept:CGJ")):
        user = User.objects.select_related("unit").get(username=username)
        assert (user.role, user.unit.key) == ("handler", key)
    handlers = User.objects.filter(role="handler", username__contains="-")
    assert handlers.count() == sum(counts.values())
    assert all(u.username == f"{u.unit.kind}-{u.unit.code}" for u in handlers.select_related("unit"))


def test_without_a_password_it_generates_one_that_works():
    result = demo_users_ensure()
    assert result.generated_password and len(result.generated_password) >= 12
    assert User.objects.get(username="community-JSL01").check_password(result.generated_password)


def test_a_second_run_creates_nothing_and_keeps_the_password():
    first = demo_users_ensure()
    second = demo_users_ensure()
    assert second.created == [] and second.updated == []
    assert second.generated_password is None
    assert User.objects.get(username="dispatcher").check_password(first.generated_password)


def test_the_password_option_resets_every_account():
    demo_users_ensure()
    result = demo_users_ensure(password="another-pass-456")
    assert result.password_set and result.generated_password is None
    assert User.objects.get(username="admin").check_password("another-pass-456")
    assert User.objects.get(username="dept-HEAT").check_password("another-pass-456")


def test_a_second_run_restores_a_changed_role_and_unit():
    demo_users_ensure(password="demo-pass-123")
    User.objects.filter(username="street-JSL").update(role="leader", unit=Unit.objects.get(kind="district"))
    result = demo_users_ensure()
    user = User.objects.select_related("unit").get(username="street-JSL")
    assert (user.role, user.unit.key) == ("handler", "street:JSL")
    assert result.updated == ["street-JSL"]
    assert user.check_password("demo-pass-123")
