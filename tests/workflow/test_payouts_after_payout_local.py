"""Vendor payouts on the local stack, after the money went out and when parcels go wrong:

- a refund after the payout leaves the vendor owing: the next cycle carries it, the one after
  recovers it from the vendor's next sale;
- a chargeback lost after the payout: borne by the vendor (carried) or by the platform (the
  vendor keeps what was paid), as the tenant's policy says;
- a cycle interrupted after posting and run again, then re-run: each vendor paid once;
- a delivery that ends in an exception: the delivered parcel's line is released and paid, the
  other line is held (never paid) until an operator releases it with the CLI, then paid.

Cycles run on cut-offs computed from the clock (days after the sales), never from a date
written here, so the tests hold under ``--travel``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import main
from functions.orders.use_cases.operations import request_refund
from functions.payouts.composition import build_ports
from functions.payouts.domain.cycles import CycleStatus, LineStatus
from functions.payouts.domain.ledger import Account, Book, EntryKind
from functions.payouts.domain.parcels import HoldReason, HoldStatus
from functions.payouts.domain.settlement import Outcome
from functions.payouts.ports import Ports
from functions.payouts.use_cases.cycles import run_cycle, show
from functions.payouts.use_cases.vendors import save_vendor
from local.sandboxes.stripe_sandbox import StripeSandbox
from shared import signing
from shared.clock import SYSTEM_CLOCK
from shared.tenants import TenantDirectory, TenantSettings
from tests.alerts_fakes import FakeAlerts
from tests.e2e.helpers import post, post_shop
from tests.workflow.orders_api import orders
from tests.workflow.test_lifecycle_local import (
    carrier_update,
    final_state,
    finished,
    fulfil,
    make_tenant,
    pay,
    place,
    place_paid,
    wait_for_stage,
)
from tests.workflow.test_refunds_local import (
    forward,
    paid_order,
    refund_execution,
    wait_refund_submitted,
)

pytestmark = pytest.mark.local


def vendor(vendor_id: str) -> dict[str, Any]:
    return {
        "vendor_id": vendor_id,
        "name": vendor_id,
        "emails": [f"{vendor_id}@vendors.example"],
        "currencies": ["USD"],
        "payout": {
            "method": "stripe_connect",
            "account_id": f"acct_1{vendor_id}xxxx",
            "currency": "USD",
        },
        "commission": [{"percent": "10", "effective_from": "2026-01-01"}],
    }


def marketplace(stack: Any, tmp_path: Path, tenant: str, *vendors: str, **payouts: Any) -> Ports:
    make_tenant(stack, tmp_path, tenant, payouts={"enabled": True, "schedule": "daily", **payouts})
    ports = build_ports(stack.deployment.outputs["TableName"], SYSTEM_CLOCK, FakeAlerts())
    for vendor_id in vendors:
        save_vendor(ports, tenant, vendor(vendor_id), "test")
    return ports


def settings_of(stack: Any, tenant: str) -> TenantSettings:
    found = TenantDirectory(stack.deployment.outputs["TableName"]).get(tenant)
    assert found is not None
    return found


def cycle_on(day: int) -> datetime:
    """An hour past the cut-off ``day`` days after today's (these tenants' cycles are daily at
    midnight UTC): every cycle of a test has its own, and a run of it hours later (a resumed or
    repeated one) stays in it whatever the hour the test runs at — ``now + day`` plus an hour
    crossed into the next cycle when the test ran after 22:00."""
    today = SYSTEM_CLOCK.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=day, hours=1)


def books(ports: Ports, tenant: str, vendor_id: str) -> dict[Book, int]:
    return {book: n for (cur, book), n in ports.ledger.balances(tenant, vendor_id).items() if n}


def payouts_of(ports: Ports, tenant: str, vendor_id: str) -> list[int]:
    return [
        e.amount_for(Account.vendor(vendor_id, Book.PAID))
        for e in ports.ledger.entries(tenant, vendor_id)
        if e.kind is EntryKind.PAYOUT
    ]


def line_of(ports: Ports, tenant: str, cycle_id: str, vendor_id: str) -> Any:
    (line,) = [x for x in show(ports, tenant, cycle_id)[1] if x.vendor_id == vendor_id]
    return line


def until(check: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the stack did not get there in time")
        time.sleep(0.2)


def delivered(stack: Any, tenant: str, order_id: str, tracking: str) -> None:
    wait_for_stage(stack, tenant, order_id, "awaiting_shipment")
    fulfil(stack, tenant, order_id, tracking)
    wait_for_stage(stack, tenant, order_id, "awaiting_delivery")
    carrier_update(stack, tenant, tracking, "delivered", 30)
    assert finished(stack, tenant, order_id, timeout_s=60)["status"] == "SUCCEEDED"


def test_a_refund_after_the_payout_is_carried_then_recovered_from_the_next_sale(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    tenant = "pay-carry"
    ports = marketplace(local_stack, tmp_path, tenant, "v1")
    paid_order(local_stack, sandbox, tenant, "o-1", total="50.00")
    delivered(local_stack, tenant, "o-1", "1ZCARRY1")
    settings = settings_of(local_stack, tenant)
    first = run_cycle(ports, settings, now=cycle_on(1))
    assert first.payable == {"USD": 4500}  # 50.00 less 10 % commission
    # The customer sends the boots back after the vendor was paid: refunded in full.
    assert request_refund(orders(local_stack), tenant, "o-1", amount=5000, refund_id="r1")[
        "started"
    ]
    wait_refund_submitted(local_stack, sandbox, tenant)
    forward(local_stack, sandbox, tenant)
    assert refund_execution(local_stack, tenant, "o-1", "r1")["status"] == "SUCCEEDED"
    assert books(ports, tenant, "v1") == {Book.PAID: 4500, Book.AVAILABLE: -4500}
    # The next cycle pays nothing and carries what the vendor owes.
    second = run_cycle(ports, settings, now=cycle_on(2))
    assert second.payable == {}
    carried = line_of(ports, tenant, second.cycle_id, "v1")
    assert (carried.status, carried.outcome) == (LineStatus.HELD, Outcome.NEGATIVE)
    assert books(ports, tenant, "v1") == {Book.PAID: 4500, Book.NEGATIVE_CARRIED: -4500}
    # The vendor's next sale (70.00 → 63.00 net) pays the debt first: 18.00 is paid.
    place(
        local_stack,
        tenant,
        "o-2",
        total="70.00",
        lines=[
            {
                "line_id": "l1",
                "sku": "T1",
                "name": "Tent",
                "quantity": 1,
                "unit_price": "70.00",
                "vendor_id": "v1",
            }
        ],
    )
    pay(local_stack, tenant, "o-2", amount=7000)
    delivered(local_stack, tenant, "o-2", "1ZCARRY2")
    third = run_cycle(ports, settings, now=cycle_on(3))
    assert third.payable == {"USD": 1800}
    assert line_of(ports, tenant, third.cycle_id, "v1").amount == 1800
    assert books(ports, tenant, "v1") == {Book.PAID: 4500 + 1800}
    assert payouts_of(ports, tenant, "v1") == [4500, 1800]


def dispute_event(stack: Any, tenant: str, order_id: str, kind: str, status: str) -> None:
    """A Stripe dispute event on the order's payment (``pay``'s ``pi_<order>``)."""
    event = {
        "id": f"evt_{tenant}_{order_id}_{kind}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1_795_431_600,
        "type": f"charge.dispute.{kind}",
        "data": {
            "object": {
                "id": f"dp_{order_id}",
                "object": "dispute",
                "amount": 3000,
                "currency": "usd",
                "charge": f"ch_{order_id}",
                "payment_intent": f"pi_{order_id}",
                "reason": "fraudulent",
                "status": status,
                "evidence_details": {"due_by": 1_796_169_599},
            }
        },
    }
    body = json.dumps(event).encode()
    status_code, answer = post(
        stack.base_url,
        f"/webhooks/{tenant}/stripe",
        body,
        {
            "content-type": "application/json",
            "Stripe-Signature": signing.sign_stripe(body, "whsec_e2e"),
        },
    )
    assert status_code == 200, answer


@pytest.mark.parametrize("bearer", ["vendor", "platform"])
def test_a_chargeback_lost_after_the_payout_is_borne_as_the_tenant_says(
    local_stack: Any, tmp_path: Path, bearer: str
) -> None:
    tenant = f"pay-cb-{bearer}"
    ports = marketplace(local_stack, tmp_path, tenant, "v1", chargebacks_borne_by=bearer)
    place_paid(local_stack, tenant, "o-1")
    delivered(local_stack, tenant, "o-1", f"1ZCB{bearer}")
    settings = settings_of(local_stack, tenant)
    assert run_cycle(ports, settings, now=cycle_on(1)).payable == {"USD": 2700}
    for kind, status in (
        ("created", "needs_response"),
        ("funds_withdrawn", "needs_response"),
        ("closed", "lost"),
    ):
        dispute_event(local_stack, tenant, "o-1", kind, status)
    losses = Account.platform(Book.CHARGEBACK_LOSSES)

    def platform_loss() -> int:
        # A loss a vendor bears is filed with the vendor's entries, the rest with the platform's.
        entries = [*ports.ledger.entries(tenant, "platform"), *ports.ledger.entries(tenant, "v1")]
        return sum(e.amount_for(losses) for e in entries if e.order_id == "o-1")

    def posted(holder: str, kind: EntryKind) -> list[Any]:
        return [e for e in ports.ledger.entries(tenant, holder) if e.kind is kind]

    # Whatever order the processor applies the three events in: the order shows the
    # chargeback, the bank's withdrawal is posted, and (vendor policy) so is the loss.
    until(
        lambda: (
            order_status(local_stack, tenant, "o-1") == "chargeback"
            and bool(posted("platform", EntryKind.CHARGEBACK_OPENED))
            and (bearer == "platform" or bool(posted("v1", EntryKind.CHARGEBACK_LOST)))
        )
    )
    opened = posted("platform", EntryKind.CHARGEBACK_OPENED)
    assert [e.amount_for(losses) for e in opened] == [-3000]  # the bank took the 30.00
    cycle = run_cycle(ports, settings, now=cycle_on(2))
    assert cycle.payable == {}
    if bearer == "vendor":
        # The whole 30.00 moves to the vendor, who was paid 27.00: 30.00 carried.
        assert platform_loss() == 0
        assert books(ports, tenant, "v1") == {Book.PAID: 2700, Book.NEGATIVE_CARRIED: -3000}
    else:
        # The platform keeps the loss; the vendor keeps what it was paid.
        assert platform_loss() == -3000
        assert books(ports, tenant, "v1") == {Book.PAID: 2700}
    kinds = [e.kind for e in ports.ledger.entries(tenant, "v1")]
    assert kinds.count(EntryKind.CHARGEBACK_LOST) == (1 if bearer == "vendor" else 0)
    assert payouts_of(ports, tenant, "v1") == [2700]


def order_status(stack: Any, tenant: str, order_id: str) -> str:
    state, _ = orders(stack).orders.load(tenant, order_id)
    return str(state.status())


class Interrupted(Exception):
    pass


def test_a_cycle_interrupted_and_run_again_pays_each_vendor_once(
    local_stack: Any, tmp_path: Path
) -> None:
    tenant = "pay-rerun"
    ports = marketplace(local_stack, tmp_path, tenant, "v1")
    place_paid(local_stack, tenant, "o-1")
    delivered(local_stack, tenant, "o-1", "1ZRERUN")
    settings = settings_of(local_stack, tenant)
    at = cycle_on(1)

    def crash(*_: Any) -> None:
        raise Interrupted("the function timed out after posting, before marking the cycle")

    with pytest.raises(Interrupted):
        run_cycle(ports, settings, send=crash, now=at)
    (draft,) = ports.cycles.recent(tenant)
    assert draft.status is CycleStatus.DRAFT and draft.lines_complete
    assert books(ports, tenant, "v1") == {Book.PAID: 2700}
    resumed = run_cycle(ports, settings, now=at + timedelta(minutes=5))
    assert (resumed.cycle_id, resumed.status) == (draft.cycle_id, CycleStatus.SENT)
    again = run_cycle(ports, settings, now=at + timedelta(hours=2))
    assert again == resumed
    # The hourly function of the stack, the next day: nothing new to pay.
    later = run_cycle(ports, settings, now=cycle_on(2))
    assert later.cycle_id != resumed.cycle_id and later.payable == {}
    assert books(ports, tenant, "v1") == {Book.PAID: 2700}
    assert payouts_of(ports, tenant, "v1") == [2700]
    assert [(x.status, x.amount) for x in show(ports, tenant, resumed.cycle_id)[1]] == [
        (LineStatus.PAYABLE, 2700)
    ]


def fulfil_lines(stack: Any, tenant: str, order_id: str, tracking: str, lines: list[str]) -> None:
    status, answer = post_shop(
        stack.base_url,
        tenant,
        {
            "event_id": f"{order_id}-{tracking}-fulfilled",
            "type": "order.fulfilled",
            "occurred_at": "2026-11-23T11:00:00Z",
            "order": {"order_id": order_id},
            "fulfillment": {"tracking_code": tracking, "carrier": "UPS", "line_ids": lines},
        },
    )
    assert status == 200, answer


def boots_delivered(stack: Any, tenant: str, boots: str, socks: str) -> None:
    """Order o-1, paid: boots (l1, 30.00) of v1 and socks (l2, 20.00) of v2, in two parcels
    whose fulfilments name their line; the boots' parcel delivered."""
    boots_and_socks(stack, tenant)
    wait_for_stage(stack, tenant, "o-1", "awaiting_shipment")
    fulfil_lines(stack, tenant, "o-1", boots, ["l1"])
    fulfil_lines(stack, tenant, "o-1", socks, ["l2"])
    wait_for_stage(stack, tenant, "o-1", "awaiting_delivery")
    carrier_update(stack, tenant, boots, "delivered", 30)


