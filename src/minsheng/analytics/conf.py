"""The measuring settings a district may change, with their defaults.

Read at call time (not import time) so that `override_settings` works in tests and a
deployment's values apply without a code change. See docs/metrics.md.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_SCORE_WEIGHTS = {"response": 30.0, "resolution": 35.0, "satisfaction": 35.0}
DEFAULT_BASIC_WEIGHT = 1.0
DEFAULT_MIN_VOLUME = 10
DEFAULT_LIST_SIZE = 3


def score_weights() -> dict[str, float]:
    """Weights of the composite score (MINSHENG_SCORE_WEIGHTS), e.g. {"response": 30,
    "resolution": 35, "satisfaction": 35}. Keys missing from the setting weigh 0."""
    raw = getattr(settings, "MINSHENG_SCORE_WEIGHTS", None) or DEFAULT_SCORE_WEIGHTS
    unknown = set(raw) - set(DEFAULT_SCORE_WEIGHTS)
    if unknown:
        raise ImproperlyConfigured(f"MINSHENG_SCORE_WEIGHTS: unknown component(s) {sorted(unknown)}")
    weights = {key: float(raw.get(key, 0)) for key in DEFAULT_SCORE_WEIGHTS}
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ImproperlyConfigured("MINSHENG_SCORE_WEIGHTS must be non-negative and not all zero")
    return weights


def basic_satisfaction_weight() -> float:
    """How much a 'basically satisfied' (基本满意) rating counts towards the satisfaction
    rate (MINSHENG_BASIC_SATISFACTION_WEIGHT, 0..1; the 12345 practice varies: 1.0 or 0.8)."""
    weight = float(getattr(settings, "MINSHENG_BASIC_SATISFACTION_WEIGHT", DEFAULT_BASIC_WEIGHT))
    if not 0 <= weight <= 1:
        raise ImproperlyConfigured("MINSHENG_BASIC_SATISFACTION_WEIGHT must be between 0 and 1")
    return weight


def ranking_min_volume() -> int:
    """Fewest cases received in the month for a unit to be ranked (MINSHENG_RANKING_MIN_VOLUME)."""
    return int(getattr(settings, "MINSHENG_RANKING_MIN_VOLUME", DEFAULT_MIN_VOLUME))


def ranking_list_size() -> int:
    """How many units the red list (红榜) and the black list (黑榜) each name
    (MINSHENG_RANKING_LIST_SIZE)."""
    return int(getattr(settings, "MINSHENG_RANKING_LIST_SIZE", DEFAULT_LIST_SIZE))
