"""Read side of the analytics: every figure a leader sees, computed from the event log.

- `rates`: 三率 and the other rates per unit, location or district, and the monthly ranking.
- `dashboard`: the overview, trends, breakdowns, and the cases behind any figure (drill-down).
- `hotspots`: counts by category × place × week, rising trends, repeat reporters, topics.
"""

from .rates import (  # noqa: F401
    Ranking,
    RankingRow,
    Tally,
    UnitRates,
    composite_score,
    district_rates,
    location_rates,
    month_bounds,
    monthly_ranking,
    monthly_rankings,
    unit_rates,
)
