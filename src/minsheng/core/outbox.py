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
#: A batch handler reads what several messages of one topic need in one pass (outside any
#: transaction, writing nothing) and returns, per message id, the write that replaces the
#: topic's ordinary handler in that message's own delivery transaction.
BatchHandler = Callable[[list[OutboxMessage]], dict[int, Callable[[], None]]]
_batch_handlers: dict[str, tuple[BatchHandler, Handler]] = {}

MAX_ATTEMPTS = 8
CLAIM_SECONDS = 120
#: Messages claimed together (one UPDATE, one SELECT, one batch pass per topic). Small enough
#: that the last of them is delivered long before the claim expires.
CLAIM_BATCH = 50


def handles(prefix: str) -> Callable[[Handler], Handler]:
    """Register `fn` for every message whose topic starts with `prefix`."""

    def register(fn: Handler) -> Handler:
        _handlers.append((prefix, fn))
        return fn

    return register


def handles_batch(topic: str, *, replaces: Handler) -> Callable[[BatchHandler], BatchHandler]:
    """Register `fn` as the batch form of `replaces` for messages whose topic is `topic`.
    Messages it returns no write for, and all of them if it fails, go to `replaces` one by one:
    the batch is only a faster way to the same writes, each still committed with its own
    "processed" mark."""

    def register(fn: BatchHandler) -> BatchHandler:
        _batch_handlers[topic] = (fn, replaces)
        return fn

    return register


def _batch_writes(messages: list[OutboxMessage]) -> dict[int, Callable[[], None]]:
    writes: dict[int, Callable[[], None]] = {}
    for topic, (prepare, _single) in _batch_handlers.items():
        group = [m for m in messages if m.topic == topic]
        if not group:
            continue
        try:
            writes.update(prepare(group))
        except Exception:  # the messages are then delivered one by one, each failing on its own
            logger.exception("outbox batch for %s failed; delivering its %s messages one by one", topic, len(group))
    return writes


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(3600, 2 ** attempts * 5))


def outbox_process(*, limit: int = 100, now: dt.datetime | None = None) -> int:
    """Deliver up to `limit` due messages; returns how many were delivered. Messages are
    claimed CLAIM_BATCH at a time; topics with a batch handler do their reading once per
    claimed batch, and every message is then delivered in its own transaction."""
    now = now or timezone.now()
    due = list(
        OutboxMessage.objects.filter(processed_at__isnull=True, available_at__lte=now, attempts__lt=MAX_ATTEMPTS)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    delivered = 0
    for start in range(0, len(due), CLAIM_BATCH):
        # The claim's expiry doubles as its token: only the worker holding this exact claim
        # may mark a message processed (see _deliver).
        claim = max(now, timezone.now()) + dt.timedelta(seconds=CLAIM_SECONDS)
        chunk = due[start:start + CLAIM_BATCH]
        claimed = (
            OutboxMessage.objects.filter(pk__in=chunk, processed_at__isnull=True)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .update(claimed_until=claim)
        )
        if not claimed:
            continue
        messages = list(OutboxMessage.objects.filter(pk__in=chunk, claimed_until=claim).order_by("id"))
        writes = _batch_writes(messages) if _batch_handlers else {}
        for message in messages:
            delivered += _deliver(message, claim, writes.get(message.pk))
    return delivered


def _deliver(message: OutboxMessage, claim: dt.datetime, batch_write: Callable[[], None] | None) -> int:
    """Run the message's handlers (or its batch write) and mark it processed, together."""
    replaced = _batch_handlers[message.topic][1] if batch_write is not None else None
    try:
        with transaction.atomic():
            for prefix, handler in _handlers:
                if message.topic.startswith(prefix):
                    if handler is replaced:
                        batch_write()
                    else:
                        handler(message)
            # A worker that outlived its claim (stalled, or thought dead) must not commit:
            # another worker has taken the message over, so roll this delivery back.
            marked = OutboxMessage.objects.filter(pk=message.pk, claimed_until=claim, processed_at__isnull=True).update(
                processed_at=timezone.now(), claimed_until=None, last_error=""
            )
            if marked != 1:
                raise ClaimLost(message.pk)
        return 1
    except ClaimLost:
        logger.warning("outbox message %s: claim expired before delivery finished; left to the new claimant", message.pk)
    except Exception as exc:  # a handler failure must not stop the others
        logger.exception("outbox message %s failed", message.pk)
        OutboxMessage.objects.filter(pk=message.pk, claimed_until=claim).update(
            attempts=message.attempts + 1,
            claimed_until=None,
            available_at=timezone.now() + _backoff(message.attempts + 1),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        )
    return 0


class ClaimLost(Exception):
    """This worker's claim on a message expired and was taken over before it finished."""
