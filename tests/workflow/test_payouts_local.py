"""Vendor payouts on the local stack: a marketplace order runs its lifecycle (sale at the
confirmation, release after delivery and the return window), then a cycle pays the vendor and
finance confirms it; run again, it pays nothing twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import stripe

from functions.orders.use_cases.operations import request_refund
from functions.payouts.composition import build_ports
from functions.payouts.domain.cycles import CycleStatus, LineStatus
from functions.payouts.domain.ledger import Account, Book, EntryKind
from functions.payouts.use_cases.cycles import confirm, run_cycle, show
from functions.payouts.use_cases.vendors import save_vendor
from local.sandboxes.stripe_sandbox import StripeSandbox
from shared.clock import SYSTEM_CLOCK
from shared.tenants import TenantDirectory
from tests.alerts_fakes import FakeAlerts
from tests.workflow.orders_api import orders
from tests.workflow.test_lifecycle_local import (
    carrier_update,
    finished,
    fulfil,
    make_tenant,
    place,
    place_paid,
    wait_for_stage,
)
from tests.workflow.test_refunds_local import (
    STRIPE_KEY,
    forward,
    refund_execution,
    wait_refund_submitted,
)

pytestmark = pytest.mark.local
TENANT = "pay-market"


def test_sale_delivery_return_window_cycle_confirmed(local_stack: Any, tmp_path: Path) -> None:
    make_tenant(local_stack, tmp_path, TENANT, payouts={"enabled": True, "schedule": "daily"})
    table = local_stack.deployment.outputs["TableName"]
    ports = build_ports(table, SYSTEM_CLOCK, FakeAlerts())
    vendor = {
        "vendor_id": "v1",
        "name": "Vendor One",
        "emails": ["v1@vendors.example"],
        "currencies": ["USD"],
        "payout": {"method": "stripe_connect", "account_id": "acct_1VendorOne", "currency": "USD"},
        "commission": [{"percent": "10", "effective_from": "2026-01-01"}],
    }
    save_vendor(ports, TENANT, vendor, "test")
    place_paid(local_stack, TENANT, "o-1")
    wait_for_stage(local_stack, TENANT, "o-1", "awaiting_shipment")
    assert ports.ledger.balances(TENANT, "v1") == {("USD", Book.PENDING): 2700}
    fulfil(local_stack, TENANT, "o-1", "1ZPAY")
    wait_for_stage(local_stack, TENANT, "o-1", "awaiting_delivery")
    carrier_update(local_stack, TENANT, "1ZPAY", "delivered", 30)
    assert finished(local_stack, TENANT, "o-1")["status"] == "SUCCEEDED"
    assert ports.ledger.balances(TENANT, "v1") == {("USD", Book.AVAILABLE): 2700}
    settings = TenantDirectory(table).get(TENANT)
    assert settings is not None
    tomorrow = SYSTEM_CLOCK.now() + timedelta(days=1, hours=1)
    cycle = run_cycle(ports, settings, now=tomorrow)
    assert cycle.status is CycleStatus.SENT and cycle.payable == {"USD": 2700}
    assert run_cycle(ports, settings, now=tomorrow) == cycle
    assert ports.ledger.balances(TENANT, "v1") == {("USD", Book.PAID): 2700}
    done = confirm(ports, TENANT, cycle.cycle_id, "finance@pay-market.example")
    assert done.status is CycleStatus.CONFIRMED
    (line,) = show(ports, TENANT, cycle.cycle_id)[1]
    assert (line.vendor_id, line.status, line.amount) == ("v1", LineStatus.PAID, 2700)


def test_a_partial_refund_by_amount_is_taken_back_over_two_vendors_lines(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    tenant = "pay-refund"
    make_tenant(local_stack, tmp_path, tenant, payouts={"enabled": True})
    table = local_stack.deployment.outputs["TableName"]
    ports = build_ports(table, SYSTEM_CLOCK, FakeAlerts())
    for vendor_id in ("v1", "v2"):
        save_vendor(
            ports,
            tenant,
            {
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
            },
            "test",
        )
    place(
        local_stack,
        tenant,
        "o-1",
        total="50.00",
        lines=[
            {
                "line_id": "l1",
                "sku": "B1",
                "name": "Boots",
                "quantity": 1,
                "unit_price": "30.00",
                "vendor_id": "v1",
            },
            {
                "line_id": "l2",
                "sku": "S1",
                "name": "Socks",
                "quantity": 1,
                "unit_price": "20.00",
                "vendor_id": "v2",
            },
        ],
    )
    client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": sandbox.base_url or ""})
    client.v1.payment_intents.create(
        params={
            "amount": 5000,
            "currency": "usd",
            "confirm": True,
            "payment_method": "pm_card_visa",
            "metadata": {"order_id": "o-1"},
        }
    )
    forward(local_stack, sandbox, tenant)
    wait_for_stage(local_stack, tenant, "o-1", "awaiting_shipment")
    assert ports.ledger.balances(tenant, "v1") == {("USD", Book.PENDING): 2700}
    assert ports.ledger.balances(tenant, "v2") == {("USD", Book.PENDING): 1800}
    started = request_refund(orders(local_stack), tenant, "o-1", amount=1500, refund_id="r1")
    assert started["started"]
    wait_refund_submitted(local_stack, sandbox, tenant)
    forward(local_stack, sandbox, tenant)
    assert refund_execution(local_stack, tenant, "o-1", "r1")["status"] == "SUCCEEDED"
    # 15.00 over the lines as they charged (30 : 20): 9.00 and 6.00, each less its 10 %
    # commission; taken from available, which the lines' release will refill.
    refunds = {
        v: [e for e in ports.ledger.entries(tenant, v) if e.kind is EntryKind.REFUND]
        for v in ("v1", "v2")
    }
    assert [e.amount_for(Account.platform(Book.RECEIPTS)) for e in refunds["v1"]] == [900]
    assert [e.amount_for(Account.platform(Book.RECEIPTS)) for e in refunds["v2"]] == [600]
    assert ports.ledger.balances(tenant, "v1")[("USD", Book.AVAILABLE)] == -810
    assert ports.ledger.balances(tenant, "v2")[("USD", Book.AVAILABLE)] == -540
