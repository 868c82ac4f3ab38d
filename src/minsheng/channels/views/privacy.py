"""Showing one masked field of a channel record in full: a POST, audited (channels.privacy)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_POST

from minsheng.cases.errors import ActionNotAllowed, InvalidInput

from .. import selectors
from ..models import ForumIssue
from ..privacy import REVEALABLE, channel_personal_data_reveal
from .common import channels_staff, client_ip, forbidden, object_or_404


def _record(user, kind: str, pk: int):
    if kind == "note":
        return object_or_404(selectors.notes_visible_to(user), pk=pk)
    if kind == "visit":
        return object_or_404(selectors.visits_visible_to(user), pk=pk)
    forums = selectors.forums_visible_to(user)
    return object_or_404(ForumIssue.objects.filter(forum__in=forums).select_related("forum__host_unit"), pk=pk)


@channels_staff
@require_POST
def reveal(request, kind: str, pk: int, field: str):
    if kind not in REVEALABLE or field not in REVEALABLE[kind][1]:
        raise Http404("unknown field")
    record = _record(request.user, kind, pk)
    try:
        value = channel_personal_data_reveal(acting_user=request.user, record=record, field=field, ip=client_ip(request))
    except ActionNotAllowed as exc:
        return forbidden(request, exc.message)
    except InvalidInput:
        value = ""
    return render(request, "channels/_reveal.html", {"kind": kind, "pk": pk, "field": field, "value": value, "masked": ""})
