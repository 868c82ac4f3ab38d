"""The monthly briefing (月度通报) as a download: GET ?month=YYYY-MM → the .docx.

Who gets which briefing:

- the admin, dispatchers and district leaders: the district's (every unit's ranking, cases
  from anywhere in the district);
- a street office — its handlers and a leader of that street: the street's own briefing (the
  figures, hot problems and cases of appeals located in the street, the street's place among
  the streets, its communities' ranking and red/black lists), never another street's cases;
- everyone else (operators, community and department handlers): 403.

Every download is an export and is written to the audit log.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from minsheng.core.services import audit_record

from ..briefing import BriefingError, briefing_build, briefing_filename, parse_month, previous_month
from ..selectors.dashboard import DISTRICT, briefing_scope

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@login_required
@require_GET
def briefing(request):
    scope = briefing_scope(request.user)
    if scope is None:
        return render(request, "desk/forbidden.html", {"message": pgettext(
            "briefing", "月度通报仅供区级领导、派单员、系统管理员和街道办事处下载。")}, status=403)
    street = None if scope == DISTRICT else scope
    text = request.GET.get("month", "").strip()
    try:
        # Without a month: the last complete month, what a briefing is normally about.
        month = parse_month(text) if text else previous_month(timezone.localdate())
    except BriefingError as exc:
        return render(request, "analytics/briefing_error.html", {"message": str(exc)}, status=400)
    content = briefing_build(month=month, street=street)
    target = f"briefing:{month:%Y-%m}" + (f":{street.code}" if street else "")
    audit_record(action="export", actor=request.user, target=target, ip=request.META.get("REMOTE_ADDR") or None,
                 detail={"kind": "monthly_briefing", "month": f"{month:%Y-%m}", "street": street.code if street else "",
                         "bytes": len(content)})
    response = HttpResponse(content, content_type=DOCX)
    ascii_name = f"briefing-{street.code + '-' if street else ''}{month:%Y-%m}.docx"
    response["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(briefing_filename(month, street))}"
    response["Cache-Control"] = "private, no-store"
    return response
