"""A resident's request to erase their personal data, handled by the admin: find what the
phone number or tracking code covers, confirm, erase (audited; see cases.privacy)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from minsheng.cases.errors import ActionNotAllowed, InvalidInput
from minsheng.cases.privacy import erasure_match, resident_data_erase

from .. import services
from ..forms import ErasureForm
from .common import client_ip


@login_required
@require_http_methods(["GET", "POST"])
def erasure(request):
    if not services.may_see_audit(request.user):
        raise PermissionDenied
    form = ErasureForm(request.POST or None)
    match = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["confirm"]:
            try:
                result = resident_data_erase(acting_user=request.user, reason=data["reason"], phone=data["phone"],
                                             tracking_code=data["tracking_code"], ip=client_ip(request))
            except (InvalidInput, ActionNotAllowed) as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("已删除 %(n)d 件诉求中的个人信息，另有 %(m)d 条共同反映记录。") % {
                    "n": len(result.cases), "m": result.co_reports})
                return redirect("desk:erasure")
        else:
            match = erasure_match(phone=data["phone"], tracking_code=data["tracking_code"])
            form = ErasureForm(initial={**data, "confirm": True})
    return render(request, "desk/erasure.html", {"form": form, "match": match, "active_tool": "erasure"})
