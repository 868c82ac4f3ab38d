"""Work queues: the list page with filters and sorting, its Excel export, bulk dispatch."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from minsheng.cases.selectors import queues_for
from minsheng.cases.workflow import STAFF_DISPATCH

from .. import selectors, services
from ..forms import BulkDispatchForm, CaseFilterForm
from .common import client_ip, safe_next

PAGE_SIZE = 50


def _queue_label(user, key: str) -> str:
    for k, label in queues_for(user):
        if k == key:
            return label
    raise Http404("unknown queue")


def can_bulk_dispatch(user) -> bool:
    return user.is_superuser or user.role in STAFF_DISPATCH


@login_required
@require_GET
def home(request):
    queues = queues_for(request.user)
    if queues:
        return redirect("desk:queue", key=queues[0][0])
    return render(request, "desk/empty.html", {"role": request.user.get_role_display()})


@login_required
@require_GET
def queue(request, key: str):
    label = _queue_label(request.user, key)
    options = selectors.SelectOptions()
    form = CaseFilterForm(request.GET or None, select_options=options)
    sort = form.sort_key()
    rows = selectors.queue_page_rows(user=request.user, queue=key, filters=form.filters(), sort=sort)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    bulk = can_bulk_dispatch(request.user)
    return render(request, "desk/queue.html", {
        "queue_key": key,
        "queue_label": label,
        "form": form,
        "page": page,
        "sort": sort,
        "bulk_form": BulkDispatchForm(select_options=options) if bulk else None,
    })


@login_required
@require_GET
def export(request, key: str):
    label = _queue_label(request.user, key)
    form = CaseFilterForm(request.GET or None)
    content, _count = services.queue_export(
        acting_user=request.user, queue=key, filters=form.filters(), sort=form.sort_key(), ip=client_ip(request)
    )
    filename = f"{label}-{timezone.localdate():%Y%m%d}.xlsx"
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename=\"cases-{key}.xlsx\"; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def bulk_dispatch(request, key: str):
    _queue_label(request.user, key)
    back = safe_next(request, reverse("desk:queue", args=[key]))
    if not can_bulk_dispatch(request.user):
        return render(request, "desk/forbidden.html", {"message": _("您的角色无权派单。")}, status=403)
    form = BulkDispatchForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    result = services.cases_bulk_dispatch(acting_user=request.user, items=form.cleaned_data["cases"], unit=form.cleaned_data["unit"])
    if result.done:
        messages.success(request, _("已派单 %(count)d 件至%(unit)s。") % {"count": len(result.done), "unit": form.cleaned_data["unit"].name})
    for code, why in result.failed:
        messages.error(request, _("%(code)s 未派单：%(why)s") % {"code": code, "why": why})
    return redirect(back)
