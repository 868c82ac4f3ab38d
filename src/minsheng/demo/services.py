"""Setting up the demo: the district, one account per role and per handling unit, and the
year of history (history.py). Used by `minsheng demo`; safe to run again."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction

from minsheng.cases.services import district_load_files
from minsheng.core.choices import Role, UnitKind
from minsheng.core.models import Unit, User
from minsheng.core.services import audit_record

_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # nothing to misread


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    unit: Unit
    display: str
    superuser: bool = False


@dataclass
class DemoUsersResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    generated_password: str | None = None  # shown once by the command, never stored in clear
    password_set: bool = False  # --password was given and applied to every demo account
    accounts: list[DemoAccount] = field(default_factory=list)


def demo_district_load() -> dict[str, int]:
    """Load (or reload, idempotently) the demo district shipped with the package."""
    from minsheng.data import GAZETTEER_PATH, TAXONOMY_PATH

    return district_load_files(taxonomy_path=TAXONOMY_PATH, gazetteer_path=GAZETTEER_PATH)


def demo_accounts() -> list[DemoAccount]:
    """The demo's accounts: the command centre and leadership at district level, and one
    handler (承办人) for every street office, community and department."""
    district = Unit.objects.filter(kind=UnitKind.DISTRICT, active=True).order_by("pk").first()
    if district is None:
        raise ValueError("演示地区尚未加载。")
    accounts = [
        DemoAccount("admin", Role.ADMIN, district, "系统管理员", superuser=True),
        DemoAccount("operator", Role.OPERATOR, district, "话务员"),
        DemoAccount("dispatcher", Role.DISPATCHER, district, "派单员"),
        DemoAccount("leader", Role.LEADER, district, "区领导"),
    ]
    for kind in (UnitKind.STREET, UnitKind.COMMUNITY, UnitKind.DEPARTMENT):
        for unit in Unit.objects.filter(kind=kind, active=True).order_by("parent__sort_order", "sort_order", "code"):
            # Unit keys are "street:JSL", "community:JSL01", "dept:CGJ"; usernames follow them.
            accounts.append(DemoAccount(f"{kind}-{unit.code}", Role.HANDLER, unit, f"{unit.name}承办人"))
    return accounts


def _new_password() -> str:
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(14))


@transaction.atomic
def demo_users_ensure(*, password: str | None = None) -> DemoUsersResult:
    """Create the demo accounts that are missing and bring the others back to their role and
    unit. Existing accounts keep their password unless `password` is given. New accounts get
    `password`, or a generated one returned in the result (to show once).

    All demo accounts share one password, so it is hashed once: Argon2 is deliberately slow,
    and two hundred hashes would take most of a minute.
    """
    result = DemoUsersResult(accounts=demo_accounts())
    existing = {u.username: u for u in User.objects.filter(username__in=[a.username for a in result.accounts])}
    missing = [a for a in result.accounts if a.username not in existing]
    encoded = None
    if password:
        encoded = make_password(password)
        result.password_set = True
    elif missing:
        result.generated_password = _new_password()
        encoded = make_password(result.generated_password)
    new_users = [
        User(
            username=a.username, password=encoded, role=a.role, unit=a.unit, first_name=a.display,
            is_staff=a.superuser, is_superuser=a.superuser, is_active=True,
        )
        for a in missing
    ]
    User.objects.bulk_create(new_users)
    result.created = [u.username for u in new_users]
    changed_users = []
    fields = ["role", "unit", "first_name", "is_staff", "is_superuser", "is_active"]
    for account in result.accounts:
        user = existing.get(account.username)
        if user is None:
            continue
        wanted = {"role": account.role, "unit": account.unit, "first_name": user.first_name or account.display,
                  "is_staff": account.superuser, "is_superuser": account.superuser, "is_active": True}
        changed = any(getattr(user, k) != v for k, v in wanted.items())
        for k, v in wanted.items():
            setattr(user, k, v)
        if password:
            user.password = encoded
            changed = True
        if changed:
            changed_users.append(user)
            result.updated.append(user.username)
        else:
            result.unchanged += 1
    if changed_users:
        User.objects.bulk_update(changed_users, fields + (["password"] if password else []))
    if result.created or result.updated:
        audit_record(
            action="demo.users",
            target=f"{len(result.accounts)} accounts",
            detail={"created": len(result.created), "updated": len(result.updated), "password_changed": bool(password)},
        )
    return result
