"""Which appeals this browser has proved it may see.

A resident proves it once (by submitting the appeal, or by the tracking code plus the last
four phone digits); the proof is kept in their session, so the tracking page can be a plain
GET whose URL carries no phone digits.
"""

from __future__ import annotations

_SESSION_KEY = "intake_verified_cases"
_REPORTER_KEY = "intake_reporter_cases"
_MAX_REMEMBERED = 20


def _remembered(request, key: str, tracking_code: str) -> None:
    codes = [c for c in request.session.get(key, []) if c != tracking_code]
    codes.append(tracking_code)
    request.session[key] = codes[-_MAX_REMEMBERED:]


def appeal_remember(request, tracking_code: str, *, as_reporter: bool = True) -> None:
    """Remember that this browser may follow the appeal; `as_reporter` when it proved to be
    the resident who raised it (by submitting it, or with that resident's phone digits) — a
    browser that joined the appeal, or tracks it with a co-reporter's phone, only follows."""
    _remembered(request, _SESSION_KEY, tracking_code)
    if as_reporter:
        _remembered(request, _REPORTER_KEY, tracking_code)
    # A new session id with the new right, so a session id planted beforehand gains nothing.
    request.session.cycle_key()


def appeal_is_remembered(request, tracking_code: str) -> bool:
    return tracking_code in request.session.get(_SESSION_KEY, [])


def appeal_may_rate(request, tracking_code: str) -> bool:
    """Rating is the verdict of the resident who raised the appeal (it closes or reopens the
    case and counts in the unit's satisfaction rate)."""
    return tracking_code in request.session.get(_REPORTER_KEY, [])
