"""Celery tasks of the core (production) — thin wrappers over the services, safe to run twice."""

from __future__ import annotations

import logging
import time

from celery import shared_task

logger = logging.getLogger(__name__)

#: A drain stops after this long so one task never holds a worker slot for ever; the next
#: nudge or the beat sweep carries on.
DRAIN_SECONDS = 20.0


@shared_task(name="minsheng.outbox.drain", ignore_result=True)
def outbox_drain(limit: int = 200) -> int:
    """Deliver due outbox messages until none is left (or DRAIN_SECONDS pass).

    The outbox table is the record, the Celery message only a nudge: a lost nudge is picked up
    by the next one or by beat's sweep, and a worker killed mid-message leaves a claim that
    expires (outbox.CLAIM_SECONDS), after which another worker delivers it — once, because the
    handlers' writes and the "processed" mark commit together and only under the live claim.
    """
    from .outbox import outbox_process

    delivered = 0
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        done = outbox_process(limit=limit)
        delivered += done
        if done < 1:
            break
    return delivered
