"""Dashboards and reports read from a PostgreSQL read replica when one is configured
(DATABASE_REPLICA_URL); every write, and every read anywhere else, stays on the primary.

Which reads are "dashboard reads" is decided by the request, not the model: the same Case
table is read by a dispatcher about to act (must be current: primary) and by a leader's
ranking (a second of replication lag is harmless: replica). `ReplicaReadsMiddleware` turns
replica reads on for GET requests under MINSHENG_REPLICA_PATHS (the dashboards, the dispatch
quality page, the statistics API); code elsewhere can use `reading_from_replica()`.

Accounts, sessions and lockouts are never read from a replica: a session written at login
must be found by the very next request.
"""

from __future__ import annotations

import contextlib
import contextvars
import random

from django.conf import settings

_use_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("minsheng_use_replica", default=False)

#: Apps whose tables may be read from a replica (inside a replica-reads scope).
REPLICA_APPS = frozenset({"cases", "analytics", "dispatch", "channels"})


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith("replica")]


def replica_alias() -> str:
    """The alias to read dashboards from: a replica when there is one, else default."""
    aliases = replica_aliases()
    return random.choice(aliases) if aliases else "default"


@contextlib.contextmanager
def reading_from_replica():
    token = _use_replica.set(True)
    try:
        yield
    finally:
        _use_replica.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _use_replica.get() and model._meta.app_label in REPLICA_APPS:
            return replica_alias()
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # a replica is a copy of the primary: objects from either relate

    def allow_migrate(self, db, app_label, **hints):
        return db == "default"


class ReplicaReadsMiddleware:
    """Reads of GET requests under MINSHENG_REPLICA_PATHS go to the replica."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.prefixes = tuple(getattr(settings, "MINSHENG_REPLICA_PATHS", ()))

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and self.prefixes and request.path.startswith(self.prefixes):
            with reading_from_replica():
                return self.get_response(request)
        return self.get_response(request)
