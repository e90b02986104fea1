"""The refund workflow on moto against the Stripe sandbox: amounts, retries, confirmation."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import stripe

from functions.orders.domain import OperationRefused
from functions.orders.use_cases.operations import cancel_order, request_refund
from local.sandboxes.delivery import Deliverer
from local.sandboxes.stripe_events import stripe_deliveries
from local.sandboxes.stripe_sandbox import StripeSandbox
from shared.order_store import OrderStore
from shared.refund_causes import RefundCause, customer_sentence
from shared.workflows import execution_arn, execution_name
from tests.workflow.orders_api import orders
from tests.workflow.test_lifecycle_local import (
    make_tenant,
    place,
    sent_mail,
    wait_for_mail,
    wait_for_stage,
)

pytestmark = pytest.mark.local

STRIPE_KEY = "sk_test_e2e"


def refund_machine(stack: Any) -> str:
    # Passed explicitly: the local stack's functions run in this process and set and restore
    # their own environment, so the test thread must not rely on os.environ for these.
    return str(stack.deployment.outputs["RefundStateMachine"])


def forward(stack: Any, sandbox: StripeSandbox, tenant: str) -> None:
    """Deliver what the gateway has to say to the webhook, as Stripe would."""
    events = sandbox.drain_events()
    if events:
        report = Deliverer(seed=1).deliver(
            stripe_deliveries(events, base_url=stack.base_url, tenant=tenant, secret="whsec_e2e")
        )
        assert report.all_acknowledged, report.summary()
    stack.wait_idle(30)


def paid_order(
    stack: Any,
    sandbox: StripeSandbox,
    tenant: str,
    order_id: str,
    total: str = "50.00",
    placed_at: datetime | None = None,
) -> str:
    place(
        stack,
        tenant,
        order_id,
        placed_at,
        total=total,
        lines=[
            {
                "line_id": "l1",
                "sku": "S1",
                "name": "Boots",
                "quantity": 2,
                "unit_price": f"{int(float(total) * 100) // 2 / 100:.2f}",
                "vendor_id": "v1",
            }
        ],
    )
    client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": sandbox.base_url or ""})
    intent = client.v1.payment_intents.create(
        params={
            "amount": int(float(total) * 100),
            "currency": "usd",
            "confirm": True,
            "payment_method": "pm_card_visa",
            "metadata": {"order_id": order_id},
        }
    )
    forward(stack, sandbox, tenant)
    return str(intent.id)


def refund_execution(
    stack: Any, tenant: str, order_id: str, refund_id: str, timeout_s: float = 30
) -> dict[str, Any]:
    arn = stack.deployment.outputs["RefundStateMachine"].replace(":stateMachine:", ":execution:")
    sfn = stack.client("stepfunctions")
    execution = f"{arn}:{execution_name(tenant, order_id, 'refund', refund_id)}"
    deadline = time.monotonic() + timeout_s
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.2)


def why_it_failed(stack: Any, tenant: str, order_id: str, refund_id: str) -> str:
    """The failing events of a refund execution, for an assertion's message."""
    arn = stack.deployment.outputs["RefundStateMachine"].replace(":stateMachine:", ":execution:")
    events = stack.client("stepfunctions").get_execution_history(
        executionArn=f"{arn}:{execution_name(tenant, order_id, 'refund', refund_id)}",
        maxResults=200,
    )["events"]
    lines = []
    for event in events:
        details: dict[str, Any] = next(
            (v for k, v in event.items() if k.endswith("EventDetails")), {}
        )
        if "Failed" in event["type"] or "TimedOut" in event["type"] or "error" in details:
            lines.append(f"{event['type']}: {details.get('error')}: {details.get('cause')}")
    return "; ".join(lines) or "no failing event in the history"


def wait_refund_submitted(stack: Any, sandbox: StripeSandbox, tenant: str) -> None:
    # Generous: a loaded machine (several sessions at once) may take long; a quick one returns
    # as soon as the refund is seen.
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        if any(e["type"] == "charge.refunded" for e in sandbox.events()):
            return
        time.sleep(0.1)
    raise AssertionError("no refund reached the gateway")


