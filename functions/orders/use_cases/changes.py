"""What the orders context does when the processor applied an event to an order: start its
lifecycle, honour a shop's cancellation, act on what carriers say of each parcel, resume the
waits the event satisfies (or keep the delivery wait alive when a parcel moved), record and
tell refunds the gateway failed, file refunds and chargebacks into the customer's history, move
returns whose parcel was scanned."""

from __future__ import annotations

import contextlib
from typing import Any

from functions.orders import contracts as c
from functions.orders.domain import OperationRefused, parcel_moved, waits_for
from functions.orders.ports import Ports
from functions.orders.use_cases.lifecycle import resume_waits, void_authorizations
from functions.orders.use_cases.operations import cancel_order
from functions.orders.use_cases.parcels import parcel_news
from functions.orders.use_cases.refund_failures import refunds_failed_at_gateway
from functions.orders.use_cases.refund_requests import refund_all_payments
from functions.orders.use_cases.refunds import resume_refund_waits
from functions.orders.use_cases.returns import return_parcels_moved
from shared.events import (
    ChargeRefunded,
    DisputeClosed,
    DisputeFundsReinstated,
    DisputeFundsWithdrawn,
    DisputeOpened,
    DisputeUpdated,
    OrderCancelled,
    OrderFulfilled,
    OrderPlaced,
    PaymentAuthorized,
    PaymentSucceeded,
    RefundUpdated,
    ShipmentUpdated,
)
from shared.order_aggregate import OrderState

# What the vendor ledger hears of (functions.payouts: chargebacks).
DISPUTE_EVENTS = (
    DisputeOpened,
    DisputeUpdated,
    DisputeClosed,
    DisputeFundsWithdrawn,
    DisputeFundsReinstated,
)
SHOP_CANCELLED = c.RefundCause.SHOP_CANCELLED
PAID_AFTER_CANCELLATION = c.RefundCause.PAID_AFTER_CANCELLATION
# A shop's cancel reason (Shopify's ``cancel_reason`` words) that says more than "the shop
# cancelled": why its refund is made.
SHOP_CANCEL_CAUSES = {
    "customer": c.RefundCause.CUSTOMER_REQUEST,
    "fraud": c.RefundCause.FRAUD_REPORTED,
    "declined": c.RefundCause.NOT_PAID,
}


def order_changed(ports: Ports, event: Any, order_id: str, result: str) -> None:
    if isinstance(event, OrderPlaced) and result in ("applied", "duplicate"):
        tenant = ports.tenants.get(event.tenant)
        if tenant is not None and ports.lifecycle_machine:
            document = c.LifecycleInput(
                tenant=event.tenant,
                order_id=order_id,
                capture_mode=tenant.capture_mode,
                waits=waits_for(tenant, ports.seconds_per_day),
            )
            ports.workflows.start(
                ports.lifecycle_machine,
                (event.tenant, order_id),
                document.model_dump(mode="json", exclude={"identity"}),
            )
    if isinstance(event, OrderCancelled) and result == "applied":
        # Shipped already: the shop's cancellation stays on the timeline for an operator.
        with contextlib.suppress(OperationRefused):
            cancel_order(
                ports,
                event.tenant,
                order_id,
                event.reason or "cancelled by the shop",
                cause=SHOP_CANCEL_CAUSES.get((event.reason or "").strip().lower(), SHOP_CANCELLED),
            )
    state, _ = ports.orders.load_for_update(event.tenant, order_id)
    moved = False
    if isinstance(event, ShipmentUpdated | OrderFulfilled):
        # Before the waits: a delivery closes its parcel's claim, which the wait then reads.
        parcel_news(ports, event.tenant, order_id, state)
        moved = parcel_moved(state, event)
    resume_waits(ports, event.tenant, order_id, state, moved=moved)
    if isinstance(event, ChargeRefunded | RefundUpdated):
        resume_refund_waits(ports, event.tenant, order_id, state)
        refunds_failed_at_gateway(ports, event.tenant, order_id, state)
    if isinstance(event, ChargeRefunded | DisputeOpened | OrderPlaced) and result == "applied":
        # Screening of the customer's later orders counts refunds and chargebacks; filed
        # whichever of the order and its outcome arrived first.
        ports.screening.record_outcomes(state)
    if isinstance(event, ShipmentUpdated):
        return_parcels_moved(ports, event.tenant, order_id, state)
    if isinstance(event, PaymentAuthorized | PaymentSucceeded) and result == "applied":
        _paid_after_cancellation(ports, event.tenant, order_id, state)
    if isinstance(event, DISPUTE_EVENTS) and result == "applied" and ports.vendor_ledger:
        settings = ports.tenants.get(event.tenant)
        if settings is not None:
            ports.vendor_ledger.disputed(settings, state)


def _paid_after_cancellation(ports: Ports, tenant: str, order_id: str, state: OrderState) -> None:
    """A payment that reaches an order already cancelled (one that settled after the payment
    timeout, say) goes back, as the cancellation told the customer: an authorisation is voided,
    money taken is refunded (once per payment, as every cancellation refunds)."""
    if ports.records.stage(tenant, order_id) != c.Stage.CANCELLED:
        return
    settings = ports.tenants.get(tenant)
    if settings is not None:
        void_authorizations(ports, state, settings, PAID_AFTER_CANCELLATION)
    if ports.refund_machine:
        refund_all_payments(ports, tenant, state, PAID_AFTER_CANCELLATION)
