"""The audit log for the admin: filter, page through, export (formula-safe .xlsx, itself
audited) and check the hash chain."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from minsheng.core.selectors import AUDIT_GROUPS, audit_entries

from .. import services
from ..forms import AuditFilterForm
from .common import client_ip

PAGE_SIZE = 100


def _admin_only(user) -> None:
    if not services.may_see_audit(user):
        raise PermissionDenied


@login_required
@require_GET
def audit_log(request):
    _admin_only(request.user)
    form = AuditFilterForm(request.GET or None)
    page = Paginator(audit_entries(**form.filters()).select_related("actor"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "desk/audit.html", {"form": form, "page": page, "groups": AUDIT_GROUPS, "active_tool": "audit"})


@login_required
@require_GET
def audit_export(request):
    _admin_only(request.user)
    form = AuditFilterForm(request.GET or None)
    content, _count = services.audit_export(acting_user=request.user, filters=form.filters(), ip=client_ip(request))
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="audit-{timezone.localdate():%Y%m%d}.xlsx"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def audit_verify(request):
    _admin_only(request.user)
    broken = services.audit_verify(acting_user=request.user, ip=client_ip(request))
    form = AuditFilterForm()
    page = Paginator(audit_entries(), PAGE_SIZE).get_page(1)
    return render(request, "desk/audit.html", {
        "form": form, "page": page, "groups": AUDIT_GROUPS, "active_tool": "audit", "verified": True, "broken": broken,
    }, status=200 if not broken else 409)
