"""Helpers shared by the channels' staff pages."""

from __future__ import annotations

from functools import wraps
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from minsheng.cases.errors import CaseError

from .. import rules

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def forbidden(request, message: str):
    return render(request, "desk/forbidden.html", {"message": message}, status=403)


def channels_staff(view):
    """Signed-in staff who see some channel (or may import)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not (rules.can_use_channels(request.user) or rules.can_import(request.user)):
            return forbidden(request, "您的角色没有查看听取民意渠道的权限。")
        return view(request, *args, **kwargs)

    return wrapped


def object_or_404(queryset, **lookup):
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise Http404("not found or not visible")
    return obj


def run(request, call, success: str = "") -> object | None:
    """Call a service; on a refusal or invalid input show its message and return None."""
    try:
        result = call()
    except CaseError as exc:
        messages.error(request, exc.message)
        return None
    if success:
        messages.success(request, success)
    return result if result is not None else True


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None
