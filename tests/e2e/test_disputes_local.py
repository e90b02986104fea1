"""The chargeback desk end to end on the local stack with the Stripe sandbox (issue 15): a
chargeback on a paid order opens a case through the deployed processor, with its evidence
drafted and the client team told; the desk submits it to the sandbox and the network's outcome
closes it; the hourly tick reminds of the deadline once; an early fraud warning on an unshipped
order cancels it and refunds the payment through the refund workflow, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import stripe
from click.testing import CliRunner

from cli.main import main
from functions.disputes.adapters.case_store import DynamoCaseStore
from functions.disputes.composition import DisputesSettings, build_ports
from functions.disputes.domain.case import CaseState
from functions.disputes.domain.evidence import EvidenceDraft
from functions.disputes.use_cases.representment import submit_case
from local.sandboxes.stripe_sandbox import StripeSandbox
from tests.workflow.alerts import TopicInbox
from tests.workflow.test_lifecycle_local import make_tenant, wait_for_stage
from tests.workflow.test_refunds_local import STRIPE_KEY, forward, paid_order, refund_execution

pytestmark = pytest.mark.local

TENANT = "chargebacks"
NOW = datetime(2026, 11, 23, 10, 5, tzinfo=UTC)


def tick_function(stack: Any) -> str:
    deployment = stack.deployment
    return str(
        next(
            physical
            for lid, physical in deployment.physical.items()
            if deployment.types.get(lid) == "AWS::Lambda::Function" and "DisputesTick" in lid
        )
    )


def test_a_chargeback_from_case_to_outcome_and_an_early_fraud_warning(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_tenant(
        local_stack,
        tmp_path,
        TENANT,
        timezone="Europe/Amsterdam",
        disputes={"refund_policy_disclosure": "Refunds within 30 days, shown at checkout."},
    )
    alerts = TopicInbox(local_stack)
    sandbox.set_time(NOW.timestamp())
    monkeypatch.setenv("STRIPE_API_BASE", sandbox.base_url or "")
    client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": sandbox.base_url or ""})

    intent = paid_order(local_stack, sandbox, TENANT, "o-1")
    wait_for_stage(local_stack, TENANT, "o-1", "awaiting_shipment")  # confirmed and e-mailed
    charge = str(client.v1.payment_intents.retrieve(intent).latest_charge)
    dispute = sandbox.open_dispute(charge, reason="product_not_received")
    forward(local_stack, sandbox, TENANT)

    table = local_stack.deployment.outputs["TableName"]
    cases = DynamoCaseStore(table)
    case = cases.get(TENANT, dispute["id"])
    assert case is not None, "the processor opened no case"
    assert (case.order_id, case.state, case.card_brand, case.fee) == (
        "o-1",
        CaseState.COLLECTING,
        "visa",
        1500,
    )
    draft = EvidenceDraft.model_validate(case.evidence)
    assert draft.fields["refund_policy_disclosure"].startswith("Refunds within 30 days")
    assert "receipt" in draft.rendered  # the order confirmation the lifecycle e-mailed
    opened = [a for a in alerts.read() if a.get("kind") == "dispute_opened"]
    assert len(opened) == 1 and "CET" in opened[0]["message"]

    # Two days before the deadline the tick reminds once, however often it runs.
    due = case.evidence_due_by
    assert due is not None
    tick = {"time": (due - timedelta(days=1, hours=12)).isoformat()}
    first = local_stack.invoke(tick_function(local_stack), tick)
    again = local_stack.invoke(tick_function(local_stack), tick)
    assert [r["days_before"] for r in first["reminded"]] == [2] and again["reminded"] == []

    desk = build_ports(
        DisputesSettings(table_name=table, tenant_secret_prefix=local_stack.tenant_secret_prefix)
    )
    submit_case(desk, TENANT, dispute["id"], by="e2e")
    assert client.v1.disputes.retrieve(dispute["id"]).status == "under_review"
    forward(local_stack, sandbox, TENANT)
    sandbox.close_dispute(dispute["id"], won=True)
    forward(local_stack, sandbox, TENANT)
    case = cases.get(TENANT, dispute["id"])
    assert case is not None and (case.state, case.funds_reinstated) == (CaseState.WON, True)

    # An early fraud warning on a paid order not shipped: cancelled and refunded, once.
    second = paid_order(local_stack, sandbox, TENANT, "o-2")
    wait_for_stage(local_stack, TENANT, "o-2", "awaiting_shipment")
    warned_charge = str(client.v1.payment_intents.retrieve(second).latest_charge)
    sandbox.early_fraud_warning(warned_charge)
    forward(local_stack, sandbox, TENANT)
    wait_for_stage(local_stack, TENANT, "o-2", "cancelled")
    execution = refund_execution(local_stack, TENANT, "o-2", f"cancellation-{second}")
    assert execution["status"] == "SUCCEEDED", execution
    refunds = client.v1.refunds.list(params={"payment_intent": second}).data
    assert len(refunds) == 1 and refunds[0].reason is None  # not "fraudulent" by default
    assert any(a.get("kind") == "early_fraud_warning" for a in alerts.read())

    # The operator's view through the CLI on the running stack: the case, the month's ratios
    # (one chargeback and one early fraud warning on two Visa payments) and the register.
    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(
            main, ["disputes", *args, "--tenant", TENANT, "--local", local_stack.base_url]
        )
        assert result.exit_code == 0, result.output
        return result.output

    assert cli("list").splitlines()[0].startswith(f"{dispute['id']}")
    assert "won" in cli("show", dispute["id"]).splitlines()[0]
    ratios = cli("ratios", "--month", "2026-11")
    assert "(visa): 2 of 2 = 100.00 %" in ratios
    assert dispute["id"] in cli("register")
