"""Refund requests: accepted once per id, each started as its own refund workflow."""

from __future__ import annotations

import json
import uuid
from typing import Any

from functions.orders import contracts as c
from functions.orders.domain import (
    RETURN_REFUND_PREFIX,
    OperationRefused,
    lines_refunded,
    real_seconds,
)
from functions.orders.ports import Ports
from shared.order_aggregate import OrderState
from shared.tenants import TenantSettings


def refund_waits(ports: Ports, tenant: str) -> c.RefundWaits:
    settings = ports.tenants.get(tenant)
    # A tenant unknown here (removed while its refund was asked) gets the settings' default.
    hours = (
        settings.refund_confirmation_hours
        if settings
        else TenantSettings.model_fields["refund_confirmation_hours"].default
    )
    return c.RefundWaits(confirm_s=real_seconds(hours, ports.seconds_per_day))


def request_refund(
    ports: Ports,
    tenant: str,
    order_id: str,
    *,
    amount: int | None = None,
    lines: list[dict[str, Any]] | None = None,
    cause: c.RefundCause = c.RefundCause.CUSTOMER_REQUEST,
    refund_id: str | None = None,
    payment_id: str | None = None,
) -> dict[str, Any]:
    """Accept a refund request once per ``refund_id`` and start its workflow.

    The request is claimed first (one conditional write), so of many concurrent requests with
    one id exactly one answers ``started: True``; the others answer that it exists, or are
    refused if the id was used for a different request. The workflow start is idempotent (its
    name is the refund's identity), so a retry after a crash between the two starts it.
    ``payment_id`` refunds that payment of the order (a duplicate charge), else the payment
    with the most left to refund. ``cause`` decides the gateway's reason and what the customer
    is told (``shared.refund_causes``)."""
    if not ports.refund_machine:
        raise OperationRefused("refunds are not configured in this deployment")
    if amount is not None and amount <= 0:
        raise OperationRefused("a refund amount must be positive (minor units)")
    refund_id = refund_id or uuid.uuid4().hex
    if lines and not refund_id.startswith(RETURN_REFUND_PREFIX):
        _refuse_lines_taken(ports, tenant, order_id, refund_id, lines)
    request = {
        "amount": amount,
        "lines": lines,
        "cause": c.RefundCause(cause).value,
        "payment_id": payment_id,
    }
    earlier = ports.refunds.claim(tenant, order_id, refund_id, request)
    if earlier is not None and earlier != _comparable(request, earlier):
        raise OperationRefused(f"refund id {refund_id!r} was already used for another request")
    document = c.RefundInput(
        tenant=tenant,
        order_id=order_id,
        refund_id=refund_id,
        amount=amount,
        lines=[c.RefundLine.model_validate(line) for line in lines] if lines else None,
        cause=c.RefundCause(cause),
        payment_id=payment_id,
        waits=refund_waits(ports, tenant),
    )
    execution = document.model_dump(mode="json", exclude={"identity"})
    if document.lines:
        # A line without a quantity means all of it: left out rather than null.
        execution["lines"] = [line.model_dump(exclude_none=True) for line in document.lines]
    ports.workflows.start(ports.refund_machine, (tenant, order_id, "refund", refund_id), execution)
    answer: dict[str, Any] = {"refund_id": refund_id, "started": earlier is None}
    if earlier is not None:
        answer["exists"] = True
    return answer


def _comparable(request: dict[str, Any], earlier: dict[str, Any]) -> dict[str, Any]:
    """``request`` as its claim would read; a claim made before refunds carried their cause
    named the gateway's reason instead, and the same request again is not refused for that."""
    stored: dict[str, Any] = json.loads(json.dumps(request, default=str))
    if "cause" not in earlier and "reason" in earlier:
        stored.pop("cause")
        stored["reason"] = earlier["reason"]
    return stored


def _refuse_lines_taken(
    ports: Ports, tenant: str, order_id: str, refund_id: str, lines: list[dict[str, Any]]
) -> None:
    """A refund by lines takes only what of each line no return holds and no other refund by
    lines took (a return's own refund was checked when the return was accepted)."""
    state, _ = ports.orders.load(tenant, order_id)
    if state.order is None:
        return  # the workflow refuses an unknown order with its reason
    others = [r for r in ports.refunds.requests(tenant, order_id) if r["refund_id"] != refund_id]
    taken = lines_refunded(state.order, others)
    returned = ports.returns.returned(tenant, order_id)
    bought = {line.line_id: line.quantity for line in state.order.lines}
    asked: dict[str, int] = {}
    for line in lines:
        line_id = str(line.get("line_id"))
        asked[line_id] = asked.get(line_id, 0) + int(line.get("quantity") or bought.get(line_id, 0))
    for line_id, quantity in asked.items():
        left = bought.get(line_id, 0) - taken.get(line_id, 0) - returned.get(line_id, 0)
        if line_id in bought and quantity > left:
            raise OperationRefused(
                f"line {line_id}: already returned or refunded: "
                f"{bought[line_id] - max(left, 0)} of {bought[line_id]}, {max(left, 0)} left"
            )


def refund_all_payments(
    ports: Ports, tenant: str, state: OrderState, cause: c.RefundCause
) -> list[dict[str, Any]]:
    """A cancellation gives back every payment of the order with money left, each exactly once
    (its refund request is named after the payment)."""
    started = []
    for payment in sorted(state.successful_payments(), key=lambda p: p.payment_id):
        if payment.settled_amount - payment.refunded <= 0:
            continue
        started.append(
            request_refund(
                ports,
                tenant,
                state.order_id,
                cause=cause,
                payment_id=payment.payment_id,
                refund_id=f"cancellation-{payment.payment_id}",
            )
        )
    return started