def hold_decide(stack: Any, tenant: str, decision: str, reason: str) -> str:
    """``ecomops payouts hold-decide`` on the order's open holds; its output."""
    decided = CliRunner().invoke(
        main,
        [
            *("payouts", "hold-decide", "--tenant", tenant, "o-1", decision),
            *("--reason", reason, "--local", stack.base_url),
        ],
    )
    assert decided.exit_code == 0, decided.output
    return str(decided.output)


def boots_and_socks(stack: Any, tenant: str) -> None:
    """Order o-1, paid: boots (l1, 30.00) of v1 and socks (l2, 20.00) of v2."""
    lines = [("l1", "B1", "Boots", "30.00", "v1"), ("l2", "S1", "Socks", "20.00", "v2")]
    place(
        stack,
        tenant,
        "o-1",
        total="50.00",
        lines=[
            {"line_id": i, "sku": k, "name": n, "quantity": 1, "unit_price": p, "vendor_id": v}
            for i, k, n, p, v in lines
        ],
    )
    pay(stack, tenant, "o-1", amount=5000)


def test_a_delivery_exception_holds_the_lost_lines_until_an_operator_releases_them(
    local_stack: Any, tmp_path: Path
) -> None:
    tenant = "pay-held"
    ports = marketplace(local_stack, tmp_path, tenant, "v1", "v2")
    # The boots arrive, the socks come back to the shop.
    boots_delivered(local_stack, tenant, "1ZBOOTS", "1ZSOCKS")
    carrier_update(local_stack, tenant, "1ZSOCKS", "return_to_sender", 40)
    assert finished(local_stack, tenant, "o-1", timeout_s=60)["status"] == "SUCCEEDED"
    assert final_state(local_stack, tenant, "o-1") == "ReleaseDeliveredFunds"
    assert books(ports, tenant, "v1") == {Book.AVAILABLE: 2700}
    assert books(ports, tenant, "v2") == {Book.PENDING: 1800}
    (hold,) = ports.holds.held(tenant, HoldStatus.OPEN) if ports.holds else []
    assert (hold.order_id, hold.line_id, hold.vendor_id, hold.reason) == (
        "o-1",
        "l2",
        "v2",
        HoldReason.NOT_DELIVERED,
    )
    assert hold.detail == "1ZSOCKS return_to_sender"
    settings = settings_of(local_stack, tenant)
    first = run_cycle(ports, settings, now=cycle_on(1))
    assert first.payable == {"USD": 2700}
    assert [x.vendor_id for x in show(ports, tenant, first.cycle_id)[1]] == ["v1"]
    # The operator decides: the socks were re-sent by the shop at its cost, the vendor is paid.
    decided = hold_decide(local_stack, tenant, "release", "socks re-sent at the shop's cost")
    assert "o-1 l2: released by" in decided
    assert books(ports, tenant, "v2") == {Book.AVAILABLE: 1800}
    second = run_cycle(ports, settings, now=cycle_on(2))
    assert second.payable == {"USD": 1800}
    assert payouts_of(ports, tenant, "v1") == [2700] and payouts_of(ports, tenant, "v2") == [1800]
    assert ports.holds is not None
    (released,) = ports.holds.of_order(tenant, "o-1")
    assert released.status is HoldStatus.RELEASED
    assert released.decision_reason == "socks re-sent at the shop's cost"


