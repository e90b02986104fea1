"""Returns end to end on the local stack, with the Stripe and carrier sandboxes: a delivered
order, a return inside the window with the carrier's label and tracking code, the return
parcel's scans (signed tracking webhooks), an inspection accepting part of it, and the refund
of that part at the gateway; a second return of the same line and a return after the window
are refused."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import main
from functions.orders.errors import ReturnRefused
from functions.orders.ports import Ports
from functions.orders.use_cases import returns
from local.sandboxes.carrier_api import CarrierSandbox
from local.sandboxes.carriers import CarrierSecrets
from local.sandboxes.delivery import Deliverer
from local.sandboxes.stripe_sandbox import StripeSandbox
from shared.order_store import OrderStore
from tests.clocks import FixedClock
from tests.workflow.orders_api import orders
from tests.workflow.racers import race
from tests.workflow.test_lifecycle_local import (
    carrier_update,
    fulfil,
    make_tenant,
    sent_mail,
    wait_for_mail,
)
from tests.workflow.test_money_safety_local import _process_env
from tests.workflow.test_refunds_local import (
    forward,
    paid_order,
    refund_execution,
    wait_refund_submitted,
)

pytestmark = pytest.mark.local

# carrier_update's scans happen on 2026-11-23 (12:MM UTC).
DELIVERED = datetime(2026, 11, 23, 12, 10, tzinfo=UTC)
SECRETS = CarrierSecrets(
    easypost="easypost_e2e",
    aftership="aftership_e2e",
    shippo_token="shippo_e2e",
    shippo_secret="shippo_e2e_secret",
)


def on(stack: Any, at: datetime) -> Ports:
    """The orders ports an operator's request gets, on a clock set to ``at``."""
    return replace(orders(stack), clock=FixedClock(at))


def delivered(stack: Any, sandbox: StripeSandbox, tenant: str, order_id: str) -> None:
    paid_order(stack, sandbox, tenant, order_id)
    fulfil(stack, tenant, order_id, f"1Z{order_id.upper()}")
    carrier_update(stack, tenant, f"1Z{order_id.upper()}", "delivered", 10)
    stack.wait_idle(30)


