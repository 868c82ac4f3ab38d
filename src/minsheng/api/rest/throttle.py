"""Rate limits of the public endpoints (django-ratelimit, counted in the default cache: Redis
in production, so every web process shares the counts). The rates are the residents' pages'
settings, so a district tunes one number for both; the counters are the API's own."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches
from django_ratelimit import ALL
from django_ratelimit.core import EXPIRATION_FUDGE, _SIMPLE_KEYS, _get_window, _make_cache_key, _split_rate, is_ratelimited

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
    limited = _over(request, f"{group}.ip", _SIMPLE_KEYS["ip"](request), rate)
    if also:
        # Every key is counted even after one trips, so the counters stay honest.
        limited |= _over(request, f"{group}.key", also, rate)
    if limited:
        raise RateLimited()


def _over(request, group: str, value: str, rate: str) -> bool:
    """Count one call of `value` in `group`; whether it is past `rate`. On Redis this is one
    round trip (FailOpenRedisCache.count_hit) under django-ratelimit's own key and window, so
    the counts are the same as the library's `is_ratelimited`, which counts elsewhere (two
    round trips: add, then incr)."""
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    if not hasattr(cache, "count_hit"):
        return is_ratelimited(request, group=group, key=lambda _g, _r: value, rate=rate, method=ALL, increment=True)
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return False
    limit, period = _split_rate(rate)
    key = _make_cache_key(group, _get_window(value, period), rate, value, ALL)
    count = cache.count_hit(key, period + EXPIRATION_FUDGE)
    if count is None:  # Redis unreachable: let residents through, as the library does (RATELIMIT_FAIL_OPEN)
        return not getattr(settings, "RATELIMIT_FAIL_OPEN", False)
    return count > limit
