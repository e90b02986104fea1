"""Stripe Connect mode on the local stack with the Stripe sandbox: a Connect vendor's order is
paid, delivered and released; the cycle pays it by one transfer drawing on the order's charge
(a lost answer and a re-run create no second one); the order is refunded after the payout, and
the reversal fails because the connected account's balance is too low: the team is told, the
negative is carried by the next cycle and recovered from the vendor's next payout."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.orders.use_cases.operations import request_refund
from functions.payouts.adapters.stripe_transfers import StripeTransfers
from functions.payouts.composition import build_ports
from functions.payouts.domain.connect import transfer_group, transfer_key
from functions.payouts.domain.cycles import CycleStatus, LineStatus
from functions.payouts.domain.ledger import Book, EntryKind
from functions.payouts.ports import Ports
from functions.payouts.use_cases.cycles import run_cycle, show
from functions.payouts.use_cases.vendors import save_vendor
from local.sandboxes.stripe_sandbox import StripeSandbox
from shared.clock import SYSTEM_CLOCK
from shared.gateway import GatewayRetryable
from shared.tenant_secrets import API, TenantSecrets
from shared.tenants import TenantDirectory, TenantSettings
from tests.alerts_fakes import FakeAlerts
from tests.workflow.alerts import TopicInbox
from tests.workflow.orders_api import orders
from tests.workflow.test_lifecycle_local import (
    carrier_update,
    finished,
    fulfil,
    make_tenant,
    wait_for_stage,
)
from tests.workflow.test_refunds_local import (
    forward,
    paid_order,
    refund_execution,
    wait_refund_submitted,
)

pytestmark = pytest.mark.local
TENANT = "pay-connect"
ACCOUNT = "acct_1ConnectVendor"


def _ports(stack: Any, sandbox: StripeSandbox) -> Ports:
    """The payouts ports as the hourly function builds them, on this stack's secrets and the
    sandbox (named here: the stack's functions own os.environ while they run)."""
    secrets = TenantSecrets(parts=API, prefix=stack.tenant_secret_prefix)
    ports = build_ports(stack.deployment.outputs["TableName"], SYSTEM_CLOCK, FakeAlerts())
    return replace(ports, transfers=StripeTransfers(secrets, api_base=sandbox.base_url))


def _sold_and_delivered(
    stack: Any, sandbox: StripeSandbox, order_id: str, cents: int, tracking: str
) -> str:
    """An order of the Connect vendor (one line: two of half the total), paid at the sandbox
    and delivered (the release follows the return window); returns the charge."""
    # Placed now by the test's clock: which sales fund a transfer is read over the vendor's
    # recent entries, and an order of a fixed date would age out as the clock moves on.
    intent = paid_order(
        stack, sandbox, TENANT, order_id, total=f"{cents / 100:.2f}", placed_at=SYSTEM_CLOCK.now()
    )
    wait_for_stage(stack, TENANT, order_id, "awaiting_shipment")
    fulfil(stack, TENANT, order_id, tracking)
    wait_for_stage(stack, TENANT, order_id, "awaiting_delivery")
    carrier_update(stack, TENANT, tracking, "delivered", 30)
    assert finished(stack, TENANT, order_id)["status"] == "SUCCEEDED"
    return str(sandbox.get(intent)["latest_charge"])


def _cycles_function(stack: Any) -> str:
    return str(
        next(
            name
            for lid, name in stack.deployment.physical.items()
            if lid.startswith("PayoutsCycles")
            and stack.deployment.types[lid] == "AWS::Lambda::Function"
        )
    )


def _books(ports: Ports) -> dict[Book, int]:
    held = ports.ledger.balances(TENANT, "v1")
    return {b: held.get(("USD", b), 0) for b in (Book.AVAILABLE, Book.PAID, Book.NEGATIVE_CARRIED)}


def test_connect_vendor_paid_by_transfer_refund_after_payout_reversal_fails_then_recovered(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    make_tenant(
        local_stack,
        tmp_path,
        TENANT,
        payouts={"enabled": True, "schedule": "daily", "connect_transfers": True},
    )
    inbox = TopicInbox(local_stack)
    sandbox.connect_account(ACCOUNT)
    ports = _ports(local_stack, sandbox)
    save_vendor(
        ports,
        TENANT,
        {
            "vendor_id": "v1",
            "name": "Vendor One",
            "emails": ["v1@vendors.example"],
            "currencies": ["USD"],
            "payout": {"method": "stripe_connect", "account_id": ACCOUNT, "currency": "USD"},
            "commission": [{"percent": "10", "effective_from": "2026-01-01"}],
        },
        "test",
    )
    charge = _sold_and_delivered(local_stack, sandbox, "o-1", 3_000, "1ZCONNECT1")
    sale = next(e for e in ports.ledger.entries(TENANT, "v1") if e.kind is EntryKind.SALE)
    assert sale.ref("charge") == charge
    assert _books(ports) == {Book.AVAILABLE: 2_700, Book.PAID: 0, Book.NEGATIVE_CARRIED: 0}
    settings = TenantDirectory(local_stack.deployment.outputs["TableName"]).get(TENANT)
    assert isinstance(settings, TenantSettings)
    # Cycles an hour past a midnight-UTC cut-off: a second run an hour later stays in the same
    # cycle whatever the hour the test runs at.
    now = SYSTEM_CLOCK.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)

    # The cycle's transfer: Stripe makes it, every answer is lost; the run stops a draft.
    sandbox.fail_next("/v1/transfers", status=500, take_effect=True, method="POST")
    sandbox.fail_next("/v1/transfers", status=503, times=3, method="POST")
    with pytest.raises(GatewayRetryable):
        run_cycle(ports, settings, now=now + timedelta(days=1, hours=1))
    first = run_cycle(ports, settings, now=now + timedelta(days=1, hours=1))
    assert run_cycle(ports, settings, now=now + timedelta(days=1, hours=2)) == first
    (transfer,) = sandbox.transfers()
    (line,) = show(ports, TENANT, first.cycle_id)[1]
    assert first.status is CycleStatus.SENT
    assert (line.status, line.amount, line.transfer_id) == (LineStatus.PAID, 2_700, transfer["id"])
    assert (transfer["amount"], transfer["destination"]) == (2_700, ACCOUNT)
    assert transfer["transfer_group"] == transfer_group(first.cycle_id)
    assert transfer["source_transaction"] == charge == line.source_transaction
    assert transfer["metadata"]["key"] == transfer_key(TENANT, first.cycle_id, "v1", "USD")
    assert sandbox.connected_balance(ACCOUNT, "usd") == 2_700
    assert _books(ports) == {Book.AVAILABLE: 0, Book.PAID: 2_700, Book.NEGATIVE_CARRIED: 0}

    # The vendor pays its Stripe balance out to its bank; then the order is refunded in full.
    sandbox.set_connected_balance(ACCOUNT, "usd", 0)
    assert request_refund(orders(local_stack), TENANT, "o-1", amount=3_000, refund_id="r1")[
        "started"
    ]
    wait_refund_submitted(local_stack, sandbox, TENANT)
    forward(local_stack, sandbox, TENANT)
    assert refund_execution(local_stack, TENANT, "o-1", "r1")["status"] == "SUCCEEDED"
    assert sandbox.get(transfer["id"])["amount_reversed"] == 0
    assert _books(ports) == {Book.AVAILABLE: -2_700, Book.PAID: 2_700, Book.NEGATIVE_CARRIED: 0}
    notice = inbox.wait_for(TENANT, "connect_reversal_failed")
    assert "Insufficient funds" in notice["message"] and transfer["id"] in notice["message"]

    # The next cycle carries the negative; the one after recovers it from the next sale.
    carried = run_cycle(ports, settings, now=now + timedelta(days=2, hours=1))
    (line,) = show(ports, TENANT, carried.cycle_id)[1]
    assert line.status is LineStatus.HELD and len(sandbox.transfers()) == 1
    assert _books(ports) == {Book.AVAILABLE: 0, Book.PAID: 2_700, Book.NEGATIVE_CARRIED: -2_700}
    _sold_and_delivered(local_stack, sandbox, "o-2", 4_000, "1ZCONNECT2")
    # Days pass at the gateway too: the platform's balance has become available.
    sandbox.advance(4 * 86_400)
    # This one by the hourly function as deployed (its secrets, its grant, the sandbox).
    ran = local_stack.invoke(
        _cycles_function(local_stack),
        {"tenant": TENANT, "time": (now + timedelta(days=3, hours=1)).isoformat()},
    )
    (recovered,) = ran["cycles"]
    assert recovered["status"] == "sent"
    (line,) = show(ports, TENANT, recovered["cycle"])[1]
    assert (line.status, line.amount) == (LineStatus.PAID, 3_600 - 2_700)
    assert [t["amount"] for t in sandbox.transfers()] == [2_700, 900]
    assert _books(ports) == {Book.AVAILABLE: 0, Book.PAID: 3_600, Book.NEGATIVE_CARRIED: 0}
