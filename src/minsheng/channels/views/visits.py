"""Staff pages of field visits: the phone-first visit log (drafts kept in the browser while
offline, see static/channels/visits.js), a visit, the monthly ledger."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from minsheng.cases.errors import CaseError
from minsheng.cases.privacy import may_reveal
from minsheng.core.services import audit_record

from .. import rules, selectors, services
from ..exports import visit_ledger_workbook
from ..forms import VisitForm, VisitLedgerForm
from .common import channels_staff, client_ip, forbidden, object_or_404, xlsx_response

#: Sent by visits.js when it posts a stored draft: answer JSON instead of a page.
SYNC_HEADER = "HTTP_X_MINSHENG_DRAFT"


@channels_staff
@require_GET
def visit_list(request):
    visits = selectors.visits_visible_to(request.user).prefetch_related("findings").order_by("-visited_at", "-id")[:50]
    return render(request, "channels/visit_list.html", {
        "visits": visits, "can_record": rules.can_record_visits(request.user), "active_tool": "visits",
    })


@channels_staff
@require_http_methods(["GET", "POST"])
def visit_create(request):
    sync = request.META.get(SYNC_HEADER) == "1"
    if not rules.can_record_visits(request.user):
        if sync:
            return JsonResponse({"ok": False, "errors": {"__all__": [_("您的角色不能登记走访。")]}}, status=403)
        return forbidden(request, _("您的角色不能登记走访。"))
    initial = {"visited_at": timezone.localtime().replace(second=0, microsecond=0), "client_key": secrets.token_urlsafe(16)}
    form = VisitForm(request.POST or None, request.FILES or None, user=request.user, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            c = form.cleaned_data
            try:
                visit, created = services.visit_record(
                    acting_user=request.user, community=c["community"], visited_at=c["visited_at"], place_kind=c["place_kind"], place=c["place"],
                    people_met=c["people_met"], phone=c["phone"], situation=c["situation"], findings=c["findings"], photos=c["photos"], client_key=c["client_key"],
                )
            except CaseError as exc:
                if sync:
                    return JsonResponse({"ok": False, "errors": {"__all__": [exc.message]}}, status=400)
                form.add_error(None, exc.message)
            else:
                url = reverse("channels:visit", args=[visit.pk])
                if sync:
                    return JsonResponse({"ok": True, "id": visit.pk, "url": url, "created": created}, status=201 if created else 200)
                messages.success(request, _("走访记录已保存，%(n)d 个问题已转为诉求。") % {"n": visit.findings.count()})
                return redirect(url)
        elif sync:
            return JsonResponse({"ok": False, "errors": {k: [str(e) for e in v] for k, v in form.errors.items()}}, status=400)
    return render(request, "channels/visit_form.html", {"form": form, "active_tool": "visits"})


@channels_staff
@require_GET
def visit_detail(request, pk: int):
    visit = object_or_404(selectors.visits_visible_to(request.user), pk=pk)
    return render(request, "channels/visit_detail.html", {
        "visit": visit, "findings": visit.findings.select_related("case", "case__main_unit"), "photos": visit.photos.all(),
        "can_reveal": may_reveal(request.user),
        "active_tool": "visits",
    })


def _ledger(request):
    form = VisitLedgerForm(request.GET or None, user=request.user)
    month = form.month_value()
    community = form.cleaned_data.get("community") if form.is_valid() else None
    return form, month, community, selectors.visit_ledger(user=request.user, community=community, month=month)


@channels_staff
@require_GET
def visit_ledger(request):
    form, month, community, visits = _ledger(request)
    visits = list(visits)
    return render(request, "channels/visit_ledger.html", {
        "form": form, "month": month, "community": community, "visits": visits,
        "findings_total": sum(len(v.findings.all()) for v in visits), "active_tool": "visits",
    })


@channels_staff
@require_GET
def visit_ledger_export(request):
    _form, month, community, visits = _ledger(request)
    title = f"{community.name if community else _('走访台账')} {month:%Y-%m}"
    content = visit_ledger_workbook(title, visits)
    audit_record(action="channels.visit_ledger_export", actor=request.user, target=f"community:{community.code if community else 'all'}",
                 detail={"month": f"{month:%Y-%m}"}, ip=client_ip(request))
    return xlsx_response(content, f"{title}.xlsx")
