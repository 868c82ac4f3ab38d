"""Template helpers of the dashboard: rates as percentages, and whether to show its link."""

from __future__ import annotations

from django import template

from minsheng.analytics.selectors.dashboard import may_see_dashboard as _may_see_dashboard

register = template.Library()


@register.filter
def pct(value) -> str:
    """A rate 0..1 as "87.5%"; "—" when it has no denominator (None)."""
    if value is None:
        return "—"
    return f"{100 * value:.1f}%"


@register.filter
def may_see_dashboard(user) -> bool:
    return bool(user and user.is_authenticated and _may_see_dashboard(user))
