"""The refund workflow's steps: prepare (reserve), submit to the gateway, await confirmation,
complete; or fail with the reason.

Never more than captured minus what other refunds hold leaves, per amount or per line: the
reservation is one conditional write on the payment. The gateway call carries an idempotency
key derived from tenant, order and refund request, so Step Functions' retries (5xx, rate limits)
create exactly one refund at the gateway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from functions.orders import contracts as c
from functions.orders.domain import (
    NotRefundable,
    amount_for_lines,
    choose_refund,
    failure_reason,
    lines_asked,
    open_dispute_on,
    refund_room,
)
from functions.orders.errors import RefundCovered
from functions.orders.ports import Ports
from functions.orders.use_cases.notify import customer_of, notify
from shared.gateway_errors import GatewayRefused
from shared.observability import logger
from shared.order_aggregate import OrderState
from shared.refund_causes import refund_reason

if TYPE_CHECKING:
    from functions.orders.ports import Payments

# The notice kinds (shared.notices.orders) load in the step that raises one: most raise none.

# Stripe's codes for a refund larger than what is left of the charge: refunds we had not heard
# of yet (the shop's own, made in the dashboard as it cancelled) may have taken it.
_TAKEN_BY_OTHER_REFUNDS = frozenset({"charge_already_refunded", "amount_too_large"})

__all__ = [
    "NotRefundable",
    "complete",
    "covered",
    "fail",
    "prepare",
    "submit",
    "unconfirmed",
    "wait",
]


def prepare(ports: Ports, step: c.PrepareInput) -> c.Prepared:
    """Choose the payment and reserve the amount on it (one conditional write)."""
    tenant, order_id, refund_id = step.tenant, step.order_id, step.refund_id
    known = ports.refunds.requests(tenant, order_id)
    mine = next((r for r in known if r["refund_id"] == refund_id), {})
    if mine.get("status") in ("requested", "submitted", "completed") and mine.get("payment_id"):
        # A retried step: the reservation was made by the first attempt.
        return c.Prepared(
            payment_id=mine["payment_id"], amount=int(mine["amount"]), currency=mine["currency"]
        )
    state, _ = ports.orders.load(tenant, order_id)
    requested = amount_for_lines(state, step.lines) if step.lines else step.amount
    ours = {r["gateway_refund_id"] for r in known if r.get("gateway_refund_id")}
    reserved = {
        p.payment_id: ports.refunds.reserved(tenant, order_id, p.payment_id)
        for p in state.successful_payments()
    }
    payment, amount, cap = choose_refund(
        refund_room(state, step.payment_id, reserved, ours), requested
    )
    if (dispute := open_dispute_on(state, payment)) is not None:
        raise NotRefundable(
            f"payment {payment.payment_id} is disputed ({dispute.dispute_id}, "
            f"{dispute.status.value}): Stripe refuses refunds while a chargeback is open; "
            "the dispute case decides (accepting it gives the money back)"
        )
    if not ports.refunds.reserve(tenant, order_id, payment.payment_id, refund_id, amount, cap):
        left = cap - ports.refunds.reserved(tenant, order_id, payment.payment_id)
        raise NotRefundable(
            f"refund of {amount} exceeds the refundable {max(left, 0)} "
            "(another refund reserved the rest)"
        )
    ports.refunds.record(
        tenant,
        order_id,
        refund_id,
        status="requested",
        amount=amount,
        payment_id=payment.payment_id,
        currency=payment.currency,
        cause=step.cause.value,
        kind="refund_request",
    )
    return c.Prepared(payment_id=payment.payment_id, amount=amount, currency=payment.currency)


def submit(ports: Ports, step: c.SubmitInput) -> c.Submitted:
    """The gateway refund, with the reason the cause and the tenant's policy give it."""
    tenant, order_id, refund_id = step.tenant, step.order_id, step.refund_id
    settings = ports.tenants.get(tenant)
    reason = refund_reason(
        step.cause,
        report_fraud=settings is not None and settings.refunds.report_fraud_to_gateway,
    )
    payments = ports.payments_for(tenant)
    try:
        refund = payments.refund(
            payment_id=step.prepared.payment_id,
            amount=step.prepared.amount,
            key=f"{tenant}:{order_id}:refund:{refund_id}",
            reason=reason,
            metadata={
                "order_id": order_id,
                "refund_request": refund_id,
                "tenant": tenant,
                "cause": step.cause.value,
            },
        )
    except GatewayRefused as refused:
        if refused.code not in _TAKEN_BY_OTHER_REFUNDS:
            raise
        _taken_by_other_refunds(payments, step.prepared, refused)
    ports.refunds.record(
        tenant,
        order_id,
        refund_id,
        status="submitted",
        gateway_refund_id=refund["id"],
        gateway_reason=reason or "none",
    )
    return c.Submitted(gateway_refund_id=refund["id"], status=refund.get("status"))


