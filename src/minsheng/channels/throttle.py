"""Rate limits on the channels' public pages (answering a survey, dropping a note). Only
POSTs count; counters live in the default cache (Redis in production)."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited

#: group → (setting name, default rate)
LIMITS = {
    "channels.survey": ("MINSHENG_SURVEY_RATE", "30/h"),
    "channels.note": ("MINSHENG_NOTE_RATE", "10/h"),
}


def rate_limited(group: str):
    setting, default = LIMITS[group]

    def rate(_group, _request) -> str:
        return getattr(settings, setting, default)

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method == "POST" and is_ratelimited(request, group=group, key="ip", rate=rate, method=("POST",), increment=True):
                return render(request, "intake/ratelimited.html", status=429)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
