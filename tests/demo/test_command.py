"""`minsheng demo` without the server (serving blocks, so it is left to the e2e run)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from minsheng.cases.models import Case
from minsheng.core.models import User

pytestmark = pytest.mark.django_db


def _demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", "--no-serve", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_prepares_the_accounts_without_history():
    output = _demo("--no-history", "--password", "x-demo-pass-2026")
    assert "共 196 个账号" in output
    assert User.objects.get(username="street-JSL").check_password("x-demo-pass-2026")
    assert not Case.objects.exists()


def test_a_generated_password_is_shown_once():
    first = _demo("--no-history")
    second = _demo("--no-history")
    assert "只显示这一次" in first
    assert "只显示这一次" not in second and "密码未改变" in second


def test_it_refuses_a_weak_password():
    with pytest.raises(CommandError, match="密码"):
        _demo("--no-history", "--password", "123")


def test_it_generates_history_once():
    first = _demo("--cases", "120", "--password", "x-demo-pass-2026")
    second = _demo("--cases", "120")
    assert Case.objects.filter(source_type="demo").count() == 120
    assert "120 件案件" in first
    assert "保留不动" in second
