"""What operators and shops do to an order: cancel it, refund it, open and inspect a return
(``returns.py``), decide a review.

The public use cases of the orders context: the operator API, the signed-link route, the
processor (a shop's cancellation), reconciliation (refunds of duplicates) and the lifecycle's own
cancellations call these. Each refuses clearly when the order's state does not allow it.
"""

from __future__ import annotations

from typing import Any

from functions.orders import contracts as c
from functions.orders.domain import (
    SHIPPED,
    OperationRefused,
    amount_due,
)
from functions.orders.ports import Ports
from functions.orders.use_cases.lifecycle import decide, resume_waits
from functions.orders.use_cases.notify import customer_of, notify
from functions.orders.use_cases.parcels import move_claim
from functions.orders.use_cases.refund_requests import refund_all_payments, request_refund
from functions.orders.use_cases.returns import inspect_return, open_return, return_parcels_moved
from functions.orders.use_cases.reviews import record_call_outcome

__all__ = [
    "cancel_order",
    "claims",
    "decide_review",
    "inspect_return",
    "open_claims",
    "open_return",
    "record_call_outcome",
    "record_claim",
    "refund_all_payments",
    "request_refund",
    "return_parcels_moved",
]
from shared.order_aggregate import OrderState


def cancel_order(
    ports: Ports,
    tenant: str,
    order_id: str,
    reason: str,
    *,
    stop_lifecycle: bool = True,
    cause: c.RefundCause = c.RefundCause.SHOP_CANCELLED,
) -> dict[str, Any]:
    """Cancel before shipment: stop the lifecycle, refund what was paid (for ``cause``), tell
    the customer. ``reason`` is the words recorded on the stage and the stopped execution."""
    state, version = ports.orders.load(tenant, order_id)
    if version == 0:
        raise OperationRefused(f"order {order_id!r} is not known")
    if state.shipment_status() in SHIPPED:
        raise OperationRefused("the order has shipped: open a return instead")
    if stop_lifecycle and ports.lifecycle_machine:
        ports.workflows.stop(ports.lifecycle_machine, (tenant, order_id), "OrderCancelled", reason)
    ports.records.set_stage(tenant, order_id, c.Stage.CANCELLED, reason)
    # The stopped lifecycle leaves its waits behind: a late approve link or carrier scan must
    # find nothing to resume.
    lifecycle_waits = {"review", *map(str, c.WaitKind)}
    for wait in ports.records.waiting(tenant, order_id) & lifecycle_waits:
        ports.records.take_wait(tenant, order_id, wait)
    due = amount_due(state)
    settings = ports.tenants.get(tenant)
    if ports.vendor_ledger is not None and settings is not None:
        # Before the refunds start, so their completion finds the sale voided.
        ports.vendor_ledger.cancelled(settings, state)
    refunds = refund_all_payments(ports, tenant, state, cause) if ports.refund_machine else []
    _tell_customer_cancelled(ports, tenant, state, due)
    return {"cancelled": True, "refund_due": due, "refunds": refunds}


def _tell_customer_cancelled(ports: Ports, tenant: str, state: OrderState, due: int) -> None:
    """The customer hears of the cancellation once, whoever cancelled (operator, shop or the
    lifecycle: the notification log keeps it to one e-mail per order)."""
    settings = ports.tenants.get(tenant)
    if settings is None or state.order is None:
        return
    extra: dict[str, Any] = {"reason": None}
    if due > 0 and state.currency:
        extra["refund"] = {"amount": due, "currency": state.currency}
    notify(ports, "order_cancelled", state, settings, customer_of(state), extra)


def decide_review(
    ports: Ports, tenant: str, order_id: str, decision: str, by: str
) -> dict[str, Any]:
    """An operator approves or rejects a held order (operator API, signed links)."""
    step = c.DecideInput(
        tenant=tenant,
        order_id=order_id,
        action=c.LifecycleAction.DECIDE,
        decision=c.ReviewDecision(decision),
        by=by,
    )
    return decide(ports, step)


def claims(ports: Ports, tenant: str, order_id: str) -> list[dict[str, Any]]:
    """The order's carrier claims, one per parcel, each with its history."""
    return sorted(ports.records.claims(tenant, order_id), key=lambda c: c["tracking_code"])


def open_claims(ports: Ports, tenant: str) -> list[dict[str, Any]]:
    """The tenant's claims still waiting for the carrier."""
    return sorted(ports.records.open_claims(tenant), key=lambda c: c["opened_at"])


def record_claim(
    ports: Ports,
    tenant: str,
    order_id: str,
    tracking_code: str,
    status: str,
    *,
    by: str,
    reference: str | None = None,
    amount_paid: int | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Record the carrier's answer to a claim (accepted, rejected, paid, with its reference),
    or withdraw it; a decided claim may settle the order's last parcel, and the lifecycle's
    delivery wait moves on."""
    moved = move_claim(
        ports,
        tenant,
        order_id,
        tracking_code,
        status,
        by=by,
        reference=reference,
        amount_paid=amount_paid,
        note=note,
        expected_version=expected_version,
    )
    state, _ = ports.orders.load(tenant, order_id)
    resume_waits(ports, tenant, order_id, state)
    return moved
