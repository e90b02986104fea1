"""What the orders context does when the processor applied an event to an order: start its
lifecycle, honour a shop's cancellation, resume the waits the event satisfies, record and tell
refunds the gateway failed, file refunds and chargebacks into the customer's history, refund
returns that came back."""

from __future__ import annotations

import contextlib
from typing import Any

from functions.orders import contracts as c
from functions.orders.domain import OperationRefused, waits_for
from functions.orders.ports import Ports
from functions.orders.use_cases.lifecycle import resume_waits
from functions.orders.use_cases.operations import cancel_order, receive_returns
from functions.orders.use_cases.refund_failures import refunds_failed_at_gateway
from functions.orders.use_cases.refunds import resume_refund_waits
from shared.events import (
    ChargeRefunded,
    DisputeOpened,
    OrderCancelled,
    OrderPlaced,
    RefundUpdated,
    ShipmentUpdated,
)


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
            cancel_order(ports, event.tenant, order_id, event.reason or "cancelled by the shop")
    state, _ = ports.orders.load_for_update(event.tenant, order_id)
    resume_waits(ports, event.tenant, order_id, state)
    if isinstance(event, ChargeRefunded | RefundUpdated):
        resume_refund_waits(ports, event.tenant, order_id, state)
        refunds_failed_at_gateway(ports, event.tenant, order_id, state)
    if isinstance(event, ChargeRefunded | DisputeOpened | OrderPlaced) and result == "applied":
        # Screening of the customer's later orders counts refunds and chargebacks; filed
        # whichever of the order and its outcome arrived first.
        ports.screening.record_outcomes(state)
    if isinstance(event, ShipmentUpdated) and event.status == "delivered":
        receive_returns(ports, event.tenant, order_id, state)
