"""Money safety on the local stack (security review, defects 2 to 5, 7 and 13): refunds that
collapsed into one, refunds that failed silently and blocked later ones, cancellations of
orders paid twice, and concurrent refund requests in separate processes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import stripe

from functions.orders.adapters.refund_ledger import DynamoRefundLedger as RefundLedger
from functions.orders.use_cases.operations import cancel_order, request_refund
from local.sandboxes.stripe_sandbox import StripeSandbox
from shared.order_store import OrderStore
from tests.workflow.alerts import TopicInbox
from tests.workflow.orders_api import orders
from tests.workflow.racers import race
from tests.workflow.test_lifecycle_local import make_tenant, place, wait_for_stage
from tests.workflow.test_refunds_local import (
    STRIPE_KEY,
    forward,
    refund_execution,
    refund_machine,
    why_it_failed,
)

pytestmark = pytest.mark.local

ORDER_DAY = date(2026, 11, 23)  # the day tests.e2e.helpers.shop_order places orders on


def _stripe(sandbox: StripeSandbox) -> stripe.StripeClient:
    return stripe.StripeClient(STRIPE_KEY, base_addresses={"api": sandbox.base_url or ""})


def pay(sandbox: StripeSandbox, order_id: str, amount: int) -> str:
    intent = _stripe(sandbox).v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "confirm": True,
            "payment_method": "pm_card_visa",
            "metadata": {"order_id": order_id},
        }
    )
    return str(intent.id)


def place_order(stack: Any, tenant: str, order_id: str, total: int) -> None:
    price = f"{total / 100:.2f}"
    place(
        stack,
        tenant,
        order_id,
        total=price,
        lines=[
            {
                "line_id": "l1",
                "sku": "S1",
                "name": "Boots",
                "quantity": 1,
                "unit_price": price,
                "vendor_id": "v1",
            }
        ],
    )


def paid_tenant(stack: Any, sandbox: StripeSandbox, tmp_path: Path, tenant: str) -> str:
    """A tenant with order o-1 of 50.00 paid by one payment; the payment's id."""
    make_tenant(stack, tmp_path, tenant)
    place_order(stack, tenant, "o-1", 5000)
    intent = pay(sandbox, "o-1", 5000)
    forward(stack, sandbox, tenant)
    return intent


def refunds_at_the_gateway(sandbox: StripeSandbox, intent: str) -> list[int]:
    return [r.amount for r in _stripe(sandbox).v1.refunds.list({"payment_intent": intent}).data]


