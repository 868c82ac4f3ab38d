"""Delivery of outbox messages to their handlers.

Handlers register for a topic prefix and must be idempotent (they get the message id, and a
message can be delivered again after a crash). A worker claims a message with a conditional
UPDATE on `claimed_until`, so several workers never run the same message at once; a claim
expires after CLAIM_SECONDS, so a message held by a crashed worker is delivered by another,
and the handlers' writes commit only together with the "processed" mark under a live claim,
so a stalled worker that wakes up late cannot deliver it a second time.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger(__name__)

Handler = Callable[[OutboxMessage], None]
_handlers: list[tuple[str, Handler]] = []

MAX_ATTEMPTS = 8
CLAIM_SECONDS = 120


def handles(prefix: str) -> Callable[[Handler], Handler]:
    """Register `fn` for every message whose topic starts with `prefix`."""

    def register(fn: Handler) -> Handler:
        _handlers.append((prefix, fn))
        return fn

    return register


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(3600, 2 ** attempts * 5))


def outbox_process(*, limit: int = 100, now: dt.datetime | None = None) -> int:
    """Deliver up to `limit` due messages; returns how many were delivered."""
    now = now or timezone.now()
    due = (
        OutboxMessage.objects.filter(processed_at__isnull=True, available_at__lte=now, attempts__lt=MAX_ATTEMPTS)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    delivered = 0
    for message_id in list(due):
        # The claim's expiry doubles as its token: only the worker holding this exact claim
        # may mark the message processed (see below).
        claim = max(now, timezone.now()) + dt.timedelta(seconds=CLAIM_SECONDS)
        claimed = (
            OutboxMessage.objects.filter(pk=message_id, processed_at__isnull=True)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .update(claimed_until=claim)
        )
        if not claimed:
            continue
        message = OutboxMessage.objects.get(pk=message_id)
        try:
            with transaction.atomic():
                for prefix, handler in _handlers:
                    if message.topic.startswith(prefix):
                        handler(message)
                # A worker that outlived its claim (stalled, or thought dead) must not commit:
                # another worker has taken the message over, so roll this delivery back.
                marked = OutboxMessage.objects.filter(pk=message_id, claimed_until=claim, processed_at__isnull=True).update(
                    processed_at=timezone.now(), claimed_until=None, last_error=""
                )
                if marked != 1:
                    raise ClaimLost(message_id)
            delivered += 1
        except ClaimLost:
            logger.warning("outbox message %s: claim expired before delivery finished; left to the new claimant", message_id)
        except Exception as exc:  # a handler failure must not stop the others
            logger.exception("outbox message %s failed", message_id)
            OutboxMessage.objects.filter(pk=message_id, claimed_until=claim).update(
                attempts=message.attempts + 1,
                claimed_until=None,
                available_at=timezone.now() + _backoff(message.attempts + 1),
                last_error=f"{type(exc).__name__}: {exc}"[:2000],
            )
    return delivered


class ClaimLost(Exception):
    """This worker's claim on a message expired and was taken over before it finished."""
