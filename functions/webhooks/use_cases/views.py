"""What operators ask of ingestion: one order in full, and the counts of what came in."""

from __future__ import annotations

from collections import Counter
from typing import Any

from functions.webhooks.domain.sources import SOURCES
from functions.webhooks.ports import EventCounts, OrderReader
from shared.order_aggregate import ORDER_STATUSES


def order_view(store: OrderReader, tenant: str, order_id: str) -> dict[str, Any] | None:
    state, version = store.load(tenant, order_id)
    if version == 0:
        return None
    order = state.order
    return {
        "tenant": tenant,
        "order_id": order_id,
        "status": state.status(),
        "version": version,
        "currency": state.currency,
        "total": order.total.amount if order else None,
        "paid": state.paid(),
        "refunded": state.refunded(),
        "customer": order.customer.model_dump(exclude_none=True) if order else None,
        "lines": [line.model_dump(mode="json") for line in order.lines] if order else [],
        "payments": [
            {
                "payment_id": p.payment_id,
                "status": p.status,
                "amount": p.amount,
                "captured": p.captured,
                "refunded": p.refunded,
                # Each refund by its gateway id: one the card's bank sent back shows failed,
                # with why.
                "refunds": [
                    {
                        "refund_id": refund_id,
                        "amount": r.amount,
                        "status": r.status.value,
                        "failure_reason": r.failure_reason.value if r.failure_reason else None,
                    }
                    for refund_id, r in sorted(p.refunds.items())
                ],
                "charges": p.charge_ids,
                "card": p.card.value if p.card else None,
            }
            for p in state.payments.values()
        ],
        "disputes": [
            {
                "dispute_id": d.dispute_id,
                "status": d.status.value,
                "amount": d.amount,
                "reason": d.reason,
            }
            for d in state.disputes.values()
        ],
        "shipments": [
            {
                "tracking_code": s.tracking_code,
                "carrier": s.carrier,
                "status": s.state,
                "lines": state.parcel_lines(s),
                "since": (
                    s.delivered_at or (s.status.at if s.status else s.first_seen_at)
                ).isoformat(),
                "tracking_url": s.tracking_url,
            }
            for s in state.shipments.values()
        ],
        "timeline": [
            {
                "occurred_at": e["occurred_at"],
                "source": e["source"],
                "kind": e["event_kind"],
                "event_id": e["event_id"],
                "summary": e["summary"],
            }
            for e in store.timeline(tenant, order_id)
        ],
    }


# Processing leaves what it applied as stored (``received``); items stored before it stopped
# marking them say ``applied``, and are counted as received like the rest.
_STATUS_COUNTED_AS = {"applied": "received"}


def stats_view(counts: EventCounts, tenant: str) -> dict[str, Any]:
    """Events the table holds per source and status (``received``: processed unless marked
    ``ignored`` or ``rejected``), event types, orders per status, dead letters."""
    by_source: dict[str, Counter[str]] = {}
    by_type: Counter[str] = Counter()
    for source in SOURCES:
        per_status: Counter[str] = Counter()
        for status, event_type in counts.raw_events(tenant, source):
            per_status[_STATUS_COUNTED_AS.get(status, status)] += 1
            by_type[f"{source}:{event_type}"] += 1
        if per_status:
            by_source[source] = per_status
    stats: dict[str, Any] = {
        "tenant": tenant,
        "raw_events": {s: dict(c) for s, c in by_source.items()},
        "raw_events_total": sum(sum(c.values()) for c in by_source.values()),
        "event_types": dict(by_type.most_common()),
        "orders_by_status": {
            s: n for s in ORDER_STATUSES if (n := counts.orders_with_status(tenant, s))
        },
    }
    dead_letters = counts.dead_letters()
    if dead_letters is not None:
        stats["dead_letters"] = dead_letters
    return stats
