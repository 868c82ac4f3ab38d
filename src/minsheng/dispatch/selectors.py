"""Reads about dispatch quality: the model in use and how dispatchers received its
suggestions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from minsheng.cases.models import CaseEvent

from .models import DispatchModel


@dataclass
class LiveAgreement:
    """How the suggestions fared with the people who dispatched, over a recent window."""

    days: int
    suggested: int
    auto_dispatched: int
    staff_dispatched: int
    confirmed: int  # the dispatcher chose the suggested subcategory

    @property
    def confirmation_rate(self) -> float | None:
        return self.confirmed / self.staff_dispatched if self.staff_dispatched else None

    @property
    def auto_rate(self) -> float | None:
        return self.auto_dispatched / self.suggested if self.suggested else None


def active_model() -> DispatchModel | None:
    return DispatchModel.objects.filter(active=True).first()


def recent_models(limit: int = 10) -> list[DispatchModel]:
    return list(DispatchModel.objects.order_by("-created_at")[:limit])


def live_agreement(*, days: int = 30, now: dt.datetime | None = None) -> LiveAgreement:
    """Compare each staff dispatch with the suggestion the case got at intake."""
    since = (now or timezone.now()) - dt.timedelta(days=days)
    suggested_cases = CaseEvent.objects.filter(action="suggest", at__gte=since).values_list("case_id", flat=True)
    suggested = suggested_cases.count()
    dispatches = CaseEvent.objects.filter(action="dispatch", at__gte=since, case_id__in=suggested_cases)
    auto = dispatches.filter(actor_kind="system").count()
    staff = list(
        dispatches.filter(actor_kind="staff").filter(~Q(data__subcategory=None)).values_list("data__subcategory", "case__dispatch_meta")
    )
    confirmed = sum(1 for chosen, meta in staff if meta and meta.get("subcategory") and meta["subcategory"][0][0] == chosen)
    return LiveAgreement(days=days, suggested=suggested, auto_dispatched=auto, staff_dispatched=len(staff), confirmed=confirmed)


def confusion_rows(model: DispatchModel | None) -> tuple[list[str], list[dict]]:
    """The held-out confusion matrix as table rows, each cell with a shade 0–4 for display."""
    confusion = (model.heldout or {}).get("confusion") if model else None
    if not confusion:
        return [], []
    labels, matrix = confusion["labels"], confusion["matrix"]
    rows = []
    for label, counts in zip(labels, matrix):
        total = sum(counts) or 1
        cells = [{"count": c, "shade": min(4, round(4 * c / total)), "diagonal": i == j} for j, c in enumerate(counts) for i in [labels.index(label)]]
        rows.append({"label": label, "cells": cells, "total": sum(counts)})
    return labels, rows
