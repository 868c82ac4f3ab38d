"""Rate limits of the public endpoints (django-ratelimit, counted in the default cache: Redis
in production, so every web process shares the counts). The rates are the residents' pages'
settings, so a district tunes one number for both; the counters are the API's own."""

from __future__ import annotations

from django.conf import settings
from django_ratelimit import ALL
from django_ratelimit.core import is_ratelimited

#: group → (setting, default rate)
LIMITS = {
    "api.submit": ("MINSHENG_SUBMIT_RATE", "10/h"),
    "api.track": ("MINSHENG_TRACK_RATE", "20/h"),
    "api.feedback": ("MINSHENG_RATE_RATE", "10/h"),
}


class RateLimited(Exception):
    """The caller has used up a public endpoint's rate (answered 429)."""


def check_rate(request, group: str, *, also: str = "") -> None:
    """Count this call against the caller's IP (and, with `also`, against that value too —
    a tracking code, so its phone digits cannot be guessed from many addresses)."""
    setting, default = LIMITS[group]
    rate = getattr(settings, setting, default)
    limited = is_ratelimited(request, group=f"{group}.ip", key="ip", rate=rate, method=ALL, increment=True)
    if also:
        # Every key is counted even after one trips, so the counters stay honest.
        limited |= is_ratelimited(request, group=f"{group}.key", key=lambda _g, _r: also, rate=rate, method=ALL, increment=True)
    if limited:
        raise RateLimited()
