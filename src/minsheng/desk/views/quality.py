"""The dispatch-quality page: the model in use, its held-out accuracy and confusion matrix,
and how dispatchers received its suggestions lately."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.http import require_GET

from minsheng.cases.models import Category
from minsheng.core.choices import Role
from minsheng.dispatch import selectors

QUALITY_ROLES = (Role.ADMIN, Role.DISPATCHER, Role.LEADER)


def may_see_quality(user) -> bool:
    return user.is_superuser or user.role in QUALITY_ROLES


@login_required
@require_GET
def dispatch_quality(request):
    if not may_see_quality(request.user):
        raise PermissionDenied
    model = selectors.active_model()
    labels, rows = selectors.confusion_rows(model)
    names = dict(Category.objects.filter(code__in=labels).values_list("code", "name"))
    return render(request, "desk/dispatch_quality.html", {
        "model": model,
        "history": selectors.recent_models(),
        "live": selectors.live_agreement(days=30),
        "labels": [(code, names.get(code, code)) for code in labels],
        "rows": [{**row, "name": names.get(row["label"], row["label"])} for row in rows],
        "active_tool": "dispatch_quality",
    })
