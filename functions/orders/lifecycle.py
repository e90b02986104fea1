"""The order lifecycle's steps: one Lambda the state machine calls with an ``action``.

Each action is small and idempotent (the state machine retries them): screening, holding for
review, confirming, waiting for a fact (the task token is parked on the order and the processor
redeems it when the fact arrives, or at once if it already has), notifying, cancelling and
releasing funds. Notifications never fail the lifecycle: a failed e-mail is logged, recorded
on the order and retried by the next delivery of the same step.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from functions.risk.customers import customer_key
from functions.risk.history import DynamoHistory
from shared import aws, keys, workflows
from shared.clock import SYSTEM_CLOCK, Clock, decided_at, epoch_seconds
from shared.events import Card
from shared.lifecycle_store import LifecycleStore
from shared.observability import logger
from shared.order_aggregate import FRAUD_CANCELLATIONS, OrderState
from shared.order_store import OrderStore
from shared.tenant_secrets import TenantSecrets
from shared.tenants import TenantDirectory, TenantSettings

if TYPE_CHECKING:
    from functions.risk.management import RiskAdmin
    from functions.risk.velocity import VelocityPort

SHIPPED = {"pre_transit", "in_transit", "out_for_delivery", "available_for_pickup", "delivered"}
DELIVERY_PROBLEMS = {"failure", "return_to_sender", "cancelled"}


@dataclass
class Deps:
    orders: OrderStore
    lifecycle: LifecycleStore
    tenants: TenantDirectory
    secrets: TenantSecrets
    history: DynamoHistory
    clock: Clock = field(default=SYSTEM_CLOCK)

    # Only the screen step needs the rule engine (CEL, IP and disposable-domain tables): the
    # other steps of the same function do not pay for loading it.
    @cached_property
    def risk(self) -> RiskAdmin:
        from functions.risk.management import RiskAdmin
        from shared.risk_store import RiskStore

        return RiskAdmin(RiskStore(self.orders.table_name))

    @cached_property
    def velocity(self) -> VelocityPort:
        from functions.risk.velocity import DynamoVelocity

        return DynamoVelocity(self.orders.table_name)


@cache
def _deps(table: str, clock: Clock = SYSTEM_CLOCK) -> Deps:
    return Deps(
        OrderStore(table, clock),
        LifecycleStore(table, clock),
        TenantDirectory(table),
        TenantSecrets(parts=("api", "links")),
        DynamoHistory(table),
        clock,
    )


def wait_outcome(state: OrderState, wait: str) -> dict[str, Any] | None:
    """What resumes a wait, if the order already shows it; None while it should go on waiting."""
    shipment = state.shipment_status()
    if wait == "shipment" and (shipment in SHIPPED or shipment == "fulfilled"):
        return {"outcome": "shipped", "shipment": shipment}
    if wait == "delivery":
        if shipment == "delivered":
            return {"outcome": "delivered"}
        if shipment in DELIVERY_PROBLEMS:
            return {"outcome": "problem", "shipment": shipment}
    return None


def resume_waits(tenant: str, order_id: str, state: OrderState, store: LifecycleStore) -> list[str]:
    """Called after an event changed the order: redeem the waits it satisfies."""
    resumed = []
    for wait in ("shipment", "delivery"):
        outcome = wait_outcome(state, wait)
        if outcome is None:
            continue
        token = store.take_wait(tenant, order_id, wait)
        if token and workflows.resume(token, outcome):
            resumed.append(wait)
    return resumed


# -- notifications -------------------------------------------------------------------------------


def _mailer(clock: Clock) -> Any:
    from shared.notify.mailers import FileMailer, SesMailer

    folder = os.environ.get("MAIL_DIR")
    return FileMailer(Path(folder), clock) if folder else SesMailer(clock=clock)


def _order_context(state: OrderState) -> dict[str, Any]:
    order = state.order
    assert order is not None
    return {
        "order_id": state.order_id,
        "customer_name": order.customer.name,
        "customer_email": order.customer.email,
        "placed_at": order.occurred_at,
        "lines": [
            {
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "vendor": line.vendor_id,
                "sku": line.sku,
            }
            for line in order.lines
        ],
        "total": order.total,
        "shipping": order.shipping,
        "tax": order.tax,
        "discount": order.discount,
        "shipping_address": order.shipping_address.model_dump() if order.shipping_address else None,
    }


SEND_ATTEMPTS = 3


def send_email(
    kind: str,
    state: OrderState,
    tenant: TenantSettings,
    to: list[str],
    extra: dict[str, Any] | None = None,
    sender: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> str | None:
    """Render and send once per order and kind, recorded on the order's timeline.

    A notification already recorded as sent is not sent again (SES has no idempotency key of
    its own). Failures are retried a few times, then recorded as failed: an e-mail never
    stops the order (the next delivery of the same step tries again)."""
    from shared.notify.render import EmailKind, render

    recipients = [r for r in to if r]
    if not recipients:
        return None
    table = os.environ.get("TABLE_NAME")
    notes = NotificationLog(table, clock) if table else None
    if notes is not None and notes.sent(tenant.id, state.order_id, kind):
        return None
    error: Exception | None = None
    for attempt in range(SEND_ATTEMPTS):
        try:
            email = render(
                EmailKind(kind),
                {**_order_context(state), **(extra or {})},
                tenant,
                recipients,
                sender=sender,
            )
            message_id = str(_mailer(clock).send(email, f"{tenant.id}:{state.order_id}:{kind}"))
        except Exception as failure:  # recorded below; a notification must not stop the order
            error = failure
            time.sleep(0.2 * (attempt + 1))
            continue
        if notes is not None:
            notes.record(tenant.id, state.order_id, kind, "sent", message_id, email.subject)
        return message_id
    logger.error("notification failed", extra={"kind": kind, "error": str(error)})
    if notes is not None:
        notes.record(tenant.id, state.order_id, kind, "failed", "", str(error)[:300])
    return None


class NotificationLog:
    """``T#<t>#ORDER#<order>`` / ``NOTIFY#<kind>``, and a timeline entry per e-mail sent."""

    def __init__(self, table: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.table = table
        self.clock = clock

    def sent(self, tenant: str, order_id: str, kind: str) -> bool:
        item = (
            aws.client("dynamodb")
            .get_item(
                TableName=self.table,
                ConsistentRead=True,
                Key={
                    "PK": {"S": keys.order_pk(tenant, order_id)},
                    "SK": {"S": keys.notify_sk(kind)},
                },
            )
            .get("Item")
        )
        return bool(item) and item["status"]["S"] == "sent"

    def record(
        self, tenant: str, order_id: str, kind: str, status: str, message_id: str, summary: str
    ) -> None:
        now = self.clock.now().isoformat()
        pk = {"S": keys.order_pk(tenant, order_id)}
        ddb = aws.client("dynamodb")
        ddb.put_item(
            TableName=self.table,
            Item={
                "PK": pk,
                "SK": {"S": keys.notify_sk(kind)},
                "kind": {"S": "notification"},
                "status": {"S": status},
                "message_id": {"S": message_id},
                "at": {"S": now},
            },
        )
        if status == "sent":
            ddb.put_item(
                TableName=self.table,
                Item={
                    "PK": pk,
                    "SK": {"S": keys.timeline_sk(now, "notify", kind)},
                    "kind": {"S": "timeline"},
                    "tenant": {"S": tenant},
                    "order_id": {"S": order_id},
                    "event_kind": {"S": "NotificationSent"},
                    "source": {"S": "notify"},
                    "event_id": {"S": message_id or kind},
                    "occurred_at": {"S": now},
                    "summary": {"S": f"e-mail {kind}: {summary}"},
                    "event": {"S": "{}"},
                },
            )


def alert_client_team(tenant: TenantSettings, subject: str, message: dict[str, Any]) -> None:
    topic = os.environ.get("CLIENT_ALERTS_TOPIC")
    if not topic:
        return
    try:
        aws.client("sns").publish(
            TopicArn=topic,
            Subject=subject[:100],
            Message=json.dumps(message, default=str),
            MessageAttributes={"tenant": {"DataType": "String", "StringValue": tenant.id}},
        )
    except Exception as error:  # alerting must not stop the order either
        logger.exception("alert failed", extra={"error": str(error)})


# -- actions -------------------------------------------------------------------------------------


def _load(deps: Deps, event: dict[str, Any]) -> tuple[OrderState, TenantSettings]:
    tenant = deps.tenants.get(event["tenant"])
    if tenant is None:
        raise LookupError(f"tenant {event['tenant']!r} has no settings")
    state, version = deps.orders.load(event["tenant"], event["order_id"])
    if version == 0 or state.order is None:
        raise LookupError(f"order {event['order_id']!r} is not known (yet)")
    return state, tenant


def _card(state: OrderState) -> Card | None:
    """The card of the order's payment, when the gateway has told us already."""
    for payment in sorted(state.payments.values(), key=lambda p: p.payment_id):
        if payment.card is not None:
            return Card.model_validate(payment.card.value)
    return None


def act_screen(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    """Signals (lists, velocity, geography, history) and the tenant's CEL rules → a decision.

    Retries are safe: velocity returns the counts recorded at the first attempt and history
    is read strictly before the order's time, so a retry decides on the same attributes."""
    from functions.risk.rules import evaluate
    from functions.risk.signals import collect

    state, tenant = _load(deps, event)
    order = state.order
    assert order is not None
    config = deps.risk.signal_config(tenant)
    attributes = collect(order, config, deps.velocity, deps.history, _card(state))
    ruleset = deps.risk.ruleset_for(tenant.id, attributes["category"])
    decision = evaluate(ruleset, attributes)
    screening = decision.to_screening(attributes).model_dump(mode="json")
    screening["matched_rules"] = [m.rule_id for m in decision.matched]
    screening["rule_errors"] = list(decision.errors)
    deps.lifecycle.save_screening(tenant.id, state.order_id, screening)
    who = customer_key(order)
    deps.history.record(
        tenant.id, who, order.occurred_at, "order", state.order_id, order.total.amount
    )
    logger.info(
        "screened",
        extra={
            "decision": decision.decision,
            "score": decision.score,
            "rules": screening["matched_rules"],
            "ruleset": decision.ruleset_version,
        },
    )
    return {
        "decision": decision.decision,
        "score": decision.score,
        "reasons": list(decision.reasons),
        "ruleset_version": decision.ruleset_version,
    }


def act_hold(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    """Potential fraud: the order waits for the client team; the customer is asked to confirm."""
    from shared.signed_links import sign_decision_links

    state, tenant = _load(deps, event)
    deps.lifecycle.put_wait(tenant.id, state.order_id, "review", event["task_token"])
    deps.lifecycle.set_stage(tenant.id, state.order_id, "potential_fraud")
    order = state.order
    assert order is not None
    days = max(1, tenant.review_timeout_hours // 24)
    send_email(
        "payment_verification",
        state,
        tenant,
        [order.customer.email or ""],
        {"days": days, "contact_email": tenant.branding.support_email if tenant.branding else None},
        clock=deps.clock,
    )
    screening = deps.lifecycle.screening(tenant.id, state.order_id) or {}
    expires_at = epoch_seconds(deps.clock) + tenant.review_timeout_hours * 3600
    keys = deps.secrets.get(tenant.id).get("links", {}).get("signing_keys") or []
    base = os.environ.get("PUBLIC_API_URL", "https://api.example.invalid").rstrip("/")
    links = (
        sign_decision_links(
            key=keys[0], tenant=tenant.id, order_id=state.order_id, expires_at=expires_at
        )
        if keys
        else {}
    )
    urls = {d: f"{base}/links/{tenant.id}/{state.order_id}/{d}?token={t}" for d, t in links.items()}
    reasons = screening.get("reasons") or ["held for review"]
    send_email(
        "review_needed",
        state,
        tenant,
        list(tenant.alert_emails),
        {
            "reasons": reasons,
            "risk_score": screening.get("score"),
            "approve_url": urls.get("approve", f"{base}/orders"),
            "reject_url": urls.get("reject", f"{base}/orders"),
            "customer_ip": order.customer.ip,
        },
        sender=tenant.customer_sender,
        clock=deps.clock,
    )
    alert_client_team(
        tenant,
        f"Potential fraud: order {state.order_id}",
        {
            "tenant": tenant.id,
            "order_id": state.order_id,
            "reasons": reasons,
            "approve_url": urls.get("approve"),
            "reject_url": urls.get("reject"),
        },
    )
    return {"held": True}


def act_decide(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    """An operator's decision (the operator API and the signed-link route call this)."""
    if event["decision"] not in ("approve", "reject"):
        raise ValueError("decision is approve or reject")
    token = deps.lifecycle.take_wait(event["tenant"], event["order_id"], "review")
    if token is None:
        return {"resumed": False, "reason": "no review is waiting for this order"}
    resumed = workflows.resume(
        token, {"decision": event["decision"], "by": event.get("by", "operator")}
    )
    return {"resumed": resumed}


def act_wait(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    wait = event["wait"]
    deps.lifecycle.put_wait(event["tenant"], event["order_id"], wait, event["task_token"])
    deps.lifecycle.set_stage(event["tenant"], event["order_id"], f"awaiting_{wait}")
    # The fact may have arrived before the lifecycle got here: resume at once.
    state, _ = deps.orders.load(event["tenant"], event["order_id"])
    resume_waits(event["tenant"], event["order_id"], state, deps.lifecycle)
    return {"waiting": wait}


def act_stage(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    """Record a stage and tell the customer what it means for them."""
    state, tenant = _load(deps, event)
    stage = event["stage"]
    deps.lifecycle.set_stage(tenant.id, state.order_id, stage, event.get("detail", ""))
    customer = [state.order.customer.email or ""] if state.order else []
    shipment = next(iter(state.shipments.values()), None)
    if stage == "confirmed":
        send_email("order_confirmation", state, tenant, customer, clock=deps.clock)
    elif stage == "shipped" and shipment is not None:
        send_email(
            "order_shipped",
            state,
            tenant,
            customer,
            {
                "carrier": shipment.carrier or "the carrier",
                "tracking_code": shipment.tracking_code,
                "tracking_url": shipment.tracking_url,
            },
            clock=deps.clock,
        )
    elif stage == "delivered":
        send_email(
            "order_delivered",
            state,
            tenant,
            customer,
            {"return_window_days": tenant.return_window_days},
            clock=deps.clock,
        )
    elif stage == "delivery_problem":
        problem = {"return_to_sender": "returned_to_sender"}.get(event.get("shipment", ""), "lost")
        send_email(
            "delivery_problem",
            state,
            tenant,
            customer,
            {
                "problem": problem,
                "tracking_code": shipment.tracking_code if shipment else None,
                "carrier": shipment.carrier if shipment else None,
            },
            clock=deps.clock,
        )
        # A claim against the carrier, for the operator who decides to refund or reship.
        deps.lifecycle.open_claim(
            tenant.id,
            state.order_id,
            {
                "tracking_code": shipment.tracking_code if shipment else None,
                "carrier": shipment.carrier if shipment else None,
                "problem": event.get("shipment") or "unknown",
                "status": "open",
                "decision": "pending: refund or reship",
            },
        )
        alert_client_team(
            tenant,
            f"Delivery problem: order {state.order_id}",
            {
                "tenant": tenant.id,
                "order_id": state.order_id,
                "shipment": event.get("shipment"),
                "claim": "opened; decide refund (ops API refunds) or reship",
            },
        )
    elif stage == "not_dispatched":
        alert_client_team(
            tenant,
            f"Not dispatched: order {state.order_id}",
            {"tenant": tenant.id, "order_id": state.order_id, "days": tenant.dispatch_sla_days},
        )
    return {"stage": stage}


def act_cancel(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    state, tenant = _load(deps, event)
    reason = event.get("reason", "cancelled")
    deps.lifecycle.set_stage(tenant.id, state.order_id, "cancelled", reason)
    if reason in FRAUD_CANCELLATIONS and state.order is not None:
        # The customer's later orders see this decision in their history, from the moment it
        # was taken (see shared.clock for which time a fact carries).
        deps.history.record(
            tenant.id,
            customer_key(state.order),
            decided_at(deps.clock, state.order.occurred_at),
            "fraud_decision",
            state.order_id,
        )
    paid = state.paid() - state.refunded()
    customer = [state.order.customer.email or ""] if state.order else []
    extra: dict[str, Any] = {"reason": None}
    if paid > 0 and state.currency:
        extra["refund"] = {"amount": paid, "currency": state.currency}
    voided = void_authorizations(deps, state, tenant)
    send_email("order_cancelled", state, tenant, customer, extra, clock=deps.clock)
    refunds: list[dict[str, Any]] = []
    if paid > 0 and os.environ.get("REFUND_STATE_MACHINE"):
        from functions.orders.operations import refund_all_payments

        refunds = refund_all_payments(
            deps.orders.table_name,
            tenant.id,
            state.order_id,
            state,
            "requested_by_customer" if reason != "blocked_by_screening" else "fraudulent",
        )
    return {
        "cancelled": True,
        "refund_due": max(paid, 0),
        "reason": reason,
        "refunds": refunds,
        "voided": voided,
    }


class PaymentNotAuthorizedYet(Exception):
    """Manual capture: no authorized payment yet (the gateway's event may still be on its way)."""


def _money_movements(deps: Deps, tenant: str) -> Any:
    from shared.gateway import MoneyMovements, StripeGateway

    return MoneyMovements(StripeGateway(deps.secrets.get(tenant)["stripe"]["api_key"]))


def act_capture(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    """Manual capture mode: take the money only now that screening (or a reviewer) allowed it."""
    state, tenant = _load(deps, event)
    authorized = [p for p in state.payments.values() if p.status == "authorized"]
    if not authorized:
        if state.successful_payments():
            return {"captured": 0, "note": "already captured"}
        raise PaymentNotAuthorizedYet(f"order {state.order_id} has no authorized payment yet")
    gateway = _money_movements(deps, tenant.id)
    for payment in authorized:
        gateway.capture(
            payment_id=payment.payment_id,
            amount=None,
            key=f"{tenant.id}:{state.order_id}:capture:{payment.payment_id}",
        )
    return {"captured": len(authorized)}


def void_authorizations(deps: Deps, state: OrderState, tenant: TenantSettings) -> int:
    """Cancel authorizations that were never captured: the customer is never charged."""
    voided = 0
    for payment in state.payments.values():
        if payment.status == "authorized":
            _money_movements(deps, tenant.id).void(
                payment_id=payment.payment_id,
                key=f"{tenant.id}:{state.order_id}:void:{payment.payment_id}",
            )
            voided += 1
    return voided


def act_release(deps: Deps, event: dict[str, Any]) -> dict[str, Any]:
    state, tenant = _load(deps, event)
    order = state.order
    assert order is not None
    lines = [
        {
            "line_id": line.line_id,
            "vendor_id": line.vendor_id,
            "amount": line.unit_price.amount * line.quantity,
            "currency": line.unit_price.currency,
        }
        for line in order.lines
    ]
    deps.lifecycle.release_funds(tenant.id, state.order_id, lines)
    deps.lifecycle.set_stage(tenant.id, state.order_id, "closed")
    return {"released": len(lines)}


ACTIONS = {
    "capture": act_capture,
    "screen": act_screen,
    "hold": act_hold,
    "decide": act_decide,
    "wait": act_wait,
    "stage": act_stage,
    "cancel": act_cancel,
    "release": act_release,
}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    logger.append_keys(
        tenant=event.get("tenant"), order_id=event.get("order_id"), action=event.get("action")
    )
    action = ACTIONS.get(event.get("action", ""))
    if action is None:
        raise ValueError(f"unknown lifecycle action {event.get('action')!r}")
    return action(_deps(os.environ["TABLE_NAME"]), event)
