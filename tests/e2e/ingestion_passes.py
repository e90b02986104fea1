"""One in-order pass over a scenario's deliveries, in memory, with the product's own code.

The reference the chaos run is compared with: the same verification-free path (identify,
normalise, route) applied once per unique event in the order the sandboxes produced them.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from functions.webhooks.domain import sources
from functions.webhooks.domain.normalise import normalise
from functions.webhooks.use_cases.apply import route
from local.sandboxes.delivery import Delivery
from shared.clock import SYSTEM_CLOCK
from shared.events import Ignored, OrderPlaced, PayoutFailed, PayoutPaid, Source
from tests.fakes import InMemoryOrders


def source_of(delivery: Delivery) -> tuple[str, str]:
    """(tenant, source) from the webhook URL."""
    parts = urlsplit(delivery.url).path.strip("/").split("/")
    return parts[1], parts[-1]


def in_order_pass(deliveries: list[Delivery]) -> tuple[InMemoryOrders, set[tuple[str, str]], int]:
    """Apply each unique delivery once, in order; returns the orders, the unique (source, event
    id) pairs and how many domain events went to orders."""
    orders = InMemoryOrders()
    seen: set[tuple[str, str]] = set()
    applied_to_orders = 0
    for delivery in deliveries:
        tenant, source = source_of(delivery)
        headers = {k.lower(): v for k, v in delivery.headers_now().items()}
        document = json.loads(delivery.body)
        identified = sources.identify(source, document, delivery.body, headers)
        if (source, identified.event_id) in seen:
            continue
        seen.add((source, identified.event_id))
        try:
            events = normalise(
                Source(source),
                tenant,
                document,
                event_id=identified.event_id,
                received_at=SYSTEM_CLOCK.now(),
            )
        except Ignored:
            continue
        for event in events:
            if isinstance(event, PayoutPaid | PayoutFailed):
                continue
            route(event, orders)
            applied_to_orders += 1
    return orders, seen, applied_to_orders


def placed_orders(orders: InMemoryOrders, tenant: str) -> dict[str, Any]:
    return {
        oid: state
        for (t, oid), (state, _) in orders.orders.items()
        if t == tenant and isinstance(state.order, OrderPlaced)
    }
