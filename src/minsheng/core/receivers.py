"""What reaches the audit log from outside the services: logins (Django's auth signals and
django-axes' lockout signal) and every change made in the Django admin (its own change log,
mirrored into the hash-chained audit log, so settings, taxonomy, calendar and group changes
are covered wherever the admin class is defined).

Connected in CoreConfig.ready().
"""

from __future__ import annotations

import json
import logging

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from .services import audit_record

logger = logging.getLogger(__name__)


def _ip(request) -> str | None:
    # REMOTE_ADDR only; behind the proxy it is the proxy's view of the client (see deploy docs).
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def on_logged_in(sender, request, user, **kwargs) -> None:
    from .twofactor import SESSION_VERIFIED

    if request is not None and hasattr(request, "session"):
        request.session.pop(SESSION_VERIFIED, None)  # a password login starts unverified
    audit_record(action="login.success", actor=user, target=f"user:{user.username}", ip=_ip(request))


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str((credentials or {}).get("username", ""))[:150]
    audit_record(action="login.failure", actor_name=username, target=f"user:{username}", ip=_ip(request))


def on_logged_out(sender, request, user, **kwargs) -> None:
    if user is not None and user.pk:
        audit_record(action="logout", actor=user, target=f"user:{user.username}", ip=_ip(request))


def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    audit_record(action="login.locked_out", actor_name=str(username or "")[:150], target=f"user:{username or ''}",
                 ip=ip_address or _ip(request))


_ADMIN_ACTIONS = {1: "admin.add", 2: "admin.change", 3: "admin.delete"}


def audit_admin_log_entries(entries) -> None:
    """Mirror Django admin change-log entries into the audit log."""
    for entry in entries:
        try:
            message = json.loads(entry.change_message) if entry.change_message.startswith("[") else entry.change_message
        except ValueError:
            message = entry.change_message
        content_type = entry.content_type
        label = f"{content_type.app_label}.{content_type.model}" if content_type else "?"
        audit_record(
            action=_ADMIN_ACTIONS.get(entry.action_flag, "admin.other"), actor=entry.user,
            target=f"{label}:{entry.object_id}"[:200], detail={"object": entry.object_repr, "message": message},
        )


def connect() -> None:
    from axes.signals import user_locked_out
    from django.contrib.admin.models import LogEntryManager

    user_logged_in.connect(on_logged_in, dispatch_uid="minsheng.audit.login")
    user_login_failed.connect(on_login_failed, dispatch_uid="minsheng.audit.login_failed")
    user_logged_out.connect(on_logged_out, dispatch_uid="minsheng.audit.logout")
    user_locked_out.connect(on_locked_out, dispatch_uid="minsheng.audit.locked_out")

    # The admin writes its change log through LogEntryManager.log_actions (one save, or a
    # bulk_create for a multi-row delete, which sends no post_save): wrap that one method.
    if not getattr(LogEntryManager.log_actions, "_minsheng_audited", False):
        original = LogEntryManager.log_actions

        def log_actions(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            audit_admin_log_entries(result if isinstance(result, list) else [result])
            return result

        log_actions._minsheng_audited = True
        LogEntryManager.log_actions = log_actions
