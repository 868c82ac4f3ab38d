"""Errors of the open interfaces beyond the case engine's (cases/errors.py), and the HTTP
status every error code answers with. REST bodies are {"code", "message"}; Open311 bodies are
the specification's [{"code", "description"}]."""

from __future__ import annotations

from minsheng.cases.errors import CaseError, InvalidInput


class NotFound(CaseError):
    """No such thing, or not one the caller may see (never say which)."""

    code = "not_found"


class IdempotencyKeyReused(InvalidInput):
    """An Idempotency-Key sent again with a different request."""

    code = "idempotency_mismatch"


#: error code → HTTP status, for every code any layer raises.
STATUS = {
    "unauthorized": 401,
    "not_allowed": 403,
    "not_found": 404,
    "stale": 409,
    "invalid": 422,
    "idempotency_mismatch": 422,
    "rate_limited": 429,
}


def status_for(code: str) -> int:
    return STATUS.get(code, 400)
