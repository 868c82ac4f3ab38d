"""Hotline entry: an operator takes a call. The caller's number comes first, so the operator
sees the caller's earlier cases (an htmx partial, or the plain page with ?phone=) before
writing the new one."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from minsheng.cases.errors import ActionNotAllowed, InvalidInput
from minsheng.cases.workflow import STAFF_INTAKE

from .. import selectors, services
from ..forms import HotlineForm


def _may_take_calls(user) -> bool:
    return user.is_superuser or user.role in STAFF_INTAKE


def _forbidden(request):
    return render(request, "desk/forbidden.html", {"message": _("只有话务员和派单员可以登记来电。")}, status=403)


@login_required
@require_http_methods(["GET", "POST"])
def hotline_new(request):
    if not _may_take_calls(request.user):
        return _forbidden(request)
    if request.method == "POST" and "lookup" in request.POST:
        # "Look up this caller" without JavaScript: show the history, keep what was typed.
        phone = request.POST.get("reporter_phone", "")
        initial = {name: request.POST.get(name) for name in HotlineForm.base_fields if name in request.POST}
        initial["token"] = initial.get("token") or uuid.uuid4().hex
        form = HotlineForm(initial=initial)
        status = 200
    elif request.method == "POST":
        form = HotlineForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services.hotline_case_create(
                    acting_user=request.user, token=data["token"], text=data["text"], reporter_phone=data["reporter_phone"],
                    address=data["address"], reporter_name=data["reporter_name"], category=data["category"], urgency=data["urgency"],
                    reporter_id_number=data.get("reporter_id_number", ""),
                )
            except InvalidInput as exc:
                form.add_error(None, exc.message)
            except ActionNotAllowed:
                return _forbidden(request)
            else:
                messages.success(request, _("来电已登记并受理，查询码 %(code)s。") % {"code": case.tracking_code})
                return redirect("desk:case", pk=case.pk)
        phone = request.POST.get("reporter_phone", "")
        status = 400
    else:
        phone = request.GET.get("phone", "")
        form = HotlineForm(initial={"token": uuid.uuid4().hex, "reporter_phone": phone})
        status = 200
    history = selectors.caller_history_visible(user=request.user, phone=phone) if phone else None
    return render(request, "desk/hotline.html", {"form": form, "history": history, "phone": phone}, status=status)


@login_required
@require_GET
def hotline_history(request):
    if not _may_take_calls(request.user):
        return _forbidden(request)
    phone = request.GET.get("phone", "") or request.GET.get("reporter_phone", "")
    history = selectors.caller_history_visible(user=request.user, phone=phone)
    return render(request, "desk/_caller_history.html", {"history": history, "phone": phone})
