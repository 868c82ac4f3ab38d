"""The inbox: notifications for the user's unit and for the user."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from minsheng.core.models import Notification

from .. import selectors, services
from .common import safe_next


@login_required
@require_GET
def notifications(request):
    page = Paginator(selectors.notifications_for(request.user).order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
    return render(request, "desk/notifications.html", {"page": page})


@login_required
@require_POST
def notification_open(request, pk: int):
    """Opening a message marks it read (a POST: reading it changes it)."""
    try:
        notification = services.notification_open(acting_user=request.user, notification_id=pk)
    except Notification.DoesNotExist:
        raise Http404("no such notification") from None
    link = notification.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return redirect(link)
    return redirect("desk:notifications")


@login_required
@require_POST
def notifications_read_all(request):
    services.notifications_mark_all_read(acting_user=request.user)
    return redirect(safe_next(request, reverse("desk:notifications")))