def test_partial_refund_is_confirmed_by_the_gateway_and_told_to_the_customer(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    make_tenant(local_stack, tmp_path, "refund-part")
    paid_order(local_stack, sandbox, "refund-part", "o-1")
    started = request_refund(
        orders(local_stack),
        "refund-part",
        "o-1",
        amount=1500,
        refund_id="r1",
    )
    assert started["started"]
    wait_refund_submitted(local_stack, sandbox, "refund-part")
    forward(local_stack, sandbox, "refund-part")
    execution = refund_execution(local_stack, "refund-part", "o-1", "r1")
    records = orders(local_stack).refunds.requests("refund-part", "o-1")
    assert execution["status"] == "SUCCEEDED", (execution, records)
    state, _ = OrderStore(local_stack.deployment.outputs["TableName"]).load("refund-part", "o-1")
    assert state.refunded() == 1500 and state.status() == "partially_refunded"
    wait_for_mail(local_stack, "refund-part", "o-1", "refund_issued")
    # The same request again starts nothing.
    assert not request_refund(
        orders(local_stack),
        "refund-part",
        "o-1",
        amount=1500,
        refund_id="r1",
    )["started"]


@pytest.mark.parametrize(
    ("cause", "gateway_reason"),
    [
        (RefundCause.RECONCILIATION_DUPLICATE, "duplicate"),
        (RefundCause.RECONCILIATION_CANCELLED, None),
        (RefundCause.SCREENING_BLOCK, None),
    ],
)
def test_the_gateway_hears_the_causes_reason_and_the_customer_its_sentence(
    local_stack: Any,
    sandbox: StripeSandbox,
    tmp_path: Path,
    cause: RefundCause,
    gateway_reason: str | None,
) -> None:
    tenant = f"reason-{cause.value.replace('_', '-')}"[:40].rstrip("-")
    make_tenant(local_stack, tmp_path, tenant)
    intent = paid_order(local_stack, sandbox, tenant, "o-1")
    request_refund(orders(local_stack), tenant, "o-1", amount=1000, refund_id="r1", cause=cause)
    wait_refund_submitted(local_stack, sandbox, tenant)
    forward(local_stack, sandbox, tenant)
    assert refund_execution(local_stack, tenant, "o-1", "r1")["status"] == "SUCCEEDED"
    client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": sandbox.base_url or ""})
    (refund,) = client.v1.refunds.list(params={"payment_intent": intent}).data
    assert refund.reason == gateway_reason
    wait_for_mail(local_stack, tenant, "o-1", "refund_issued")
    mail = sent_mail(local_stack, tenant, "o-1")["refund_issued"]
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert customer_sentence(cause) in text
    assert "(duplicate)" not in text and "fraud" not in text.lower()


def test_refund_by_lines(local_stack: Any, sandbox: StripeSandbox, tmp_path: Path) -> None:
    make_tenant(local_stack, tmp_path, "refund-lines")
    paid_order(local_stack, sandbox, "refund-lines", "o-1")
    request_refund(
        orders(local_stack),
        "refund-lines",
        "o-1",
        lines=[{"line_id": "l1", "quantity": 1}],
        refund_id="r1",
    )
    wait_refund_submitted(local_stack, sandbox, "refund-lines")
    forward(local_stack, sandbox, "refund-lines")
    assert refund_execution(local_stack, "refund-lines", "o-1", "r1")["status"] == "SUCCEEDED"
    state, _ = OrderStore(local_stack.deployment.outputs["TableName"]).load("refund-lines", "o-1")
    assert state.refunded() == 2500


def test_more_than_captured_is_refused(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    make_tenant(local_stack, tmp_path, "refund-over")
    paid_order(local_stack, sandbox, "refund-over", "o-1")
    request_refund(
        orders(local_stack),
        "refund-over",
        "o-1",
        amount=6000,
        refund_id="r1",
    )
    described = refund_execution(local_stack, "refund-over", "o-1", "r1")
    assert described["status"] == "FAILED" and described.get("error") == "NotRefundable"
    assert not [e for e in sandbox.events() if e["type"] == "charge.refunded"]


def test_gateway_500_twice_then_success_makes_exactly_one_refund(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    make_tenant(local_stack, tmp_path, "refund-flaky")
    intent = paid_order(local_stack, sandbox, "refund-flaky", "o-1")
    sandbox.fail_next("/v1/refunds", status=500, times=2, method="POST")
    request_refund(
        orders(local_stack),
        "refund-flaky",
        "o-1",
        amount=1000,
        refund_id="r1",
    )
    wait_refund_submitted(local_stack, sandbox, "refund-flaky")
    forward(local_stack, sandbox, "refund-flaky")
    assert refund_execution(local_stack, "refund-flaky", "o-1", "r1")["status"] == "SUCCEEDED"
    client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": sandbox.base_url or ""})
    refunds = client.v1.refunds.list(params={"payment_intent": intent}).data
    assert len(refunds) == 1 and refunds[0].amount == 1000


def test_a_gateway_failing_past_the_clients_retries_is_retried_by_the_submit_state_once(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    """The submit state's retry on GatewayRetryable runs the step again once the Stripe
    client's own three retries are spent, and the idempotency key still makes one refund."""
    make_tenant(local_stack, tmp_path, "refund-flakier")
    intent = paid_order(local_stack, sandbox, "refund-flakier", "o-1")
    # Four answers fail the first attempt (the client tries four times), two more the second.
    sandbox.fail_next("/v1/refunds", status=500, times=6, method="POST")
    request_refund(orders(local_stack), "refund-flakier", "o-1", amount=1000, refund_id="r1")
    wait_refund_submitted(local_stack, sandbox, "refund-flakier")
    forward(local_stack, sandbox, "refund-flakier")
    described = refund_execution(local_stack, "refund-flakier", "o-1", "r1", timeout_s=60)
    assert described["status"] == "SUCCEEDED", why_it_failed(
        local_stack, "refund-flakier", "o-1", "r1"
    )
    arn = refund_machine(local_stack).replace(":stateMachine:", ":execution:")
    events = local_stack.client("stepfunctions").get_execution_history(
        executionArn=f"{arn}:{execution_name('refund-flakier', 'o-1', 'refund', 'r1')}"
    )["events"]
    failed = [e for e in events if e["type"] in ("TaskFailed", "LambdaFunctionFailed")]
    assert failed and all(
        (e.get("taskFailedEventDetails") or e.get("lambdaFunctionFailedEventDetails") or {}).get(
            "error"
        )
        == "GatewayRetryable"
        for e in failed
    )
    client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": sandbox.base_url or ""})
    refunds = client.v1.refunds.list(params={"payment_intent": intent}).data
    assert len(refunds) == 1 and refunds[0].amount == 1000


def test_cancelled_before_shipment_stops_the_lifecycle_and_refunds(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    # moto ends a stopped execution only when its waiting task times out: keep that wait short.
    make_tenant(local_stack, tmp_path, "refund-cancel", dispatch_sla_days=6)
    intent = paid_order(local_stack, sandbox, "refund-cancel", "o-1")
    wait_for_stage(local_stack, "refund-cancel", "o-1", "awaiting_shipment")
    table = local_stack.deployment.outputs["TableName"]
    result = cancel_order(
        orders(local_stack),
        "refund-cancel",
        "o-1",
        "customer changed their mind",
    )
    assert result["refund_due"] == 5000
    arn = execution_arn(
        local_stack.deployment.outputs["LifecycleStateMachine"],
        execution_name("refund-cancel", "o-1"),
    )
    deadline = time.monotonic() + 10
    status = "RUNNING"
    while status == "RUNNING" and time.monotonic() < deadline:
        status = local_stack.client("stepfunctions").describe_execution(executionArn=arn)["status"]
        time.sleep(0.2)
    assert status in {"ABORTED", "FAILED"}  # moto reports a stopped execution as FAILED
    wait_refund_submitted(local_stack, sandbox, "refund-cancel")
    forward(local_stack, sandbox, "refund-cancel")
    assert (
        refund_execution(local_stack, "refund-cancel", "o-1", f"cancellation-{intent}")["status"]
        == "SUCCEEDED"
    )
    state, _ = OrderStore(table).load("refund-cancel", "o-1")
    assert state.status() == "refunded"


def test_a_shipped_order_cannot_be_cancelled(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    from tests.workflow.test_lifecycle_local import carrier_update, fulfil

    make_tenant(local_stack, tmp_path, "refund-shipped")
    paid_order(local_stack, sandbox, "refund-shipped", "o-1")
    fulfil(local_stack, "refund-shipped", "o-1", "1ZSHIP")
    carrier_update(local_stack, "refund-shipped", "1ZSHIP", "in_transit", 3)
    local_stack.wait_idle(30)
    with pytest.raises(OperationRefused, match="shipped"):
        cancel_order(orders(local_stack), "refund-shipped", "o-1", "x")


def authorized_order(stack: Any, sandbox: StripeSandbox, tenant: str, order_id: str) -> str:
    place(
        stack,
        tenant,
        order_id,
        total="50.00",
        lines=[
            {
                "line_id": "l1",
                "sku": "S1",
                "name": "Boots",
                "quantity": 2,
                "unit_price": "25.00",
                "vendor_id": "v1",
            }
        ],
    )
    client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": sandbox.base_url or ""})
    intent = client.v1.payment_intents.create(
        params={
            "amount": 5000,
            "currency": "usd",
            "confirm": True,
            "capture_method": "manual",
            "payment_method": "pm_card_visa",
            "metadata": {"order_id": order_id},
        }
    )
    forward(stack, sandbox, tenant)
    return str(intent.id)


def test_manual_capture_of_an_accepted_order_captures_after_screening(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    """Manual capture: the screening's state is answered at once (no payment to wait for),
    the Choice routes to ``Capture``, and the order is confirmed once the money is taken."""
    from tests.workflow.test_lifecycle_local import entered, history

    tenant = "capture-accepted"
    make_tenant(
        local_stack, tmp_path, tenant, capture_mode="manual", authorisation_window_hours=720
    )
    intent = authorized_order(local_stack, sandbox, tenant, "o-1")
    wait_for_stage(local_stack, tenant, "o-1", "awaiting_shipment")
    client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": sandbox.base_url or ""})
    assert client.v1.payment_intents.retrieve(intent).status == "succeeded"
    assert entered(history(local_stack, tenant, "o-1")) == [
        "ScreenAndWaitForPayment",
        "Capture",
        "ConfirmAndWaitForShipment",
    ]


@pytest.mark.parametrize(
    ("decision", "expected", "report_fraud"),
    [("approve", "succeeded", False), ("reject", "canceled", False), ("reject", "canceled", True)],
)
def test_manual_capture_follows_the_review(
    local_stack: Any,
    sandbox: StripeSandbox,
    tmp_path: Path,
    decision: str,
    expected: str,
    report_fraud: bool,
) -> None:
    from tests.workflow.test_lifecycle_local import decide

    tenant = f"capture-{decision}" + ("-reported" if report_fraud else "")
    # Stripe's extended authorisation (30 days) lets the local tests' long reviews fit.
    make_tenant(
        local_stack,
        tmp_path,
        tenant,
        capture_mode="manual",
        authorisation_window_hours=720,
        risk={"review_over": 1000},
        refunds={"report_fraud_to_gateway": report_fraud},
    )
    intent = authorized_order(local_stack, sandbox, tenant, "o-1")
    wait_for_stage(local_stack, tenant, "o-1", "potential_fraud")
    assert decide(local_stack, tenant, "o-1", decision)["resumed"] is True
    client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": sandbox.base_url or ""})
    deadline = time.monotonic() + 20
    status = ""
    while time.monotonic() < deadline:
        status = client.v1.payment_intents.retrieve(intent).status
        if status == expected:
            break
        time.sleep(0.2)
    assert status == expected
    if decision == "reject":
        # A reviewer's rejection reaches Stripe as fraud only under the tenant's policy.
        reason = client.v1.payment_intents.retrieve(intent).cancellation_reason
        assert reason == ("fraudulent" if report_fraud else None)
    forward(local_stack, sandbox, tenant)
    state, _ = OrderStore(local_stack.deployment.outputs["TableName"]).load(tenant, "o-1")
    assert state.paid() == (5000 if decision == "approve" else 0)


def test_review_rejected_after_payment_refunds_the_customer(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    from tests.workflow.test_lifecycle_local import decide

    make_tenant(local_stack, tmp_path, "reject-refund", risk={"review_over": 1000})
    intent = paid_order(local_stack, sandbox, "reject-refund", "o-1")
    wait_for_stage(local_stack, "reject-refund", "o-1", "potential_fraud")
    assert decide(local_stack, "reject-refund", "o-1", "reject")["resumed"] is True
    wait_refund_submitted(local_stack, sandbox, "reject-refund")
    forward(local_stack, sandbox, "reject-refund")
    assert (
        refund_execution(local_stack, "reject-refund", "o-1", f"cancellation-{intent}")["status"]
        == "SUCCEEDED"
    )
    state, _ = OrderStore(local_stack.deployment.outputs["TableName"]).load("reject-refund", "o-1")
    assert state.status() == "refunded"
    client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": sandbox.base_url or ""})
    (refund,) = client.v1.refunds.list(params={"payment_intent": intent}).data
    assert refund.reason is None  # not reported as fraud: the tenant did not ask for it
    # Each e-mail went out once and is on the order's timeline.
    timeline = OrderStore(local_stack.deployment.outputs["TableName"]).timeline(
        "reject-refund", "o-1"
    )
    sent = [e["summary"] for e in timeline if e["source"] == "notify"]
    assert any("order_cancelled" in s for s in sent)
    assert len(sent) == len(set(sent))


def test_a_review_nearing_the_end_of_the_authorisation_alerts_the_reviewer_once(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    """Issue 13, item 8: the card's authorisation runs out 504 h after it was given (21 s on
    the local stack); 456 h before that (at 48 h, 2 s) the reviewer is told, once."""
    from datetime import datetime, timedelta

    from shared.lifecycle_store import LifecycleStore
    from tests.workflow.alerts import TopicInbox
    from tests.workflow.test_lifecycle_local import decide

    tenant = "capture-window"
    make_tenant(
        local_stack,
        tmp_path,
        tenant,
        capture_mode="manual",
        review_timeout_hours=480,
        authorisation_window_hours=504,
        authorisation_alert_before_hours=456,
        review_call_before_timeout_hours=0,
        risk={"review_over": 1000},
    )
    alerts = TopicInbox(local_stack)
    intent = authorized_order(local_stack, sandbox, tenant, "o-1")
    wait_for_stage(local_stack, tenant, "o-1", "potential_fraud")
    store = LifecycleStore(local_stack.deployment.outputs["TableName"])
    deadline = time.monotonic() + 15
    while not (store.review(tenant, "o-1") or {}).get("window_alerted_at"):
        assert time.monotonic() < deadline, "the reviewer was not alerted"
        time.sleep(0.2)
    review = store.review(tenant, "o-1")
    assert review is not None
    alerted = datetime.fromisoformat(review["window_alerted_at"])
    assert alerted - datetime.fromisoformat(review["held_at"]) >= timedelta(seconds=2)
    time.sleep(1)  # the next stretches alert no more
    (alert,) = [m for m in alerts.messages(tenant) if m["kind"] == "authorisation_ending"]
    assert alert["order_id"] == "o-1" and "Authorisation ends: " in alert["message"]
    assert decide(local_stack, tenant, "o-1", "approve")["resumed"] is True
    client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": sandbox.base_url or ""})
    # Generous: on a loaded machine the resumed lifecycle waits its turn behind other tests'
    # executions in this process; the subject here is the alert, not the capture's speed.
    deadline = time.monotonic() + 60
    while client.v1.payment_intents.retrieve(intent).status != "succeeded":
        assert time.monotonic() < deadline, "the approved payment was not captured"
        time.sleep(0.2)