def _taken_by_other_refunds(
    payments: Payments, prepared: c.Prepared, refused: GatewayRefused
) -> NoReturn:
    """The gateway has less of the payment left than we reserved: refunds not made here took
    it before we heard of them (their webhooks come after the cancellation that started ours).
    Its own figures decide: nothing left, the customer has this payment back and the request
    is covered; something left, the refusal stands and says how much is left, for the team to
    refund once it knows why."""
    from shared.notices import money_line

    held = payments.refunded(payment_id=prepared.payment_id)
    left = held["captured"] - held["refunded"]

    def money(amount: int) -> str | None:
        return money_line(amount, prepared.currency)

    if left <= 0:
        raise RefundCovered(
            f"payment {prepared.payment_id} is refunded in full at the gateway ("
            f"{money(held['refunded'])} of {money(held['captured'])}) by refunds not made "
            "here: the customer has it back"
        )
    raise GatewayRefused(
        f"{refused}; {money(left)} of payment {prepared.payment_id} is left to refund after "
        f"refunds not made here took {money(held['refunded'])} of {money(held['captured'])}",
        code=refused.code,
    ) from refused


def refund_confirmed(state: OrderState, gateway_refund_id: str) -> bool:
    for payment in state.payments.values():
        known = payment.refunds.get(gateway_refund_id)
        if known is not None and known.status.value == "succeeded":
            return True
    return False


def wait(ports: Ports, step: c.RefundWaitInput) -> dict[str, Any]:
    gateway_id = step.submitted.gateway_refund_id
    ports.records.put_wait(step.tenant, step.order_id, f"refund:{gateway_id}", step.task_token)
    state, _ = ports.orders.load(step.tenant, step.order_id)
    resume_refund_waits(ports, step.tenant, step.order_id, state)
    return {"waiting": gateway_id}


def resume_refund_waits(ports: Ports, tenant: str, order_id: str, state: OrderState) -> None:
    """After a charge.refunded was applied: resume the workflows it confirms (those parked
    now; see ``lifecycle.resume_waits`` for why one read of them is enough)."""
    succeeded = [
        refund_id
        for payment in state.payments.values()
        for refund_id, facts in payment.refunds.items()
        if facts.status.value == "succeeded"
    ]
    if not succeeded:
        return
    parked = ports.records.waiting(tenant, order_id)
    for refund_id in succeeded:
        if f"refund:{refund_id}" not in parked:
            continue
        token = ports.records.take_wait(tenant, order_id, f"refund:{refund_id}")
        if token:
            ports.workflows.resume(token, {"confirmed": refund_id})


def _request(ports: Ports, step: c.RefundStep) -> dict[str, Any]:
    known = ports.refunds.requests(step.tenant, step.order_id)
    return next((r for r in known if r["refund_id"] == step.refund_id), {})


def _failed_at_gateway(ports: Ports, step: c.RefundStep) -> bool:
    return _request(ports, step).get("failed_step") == "gateway"


