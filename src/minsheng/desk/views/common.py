"""Small helpers shared by the workbench views."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: behind a proxy, the proxy sets it (see MINSHENG_BEHIND_TLS_PROXY); a
    # client-supplied X-Forwarded-For must not end up in the audit log as the truth.
    return request.META.get("REMOTE_ADDR") or None


def safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path on this site only: redirect() takes anything else without a "/" for a view name
    # to reverse, and a made-up one would be a 500.
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default
