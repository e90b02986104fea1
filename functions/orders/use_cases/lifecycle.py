"""The order lifecycle's steps, one function per action of the state machine.

Each step is small and idempotent (Step Functions retries them): screening, holding for review,
confirming, waiting for a fact (the task token is parked on the order and the processor redeems
it when the fact arrives, or at once if it already has), telling the customer, cancelling and
releasing funds. E-mails never fail the lifecycle (``notify``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from functions.orders import contracts as c
from functions.orders.domain import (
    card_of,
    delivered_lines,
    funds_holding_disputes,
    lifecycle_hours,
    movement,
    order_context,
    released_lines,
    wait_outcome,
)
from functions.orders.ports import Ports
from functions.orders.use_cases.notify import customer_of, notify
from functions.orders.use_cases.parcels import moved_since_wait, no_movement
from functions.orders.use_cases.refund_requests import refund_all_payments
from shared.clock import decided_at, epoch_seconds
from shared.observability import logger
from shared.order_aggregate import FRAUD_CANCELLATIONS, CancelReason, OrderState
from shared.refund_causes import cancellation_reason
from shared.tenants import TenantSettings

# The notice kinds (shared.notices.orders) load in the step that raises one: most raise none.

# Why the money goes back when the lifecycle cancels.
CANCELLATION_CAUSES: dict[CancelReason, c.RefundCause] = {
    CancelReason.BLOCKED_BY_SCREENING: c.RefundCause.SCREENING_BLOCK,
    CancelReason.REJECTED_IN_REVIEW: c.RefundCause.REVIEW_REJECTED,
    CancelReason.REVIEW_TIMED_OUT: c.RefundCause.REVIEW_TIMED_OUT,
    CancelReason.PAYMENT_NOT_AUTHORIZED: c.RefundCause.NOT_PAID,
    CancelReason.PAYMENT_NOT_RECEIVED: c.RefundCause.NOT_PAID,
}
# What the cancellation e-mail tells the customer, for the reasons the customer may be told.
CUSTOMER_REASONS = {CancelReason.PAYMENT_NOT_RECEIVED: "we did not receive the payment for it"}


class PaymentNotAuthorizedYet(Exception):
    """Manual capture: no authorized payment yet (the gateway's event may still be on its way)."""


def load(ports: Ports, tenant_id: str, order_id: str) -> tuple[OrderState, TenantSettings]:
    tenant = ports.tenants.get(tenant_id)
    if tenant is None:
        raise LookupError(f"tenant {tenant_id!r} has no settings")
    state, version = ports.orders.load(tenant_id, order_id)
    if version == 0 or state.order is None:
        raise LookupError(f"order {order_id!r} is not known (yet)")
    return state, tenant


def screen(ports: Ports, step: c.ScreenInput) -> c.ScreenResult:
    """Risk decides (``Screening`` port); the whole screening is kept beside the order. Only
    executions started on the definitions before ``ScreenAndWaitForPayment`` call this."""
    state, tenant = load(ports, step.tenant, step.order_id)
    assert state.order is not None
    screening = ports.screening.screen(tenant, state.order, card_of(state))
    ports.records.save_screening(tenant.id, state.order_id, screening)
    _log_screening(screening)
    return screen_result(screening)


def screen_and_wait(ports: Ports, step: c.ScreenAndWaitInput) -> dict[str, Any]:
    """Screen, then, for an accepted order whose payment is captured automatically, wait for
    the payment in the same state (``wait``'s payment wait, answered with the screening:
    ``WaitAnswer.SCREENING``). Any other decision, or manual capture, answers the token at once:
    by failing it with the route's error, which the state's catches take (``route="errors"``),
    or, for the definitions before, with the screening's result for their Choice.

    A retried invocation (Lambda retries a step that failed or timed out) screens no second
    time: the screening saved by the first is the order's, so its counters and its decision
    are taken once."""
    screening = ports.records.screening(step.tenant, step.order_id)
    if screening is None:
        state, tenant = load(ports, step.tenant, step.order_id)
        assert state.order is not None
        screening = ports.screening.screen(tenant, state.order, card_of(state))
        ports.records.save_screening(tenant.id, state.order_id, screening)
        _log_screening(screening)
    result = screen_result(screening)
    if result.decision == c.Decision.ALLOW and step.capture_mode == "automatic":
        return wait(
            ports,
            c.WaitInput(
                tenant=step.tenant,
                order_id=step.order_id,
                action=c.LifecycleAction.WAIT,
                wait=c.WaitKind.PAYMENT,
                task_token=step.task_token,
                answer=c.WaitAnswer.SCREENING,
            ),
        )
    # False only for a retry whose first invocation had answered already.
    if step.route == "errors":
        ports.workflows.fail(
            step.task_token,
            str(screening_route(result, step.capture_mode)),
            result.model_dump_json(),
        )
    else:
        ports.workflows.resume(step.task_token, result.model_dump(mode="json"))
    return {"screened": str(result.decision)}


def screening_route(result: c.ScreenResult, capture_mode: str) -> c.ScreeningRoute:
    """Where an order that does not wait for its payment after screening goes: blocked,
    reviewed (whatever the capture mode: the review's decision routes that), or captured by
    hand."""
    if result.decision == c.Decision.BLOCK:
        return c.ScreeningRoute.BLOCKED
    if result.decision == c.Decision.REVIEW:
        return c.ScreeningRoute.REVIEW
    if capture_mode != "manual":
        raise ValueError(f"an accepted order with {capture_mode} capture waits for its payment")
    return c.ScreeningRoute.CAPTURE


def screen_result(screening: dict[str, Any]) -> c.ScreenResult:
    """What the state machine keeps of a screening (``SCREENING_RESULT``)."""
    return c.ScreenResult(
        decision=screening["decision"],
        score=screening["score"],
        reasons=list(screening.get("reasons") or []),
        ruleset_version=screening.get("ruleset_version"),
    )


def _log_screening(screening: dict[str, Any]) -> None:
    logger.info(
        "screened",
        extra={
            "decision": screening["decision"],
            "score": screening["score"],
            "rules": screening.get("matched_rules"),
            "ruleset": screening.get("ruleset_version"),
        },
    )


def hold(ports: Ports, step: c.HoldInput) -> dict[str, Any]:
    """Potential fraud: the order waits for the client team; the customer is asked to confirm.
    A review goes on in stretches (``reviews.checkpoint``): later stretches only park the token."""
    state, tenant = load(ports, step.tenant, step.order_id)
    order = state.order
    assert order is not None
    ports.records.put_wait(tenant.id, state.order_id, "review", step.task_token)
    if ports.records.stage(tenant.id, state.order_id) == c.Stage.POTENTIAL_FRAUD:
        return {"held": True, "decided": take_pending_decision(ports, tenant.id, state.order_id)}
    notify(
        ports,
        "payment_verification",
        state,
        tenant,
        customer_of(state),
        {
            "days": max(1, tenant.review_timeout_hours // 24),
            "contact_email": tenant.branding.support_email if tenant.branding else None,
        },
    )
    screening = ports.records.screening(tenant.id, state.order_id) or {}
    expires_at = epoch_seconds(ports.clock) + tenant.review_timeout_hours * 3600
    urls = ports.review_links.links(tenant.id, state.order_id, expires_at)
    reasons = screening.get("reasons") or ["held for review"]
    # Without a signing key there are no one-click links: the console decides instead.
    fallback = ports.review_links.console_url
    from shared.notices.orders import PotentialFraud

    ports.alerts.send(
        PotentialFraud(
            tenant=tenant.id,
            order_id=state.order_id,
            reasons=tuple(reasons),
            risk_score=screening.get("score"),
            approve_url=urls.get("approve", fallback),
            reject_url=urls.get("reject", fallback),
            order={**order_context(state), "customer_ip": order.customer.ip},
        )
    )
    # Last: a retried step that failed above tells the client team again.
    ports.records.set_stage(tenant.id, state.order_id, c.Stage.POTENTIAL_FRAUD)
    return {"held": True}


# A decision that came while the review was between two stretches (the last one had just timed
# out, the next one not parked yet): parked beside the order for the next stretch to take.
PENDING_DECISION = "review_decision"


def decide(ports: Ports, step: c.DecideInput) -> dict[str, Any]:
    """An operator's decision on a held order (the operator API and signed links call this)."""
    outcome = c.ReviewOutcome(decision=step.decision, by=step.by).model_dump(mode="json")
    token = ports.records.take_wait(step.tenant, step.order_id, "review")
    if token is not None and ports.workflows.resume(token, outcome):
        return {"resumed": True}
    if token is None or not review_goes_on(ports, step.tenant, step.order_id):
        return {"resumed": False, "reason": "no review is waiting for this order"}
    ports.records.put_wait(step.tenant, step.order_id, PENDING_DECISION, json.dumps(outcome))
    # The next stretch may have parked its token before the decision was parked.
    take_pending_decision(ports, step.tenant, step.order_id)
    return {"resumed": True, "queued": True}


def review_goes_on(ports: Ports, tenant_id: str, order_id: str) -> bool:
    """The order is held and its review's time is not up: a stretch that timed out is followed
    by another."""
    tenant = ports.tenants.get(tenant_id)
    review = ports.records.review(tenant_id, order_id) or {}
    held_at = review.get("held_at")
    if tenant is None or held_at is None:
        return False
    if ports.records.stage(tenant_id, order_id) != c.Stage.POTENTIAL_FRAUD:
        return False
    seconds = (ports.clock.now() - datetime.fromisoformat(held_at)).total_seconds()
    return lifecycle_hours(seconds, ports.seconds_per_day) < tenant.review_timeout_hours


def take_pending_decision(ports: Ports, tenant: str, order_id: str) -> bool:
    """Resume the review's waiting stretch with a parked decision, when both are there. Each is
    taken (one caller gets it), so the hold step and ``decide`` may both try."""
    token = ports.records.take_wait(tenant, order_id, "review")
    if token is None:
        return False
    pending = ports.records.take_wait(tenant, order_id, PENDING_DECISION)
    if pending is None:
        ports.records.put_wait(tenant, order_id, "review", token)
        return False
    return ports.workflows.resume(token, json.loads(pending))


def resume_waits(
    ports: Ports, tenant: str, order_id: str, state: OrderState, *, moved: bool = False
) -> list[str]:
    """After an event changed the order: redeem the waits it satisfies. Only the waits parked
    now are tried: the event was committed before this read, and a wait parks its token before
    it reads the order, so one of the two sees the other. An event that ``moved`` a parcel
    (``domain.parcel_moved``) and does not end the delivery wait keeps it alive instead
    (``keep_waiting_for_delivery``)."""
    resumed = []
    claims: dict[str, dict[str, Any]] | None = None
    parked = ports.records.parked(tenant, order_id)
    for wait in c.WaitKind:
        if str(wait) not in parked:
            continue
        if wait == c.WaitKind.DELIVERY and state.parcels():
            claims = {k["tracking_code"]: k for k in ports.records.claims(tenant, order_id)}
        outcome = wait_outcome(state, wait, claims)
        if outcome is None:
            if wait == c.WaitKind.DELIVERY and moved:
                keep_waiting_for_delivery(ports, order_id, parked[str(wait)])
            continue
        taken = ports.records.take_parked(tenant, order_id, wait)
        if taken and answer_wait(ports, tenant, order_id, *taken, outcome):
            resumed.append(str(wait))
    return resumed


def answer_wait(
    ports: Ports,
    tenant: str,
    order_id: str,
    token: str,
    answer: str | None,
    outcome: c.WaitOutcome,
) -> bool:
    """Answer a parked wait as its state asked (``WaitAnswer``, stored with the token); a
    token parked without saying is an older definition's and gets the outcome, as it always
    did. False when the task was over already."""
    # Only the delivery wait names its parcels; the others resume as they always did.
    document = outcome.model_dump(mode="json", exclude=None if outcome.parcels else {"parcels"})
    if answer == c.WaitAnswer.SCREENING:
        screening = ports.records.screening(tenant, order_id)
        if screening is None:
            raise LookupError(f"order {order_id!r} waits for its payment without a screening")
        return ports.workflows.resume(token, screen_result(screening).model_dump(mode="json"))
    delivered = outcome.outcome == c.WaitOutcomeKind.DELIVERED
    if answer == c.WaitAnswer.DELIVERED_OR_PROBLEM and not delivered:
        return ports.workflows.fail(token, c.DELIVERY_PROBLEM, json.dumps(document))
    return ports.workflows.resume(token, document)


def keep_waiting_for_delivery(ports: Ports, order_id: str, token: str) -> bool:
    """A parcel moved: the delivery wait's heartbeat, so its no-movement limit (the task's
    heartbeat limit) starts again. The wait may have ended meanwhile (its limit passed, another
    event resumed it): Step Functions refuses the heartbeat, which is expected now and then and
    fails nothing. A claims wait parked by then has no heartbeat limit: the heartbeat changes
    nothing for it. Sent again for an event processed again (a retried batch), as nothing says
    the first pass got this far."""
    if ports.workflows.heartbeat(token):
        return True
    logger.info("delivery wait already over: no heartbeat to send", extra={"order_id": order_id})
    return False


def wait(ports: Ports, step: c.WaitInput) -> dict[str, Any]:
    """Park the task token until the fact comes (``resume_waits``), after recording the stage
    the order reaches as it starts waiting, if the state names one. A redelivered invocation
    records that stage again: its e-mail goes once (``notify``), its alert as a retried
    ``stage`` step's would."""
    if step.stage is not None:
        stage(
            ports,
            c.StageInput(
                tenant=step.tenant,
                order_id=step.order_id,
                action=c.LifecycleAction.STAGE,
                stage=step.stage,
                shipment=step.shipment,
            ),
        )
    # Only a wait that asks for another answer than the older definitions' says so.
    answer = None if step.answer == c.WaitAnswer.OUTCOME else str(step.answer)
    ports.records.put_wait(step.tenant, step.order_id, step.wait, step.task_token, answer)
    ports.records.set_stage(step.tenant, step.order_id, f"awaiting_{step.wait}")
    # The fact may have arrived before the lifecycle got here: resume at once.
    state, _ = ports.orders.load(step.tenant, step.order_id)
    if (
        step.wait == c.WaitKind.DELIVERY
        and ports.records.movement(step.tenant, step.order_id) is None
    ):
        # Where the parcels were when the delivery wait first began: what ``check_movement``
        # compares with, for executions of the definitions that timed the wait in stretches.
        ports.records.save_movement(step.tenant, step.order_id, movement(state))
    resume_waits(ports, step.tenant, step.order_id, state)
    return {"waiting": str(step.wait)}


def check_movement(ports: Ports, step: c.MovementInput) -> c.MovementResult:
    """The delivery wait timed out: if a parcel moved since it (last) began, it waits again;
    if none did, the parcels have stood still for the tenant's limit (``no_movement_days``).
    Only executions started on the definitions before the heartbeat (``CheckMovement``) call
    this: a Standard execution finishes on the definition it started with."""
    state, _ = load(ports, step.tenant, step.order_id)
    return c.MovementResult(moved=moved_since_wait(ports, step.tenant, step.order_id, state))


def stage(ports: Ports, step: c.StageInput) -> dict[str, Any]:
    """Record a stage and tell the customer (or the client team) what it means for them."""
    state, tenant = load(ports, step.tenant, step.order_id)
    if step.cause is not None:
        # The delivery wait failed with the outcome as its cause: its shipment is the problem.
        problem = c.WaitOutcome.model_validate_json(step.cause).shipment
        step = step.model_copy(update={"shipment": problem, "cause": None})
    ports.records.set_stage(tenant.id, state.order_id, step.stage, step.detail)
    customer = customer_of(state)
    shipment = next(iter(state.shipments.values()), None)
    if step.stage == c.Stage.CONFIRMED:
        if ports.vendor_ledger is not None:
            ports.vendor_ledger.sold(tenant, state)
        notify(ports, "order_confirmation", state, tenant, customer)
    elif step.stage == c.Stage.SHIPPED and shipment is not None:
        notify(
            ports,
            "order_shipped",
            state,
            tenant,
            customer,
            {
                "carrier": shipment.carrier or "the carrier",
                "tracking_code": shipment.tracking_code,
                "tracking_url": shipment.tracking_url,
            },
        )
    elif step.stage == c.Stage.DELIVERED:
        notify(
            ports,
            "order_delivered",
            state,
            tenant,
            customer,
            {"return_window_days": tenant.return_window_days},
        )
    elif step.stage == c.Stage.DELIVERY_PROBLEM and step.shipment == "no_movement":
        no_movement(ports, tenant, state)
    elif step.stage == c.Stage.DELIVERY_PROBLEM:
        _delivery_problem(ports, state, tenant, step.shipment)
        return c.ProblemResult(
            stage=str(step.stage), delivered_lines=len(delivered_lines(state))
        ).model_dump(mode="json")
    elif step.stage == c.Stage.NOT_DISPATCHED:
        from shared.notices.orders import NotDispatched

        ports.alerts.send(
            NotDispatched(
                tenant=tenant.id,
                order_id=state.order_id,
                days=tenant.dispatch_sla_days,
                order=order_context(state),
            )
        )
    return {"stage": str(step.stage)}


def _delivery_problem(
    ports: Ports, state: OrderState, tenant: TenantSettings, problem: str | None
) -> None:
    """Every parcel is settled and one was not delivered (returned, or its claim decided): the
    customer and carrier were told parcel by parcel; the client team decides refund or
    reship for what did not arrive. The vendors of what did not arrive are not paid for it
    until an operator decides (the vendor ledger holds those lines)."""
    if ports.vendor_ledger is not None:
        ports.vendor_ledger.delivery_problem(tenant, state)
    claims = {k["tracking_code"]: k for k in ports.records.claims(tenant.id, state.order_id)}
    parcels = []
    for p in state.parcels():
        claim = claims.get(p.tracking_code, {}).get("status")
        lines = ", ".join(state.parcel_lines(p)) or "(none named)"
        parcels.append(
            f"{p.tracking_code}: {p.state}, lines {lines}" + (f", claim {claim}" if claim else "")
        )
    from shared.notices.orders import OrderNotDelivered

    ports.alerts.send(
        OrderNotDelivered(
            tenant=tenant.id,
            order_id=state.order_id,
            parcels=tuple(parcels),
            order=order_context(state),
        )
    )


def cancel(ports: Ports, step: c.CancelInput) -> dict[str, Any]:
    """The lifecycle cancels (blocked, rejected, review timed out, never authorized): void what
    was only authorized, refund what was paid, tell the customer."""
    state, tenant = load(ports, step.tenant, step.order_id)
    ports.records.set_stage(tenant.id, state.order_id, c.Stage.CANCELLED, step.reason)
    if step.reason in FRAUD_CANCELLATIONS and state.order is not None:
        # The customer's later orders see this decision in their history, from the moment it
        # was taken (see shared.clock for which time a fact carries).
        ports.screening.record_fraud_decision(
            state.order, decided_at(ports.clock, state.order.occurred_at)
        )
    paid = state.paid() - state.refunded()
    extra: dict[str, Any] = {"reason": CUSTOMER_REASONS.get(step.reason)}
    if paid > 0 and state.currency:
        extra["refund"] = {"amount": paid, "currency": state.currency}
    cause = CANCELLATION_CAUSES[step.reason]
    if ports.vendor_ledger is not None:
        ports.vendor_ledger.cancelled(tenant, state)
    voided = void_authorizations(ports, state, tenant, cause)
    notify(ports, "order_cancelled", state, tenant, customer_of(state), extra)
    refunds: list[dict[str, Any]] = []
    if paid > 0 and ports.refund_machine:
        refunds = refund_all_payments(ports, tenant.id, state, cause)
    return {
        "cancelled": True,
        "refund_due": max(paid, 0),
        "reason": str(step.reason),
        "refunds": refunds,
        "voided": voided,
    }


def capture(ports: Ports, step: c.CaptureInput) -> dict[str, Any]:
    """Manual capture mode: take the money only now that screening (or a reviewer) allowed it."""
    state, tenant = load(ports, step.tenant, step.order_id)
    authorized = [p for p in state.payments.values() if p.status == "authorized"]
    if not authorized:
        if state.successful_payments():
            return {"captured": 0, "note": "already captured"}
        raise PaymentNotAuthorizedYet(f"order {state.order_id} has no authorized payment yet")
    payments = ports.payments_for(tenant.id)
    for payment in authorized:
        payments.capture(
            payment_id=payment.payment_id,
            amount=None,
            key=f"{tenant.id}:{state.order_id}:capture:{payment.payment_id}",
        )
    return {"captured": len(authorized)}


def void_authorizations(
    ports: Ports, state: OrderState, tenant: TenantSettings, cause: c.RefundCause
) -> int:
    """Cancel authorizations that were never captured: the customer is never charged. The
    gateway hears the cancellation reason ``cause`` stands for under the tenant's policy."""
    voided = 0
    reason = cancellation_reason(cause, report_fraud=tenant.refunds.report_fraud_to_gateway)
    for payment in state.payments.values():
        if payment.status == "authorized":
            ports.payments_for(tenant.id).void(
                payment_id=payment.payment_id,
                key=f"{tenant.id}:{state.order_id}:void:{payment.payment_id}",
                reason=reason,
            )
            voided += 1
    return voided


def _release_to_vendors(
    ports: Ports, tenant: TenantSettings, state: OrderState, lines: list[dict[str, Any]]
) -> None:
    if ports.vendor_ledger is not None:
        ports.vendor_ledger.released(tenant, state, [line["line_id"] for line in lines])


def release(ports: Ports, step: c.ReleaseInput) -> dict[str, Any]:
    state, tenant = load(ports, step.tenant, step.order_id)
    held = funds_holding_disputes(state)
    if held:
        # The cardholder's bank may take the money back (or did): the vendors are not paid
        # from it; the chargeback desk's case decides, an operator releases by hand.
        ids = ", ".join(f"{d.dispute_id} ({d.status.value})" for d in held)
        ports.records.set_stage(
            tenant.id, state.order_id, c.Stage.FUNDS_HELD, f"vendor funds held: disputed {ids}"
        )
        return {"released": 0, "held_for_disputes": [d.dispute_id for d in held]}
    lines = released_lines(state, delivered_only=step.delivered_only)
    if step.delivered_only:
        # The vendors whose lines arrived are paid; the stage stays delivery_problem.
        if lines:
            ports.records.release_funds(tenant.id, state.order_id, lines)
            _release_to_vendors(ports, tenant, state, lines)
        return {"released": len(lines)}
    ports.records.release_funds(tenant.id, state.order_id, lines)
    _release_to_vendors(ports, tenant, state, lines)
    ports.records.set_stage(tenant.id, state.order_id, c.Stage.CLOSED)
    return {"released": len(lines)}
