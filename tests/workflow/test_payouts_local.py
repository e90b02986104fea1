"""Vendor payouts on the local stack: a marketplace order runs its lifecycle (sale at the
confirmation, release after delivery and the return window), then a cycle pays the vendor and
finance confirms it; run again, it pays nothing twice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from functions.payouts.composition import build_ports
from functions.payouts.domain.cycles import CycleStatus, LineStatus
from functions.payouts.domain.ledger import Book
from functions.payouts.use_cases.cycles import confirm, run_cycle, show
from functions.payouts.use_cases.vendors import save_vendor
from shared.clock import SYSTEM_CLOCK
from shared.tenants import TenantDirectory
from tests.alerts_fakes import FakeAlerts
from tests.workflow.test_lifecycle_local import (
    carrier_update,
    finished,
    fulfil,
    make_tenant,
    place_paid,
    wait_for_stage,
)

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
