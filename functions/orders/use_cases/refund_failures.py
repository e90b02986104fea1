"""Refunds the gateway failed after it took them (Stripe: up to 30 days later, the card
closed or lost): the order already counts the money as held again (the aggregate adds
refunds up by id); here the refund request says so, its reservation is given back, so the
money can be refunded again another way, and the client team is told once per refund."""

from __future__ import annotations

from typing import Any

from functions.orders.ports import Ports
from shared.observability import logger
from shared.order_aggregate import OrderState

# The notice kinds (shared.notices.orders) load in the step that raises one: most raise none.

UNKNOWN_REASON = "unknown"


def refunds_failed_at_gateway(
    ports: Ports, tenant: str, order_id: str, state: OrderState
) -> list[str]:
    """Record and tell every refund of the order the gateway reports failed or canceled;
    returns the gateway refund ids told about now (none when all were told before)."""
    failed = [
        (payment, refund_id, facts)
        for payment in state.payments.values()
        for refund_id, facts in payment.failed_refunds()
    ]
    if not failed:
        return []
    requests = ports.refunds.requests(tenant, order_id)
    told: list[str] = []
    for payment, gateway_id, facts in failed:
        reason = facts.failure_reason.value if facts.failure_reason else UNKNOWN_REASON
        mine = next((r for r in requests if r.get("gateway_refund_id") == gateway_id), None)
        details: dict[str, Any] = {
            "tenant": tenant,
            "order_id": order_id,
            "gateway_refund": gateway_id,
            "payment": payment.payment_id,
            "amount": facts.amount,
            "currency": payment.currency,
            "status": facts.status.value,
            "reason": reason,
            "refund": mine["refund_id"] if mine else None,
        }
        if mine is not None and mine.get("status") != "failed":
            # Both steps are idempotent: a redelivered failure changes nothing more.
            released = ports.refunds.release(tenant, order_id, mine["refund_id"])
            ports.refunds.record(
                tenant,
                order_id,
                mine["refund_id"],
                status="failed",
                failure=f"the gateway reports the refund {facts.status.value}: {reason}",
                failed_step="gateway",
                failed_at=facts.status.at.isoformat(),
            )
            logger.warning("refund failed at the gateway", extra={**details, "released": released})
        # One conditional write decides who tells the client team: exactly once per refund.
        if not ports.refunds.note_gateway_failure(tenant, order_id, gateway_id, details):
            continue
        from shared.notices.orders import RefundFailedAtGateway

        ports.alerts.send(
            RefundFailedAtGateway(
                tenant=tenant,
                order_id=order_id,
                refund_id=mine["refund_id"] if mine else None,
                gateway_refund_id=gateway_id,
                payment_id=payment.payment_id,
                amount=facts.amount,
                currency=payment.currency,
                status=facts.status.value,
                reason=reason,
            )
        )
        told.append(gateway_id)
    return told
