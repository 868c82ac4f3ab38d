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
from contextvars import ContextVar
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import OutboxMessage
from .services import audit_appends_together

logger = logging.getLogger(__name__)

Handler = Callable[[OutboxMessage], None]
_handlers: list[tuple[str, Handler]] = []
#: A batch handler does, for all the messages of one topic in a claimed chunk, what its
#: ordinary handler does for each, inside the chunk's one transaction (reading and writing
#: once for all of them). If it raises, the chunk is delivered message by message instead,
#: with the ordinary handler.
BatchHandler = Callable[[list[OutboxMessage]], None]
_batch_handlers: dict[str, tuple[BatchHandler, Handler]] = {}

MAX_ATTEMPTS = 8
CLAIM_SECONDS = 120
#: Messages claimed together (one UPDATE, one SELECT, one transaction, one batch pass per
#: topic). Small enough that the last of them is delivered long before the claim expires.
CLAIM_BATCH = 50


def handles(prefix: str) -> Callable[[Handler], Handler]:
    """Register `fn` for every message whose topic starts with `prefix`."""

    def register(fn: Handler) -> Handler:
        _handlers.append((prefix, fn))
        return fn

    return register


def handles_batch(topic: str, *, replaces: Handler) -> Callable[[BatchHandler], BatchHandler]:
    """Register `fn` as the batch form of `replaces` for messages whose topic is `topic`: the
    same writes for a whole chunk's messages of that topic, committed with the chunk. A
    message delivered on its own (a chunk of one, or a chunk that failed together) goes to
    `replaces`."""

    def register(fn: BatchHandler) -> BatchHandler:
        _batch_handlers[topic] = (fn, replaces)
        return fn

    return register


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(3600, 2 ** attempts * 5))


def outbox_process(*, limit: int = 100, now: dt.datetime | None = None) -> int:
    """Deliver up to `limit` due messages; returns how many were delivered. Messages are
    claimed CLAIM_BATCH at a time, and each claimed chunk is delivered in one transaction
    (`_deliver_together`), or message by message when that fails."""
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
        token = _chunk_memo.set({})
        try:
            together, alone = _deliver_together(messages, claim)
            delivered += together
            for message in alone:
                delivered += _deliver(message, claim)
        finally:
            _chunk_memo.reset(token)
    return delivered


#: What the handlers of one claimed chunk read once for all its messages (`chunk_memo`).
_chunk_memo: ContextVar[dict | None] = ContextVar("outbox_chunk_memo", default=None)


def chunk_memo(key: str, compute: Callable[[], Any]) -> Any:
    """`compute()`, read once per claimed chunk of messages (outside a delivery, every time).
    For what handlers look up on every message and what changes rarely, e.g. the webhook
    endpoints: a change made while a chunk is being delivered applies from the next chunk on,
    as if the chunk had been delivered a moment earlier."""
    memo = _chunk_memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _run_handlers(message: OutboxMessage, *, batched: bool = False) -> None:
    """Every handler of the message; with `batched`, all but the one its topic's batch
    handler has already stood in for."""
    replaced = _batch_handlers[message.topic][1] if batched and message.topic in _batch_handlers else None
    for prefix, handler in _handlers:
        if message.topic.startswith(prefix) and handler is not replaced:
            handler(message)


def _mark_processed(message_ids: list[int], claim: dt.datetime) -> None:
    # A worker that outlived its claim (stalled, or thought dead) must not commit: another
    # worker has taken the message over, so roll this delivery back.
    marked = OutboxMessage.objects.filter(pk__in=message_ids, claimed_until=claim, processed_at__isnull=True).update(
        processed_at=timezone.now(), claimed_until=None, last_error=""
    )
    if marked != len(message_ids):
        raise ClaimLost(message_ids)


def _deliver_together(messages: list[OutboxMessage], claim: dt.datetime) -> tuple[int, list[OutboxMessage]]:
    """Deliver a whole claimed chunk in one transaction: each batch handler once for its
    topic's messages, the other handlers message by message, one "processed" update for all,
    the audit entries appended in one write at the end, one commit. If a message fails, nothing
    of the chunk is kept: the failure is recorded on that message (retried later with backoff,
    as if delivered alone) and the others are returned, for the caller to deliver one by one —
    as are all of them if a batch handler fails or a claim was lost meanwhile.
    Returns (delivered, still to deliver)."""
    if len(messages) < 2:
        return 0, messages
    try:
        with transaction.atomic(), audit_appends_together():
            for topic, (batch, _single) in _batch_handlers.items():
                group = [m for m in messages if m.topic == topic]
                if group:
                    batch(group)
            for message in messages:
                try:
                    _run_handlers(message, batched=True)
                except Exception as exc:
                    raise _HandlerFailed(message) from exc
            _mark_processed([m.pk for m in messages], claim)
    except _HandlerFailed as failed:
        logger.exception("outbox message %s failed", failed.message.pk, exc_info=failed.__cause__)
        _record_failure(failed.message, claim, failed.__cause__)
        return 0, [m for m in messages if m.pk != failed.message.pk]
    except Exception:  # noqa: BLE001 — each message is now delivered (and a failure recorded) on its own
        logger.info("outbox chunk of %s messages not delivered together", len(messages), exc_info=True)
        return 0, messages
    return len(messages), []


class _HandlerFailed(Exception):
    """A handler of `message` raised (the original exception is the cause)."""

    def __init__(self, message: OutboxMessage):
        super().__init__(message.pk)
        self.message = message


def _record_failure(message: OutboxMessage, claim: dt.datetime, exc: BaseException) -> None:
    OutboxMessage.objects.filter(pk=message.pk, claimed_until=claim).update(
        attempts=message.attempts + 1,
        claimed_until=None,
        available_at=timezone.now() + _backoff(message.attempts + 1),
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
    )


def _deliver(message: OutboxMessage, claim: dt.datetime) -> int:
    """Run the message's handlers and mark it processed, together."""
    try:
        with transaction.atomic():
            _run_handlers(message)
            _mark_processed([message.pk], claim)
        return 1
    except ClaimLost:
        logger.warning("outbox message %s: claim expired before delivery finished; left to the new claimant", message.pk)
    except Exception as exc:  # a handler failure must not stop the others
        logger.exception("outbox message %s failed", message.pk)
        _record_failure(message, claim, exc)
    return 0


class ClaimLost(Exception):
    """This worker's claim on a message expired and was taken over before it finished."""
