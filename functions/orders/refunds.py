"""The refund workflow's steps: prepare, submit to the gateway, await confirmation, complete.

Never more than captured minus refunded (and minus refunds in flight) leaves, per amount or per
line. The gateway call carries an idempotency key derived from tenant, order and refund request,
so Step Functions' retries (5xx, rate limits) create exactly one refund at the gateway.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Any

from functions.orders.lifecycle import alert_client_team, send_email
from shared import aws, workflows
from shared.gateway import MoneyMovements, StripeGateway
from shared.lifecycle_store import LifecycleStore
from shared.observability import logger
from shared.order_aggregate import OrderState
from shared.order_store import OrderStore, order_pk
from shared.tenant_secrets import TenantSecrets
from shared.tenants import TenantDirectory


class NotRefundable(Exception):
    pass


@dataclass
class Deps:
    table: str
    orders: OrderStore
    lifecycle: LifecycleStore
    tenants: TenantDirectory
    secrets: TenantSecrets


@cache
def _deps(table: str) -> Deps:
    return Deps(
        table,
        OrderStore(table),
        LifecycleStore(table),
        TenantDirectory(table),
        TenantSecrets(parts=("api",)),
    )


def refundable(state: OrderState, in_flight: int = 0) -> int:
    """Captured minus refunded minus refunds already requested but not yet confirmed."""
    return max(0, state.paid() - state.refunded() - in_flight)


def amount_for_lines(state: OrderState, lines: list[dict[str, Any]]) -> int:
    order = state.order
    if order is None:
        raise NotRefundable("the order is not known")
    by_id = {line.line_id: line for line in order.lines}
    total = 0
    for requested in lines:
        line = by_id.get(requested["line_id"])
        if line is None:
            raise NotRefundable(f"order has no line {requested['line_id']!r}")
        quantity = int(requested.get("quantity") or line.quantity)
        if not 1 <= quantity <= line.quantity:
            raise NotRefundable(f"line {line.line_id} has {line.quantity}, not {quantity}")
        total += line.unit_price.amount * quantity
    return total


def _refund_pk(tenant: str, order_id: str) -> str:
    return order_pk(tenant, order_id)


def _in_flight(table: str, tenant: str, order_id: str, except_id: str) -> int:
    answer = aws.client("dynamodb").query(
        TableName=table,
        ConsistentRead=True,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
        ExpressionAttributeValues={
            ":pk": {"S": _refund_pk(tenant, order_id)},
            ":p": {"S": "REFUND#"},
        },
    )
    return sum(
        int(i["amount"]["N"])
        for i in answer["Items"]
        if i["status"]["S"] in ("requested", "submitted") and i["SK"]["S"] != f"REFUND#{except_id}"
    )


def _record(table: str, tenant: str, order_id: str, refund_id: str, **fields: Any) -> None:
    names = {f"#{k}": k for k in fields}
    values = {
        f":{k}": ({"N": str(v)} if isinstance(v, int) else {"S": str(v)}) for k, v in fields.items()
    }
    aws.client("dynamodb").update_item(
        TableName=table,
        Key={"PK": {"S": _refund_pk(tenant, order_id)}, "SK": {"S": f"REFUND#{refund_id}"}},
        UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in fields),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def act_prepare(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    tenant, order_id, refund_id = event["tenant"], event["order_id"], event["refund_id"]
    state, _ = deps.orders.load(tenant, order_id)
    amount = amount_for_lines(state, event["lines"]) if event.get("lines") else event.get("amount")
    available = refundable(state, _in_flight(deps.table, tenant, order_id, refund_id))
    if amount is None:
        amount = available
    amount = int(amount)
    if amount <= 0 or amount > available:
        raise NotRefundable(f"refund of {amount} exceeds the refundable {available}")
    payments = [p for p in state.successful_payments() if p.settled_amount > p.refunded]
    if event.get("payment_id"):
        payments = [p for p in payments if p.payment_id == event["payment_id"]]
        if not payments:
            raise NotRefundable(f"payment {event['payment_id']} has nothing left to refund")
    if not payments:
        raise NotRefundable("no captured payment to refund")
    payment = max(payments, key=lambda p: p.settled_amount - p.refunded)
    if amount > payment.settled_amount - payment.refunded:
        raise NotRefundable("the amount spans several payments; refund them one by one")
    _record(
        deps.table,
        tenant,
        order_id,
        refund_id,
        status="requested",
        amount=amount,
        payment_id=payment.payment_id,
        currency=payment.currency,
        reason=event.get("reason") or "requested_by_customer",
        kind="refund_request",
    )
    return {"payment_id": payment.payment_id, "amount": amount, "currency": payment.currency}


def act_submit(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    tenant, order_id, refund_id = event["tenant"], event["order_id"], event["refund_id"]
    prepared = event["prepared"]
    gateway = MoneyMovements(StripeGateway(deps.secrets.get(tenant)["stripe"]["api_key"]))
    refund = gateway.refund(
        payment_id=prepared["payment_id"],
        amount=prepared["amount"],
        key=f"{tenant}:{order_id}:refund:{refund_id}",
        reason=event.get("reason"),
        metadata={"order_id": order_id, "refund_request": refund_id, "tenant": tenant},
    )
    _record(
        deps.table, tenant, order_id, refund_id, status="submitted", gateway_refund_id=refund["id"]
    )
    return {"gateway_refund_id": refund["id"], "status": refund.get("status")}


def refund_confirmed(state: OrderState, gateway_refund_id: str) -> bool:
    for payment in state.payments.values():
        known = payment.refunds.get(gateway_refund_id)
        if known is not None and known.status.value == "succeeded":
            return True
    return False


def act_wait(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    tenant, order_id = event["tenant"], event["order_id"]
    gateway_id = event["submitted"]["gateway_refund_id"]
    deps.lifecycle.put_wait(tenant, order_id, f"refund:{gateway_id}", event["task_token"])
    state, _ = deps.orders.load(tenant, order_id)
    resume_refund_waits(tenant, order_id, state, deps.lifecycle)
    return {"waiting": gateway_id}


def resume_refund_waits(
    tenant: str, order_id: str, state: OrderState, store: LifecycleStore
) -> None:
    """Called after a charge.refunded was applied: resume the workflows it confirms."""
    for payment in state.payments.values():
        for refund_id, facts in payment.refunds.items():
            if facts.status.value != "succeeded":
                continue
            token = store.take_wait(tenant, order_id, f"refund:{refund_id}")
            if token:
                workflows.resume(token, {"confirmed": refund_id})


def act_complete(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    tenant_id, order_id, refund_id = event["tenant"], event["order_id"], event["refund_id"]
    prepared = event["prepared"]
    _record(deps.table, tenant_id, order_id, refund_id, status="completed")
    # RefundCompleted, for the vendor ledger to reverse what it had credited.
    aws.client("dynamodb").put_item(
        TableName=deps.table,
        Item={
            "PK": {"S": order_pk(tenant_id, order_id)},
            "SK": {"S": f"LEDGER#refund#{refund_id}"},
            "kind": {"S": "RefundCompleted"},
            "amount": {"N": str(prepared["amount"])},
            "currency": {"S": prepared["currency"]},
            "tenant": {"S": tenant_id},
        },
    )
    tenant = deps.tenants.get(tenant_id)
    state, _ = deps.orders.load(tenant_id, order_id)
    if tenant is not None and state.order is not None:
        send_email(
            "refund_issued",
            state,
            tenant,
            [state.order.customer.email or ""],
            {
                "refund": {"amount": prepared["amount"], "currency": prepared["currency"]},
                "reason": event.get("reason"),
            },
        )
    return {"completed": refund_id}


def act_unconfirmed(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    tenant_id, order_id, refund_id = event["tenant"], event["order_id"], event["refund_id"]
    _record(deps.table, tenant_id, order_id, refund_id, status="unconfirmed")
    tenant = deps.tenants.get(tenant_id)
    if tenant is not None:
        alert_client_team(
            tenant,
            f"Refund not confirmed: order {order_id}",
            {"tenant": tenant_id, "order_id": order_id, "refund": refund_id},
        )
    return {"unconfirmed": refund_id}


ACTIONS = {
    "prepare": act_prepare,
    "submit": act_submit,
    "wait": act_wait,
    "complete": act_complete,
    "unconfirmed": act_unconfirmed,
}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.append_keys(
        tenant=event.get("tenant"),
        order_id=event.get("order_id"),
        refund_id=event.get("refund_id"),
        action=event.get("action"),
    )
    action = ACTIONS.get(event.get("action", ""))
    if action is None:
        raise ValueError(f"unknown refund action {event.get('action')!r}")
    return action(_deps(os.environ["TABLE_NAME"]), event)
