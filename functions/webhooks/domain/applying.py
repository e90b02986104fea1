"""The pure side of applying domain events to order aggregates: what one application can end
in, when to give up on a moving aggregate, and how an event reads on the order's timeline.

The merge itself is the shared kernel's (``shared.order_aggregate.apply``: order-free, so any
arrival order ends the same); ``use_cases.apply`` drives it through the order repository.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from shared.events import OrderPlaced, RefundUpdated, ShipmentUpdated

MAX_ATTEMPTS = 25

Result = Literal["applied", "duplicate", "parked"]

# What processing makes of a stored event, recorded as its status.
APPLIED = "applied"
IGNORED = "ignored"  # a known type we keep but do not act on
REJECTED = "rejected"  # signed by its source but unusable: retrying cannot help


class ConcurrentUpdates(RuntimeError):
    """The aggregate kept moving under us; the batch is retried (the stream keeps the event)."""


def summary(event: Any) -> str:
    kind = event.kind
    amount = getattr(event, "amount", None) or getattr(event, "amount_refunded", None)
    if isinstance(event, OrderPlaced):
        return f"order placed: {event.total} in {len(event.lines)} lines"
    if isinstance(event, RefundUpdated):
        refund = event.refund
        return f"refund {refund.refund_id} {refund.status}: {refund.amount}"
    if isinstance(event, ShipmentUpdated):
        return f"shipment {event.tracking_code} ({event.carrier or 'carrier'}): {event.status}"
    return f"{kind}: {amount}" if amount is not None else kind


def change_days(occurred_at: datetime, received_at: datetime) -> list[date]:
    """The UTC days an order change is noted under for the daily reconciliation: the day the
    source says it happened and the day it reached us (a late webhook is still seen by the
    next run)."""
    return sorted({occurred_at.astimezone(UTC).date(), received_at.astimezone(UTC).date()})
