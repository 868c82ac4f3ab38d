"""Which appeals this browser has proved it may see.

A resident proves it once (by submitting the appeal, or by the tracking code plus the last
four phone digits); the proof is kept in their session, so the tracking page can be a plain
GET whose URL carries no phone digits.
"""

from __future__ import annotations

_SESSION_KEY = "intake_verified_cases"
_MAX_REMEMBERED = 20


def appeal_remember(request, tracking_code: str) -> None:
    codes = [c for c in request.session.get(_SESSION_KEY, []) if c != tracking_code]
    codes.append(tracking_code)
    request.session[_SESSION_KEY] = codes[-_MAX_REMEMBERED:]
    # A new session id with the new right, so a session id planted beforehand gains nothing.
    request.session.cycle_key()


def appeal_is_remembered(request, tracking_code: str) -> bool:
    return tracking_code in request.session.get(_SESSION_KEY, [])