def text_of(stack: Any, tenant: str, kind: str) -> str:
    body = sent_mail(stack, tenant, "o-1")[kind].get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def wait_for_return(
    stack: Any, tenant: str, order_id: str, return_id: str, status: str, timeout_s: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        record = orders(stack).returns.get(tenant, order_id, return_id)
        if record is not None and record["status"] == status:
            return record
        if time.monotonic() > deadline:
            raise AssertionError(f"return {return_id} is {record and record['status']}")
        time.sleep(0.2)


def test_a_return_is_labelled_by_the_carrier_inspected_and_refunded_for_what_was_accepted(
    local_stack: Any, sandbox: StripeSandbox, carrier: CarrierSandbox, tmp_path: Path
) -> None:
    tenant = "returns-e2e"
    make_tenant(local_stack, tmp_path, tenant, return_window_days=14, returns={"inspection": True})
    delivered(local_stack, sandbox, tenant, "o-1")
    ports = on(local_stack, DELIVERED + timedelta(days=3))

    opened = returns.open_return(
        ports, tenant, "o-1", [{"line_id": "l1", "quantity": 2}], "too small", by="ops@e2e"
    )
    (shipment,) = carrier.returns()
    assert shipment["reference"] == opened["return_id"]
    assert opened["tracking_code"] == shipment["tracking_code"]
    assert opened["label_url"] == shipment["postage_label"]["label_url"]
    wait_for_mail(local_stack, tenant, "o-1", "return_opened")
    assert opened["label_url"] in text_of(local_stack, tenant, "return_opened")

    # The same line again is refused, naming it; nothing new at the carrier.
    with pytest.raises(ReturnRefused, match="line l1: already returned or refunded: 2 of 2"):
        returns.open_return(ports, tenant, "o-1", [{"line_id": "l1"}], "again")
    assert len(carrier.returns()) == 1

    # The customer posts the parcel: the carrier's signed tracking webhooks about it.
    journey = carrier.journey(shipment["id"], order_id="o-1", sent_at=DELIVERED + timedelta(days=4))
    report = Deliverer(seed=4).deliver(
        carrier.scans(journey, base_url=local_stack.base_url, tenant=tenant, secrets=SECRETS)
    )
    assert report.all_acknowledged, report.summary()
    local_stack.wait_idle(30)
    received = wait_for_return(local_stack, tenant, "o-1", opened["return_id"], "received")
    assert received["received_at"] == journey.checkpoints[-1].at.isoformat()
    assert not any(e["type"] == "charge.refunded" for e in sandbox.events())  # inspection first

    # The client team records the inspection with the CLI: one of two pairs accepted.
    answer = CliRunner().invoke(
        main,
        [
            "returns", "inspect", "--tenant", tenant, "o-1", opened["return_id"],
            "--outcome", "partial", "--line", "l1:1", "--reason", "one boot is worn",
            "--local", local_stack.base_url,
        ],
    )  # fmt: skip
    assert answer.exit_code == 0, answer.output
    inspection = json.loads(answer.output)["inspection"]
    assert (inspection["amount"], inspection["lines"]) == (2500, {"l1": 1})
    assert " via " in inspection["by"] and inspection["at"]
    wait_refund_submitted(local_stack, sandbox, tenant)
    forward(local_stack, sandbox, tenant)
    refund_id = f"return-{opened['return_id']}"
    assert refund_execution(local_stack, tenant, "o-1", refund_id)["status"] == "SUCCEEDED"
    state, _ = OrderStore(local_stack.deployment.outputs["TableName"]).load(tenant, "o-1")
    assert (state.paid(), state.refunded()) == (5000, 2500)
    wait_for_mail(local_stack, tenant, "o-1", "return_inspected")
    assert "one boot is worn" in text_of(local_stack, tenant, "return_inspected")
    listed = CliRunner().invoke(
        main, ["returns", "list", "--tenant", tenant, "o-1", "--local", local_stack.base_url]
    )
    assert f"return {opened['return_id']}: refunded" in listed.output, listed.output
    assert "inspected partial by" in listed.output


def test_a_return_after_the_window_is_refused_and_nothing_is_labelled(
    local_stack: Any, sandbox: StripeSandbox, carrier: CarrierSandbox, tmp_path: Path
) -> None:
    tenant = "returns-late"
    make_tenant(local_stack, tmp_path, tenant, return_window_days=14)
    delivered(local_stack, sandbox, tenant, "o-1")
    late = on(local_stack, DELIVERED + timedelta(days=14, minutes=1))
    with pytest.raises(ReturnRefused, match="return window of 14 days closed"):
        returns.open_return(late, tenant, "o-1", [{"line_id": "l1"}], "late")
    assert carrier.returns() == []
    assert orders(local_stack).returns.all(tenant, "o-1") == []


def test_concurrent_returns_of_a_line_in_separate_processes_let_one_through_then_it_is_refunded(
    local_stack: Any, sandbox: StripeSandbox, carrier: CarrierSandbox, tmp_path: Path
) -> None:
    tenant = "returns-race"
    make_tenant(local_stack, tmp_path, tenant, return_window_days=14)
    delivered(local_stack, sandbox, tenant, "o-1")
    env = {**_process_env(local_stack), "CARRIER_API_BASE": carrier.base_url or ""}
    now = (DELIVERED + timedelta(days=1)).isoformat()
    answers = race([{"act": "return", "env": env, "tenant": tenant, "now": now} for _ in range(5)])
    assert sorted(answers) == [["opened", {"l1": 2}]] + [["refused", "l1"]] * 4
    assert len(carrier.returns()) == 1
    assert orders(local_stack).returns.returned(tenant, "o-1") == {"l1": 2}

    # This tenant does not inspect: the return parcel's delivery scan refunds its lines.
    (shipment,) = carrier.returns()
    journey = carrier.journey(shipment["id"], order_id="o-1", sent_at=DELIVERED + timedelta(days=2))
    report = Deliverer(seed=6).deliver(
        carrier.scans(journey, base_url=local_stack.base_url, tenant=tenant, secrets=SECRETS)
    )
    assert report.all_acknowledged, report.summary()
    local_stack.wait_idle(30)
    wait_refund_submitted(local_stack, sandbox, tenant)
    forward(local_stack, sandbox, tenant)
    refund_id = f"return-{shipment['reference']}"
    assert refund_execution(local_stack, tenant, "o-1", refund_id)["status"] == "SUCCEEDED"
    state, _ = OrderStore(local_stack.deployment.outputs["TableName"]).load(tenant, "o-1")
    assert state.refunded() == 5000
    wait_for_return(local_stack, tenant, "o-1", shipment["reference"], "refunded")