def test_a_refund_the_gateway_refuses_ends_failed_releases_its_money_and_alerts(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    """Defect 4: the refusal ended in Fail with the record left ``requested``, counted as in
    flight for ever, and nobody was told."""
    tenant = "money-refused"
    make_tenant(local_stack, tmp_path, tenant)
    alerts = TopicInbox(local_stack)  # what the client teams are told
    place_order(local_stack, tenant, "o-1", 5000)
    intent = pay(sandbox, "o-1", 5000)
    forward(local_stack, sandbox, tenant)
    # Part refunded in the gateway's dashboard, and we have not heard of it yet: the gateway
    # will refuse our refund of the whole.
    _stripe(sandbox).v1.refunds.create({"payment_intent": intent, "amount": 2000})
    sandbox.drain_events()
    request_refund(
        orders(local_stack),
        tenant,
        "o-1",
        amount=5000,
        refund_id="r1",
    )
    assert refund_execution(local_stack, tenant, "o-1", "r1")["status"] == "FAILED"
    table = local_stack.deployment.outputs["TableName"]
    ledger = RefundLedger(table)
    (record,) = [r for r in ledger.requests(tenant, "o-1") if r["SK"] == "REFUND#r1"]
    assert record["status"] == "failed"
    # The reason says what the gateway has left of the payment, read from the gateway.
    assert "greater than unrefunded amount" in record["failure"]
    assert f"USD 30.00 of payment {intent} is left to refund" in record["failure"]
    assert ledger.reserved(tenant, "o-1", intent) == 0
    (alert,) = alerts.messages(tenant)
    assert (alert["kind"], alert["refund_id"]) == ("refund_failed", "r1")
    assert f"Reason: {record['failure']}" in alert["message"]


def test_a_refund_the_dashboard_already_made_in_full_ends_covered_and_nobody_is_alarmed(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    """The demo's cancellations: the shop refunded the payment in its dashboard and then
    cancelled the order; our cancellation refund reached the gateway before the dashboard
    refund's webhook reached us. The customer has the money back: no "refund failed"."""
    tenant = "money-covered"
    make_tenant(local_stack, tmp_path, tenant)
    alerts = TopicInbox(local_stack)
    place_order(local_stack, tenant, "o-1", 5000)
    intent = pay(sandbox, "o-1", 5000)
    forward(local_stack, sandbox, tenant)
    _stripe(sandbox).v1.refunds.create({"payment_intent": intent})
    sandbox.drain_events()
    request_refund(orders(local_stack), tenant, "o-1", amount=5000, refund_id="r1")
    assert refund_execution(local_stack, tenant, "o-1", "r1")["status"] == "SUCCEEDED"
    ledger = RefundLedger(local_stack.deployment.outputs["TableName"])
    (record,) = [r for r in ledger.requests(tenant, "o-1") if r["SK"] == "REFUND#r1"]
    assert record["status"] == "covered"
    assert "refunded in full at the gateway (USD 50.00 of USD 50.00)" in record["covered_by"]
    assert ledger.reserved(tenant, "o-1", intent) == 0
    assert refunds_at_the_gateway(sandbox, intent) == [5000]  # the dashboard's, only
    assert alerts.messages(tenant) == []


def test_a_refused_request_releases_what_it_held_so_the_next_one_can_go(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    tenant = "money-retry"
    intent = paid_tenant(local_stack, sandbox, tmp_path, tenant)
    sandbox.fail_next("/v1/refunds", status=500, times=1000, method="POST")
    request_refund(
        orders(local_stack),
        tenant,
        "o-1",
        amount=5000,
        refund_id="r1",
    )
    assert refund_execution(local_stack, tenant, "o-1", "r1", timeout_s=60)["status"] == "FAILED"
    sandbox.clear_faults()
    request_refund(
        orders(local_stack),
        tenant,
        "o-1",
        amount=5000,
        refund_id="r2",
    )
    forward_until_done(local_stack, sandbox, tenant, "o-1", "r2")
    assert refunds_at_the_gateway(sandbox, intent) == [5000]


def forward_until_done(
    stack: Any, sandbox: StripeSandbox, tenant: str, order_id: str, refund_id: str
) -> None:
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        forward(stack, sandbox, tenant)
        status = refund_execution(stack, tenant, order_id, refund_id, timeout_s=0.5)["status"]
        if status != "RUNNING":
            assert status == "SUCCEEDED", why_it_failed(stack, tenant, order_id, refund_id)
            return
    raise AssertionError(f"refund {refund_id} did not finish")


def test_cancelling_an_order_paid_by_two_payments_refunds_each_once(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    """Defect 5: "spans several payments", reported as "exceeds what was captured"."""
    tenant = "money-split"
    make_tenant(local_stack, tmp_path, tenant, dispatch_sla_days=6)
    place_order(local_stack, tenant, "o-1", 5000)
    first, second = pay(sandbox, "o-1", 2000), pay(sandbox, "o-1", 3000)
    forward(local_stack, sandbox, tenant)
    wait_for_stage(local_stack, tenant, "o-1", "awaiting_shipment")
    table = local_stack.deployment.outputs["TableName"]
    result = cancel_order(
        orders(local_stack),
        tenant,
        "o-1",
        "customer changed their mind",
    )
    assert result["refund_due"] == 5000
    assert sorted(r["refund_id"] for r in result["refunds"]) == sorted(
        [f"cancellation-{first}", f"cancellation-{second}"]
    )
    for intent in (first, second):
        forward_until_done(local_stack, sandbox, tenant, "o-1", f"cancellation-{intent}")
    assert refunds_at_the_gateway(sandbox, first) == [2000]
    assert refunds_at_the_gateway(sandbox, second) == [3000]
    # A second cancellation (the shop's webhook after the operator's) refunds nothing more.
    again = cancel_order(
        orders(local_stack),
        tenant,
        "o-1",
        "again",
    )
    assert again["refunds"] == []
    state, _ = OrderStore(table).load(tenant, "o-1")
    assert state.status() == "refunded"


def test_reconciliation_refunds_every_payment_of_a_cancelled_order_paid_twice(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    """Defect 2: both refunds of the break got one truncated id and one workflow name; one
    payment came back, the other stayed "requested", the P1 break open for ever."""
    tenant = "money-recon"
    make_tenant(
        local_stack,
        tmp_path,
        tenant,
        reconciliation={"auto_refund": True, "dry_run": False, "grace_days": 0},
    )
    # No lifecycle and no refunds while the day happens: the cancelled order keeps both
    # payments, as when the shop cancels after the customer paid twice.
    overrides = local_stack.dispatcher.overrides
    overrides["LIFECYCLE_STATE_MACHINE"] = ""
    overrides["REFUND_STATE_MACHINE"] = ""
    try:
        place_order(local_stack, tenant, "o-1", 5000)
        first, second = pay(sandbox, "o-1", 5000), pay(sandbox, "o-1", 5000)
        forward(local_stack, sandbox, tenant)
        from tests.e2e.helpers import post_shop

        status, _ = post_shop(
            local_stack.base_url,
            tenant,
            {
                "event_id": "o-1-cancelled",
                "type": "order.cancelled",
                "occurred_at": "2026-11-23T12:00:00Z",
                "order": {"order_id": "o-1", "reason": "customer"},
            },
        )
        assert status == 200
        local_stack.wait_idle(30)
    finally:
        overrides.pop("LIFECYCLE_STATE_MACHINE", None)
        overrides.pop("REFUND_STATE_MACHINE", None)
    answer = local_stack.client("lambda").invoke(
        FunctionName=local_stack.deployment.outputs["ReconcileFunction"],
        Payload=json.dumps({"tenant": tenant, "day": ORDER_DAY.isoformat()}).encode(),
    )
    assert "FunctionError" not in answer, answer["Payload"].read()
    (summary,) = json.loads(answer["Payload"].read())["reconciled"]
    assert summary["actions"] == {"requested": 2}, summary
    table = local_stack.deployment.outputs["TableName"]
    requests = [
        r
        for r in RefundLedger(table).requests(tenant, "o-1")
        if r["SK"].startswith("REFUND#recon-")
    ]
    assert len(requests) == 2
    for record in requests:
        forward_until_done(
            local_stack, sandbox, tenant, "o-1", record["SK"].removeprefix("REFUND#")
        )
    assert refunds_at_the_gateway(sandbox, first) == [5000]
    assert refunds_at_the_gateway(sandbox, second) == [5000]


# -- races in separate processes (defect 7 and the refund id of defect 13) -----------------------


def _race_prepares(env: dict[str, str], tenant: str, requests: list[tuple[str, int]]) -> list[Any]:
    return race(
        [
            {"act": "prepare", "env": env, "tenant": tenant, "refund_id": rid, "amount": amount}
            for rid, amount in requests
        ]
    )


def _process_env(stack: Any) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": stack.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "TABLE_NAME": stack.deployment.outputs["TableName"],
        "TENANT_SECRET_PREFIX": stack.tenant_secret_prefix,
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }


def test_concurrent_refunds_in_separate_processes_never_reserve_more_than_was_captured(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    """Defect 7: two concurrent prepares of 3000 on a 5000 payment both passed."""
    tenant = "money-race"
    intent = paid_tenant(local_stack, sandbox, tmp_path, tenant)
    env = _process_env(local_stack)
    # Six at once, each 3000, on 5000: exactly one reserves.
    results = _race_prepares(env, tenant, [(f"r{i}", 3000) for i in range(6)])
    reserved = [r for r in results if r[1] == "reserved"]
    assert len(reserved) == 1, results
    assert RefundLedger(env["TABLE_NAME"]).reserved(tenant, "o-1", intent) == 3000
    # And five of 400 at once all fit in what is left (2000): the write is not a lock.
    results = _race_prepares(env, tenant, [(f"s{i}", 400) for i in range(5)])
    assert sorted(r[1] for r in results) == ["reserved"] * 5
    assert RefundLedger(env["TABLE_NAME"]).reserved(tenant, "o-1", intent) == 5000


def test_concurrent_requests_with_one_refund_id_start_it_once(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    """Defect 13: eight concurrent requests with one refund id all answered started: true."""
    tenant = "money-same-id"
    intent = paid_tenant(local_stack, sandbox, tmp_path, tenant)
    env = _process_env(local_stack)
    machine = refund_machine(local_stack)
    answers = race(
        [{"act": "request", "env": env, "tenant": tenant, "machine": machine} for _ in range(8)]
    )
    assert sorted(answers) == [False] * 7 + [True]
    forward_until_done(local_stack, sandbox, tenant, "o-1", "same")
    assert refunds_at_the_gateway(sandbox, intent) == [1000]
