"""Early fraud warnings (Stripe Radar's ``radar.early_fraud_warning.*``): the issuer reported a
charge as fraud, and a dispute often follows. Every warning is kept (it counts in Visa's VAMP
ratio); an actionable one on an order not shipped yet is cancelled and refunded before it
becomes a dispute, once, when the tenant's policy says so (``disputes.early_fraud_warning``);
a shipped order, or a tenant that only wants to know, is an alert to the client team."""

from __future__ import annotations

from typing import Any

from functions.disputes.ports import CancellationRefused, Ports
from shared.notices.disputes import EarlyFraudWarningNotice
from shared.order_aggregate import OrderState

RECORDED = "recorded"
CANCELLED = "cancelled"
ALERTED = "alerted"
ALREADY_DONE = "already_done"


def _brand(state: OrderState | None, charge_id: str) -> str:
    if state is None:
        return "unknown"
    for payment in state.payments.values():
        if charge_id in payment.charge_ids and payment.card is not None:
            return str(payment.card.value.get("brand") or "unknown").lower()
    return "unknown"


def _order_of(ports: Ports, event: Any) -> str | None:
    refs = [f"charge:{event.charge_id}"]
    if event.payment_id:
        refs.append(f"payment:{event.payment_id}")
    return next((o for ref in refs if (o := ports.orders.resolve(event.tenant, ref))), None)


def fraud_warning_taken(ports: Ports, event: Any) -> str:
    order_id = _order_of(ports, event)
    state = ports.orders.load(event.tenant, order_id) if order_id else None
    ports.warnings.record(
        event.tenant,
        event.warning_id,
        event.occurred_at.strftime("%Y-%m"),
        {
            "charge_id": event.charge_id,
            "order_id": order_id or "",
            "brand": _brand(state, event.charge_id),
            "fraud_type": event.fraud_type or "",
            "actionable": "yes" if event.actionable else "no",
            "raised_at": event.occurred_at.isoformat(),
        },
    )
    if not event.actionable:
        return RECORDED
    settings = ports.tenants.get(event.tenant)
    policy = settings.disputes.early_fraud_warning if settings else "alert"
    if state is None or order_id is None:
        outcome = "no order of ours holds this charge: look it up at Stripe"
    elif state.shipments:
        outcome = "the order has shipped: watch for the dispute, gather its delivery evidence"
    elif policy != "cancel_unshipped":
        outcome = "not shipped; the tenant's policy is to alert only: cancel it if you agree"
    else:
        return _cancel(ports, event, order_id)
    _alert(ports, event, order_id, outcome)
    return ALERTED


def _cancel(ports: Ports, event: Any, order_id: str) -> str:
    # Once per order, whichever warning (created, updated, redelivered) comes first; the
    # cancellation's refunds are themselves claimed once per payment.
    key = f"efw-cancel|{order_id}"
    if ports.actions.done(event.tenant, key):
        return ALREADY_DONE
    reason = f"early fraud warning {event.warning_id} ({event.fraud_type or 'fraud reported'})"
    try:
        result = ports.cancellation.cancel(event.tenant, order_id, reason)
    except CancellationRefused as refused:
        _alert(ports, event, order_id, f"could not be cancelled: {refused}")
        return ALERTED
    ports.actions.record(event.tenant, key, reason)
    refunds = len(result.get("refunds") or [])
    _alert(
        ports,
        event,
        order_id,
        f"not shipped: cancelled and {refunds} refund(s) started before it becomes a dispute",
    )
    return CANCELLED


def _alert(ports: Ports, event: Any, order_id: str | None, outcome: str) -> None:
    ports.alerts.send(
        EarlyFraudWarningNotice(
            tenant=event.tenant,
            order_id=order_id,
            warning_id=event.warning_id,
            charge_id=event.charge_id,
            fraud_type=event.fraud_type,
            outcome=outcome,
        )
    )
