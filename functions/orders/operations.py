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
from shared import aws, keys, workflows
from shared.lifecycle_store import LifecycleStore
from shared.order_aggregate import OrderState
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
    table: str | None = None,
) -> dict[str, Any]:
    """Accept a refund request once per ``refund_id`` and start its workflow.

    The request is claimed first (one conditional write), so of many concurrent requests
    with one id exactly one answers ``started: True``; the others answer that it exists
    (``started: False``), or are refused if the id was used for a different request. The
    workflow start is idempotent (its name is the refund's identity), so a retry after a
    crash between the two starts it. ``payment_id`` refunds that payment of the order (a
    duplicate charge), else the payment with the most left to refund. The state machine
    defaults to the deployment's (``REFUND_STATE_MACHINE``)."""
    from functions.orders.refunds import RefundLedger

    arn = refund_state_machine or os.environ.get("REFUND_STATE_MACHINE")
    if not arn:
        raise OperationRefused("refunds are not configured in this deployment")
    if amount is not None and amount <= 0:
        raise OperationRefused("a refund amount must be positive (minor units)")
    refund_id = refund_id or uuid.uuid4().hex
    request = {
        "amount": amount,
        "lines": lines,
        "reason": reason or "requested_by_customer",
        "payment_id": payment_id,
    }
    earlier = RefundLedger(table or os.environ["TABLE_NAME"]).claim(
        tenant, order_id, refund_id, request
    )
    if earlier is not None and earlier != json.loads(json.dumps(request, default=str)):
        raise OperationRefused(f"refund id {refund_id!r} was already used for another request")
    workflows.start_once(
        arn,
        workflows.execution_name(tenant, order_id, "refund", refund_id),
        {
            "tenant": tenant,
            "order_id": order_id,
            "refund_id": refund_id,
            **request,
            "waits": refund_waits(),
        },
        identity=(tenant, order_id, "refund", refund_id),
    )
    answer: dict[str, Any] = {"refund_id": refund_id, "started": earlier is None}
    if earlier is not None:
        answer["exists"] = True
    return answer


def refund_all_payments(
    table: str,
    tenant: str,
    order_id: str,
    state: OrderState,
    reason: str,
    refund_state_machine: str | None = None,
) -> list[dict[str, Any]]:
    """A cancellation gives back every payment of the order with money left, each exactly
    once (its refund request is named after the payment)."""
    started = []
    for payment in sorted(state.successful_payments(), key=lambda p: p.payment_id):
        if payment.settled_amount - payment.refunded <= 0:
            continue
        started.append(
            request_refund(
                tenant,
                order_id,
                reason=reason,
                payment_id=payment.payment_id,
                refund_id=f"cancellation-{payment.payment_id}",
                refund_state_machine=refund_state_machine,
                table=table,
            )
        )
    return started


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
        execution = workflows.execution_arn(arn, workflows.execution_name(tenant, order_id))
        client = aws.client("stepfunctions")
        # Already over (or never started): nothing to stop.
        with contextlib.suppress(client.exceptions.ExecutionDoesNotExist):
            client.stop_execution(
                executionArn=execution, error="OrderCancelled", cause=reason[:256]
            )
    lifecycle.set_stage(tenant, order_id, "cancelled", reason)
    # The stopped lifecycle leaves its waits behind: a late approve link or carrier scan must
    # find nothing to resume.
    for wait in ("review", "shipment", "delivery"):
        lifecycle.take_wait(tenant, order_id, wait)
    due = sum(max(0, p.settled_amount - p.refunded) for p in state.successful_payments())
    refunds = refund_all_payments(
        table, tenant, order_id, state, "requested_by_customer", refund_state_machine
    )
    _tell_customer_cancelled(table, tenant, state, due)
    return {"cancelled": True, "refund_due": due, "refunds": refunds}


def _tell_customer_cancelled(table: str, tenant: str, state: OrderState, due: int) -> None:
    """The customer hears of the cancellation once, whoever cancelled (operator, shop or the
    lifecycle: the notification log keeps it to one e-mail per order)."""
    from functions.orders.lifecycle import send_email
    from shared.tenants import TenantDirectory

    settings = TenantDirectory(table).get(tenant)
    if settings is None or state.order is None:
        return
    extra: dict[str, Any] = {"reason": None}
    if due > 0 and state.currency:
        extra["refund"] = {"amount": due, "currency": state.currency}
    send_email("order_cancelled", state, settings, [state.order.customer.email or ""], extra)


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
            "PK": {"S": keys.order_pk(tenant, order_id)},
            "SK": {"S": keys.return_sk(return_id)},
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
            ":pk": {"S": keys.order_pk(tenant, order_id)},
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
