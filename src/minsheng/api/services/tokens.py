"""API tokens: made for a user, shown once, stored as a SHA-256 hash, revocable."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from minsheng.cases.errors import InvalidInput
from minsheng.core.models import User
from minsheng.core.services import audit_record

from ..models import ApiToken

#: Every key starts with this, so a leaked one is easy to recognise (and to scan for).
KEY_PREFIX = "msk_"
#: How stale `last_used_at` may get: refreshed at most this often, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@transaction.atomic
def token_create(*, user: User, name: str = "", acting_user: User | None = None) -> tuple[ApiToken, str]:
    """Make a token for `user`. Returns the token and its key; the key is not stored and
    cannot be shown again."""
    if not user.is_active:
        raise InvalidInput(f"用户 {user.username} 已停用，不能创建令牌。")
    for _attempt in range(5):
        prefix = secrets.token_hex(4)
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, name=(name or "").strip()[:100], prefix=prefix, key_hash=key_hash(key))
    audit_record(action="api.token_create", actor=acting_user, target=user.username, detail={"prefix": prefix, "name": token.name})
    return token, key


@transaction.atomic
def token_revoke(*, prefix: str, acting_user: User | None = None) -> ApiToken:
    token = ApiToken.objects.select_for_update().filter(prefix=(prefix or "").strip().lower()).first()
    if token is None:
        raise InvalidInput(f"没有前缀为 {prefix} 的令牌。")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(action="api.token_revoke", actor=acting_user, target=token.user.username, detail={"prefix": token.prefix})
    return token


def token_authenticate(key: str) -> ApiToken | None:
    """The live token for `key` (owner active, not revoked), or None. Notes the use."""
    if not key or not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    token = ApiToken.objects.select_related("user", "user__unit").filter(key_hash=key_hash(key), revoked_at__isnull=True).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
