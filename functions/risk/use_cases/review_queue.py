"""The review queue: orders held as potential fraud, oldest first, with reasons and age, and the
call task for the client team once it is due (phone, what to ask about, the calls so far)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from functions.risk.ports import OrderPort, StagePort


def _age_hours(since: str | None, now: datetime) -> float | None:
    if not since:
        return None
    held = datetime.fromisoformat(since)
    if held.tzinfo is None:
        held = held.replace(tzinfo=UTC)
    return round((now - held).total_seconds() / 3600, 1)


def review_queue(
    stages: StagePort, orders: OrderPort, tenant: str, now: datetime
) -> list[dict[str, Any]]:
    queue: list[dict[str, Any]] = []
    for held in stages.in_stage(tenant, "potential_fraud"):
        order_id = held["order_id"]
        screening = stages.screening(tenant, order_id) or {}
        state, _ = orders.load(tenant, order_id)
        order = state.order
        signals = screening.get("signals") or {}
        review = stages.review(tenant, order_id) or {}
        call = review.get("call_task")
        queue.append(
            {
                "order_id": order_id,
                "held_since": held.get("updated_at"),
                "age_hours": _age_hours(held.get("updated_at"), now),
                "score": screening.get("score"),
                "reasons": screening.get("reasons") or [],
                "rules": screening.get("matched_rules") or [],
                "ruleset_version": screening.get("ruleset_version"),
                "amount": order.total.amount if order else None,
                "currency": order.total.currency if order else None,
                "customer_email": order.customer.email if order else None,
                "ip_country": signals.get("ip_country"),
                "billing_country": signals.get("billing_country"),
                "shipping_country": signals.get("shipping_country"),
                "call": {**call, "outcomes": review.get("outcomes") or []} if call else None,
            }
        )
    queue.sort(key=lambda entry: entry["held_since"] or "")
    return queue
