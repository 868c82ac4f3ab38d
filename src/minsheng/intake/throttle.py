"""Rate limits on the public pages (django-ratelimit, counted in the default cache).

Only POSTs are counted: reading a page costs nothing, filing an appeal or guessing at a
tracking code does. Rates are settings so a district can tune them; the defaults suit one
household behind one IP address.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited

#: group → (setting name, default rate, keys counted separately)
LIMITS = {
    "intake.submit": ("MINSHENG_SUBMIT_RATE", "10/h", ("ip",)),
    # Per IP, and per tracking code so the four phone digits cannot be guessed from many IPs.
    "intake.track": ("MINSHENG_TRACK_RATE", "20/h", ("ip", "tracking_code")),
    "intake.rate": ("MINSHENG_RATE_RATE", "10/h", ("ip",)),
    "intake.places": ("MINSHENG_PLACES_RATE", "120/m", ("ip",)),
}


def _tracking_code_key(group: str, request) -> str:
    return "".join(request.POST.get("tracking_code", "").split()).upper()[:20]


_KEYS = {"ip": "ip", "tracking_code": _tracking_code_key}


def over_limit(request, group: str, method: str = "POST") -> bool:
    """Count this request against every key of the group; True when any is exhausted."""
    setting, default, keys = LIMITS[group]

    def rate(_group, _request) -> str:
        return getattr(settings, setting, default)

    limited = False
    for key in keys:
        # Every key is counted even after one trips, so the counters stay honest.
        limited |= is_ratelimited(request, group=f"{group}.{key}", key=_KEYS[key], rate=rate, method=(method,), increment=True)
    return limited


def rate_limited(group: str, method: str = "POST"):
    """Answer 429 with a friendly page once the caller has used up the group's rate."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method == method and over_limit(request, group, method):
                return too_many_requests(request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def too_many_requests(request):
    return render(request, "intake/ratelimited.html", status=429)
