"""The monthly briefing (月度通报) as a download: GET ?month=YYYY-MM → the .docx.

The briefing is district-wide (every street's and department's ranking, cases from anywhere
in the district), so only district-level readers get it: the admin, dispatchers and leaders
of the district. A street's leader or any handler is refused (403) — their scoped view of the
same figures is the dashboard. Every download is an export and is written to the audit log.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from minsheng.core.choices import Role, UnitKind
from minsheng.core.services import audit_record

from ..briefing import BriefingError, briefing_build, briefing_filename, parse_month, previous_month

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def may_download_briefing(user) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.role in (Role.ADMIN, Role.DISPATCHER):
        return True
    return user.role == Role.LEADER and (user.unit is None or user.unit.kind == UnitKind.DISTRICT)


@login_required
@require_GET
def briefing(request):
    if not may_download_briefing(request.user):
        return render(request, "desk/forbidden.html", {"message": pgettext("briefing", "月度通报为全区材料，仅区级领导、派单员和系统管理员可以下载。")}, status=403)
    text = request.GET.get("month", "").strip()
    try:
        # Without a month: the last complete month, what a briefing is normally about.
        month = parse_month(text) if text else previous_month(timezone.localdate())
    except BriefingError as exc:
        return render(request, "analytics/briefing_error.html", {"message": str(exc)}, status=400)
    content = briefing_build(month=month)
    audit_record(action="export", actor=request.user, target=f"briefing:{month:%Y-%m}", ip=request.META.get("REMOTE_ADDR") or None,
                 detail={"kind": "monthly_briefing", "month": f"{month:%Y-%m}", "bytes": len(content)})
    response = HttpResponse(content, content_type=DOCX)
    filename = briefing_filename(month)
    response["Content-Disposition"] = f"attachment; filename=\"briefing-{month:%Y-%m}.docx\"; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "private, no-store"
    return response
