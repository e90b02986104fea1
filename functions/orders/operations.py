"""What operators and shops do to an order: cancel it, refund it, open a return, decide a review.

Used by the operator API, the signed-link route, the processor (a shop's cancellation) and the
lifecycle's own cancellations. Each refuses clearly when the order's state does not allow it.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from typing import Any

from functions.orders.lifecycle import SHIPPED
from shared import aws, workflows
from shared.lifecycle_store import LifecycleStore
from shared.order_store import OrderStore


class OperationRefused(Exception):
    """The order's state does not allow this (409 for the API)."""


def refund_waits() -> dict[str, int]:
    seconds_per_day = int(os.environ.get("LIFECYCLE_SECONDS_PER_DAY", "86400"))
    return {"confirm_s": max(1, 2 * seconds_per_day)}


def request_refund(
    tenant: str,
    order_id: str,
    *,
    amount: int | None = None,
    lines: list[dict[str, Any]] | None = None,
    reason: str | None = None,
    refund_id: str | None = None,
    refund_state_machine: str | None = None,
    payment_id: str | None = None,
) -> dict[str, Any]:
    """Start the refund workflow once per refund request (a repeated request id is a no-op).

    ``payment_id`` refunds that payment of the order (a duplicate charge), else the payment
    with the most left to refund. The state machine defaults to the deployment's
    (``REFUND_STATE_MACHINE``)."""
    arn = refund_state_machine or os.environ.get("REFUND_STATE_MACHINE")
    if not arn:
        raise OperationRefused("refunds are not configured in this deployment")
    if amount is not None and amount <= 0:
        raise OperationRefused("a refund amount must be positive (minor units)")
    refund_id = refund_id or uuid.uuid4().hex[:16]
    started = workflows.start_once(
        arn,
        workflows.execution_name(tenant, f"{order_id}--refund--{refund_id}"),
        {
            "tenant": tenant,
            "order_id": order_id,
            "refund_id": refund_id,
            "amount": amount,
            "lines": lines,
            "reason": reason or "requested_by_customer",
            "payment_id": payment_id,
            "waits": refund_waits(),
        },
    )
    return {"refund_id": refund_id, "started": started}


def cancel_order(
    table: str,
    tenant: str,
    order_id: str,
    reason: str,
    *,
    stop_lifecycle: bool = True,
    lifecycle_state_machine: str | None = None,
    refund_state_machine: str | None = None,
) -> dict[str, Any]:
    """Cancel before shipment: stop the lifecycle, refund what was paid."""
    orders, lifecycle = OrderStore(table), LifecycleStore(table)
    state, version = orders.load(tenant, order_id)
    if version == 0:
        raise OperationRefused(f"order {order_id!r} is not known")
    if state.shipment_status() in SHIPPED:
        raise OperationRefused("the order has shipped: open a return instead")
    arn = lifecycle_state_machine or os.environ.get("LIFECYCLE_STATE_MACHINE")
    if stop_lifecycle and arn:
        execution = (
            arn.replace(":stateMachine:", ":execution:")
            + ":"
            + workflows.execution_name(tenant, order_id)
        )
        client = aws.client("stepfunctions")
        # Already over (or never started): nothing to stop.
        with contextlib.suppress(client.exceptions.ExecutionDoesNotExist):
            client.stop_execution(
                executionArn=execution, error="OrderCancelled", cause=reason[:256]
            )
    lifecycle.set_stage(tenant, order_id, "cancelled", reason)
    due = max(0, state.paid() - state.refunded())
    refund = (
        request_refund(
            tenant,
            order_id,
            reason="requested_by_customer",
            refund_id="cancellation",
            refund_state_machine=refund_state_machine,
        )
        if due
        else None
    )
    return {"cancelled": True, "refund_due": due, "refund": refund}


def open_return(
    table: str,
    tenant: str,
    order_id: str,
    lines: list[dict[str, Any]],
    reason: str,
    tracking_code: str | None = None,
) -> dict[str, Any]:
    """Open a return for some lines: the parcel coming back is tracked like any shipment, and
    when the carrier reports it delivered to the shop those lines are refunded."""
    from functions.orders.lifecycle import send_email
    from functions.orders.refunds import NotRefundable, amount_for_lines
    from shared.tenants import TenantDirectory

    orders = OrderStore(table)
    state, version = orders.load(tenant, order_id)
    if version == 0 or state.order is None:
        raise OperationRefused(f"order {order_id!r} is not known")
    if state.shipment_status() != "delivered":
        raise OperationRefused("only a delivered order can be returned; cancel it instead")
    try:
        amount = amount_for_lines(state, lines)
    except NotRefundable as bad:
        raise OperationRefused(str(bad)) from None
    return_id = uuid.uuid4().hex[:12]
    tracking = tracking_code or f"RET{return_id.upper()}"
    # The return parcel's updates find the order through its tracking code, like an outbound
    # parcel's; the RETURN item says which lines it carries back.
    orders.link(tenant, f"tracking:{tracking}", order_id)
    aws.client("dynamodb").put_item(
        TableName=table,
        Item={
            "PK": {"S": f"T#{tenant}#ORDER#{order_id}"},
            "SK": {"S": f"RETURN#{return_id}"},
            "kind": {"S": "return"},
            "status": {"S": "opened"},
            "tracking_code": {"S": tracking},
            "lines": {"S": json.dumps(lines)},
            "amount": {"N": str(amount)},
            "reason": {"S": reason},
        },
    )
    settings = TenantDirectory(table).get(tenant)
    if settings is not None:
        send_email(
            "return_opened",
            state,
            settings,
            [state.order.customer.email or ""],
            {
                "return_id": return_id,
                "instructions": (f"Pack the items and ship them with tracking code {tracking}.",),
            },
        )
    return {"return_id": return_id, "tracking_code": tracking, "amount": amount}


def receive_returns(table: str, tenant: str, order_id: str, state: Any) -> list[str]:
    """Refund the lines of every open return whose parcel the carrier delivered back."""
    answer = aws.client("dynamodb").query(
        TableName=table,
        ConsistentRead=True,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
        ExpressionAttributeValues={
            ":pk": {"S": f"T#{tenant}#ORDER#{order_id}"},
            ":p": {"S": "RETURN#"},
        },
    )
    refunded = []
    for item in answer["Items"]:
        if item["status"]["S"] != "opened":
            continue
        parcel = state.shipments.get(item["tracking_code"]["S"])
        if parcel is None or parcel.status is None or parcel.status.value != "delivered":
            continue
        return_id = item["SK"]["S"].removeprefix("RETURN#")
        request_refund(
            tenant,
            order_id,
            lines=json.loads(item["lines"]["S"]),
            reason="requested_by_customer",
            refund_id=f"return-{return_id}",
        )
        aws.client("dynamodb").update_item(
            TableName=table,
            Key={"PK": item["PK"], "SK": item["SK"]},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "received"}},
        )
        refunded.append(return_id)
    return refunded
