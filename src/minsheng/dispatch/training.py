"""Training data for the dispatch model beyond the shipped corpus: the district's own
appeals, as dispatchers classified them."""

from __future__ import annotations


def extra_items() -> list[dict]:
    """Dispatcher-confirmed appeals as training items: {"text", "subcategory", "urgency"}."""
    from .services import confirmed_items

    return confirmed_items()
