"""A refund failing days after it succeeded, end to end on the local stack with the Stripe
sandbox: placed, paid, cancelled and refunded on day D; on D+3 the card's bank sends the
refund back; the order, the refund record and the client team know, and the reconciliation of
D+3 shows the money held again (items 13.3 and 13.5)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import stripe

from functions.orders.adapters.refund_ledger import DynamoRefundLedger
from functions.orders.use_cases.operations import cancel_order
from functions.reconcile.adapters.break_store import BreakStore
from local.sandboxes.stripe_sandbox import DAY, StripeSandbox
from shared.order_store import OrderStore
from tests.workflow.alerts import TopicInbox
from tests.workflow.orders_api import orders
from tests.workflow.test_lifecycle_local import make_tenant, wait_for_stage
from tests.workflow.test_refunds_local import (
    STRIPE_KEY,
    forward,
    paid_order,
    refund_execution,
    wait_refund_submitted,
)

pytestmark = pytest.mark.local

TENANT = "refund-truth"
PLACED = date(2026, 11, 23)  # the shop's order says 2026-11-23T10:00:00Z (tests/e2e/helpers)


def reconcile(stack: Any, day: date) -> dict[str, Any]:
    answer = stack.client("lambda").invoke(
        FunctionName=stack.deployment.outputs["ReconcileFunction"],
        Payload=json.dumps({"tenant": TENANT, "day": day.isoformat()}).encode(),
    )
    assert "FunctionError" not in answer, answer["Payload"].read()
    (summary,) = json.loads(answer["Payload"].read())["reconciled"]
    return dict(summary)


def test_a_refund_failing_three_days_later_shows_as_held_money_in_the_next_reconciliation(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    # moto ends a stopped execution only when its waiting task times out: keep that wait short.
    make_tenant(local_stack, tmp_path, TENANT, dispatch_sla_days=6)
    alerts = TopicInbox(local_stack)
    sandbox.set_time(datetime(2026, 11, 23, 10, 5, tzinfo=UTC).timestamp())
    intent = paid_order(local_stack, sandbox, TENANT, "o-1")
    wait_for_stage(local_stack, TENANT, "o-1", "awaiting_shipment")
    cancel_order(orders(local_stack), TENANT, "o-1", "customer changed their mind")
    wait_refund_submitted(local_stack, sandbox, TENANT)
    forward(local_stack, sandbox, TENANT)
    refund_id = f"cancellation-{intent}"
    assert refund_execution(local_stack, TENANT, "o-1", refund_id)["status"] == "SUCCEEDED"
    table = local_stack.deployment.outputs["TableName"]
    store = OrderStore(table)
    assert store.load(TENANT, "o-1")[0].status() == "refunded"
    day_d = reconcile(local_stack, PLACED)
    assert day_d["by_class"] == {}, day_d  # cancelled and refunded: nothing to say on day D

    # Day D+3: the card's bank sends the refund back.
    client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": sandbox.base_url or ""})
    (refund,) = client.v1.refunds.list(params={"payment_intent": intent}).data
    sandbox.advance(3 * DAY)
    sandbox.fail_refund(refund.id, reason="expired_or_canceled_card")
    forward(local_stack, sandbox, TENANT)

    state, _ = store.load(TENANT, "o-1")
    assert state.refunded() == 0
    ledger = DynamoRefundLedger(table)
    (record,) = [r for r in ledger.requests(TENANT, "o-1") if r["refund_id"] == refund_id]
    assert record["status"] == "failed" and "expired_or_canceled_card" in record["failure"]
    assert ledger.reserved(TENANT, "o-1", intent) == 0
    told = [m for m in alerts.messages(TENANT) if m["kind"] == "refund_failed_at_gateway"]
    assert len(told) == 1, told  # three events said it; the client team hears it once
    assert told[0]["message"].startswith(
        "Refund failed at the gateway: order o-1, the customer did not get USD 50.00 back\n"
    )
    assert f"Gateway refund: {refund.id}" in told[0]["message"]
    assert "Reason: expired_or_canceled_card" in told[0]["message"]

    # The order was placed on D and is no longer "cancelled" on any index: only the change
    # the processor noted on D+3 brings it into that day's run.
    summary = reconcile(local_stack, PLACED + timedelta(days=3))
    assert summary["by_class"] == {"refund_failed": 1, "cancelled_not_refunded": 1}, summary
    breaks = {b.break_class.value: b for b in BreakStore(table).open_breaks(TENANT)}
    held = breaks["refund_failed"]
    assert (held.amount, held.currency, held.key("order_id")) == (5000, "USD", "o-1")
    assert "did not get USD 50.00 back" in held.explanation, held.explanation
    assert breaks["cancelled_not_refunded"].amount == 5000
