"""API tokens: `minsheng token create|list|revoke`, stored hashed, shown once."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from minsheng.api.models import ApiToken
from minsheng.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("token", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_prints_the_key_once_and_stores_only_its_hash(users):
    out, err = run("create", "dispatcher", "--name", "12345平台")

    key = out.strip()
    token = ApiToken.objects.get()
    assert key.startswith(f"msk_{token.prefix}_")
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(ApiToken.objects.values().get())
    assert (token.user, token.name) == (users["dispatcher"], "12345平台")
    assert "shown once" in err
    assert AuditEntry.objects.filter(action="api.token_create").exists()


def test_the_key_works_and_list_shows_prefix_owner_and_use(users, client):
    key = run("create", "dispatcher")[0].strip()
    client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {key}")

    listing = run("list")[0]

    prefix = ApiToken.objects.get().prefix
    line = next(row for row in listing.splitlines() if row.startswith(prefix))
    assert "dispatcher" in line
    assert key not in listing
    assert ApiToken.objects.get().last_used_at is not None


def test_revoke_by_prefix(users, client):
    key = run("create", "dispatcher")[0].strip()
    prefix = ApiToken.objects.get().prefix

    out, _ = run("revoke", prefix)

    assert f"revoked {prefix}" in out
    assert ApiToken.objects.get().revoked_at is not None
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_unknown_user_and_prefix_are_command_errors(users):
    with pytest.raises(CommandError):
        run("create", "nobody")
    with pytest.raises(CommandError):
        run("revoke", "ffffffff")
