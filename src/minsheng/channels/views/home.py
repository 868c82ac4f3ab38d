"""The channels' overview page (问计于民、问需于民): what each channel holds for this user."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .. import rules, selectors
from ..choices import NoteStatus, SurveyStatus
from .common import channels_staff


@channels_staff
@require_GET
def home(request):
    user = request.user
    month_start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    context = {"active_tool": "channels", "can_import": rules.can_import(user),
               "by_channel": selectors.appeals_by_channel(user=user, start=month_start, end=timezone.now() + timezone.timedelta(seconds=1))}
    if rules.can_use_channels(user):
        context.update({
            "surveys_open": selectors.surveys_visible_to(user).filter(status=SurveyStatus.PUBLISHED).count(),
            "surveys_total": selectors.surveys_visible_to(user).count(),
            "notes_pending": selectors.notes_visible_to(user).filter(status=NoteStatus.PENDING).count(),
            "boxes": selectors.boxes_visible_to(user).count(),
            "forums_month": selectors.forums_visible_to(user).filter(held_on__gte=month_start.date()).count(),
            "visits_month": selectors.visits_visible_to(user).filter(visited_at__gte=month_start).count(),
            "can_record_visits": rules.can_record_visits(user), "can_record_forums": rules.can_record_forums(user),
            "can_build_surveys": rules.can_build_surveys(user), "sees_channels": True,
        })
    return render(request, "channels/home.html", context)
