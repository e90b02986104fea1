"""From a stored raw event to its effects: normalise, then apply each domain event.

Used by the stream processor and by replays alike, so a replay does exactly what the first
pass did (and, thanks to the timeline, changes nothing when the event was applied already).
An applied event is left as stored (``received``): marking it would be a second write of the
whole item and its index copy for every webhook, and the order's timeline already records what
each event did. What could not be used is marked (``ignored``, ``rejected``) for operators.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from functions.webhooks.domain.applying import APPLIED, IGNORED, REJECTED, change_days
from functions.webhooks.domain.normalise import normalise
from functions.webhooks.domain.normalise.stripe import balance_transaction_from_stripe
from functions.webhooks.ports import (
    DisputeDesk,
    GatewayPort,
    LifecyclePort,
    OrderChangeLog,
    OrderRepository,
    RawEventStore,
    SettlementStore,
    StoredEvent,
)
from functions.webhooks.use_cases.apply import route_to_order
from shared.clock import SYSTEM_CLOCK, Clock
from shared.events import (
    DisputeClosed,
    DisputeFundsReinstated,
    DisputeFundsWithdrawn,
    DisputeOpened,
    DisputeUpdated,
    EarlyFraudWarningRaised,
    Ignored,
    Malformed,
    PayoutFailed,
    PayoutPaid,
    Source,
)
from shared.observability import logger


@dataclass
class Dependencies:
    raw_events: RawEventStore[Any]
    orders: OrderRepository
    settlements: SettlementStore
    gateway_for: Callable[[str], GatewayPort]  # tenant → gateway client
    lifecycle: LifecyclePort | None = None
    # Which orders changed on which day, for the daily reconciliation (None: not kept).
    changes: OrderChangeLog | None = None
    # The chargeback desk: a case per dispute (None: no cases kept).
    disputes: DisputeDesk | None = None
    # Replays by time: which part of a window only the archive still holds.
    clock: Clock = SYSTEM_CLOCK


_DISPUTE_EVENTS = (
    DisputeOpened,
    DisputeUpdated,
    DisputeClosed,
    DisputeFundsWithdrawn,
    DisputeFundsReinstated,
)


def process(raw: StoredEvent, deps: Dependencies) -> str:
    """Apply one stored event; returns ``applied``, ``ignored`` or ``rejected``.

    Raises for anything that may succeed on a retry (throttling, a conflict storm, a bug about
    to be fixed): the stream retries, then the dead-letter queue keeps it for replay.
    """
    body = deps.raw_events.body_of(raw)
    try:
        document = json.loads(body)
        events = normalise(
            Source(raw.source),
            raw.tenant,
            document,
            event_id=raw.event_id,
            received_at=datetime.fromisoformat(raw.received_at),
        )
    except Ignored as ignored:
        deps.raw_events.mark(raw, IGNORED, str(ignored))
        return IGNORED
    except (Malformed, json.JSONDecodeError) as malformed:
        # Signed by the source but unusable: retrying cannot help. Kept, marked, alerted on.
        logger.error(
            "rejected stored event",
            extra={
                "tenant": raw.tenant,
                "source": raw.source,
                "event_id": raw.event_id,
                "reason": str(malformed),
            },
        )
        deps.raw_events.mark(raw, REJECTED, str(malformed))
        return REJECTED
    outcomes = []
    for event in events:
        if isinstance(event, PayoutPaid | PayoutFailed):
            outcomes.append(deps.settlements.apply(event))
            if isinstance(event, PayoutPaid):
                deps.settlements.file_balance_transactions(
                    event.tenant,
                    event.payout_id,
                    (
                        balance_transaction_from_stripe(obj, payout_id=event.payout_id)
                        for obj in deps.gateway_for(event.tenant).balance_transactions_for_payout(
                            event.payout_id
                        )
                    ),
                )
        elif isinstance(event, EarlyFraudWarningRaised):
            # Not a fact of the order aggregate: the chargeback desk keeps and acts on it.
            outcomes.append(
                deps.disputes.fraud_warning(event) if deps.disputes is not None else IGNORED
            )
        else:
            result, order_id = route_to_order(event, deps.orders)
            outcomes.append(result)
            if order_id and deps.changes is not None:
                # Before the orders context acts: a crash after this leaves the event to be
                # redelivered, and the note (idempotent) is already there for reconciliation.
                deps.changes.note(
                    event.tenant,
                    order_id,
                    change_days(event.occurred_at, datetime.fromisoformat(raw.received_at)),
                )
            if order_id and deps.lifecycle is not None:
                deps.lifecycle.order_changed(event, order_id, result)
            if isinstance(event, _DISPUTE_EVENTS) and deps.disputes is not None:
                # Parked ones too: a dispute on a charge we never saw still gets its case.
                deps.disputes.dispute_event(event, order_id)
    logger.debug("applied", extra={"event_id": raw.event_id, "outcomes": outcomes})
    return APPLIED
