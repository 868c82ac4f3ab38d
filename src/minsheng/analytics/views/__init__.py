"""Pages of the analytics: dashboards and ledgers (`dashboard`), hotspots and 每月一题 topics
(`hotspots`), the monthly briefing download and the public board (`briefing`, `board`)."""
