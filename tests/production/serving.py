"""What the production fault tests share about the server they start."""

from __future__ import annotations

import time
import urllib.request


def wait_until_healthy(base: str, *, attempts: int = 120, pause: float = 0.5) -> None:
    """Wait for `minsheng serve` at `base` to answer /healthz (it imports Django and connects
    first); returns after the first 200, or after `attempts` tries, leaving the test's own
    first request to say what is wrong."""
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(pause)