def test_a_lost_parcels_paid_claim_credits_its_vendor_and_the_voided_line_is_never_paid(
    local_stack: Any, tmp_path: Path
) -> None:
    from shared.lifecycle_store import LifecycleStore

    tenant = "pay-claim"
    ports = marketplace(local_stack, tmp_path, tenant, "v1", "v2")
    # The boots arrive, the socks are lost.
    boots_delivered(local_stack, tenant, "1ZBOOTS2", "1ZSOCKS2")
    carrier_update(local_stack, tenant, "1ZSOCKS2", "failure", 35, detail="lost")
    store = LifecycleStore(local_stack.deployment.outputs["TableName"])
    until(lambda: [c["tracking_code"] for c in store.claims(tenant, "o-1")] == ["1ZSOCKS2"])
    # The operator records the carrier's answers: accepted, then paid 15.00 for the socks.
    runner = CliRunner()
    claim = ["orders", "claim", "--tenant", tenant, "o-1", "1ZSOCKS2"]
    where = ["--by", "ops@example.com", "--local", local_stack.base_url]
    for answer in (["accepted", "--reference", "UPS-9"], ["paid", "--amount-paid", "1500"]):
        recorded = runner.invoke(main, [*claim, *answer, *where])
        assert recorded.exit_code == 0, recorded.output
    assert finished(local_stack, tenant, "o-1", timeout_s=60)["status"] == "SUCCEEDED"
    assert final_state(local_stack, tenant, "o-1") == "ReleaseDeliveredFunds"
    assert books(ports, tenant, "v1") == {Book.AVAILABLE: 2700}
    # The carrier's 15.00 is the socks' vendor's; the socks' sale (18.00) stays held.
    assert books(ports, tenant, "v2") == {Book.PENDING: 1800, Book.AVAILABLE: 1500}
    credits = [e for e in ports.ledger.entries(tenant, "v2") if e.kind is EntryKind.CARRIER_CLAIM]
    assert [(e.line, e.ref("claim")) for e in credits] == [("l2", "claim-1ZSOCKS2")]
    assert "o-1 l2: voided by" in hold_decide(
        local_stack, tenant, "void", "lost; the carrier paid for it"
    )
    assert books(ports, tenant, "v2") == {Book.AVAILABLE: 1500}
    cycle = run_cycle(ports, settings_of(local_stack, tenant), now=cycle_on(1))
    assert cycle.payable == {"USD": 2700 + 1500}
    assert payouts_of(ports, tenant, "v2") == [1500]
