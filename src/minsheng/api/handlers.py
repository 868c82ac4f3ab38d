"""Outbox handlers of the open interfaces: case events become webhook deliveries."""

from __future__ import annotations

from minsheng.core.models import OutboxMessage
from minsheng.core.outbox import handles

from .services.webhooks import webhook_deliveries_create


@handles("case.")
def webhooks_fan_out(message: OutboxMessage) -> None:
    webhook_deliveries_create(message=message)
