"""Starting each order's lifecycle and resuming its waits, as order events are applied."""

from __future__ import annotations

import contextlib
from typing import Any

from functions.orders.lifecycle import resume_waits
from functions.orders.operations import OperationRefused, cancel_order, receive_returns
from functions.orders.refunds import resume_refund_waits
from functions.risk.history import DynamoHistory
from shared import workflows
from shared.events import (
    ChargeRefunded,
    DisputeOpened,
    OrderCancelled,
    OrderPlaced,
    ShipmentUpdated,
)
from shared.lifecycle_store import LifecycleStore
from shared.order_store import OrderStore
from shared.tenants import TenantDirectory, TenantSettings


def waits_for(tenant: TenantSettings, seconds_per_day: int) -> dict[str, int]:
    """The lifecycle's waits in seconds: the tenant's days and hours on the deployment's scale."""
    return {
        "review_s": max(1, tenant.review_timeout_hours * seconds_per_day // 24),
        "dispatch_s": max(1, tenant.dispatch_sla_days * seconds_per_day),
        "delivery_s": max(1, tenant.delivery_timeout_days * seconds_per_day),
        "return_window_s": max(1, tenant.return_window_days * seconds_per_day),
    }


class LifecycleStarter:
    def __init__(
        self,
        table: str,
        state_machine_arn: str,
        seconds_per_day: int,
        orders: OrderStore | None = None,
    ) -> None:
        # Given the processor's own store, the aggregate it just wrote is read from that
        # store's cache instead of being fetched again for every event.
        self.orders = orders or OrderStore(table)
        self.lifecycle = LifecycleStore(table)
        self.tenants = TenantDirectory(table)
        self.history = DynamoHistory(table)
        self.state_machine_arn = state_machine_arn
        self.seconds_per_day = seconds_per_day

    def order_changed(self, event: Any, order_id: str, result: str) -> None:
        if isinstance(event, OrderPlaced) and result in ("applied", "duplicate"):
            tenant = self.tenants.get(event.tenant)
            if tenant is not None:
                workflows.start_once(
                    self.state_machine_arn,
                    workflows.execution_name(event.tenant, order_id),
                    {
                        "tenant": event.tenant,
                        "order_id": order_id,
                        "capture_mode": tenant.capture_mode,
                        "waits": waits_for(tenant, self.seconds_per_day),
                    },
                    identity=(event.tenant, order_id),
                )
        if isinstance(event, OrderCancelled) and result == "applied":
            # Shipped already: the shop's cancellation stays on the timeline for an operator.
            with contextlib.suppress(OperationRefused):
                cancel_order(
                    self.orders.table_name,
                    event.tenant,
                    order_id,
                    event.reason or "cancelled by the shop",
                )
        state, _ = self.orders.load_for_update(event.tenant, order_id)
        resume_waits(event.tenant, order_id, state, self.lifecycle)
        if isinstance(event, ChargeRefunded):
            resume_refund_waits(event.tenant, order_id, state, self.lifecycle)
        if isinstance(event, ChargeRefunded | DisputeOpened | OrderPlaced) and result == "applied":
            # Screening of the customer's later orders counts refunds and chargebacks; filed
            # whichever of the order and its outcome arrived first.
            self.history.record_outcomes(state)
        if isinstance(event, ShipmentUpdated) and event.status == "delivered":
            receive_returns(self.orders.table_name, event.tenant, order_id, state)
