"""The public board (公开栏) at /board/: no login. The district's figures for this month and
the last twelve, a chart, and the appeals resolved lately — anonymised (see
`analytics.anonymise`), never with a tracking code.

Rate-limited per address like the residents' other pages (MINSHENG_BOARD_RATE, default
60/m): unlike them it counts GETs, because every view of the board reads the database for
its list of cases. The figures themselves are cached (`board_figures`).
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET
from django_ratelimit.core import is_ratelimited

from ..selectors.board import board_figures, resolved_cases_page

DEFAULT_RATE = "60/m"


def _rate(_group, _request) -> str:
    return getattr(settings, "MINSHENG_BOARD_RATE", DEFAULT_RATE)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _chart_data(series: list[dict]) -> dict:
    """What board.js draws: months, counts and rates in percent, with the labels in the
    page's language."""
    return {
        "months": [row["month"] for row in series],
        "received": [row["received"] for row in series],
        "closed": [row["closed"] for row in series],
        "response": [_percent(row["response_rate"]) for row in series],
        "resolution": [_percent(row["resolution_rate"]) for row in series],
        "satisfaction": [_percent(row["satisfaction_rate"]) for row in series],
        "labels": {
            "received": pgettext("board", "受理量"), "closed": pgettext("board", "办结量"), "response": pgettext("board", "响应率"),
            "resolution": pgettext("board", "解决率"), "satisfaction": pgettext("board", "满意率"), "count": pgettext("board", "件"), "rate": "%",
        },
    }


def _display(row: dict) -> dict:
    return {
        "month": row["month"], "received": row["received"], "closed": row["closed"],
        "response": _percent(row["response_rate"]), "resolution": _percent(row["resolution_rate"]),
        "satisfaction": _percent(row["satisfaction_rate"]), "on_time": _percent(row["on_time_rate"]),
    }


@require_GET
def board(request):
    if is_ratelimited(request, group="analytics.board.ip", key="ip", rate=_rate, method=("GET",), increment=True):
        return render(request, "intake/ratelimited.html", status=429)
    figures = board_figures()
    page = resolved_cases_page(page=request.GET.get("page"))
    return render(request, "analytics/board.html", {
        "current": _display(figures["current"]),
        "series": [_display(row) for row in reversed(figures["series"])],  # newest first in the table
        "chart": _chart_data(figures["series"]),
        "computed_at": parse_datetime(figures["computed_at"]),
        "page": page,
    })
