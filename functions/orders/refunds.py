"""The refund workflow's steps: prepare, submit to the gateway, await confirmation, complete.

Never more than captured minus refunded (and minus refunds in flight) leaves, per amount or per
line. The gateway call carries an idempotency key derived from tenant, order and refund request,
so Step Functions' retries (5xx, rate limits) create exactly one refund at the gateway.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from typing import Any

from functions.orders.lifecycle import alert_client_team, send_email
from shared import aws, workflows
from shared.gateway import MoneyMovements, StripeGateway
from shared.lifecycle_store import LifecycleStore
from shared.observability import logger
from shared.order_aggregate import OrderState, PaymentFacts
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
    refunds: RefundLedger


@cache
def _deps(table: str) -> Deps:
    return Deps(
        table,
        OrderStore(table),
        LifecycleStore(table),
        TenantDirectory(table),
        TenantSecrets(parts=("api",)),
        RefundLedger(table),
    )


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


class RefundLedger:
    """What our refunds hold against each payment, beside the order.

    - ``REFUND#<refund id>``: one refund request: ``accepted`` → ``requested`` (money
      reserved) → ``submitted`` → ``completed``; or ``failed`` with the reason (reservation
      released) or ``unconfirmed``.
    - ``REFUNDABLE#<payment id>``: ``reserved`` (minor units our refunds hold on the payment,
      completed ones included) and ``hold:<refund id>`` (what each request holds).

    A reservation is one conditional write on the payment's item: it succeeds only if what is
    reserved leaves room for the amount, so concurrent requests can never reserve more than
    was captured, whatever their interleaving."""

    def __init__(self, table: str) -> None:
        self.table = table

    def _key(self, tenant: str, order_id: str, sk: str) -> dict[str, Any]:
        return {"PK": {"S": order_pk(tenant, order_id)}, "SK": {"S": sk}}

    def _items(self, tenant: str, order_id: str, prefix: str) -> list[dict[str, Any]]:
        answer = aws.client("dynamodb").query(
            TableName=self.table,
            ConsistentRead=True,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
            ExpressionAttributeValues={
                ":pk": {"S": order_pk(tenant, order_id)},
                ":p": {"S": prefix},
            },
        )
        return list(answer["Items"])

    def requests(self, tenant: str, order_id: str) -> list[dict[str, Any]]:
        return [
            {k: next(iter(v.values())) for k, v in item.items()}
            for item in self._items(tenant, order_id, "REFUND#")
        ]

    def reserved(self, tenant: str, order_id: str, payment_id: str) -> int:
        item = (
            aws.client("dynamodb")
            .get_item(
                TableName=self.table,
                Key=self._key(tenant, order_id, f"REFUNDABLE#{payment_id}"),
                ConsistentRead=True,
            )
            .get("Item")
        )
        return int(item["reserved"]["N"]) if item and "reserved" in item else 0

    def reserve(
        self, tenant: str, order_id: str, payment_id: str, refund_id: str, amount: int, cap: int
    ) -> bool:
        """Reserve ``amount`` for ``refund_id`` if reservations stay within ``cap``; True if
        reserved now or earlier (a retried step), False if there is no room."""
        client = aws.client("dynamodb")
        hold = {"#hold": f"hold:{refund_id}"}
        try:
            client.update_item(
                TableName=self.table,
                Key=self._key(tenant, order_id, f"REFUNDABLE#{payment_id}"),
                UpdateExpression="SET reserved = if_not_exists(reserved, :zero) + :amount, "
                "#hold = :amount, kind = :kind",
                ConditionExpression="attribute_not_exists(#hold) "
                "AND (attribute_not_exists(reserved) OR reserved <= :room)",
                ExpressionAttributeNames=hold,
                ExpressionAttributeValues={
                    ":zero": {"N": "0"},
                    ":amount": {"N": str(amount)},
                    ":room": {"N": str(cap - amount)},
                    ":kind": {"S": "refund_reservations"},
                },
            )
        except client.exceptions.ConditionalCheckFailedException:
            item = client.get_item(
                TableName=self.table,
                Key=self._key(tenant, order_id, f"REFUNDABLE#{payment_id}"),
                ConsistentRead=True,
            ).get("Item", {})
            return hold["#hold"] in item
        return True

    def release(self, tenant: str, order_id: str, refund_id: str) -> int:
        """Give back what ``refund_id`` holds on any payment of the order (a refused or failed
        refund); once only. Returns the amount released."""
        client = aws.client("dynamodb")
        name = f"hold:{refund_id}"
        released = 0
        for item in self._items(tenant, order_id, "REFUNDABLE#"):
            if name not in item:
                continue
            amount = item[name]["N"]
            try:
                client.update_item(
                    TableName=self.table,
                    Key={"PK": item["PK"], "SK": item["SK"]},
                    UpdateExpression="SET reserved = reserved - :amount REMOVE #hold",
                    ConditionExpression="#hold = :amount",
                    ExpressionAttributeNames={"#hold": name},
                    ExpressionAttributeValues={":amount": {"N": amount}},
                )
            except client.exceptions.ConditionalCheckFailedException:
                continue  # released by a concurrent attempt
            released += int(amount)
        return released

    def claim(
        self, tenant: str, order_id: str, refund_id: str, request: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Accept a refund request once per id; returns the earlier request if the id is
        taken (the caller compares the two)."""
        client = aws.client("dynamodb")
        fingerprint = json.dumps(request, sort_keys=True, default=str)
        try:
            client.put_item(
                TableName=self.table,
                Item={
                    **self._key(tenant, order_id, f"REFUND#{refund_id}"),
                    "kind": {"S": "refund_request"},
                    "status": {"S": "accepted"},
                    "request": {"S": fingerprint},
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            earlier = client.get_item(
                TableName=self.table,
                Key=self._key(tenant, order_id, f"REFUND#{refund_id}"),
                ConsistentRead=True,
            ).get("Item", {})
            return dict(json.loads(earlier.get("request", {}).get("S", "{}")))
        return None

    def record(self, tenant: str, order_id: str, refund_id: str, **fields: Any) -> None:
        names = {f"#{k}": k for k in fields}
        values = {
            f":{k}": ({"N": str(v)} if isinstance(v, int) else {"S": str(v)})
            for k, v in fields.items()
        }
        aws.client("dynamodb").update_item(
            TableName=self.table,
            Key=self._key(tenant, order_id, f"REFUND#{refund_id}"),
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in fields),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )


def _external_refunds(payment: PaymentFacts, ours: set[str]) -> int:
    """Refunds the gateway reports on the payment that none of our requests made (say, in
    the gateway's dashboard): they shrink what our requests may reserve."""
    return sum(
        facts.amount
        for refund_id, facts in payment.refunds.items()
        if refund_id not in ours and facts.status.value in ("succeeded", "pending")
    )


def act_prepare(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    """Choose the payment and reserve the amount on it (one conditional write)."""
    tenant, order_id, refund_id = event["tenant"], event["order_id"], event["refund_id"]
    state, _ = deps.orders.load(tenant, order_id)
    requested = (
        amount_for_lines(state, event["lines"]) if event.get("lines") else event.get("amount")
    )
    ledger = deps.refunds
    known = ledger.requests(tenant, order_id)
    mine = next((r for r in known if r["SK"] == f"REFUND#{refund_id}"), {})
    if mine.get("status") in ("requested", "submitted", "completed") and mine.get("payment_id"):
        # A retried step: the reservation was made by the first attempt.
        return {
            "payment_id": mine["payment_id"],
            "amount": int(mine["amount"]),
            "currency": mine["currency"],
        }
    ours = {r["gateway_refund_id"] for r in known if r.get("gateway_refund_id")}
    candidates = [p for p in state.successful_payments() if p.currency == state.currency]
    if event.get("payment_id"):
        candidates = [p for p in state.successful_payments() if p.payment_id == event["payment_id"]]
        if not candidates:
            raise NotRefundable(f"payment {event['payment_id']} has not been captured")
    if not candidates:
        raise NotRefundable("no captured payment to refund")
    room = {}
    for payment in candidates:
        reserved = ledger.reserved(tenant, order_id, payment.payment_id)
        cap = payment.settled_amount - _external_refunds(payment, ours)
        room[payment.payment_id] = (cap, cap - reserved)
    payment = max(candidates, key=lambda p: (room[p.payment_id][1], p.payment_id))
    cap, left = room[payment.payment_id]
    amount = left if requested is None else int(requested)
    if amount <= 0 or amount > left:
        if requested is not None and amount > left and len(candidates) > 1:
            raise NotRefundable(
                f"refund of {amount} exceeds what any one payment has left ({left}): "
                "refund the payments one by one"
            )
        raise NotRefundable(f"refund of {amount} exceeds the refundable {max(left, 0)}")
    if not ledger.reserve(tenant, order_id, payment.payment_id, refund_id, amount, cap):
        reserved = ledger.reserved(tenant, order_id, payment.payment_id)
        raise NotRefundable(
            f"refund of {amount} exceeds the refundable {max(cap - reserved, 0)} "
            "(another refund reserved the rest)"
        )
    ledger.record(
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
    deps.refunds.record(
        tenant, order_id, refund_id, status="submitted", gateway_refund_id=refund["id"]
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
    deps.refunds.record(tenant_id, order_id, refund_id, status="completed")
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
    deps.refunds.record(tenant_id, order_id, refund_id, status="unconfirmed")
    tenant = deps.tenants.get(tenant_id)
    if tenant is not None:
        alert_client_team(
            tenant,
            f"Refund not confirmed: order {order_id}",
            {"tenant": tenant_id, "order_id": order_id, "refund": refund_id},
        )
    return {"unconfirmed": refund_id}


def act_fail(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    """The refund cannot happen (refused before it reached the gateway, refused by it, or the
    gateway never answered through every retry): the request ends ``failed`` with the reason,
    its reservation is released, and the client team is told."""
    tenant_id, order_id, refund_id = event["tenant"], event["order_id"], event["refund_id"]
    error = event.get("error") or {}
    reason = _failure_reason(error)
    prepared = event.get("prepared") or {}
    released = deps.refunds.release(tenant_id, order_id, refund_id)
    deps.refunds.record(
        tenant_id,
        order_id,
        refund_id,
        status="failed",
        failure=reason,
        failed_step=str(event.get("step") or "unknown"),
    )
    tenant = deps.tenants.get(tenant_id)
    if tenant is not None:
        alert_client_team(
            tenant,
            f"Refund failed: order {order_id}",
            {
                "tenant": tenant_id,
                "order_id": order_id,
                "refund": refund_id,
                "amount": prepared.get("amount"),
                "currency": prepared.get("currency"),
                "reason": reason,
            },
        )
    logger.warning("refund failed", extra={"reason": reason, "released": released})
    return {"failed": refund_id, "reason": reason, "released": released}


def _failure_reason(error: dict[str, Any]) -> str:
    """Step Functions hands a caught error over as ``{"Error": …, "Cause": …}``, the cause
    being the Lambda's error document as JSON."""
    cause = error.get("Cause") or ""
    try:
        message = json.loads(cause).get("errorMessage") or cause
    except (json.JSONDecodeError, AttributeError):
        message = cause
    kind = error.get("Error") or "Error"
    return f"{kind}: {message}"[:500] if message else str(kind)


ACTIONS = {
    "fail": act_fail,
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
