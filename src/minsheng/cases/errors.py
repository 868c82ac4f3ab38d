"""Errors the case engine raises. Each carries a stable `code` (for the API) and a message
a person can act on (for the UI)."""

from __future__ import annotations


class CaseError(Exception):
    code = "case_error"

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class ActionNotAllowed(CaseError):
    """The actor may not take this action on this case in its current state."""

    code = "not_allowed"


class StaleCase(CaseError):
    """Someone else changed the case since the actor loaded it."""

    code = "stale"

    def __init__(self, message: str = "该案件已被他人更新，请刷新后重试。"):
        super().__init__(message)


class InvalidInput(CaseError):
    """The input is incomplete or inconsistent (missing reason, wrong unit, ...)."""

    code = "invalid"
