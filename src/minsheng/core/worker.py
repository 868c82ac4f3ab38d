"""The embedded background worker: in the demo and single-process deployments, a thread in
the web process runs the same periodic jobs Celery beat schedules in production."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.db import close_old_connections

logger = logging.getLogger(__name__)

_started = threading.Event()

#: Jobs of the apps above core, which core must not import: each registers itself from its
#: AppConfig.ready() and runs after the built-in jobs of every round.
_registered: dict[str, Callable[[], object]] = {}


def periodic_job(name: str) -> Callable[[Callable[[], object]], Callable[[], object]]:
    """Register `fn` (no arguments, safe to run twice) as the periodic job `name`."""

    def register(fn: Callable[[], object]) -> Callable[[], object]:
        _registered[name] = fn
        return fn

    return register


def run_periodic_jobs() -> dict:
    """One round of every periodic job; what Celery beat calls in production."""
    from minsheng.cases.services import cases_close_unanswered, cases_flag_due

    from .outbox import outbox_process
    from .services import calendar_ensure_years

    results: dict = {
        "outbox": outbox_process(),
        "flags": cases_flag_due(),
        "closed_without_feedback": cases_close_unanswered(),
    }
    for name, job in {"calendar": calendar_ensure_years, **_registered}.items():
        try:
            results[name] = job()
        except Exception:  # one app's failing job must not stop the others
            logger.exception("periodic job %s failed", name)
            results[name] = None
    return results


def start_embedded_worker(interval: float = 30.0) -> None:
    if _started.is_set():
        return
    _started.set()

    def loop() -> None:
        while True:
            try:
                run_periodic_jobs()
            except Exception:
                logger.exception("embedded worker round failed")
            finally:
                close_old_connections()
            time.sleep(interval)

    threading.Thread(target=loop, name="minsheng-worker", daemon=True).start()