def complete(ports: Ports, step: c.CompleteInput) -> dict[str, Any]:
    tenant_id, order_id, refund_id = step.tenant, step.order_id, step.refund_id
    request = _request(ports, step)
    if request.get("failed_step") == "gateway":
        # Confirmed, then failed before this step ran: the failure stands (no "refunded"
        # e-mail, no completion for the vendor ledger).
        return {"completed": refund_id, "failed_at_gateway": True}
    prepared = step.prepared
    ports.refunds.record(tenant_id, order_id, refund_id, status="completed")
    ports.refunds.completed(tenant_id, order_id, refund_id, prepared.amount, prepared.currency)
    tenant = ports.tenants.get(tenant_id)
    state, _ = ports.orders.load(tenant_id, order_id)
    if ports.vendor_ledger is not None and tenant is not None:
        # By the lines asked for: a return of one vendor's item is that vendor's.
        ports.vendor_ledger.refund_completed(
            tenant, state, refund_id, prepared.amount, prepared.currency, lines_asked(request)
        )
    if tenant is not None and state.order is not None:
        notify(
            ports,
            "refund_issued",
            state,
            tenant,
            customer_of(state),
            {
                "refund": {"amount": prepared.amount, "currency": prepared.currency},
                "cause": step.cause.value,
            },
        )
    return {"completed": refund_id}


def unconfirmed(ports: Ports, step: c.UnconfirmedInput) -> dict[str, Any]:
    if _failed_at_gateway(ports, step):
        # The gateway failed it while we waited: recorded, released and told already
        # (use_cases.refund_failures); "unconfirmed" would hide why.
        return {"unconfirmed": step.refund_id, "failed_at_gateway": True}
    ports.refunds.record(step.tenant, step.order_id, step.refund_id, status="unconfirmed")
    prepared = step.prepared
    from shared.notices.orders import RefundUnconfirmed

    ports.alerts.send(
        RefundUnconfirmed(
            tenant=step.tenant,
            order_id=step.order_id,
            refund_id=step.refund_id,
            amount=prepared.amount if prepared else None,
            currency=prepared.currency if prepared else None,
        )
    )
    return {"unconfirmed": step.refund_id}


def covered(ports: Ports, step: c.CoveredInput) -> dict[str, Any]:
    """Nothing was left to refund: refunds not made here gave the payment back in full
    (``RefundCovered``). The request ends ``covered`` with the gateway's figures and its
    reservation is released; nobody is told it failed, because the customer has the money."""
    reason = failure_reason(step.error)
    released = ports.refunds.release(step.tenant, step.order_id, step.refund_id)
    ports.refunds.record(
        step.tenant, step.order_id, step.refund_id, status="covered", covered_by=reason
    )
    logger.info("refund covered by refunds not made here", extra={"why": reason})
    return {"covered": step.refund_id, "reason": reason, "released": released}


def fail(ports: Ports, step: c.FailInput) -> dict[str, Any]:
    """The refund cannot happen (refused before it reached the gateway, refused by it, or the
    gateway never answered through every retry): the request ends ``failed`` with the reason,
    its reservation is released, and the client team is told."""
    reason = failure_reason(step.error)
    released = ports.refunds.release(step.tenant, step.order_id, step.refund_id)
    ports.refunds.record(
        step.tenant,
        step.order_id,
        step.refund_id,
        status="failed",
        failure=reason,
        failed_step=step.step,
    )
    prepared = step.prepared
    from shared.notices.orders import RefundFailed

    ports.alerts.send(
        RefundFailed(
            tenant=step.tenant,
            order_id=step.order_id,
            refund_id=step.refund_id,
            reason=reason,
            amount=prepared.amount if prepared else None,
            currency=prepared.currency if prepared else None,
        )
    )
    logger.warning("refund failed", extra={"reason": reason, "released": released})
    return {"failed": step.refund_id, "reason": reason, "released": released}
