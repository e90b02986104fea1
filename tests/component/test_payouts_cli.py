"""``ecomops payouts`` on moto (the target resolved to the test table): vendors, balances,
adjustments, a cycle run, shown and confirmed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import main
from cli.target import Target
from functions.payouts.composition import build_ports
from functions.payouts.use_cases.flows import order_released, order_sold
from shared.tenants import TenantDirectory
from tests.alerts_fakes import FakeAlerts
from tests.clocks import FixedClock
from tests.component.conftest import PREFIX, TABLE
from tests.unit.test_payouts_cycles import SOLD_AT, TENANT
from tests.unit.test_payouts_flows import order, vendor

NOW = FixedClock(datetime(2026, 11, 2, 7, tzinfo=UTC))


@pytest.fixture
def cli(aws_env: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    target = Target({"TableName": TABLE}, PREFIX)
    monkeypatch.setattr("cli.target.resolve", lambda local_url: target)
    monkeypatch.setattr("functions.payouts.composition.CLOCK", NOW)
    monkeypatch.setenv("MAIL_DIR", str(tmp_path / "mail"))

    def run(*args: str) -> Any:
        return CliRunner().invoke(main, ["payouts", *args], catch_exceptions=False)

    return run


def test_vendors_balances_adjustments_and_a_cycle(cli: Any, tmp_path: Path) -> None:
    document = tmp_path / "v-a.json"
    document.write_text(json.dumps({**vendor("v-a"), "commission": [{"percent": "150"}]}))
    refused = cli("vendor-save", "--tenant", "acme", str(document))
    assert refused.exit_code == 1
    assert "over 100 %" in refused.output and "effective_from" in refused.output
    document.write_text(json.dumps(vendor("v-a")))
    assert "version 1" in cli("vendor-save", "--tenant", "acme", str(document)).output
    assert "v-a" in cli("vendors", "--tenant", "acme").output
    TenantDirectory(TABLE).save(TENANT)
    clock = FixedClock(SOLD_AT)
    ports = build_ports(TABLE, clock, FakeAlerts())
    order_sold(ports, TENANT, order())
    clock.set(datetime(2026, 10, 28, 12, tzinfo=UTC))
    order_released(ports, TENANT, order(), ["l1"])
    balances = json.loads(cli("balances", "--tenant", "acme", "v-a").output)
    assert balances == {"EUR": {"available": "25.28"}}
    adjusted = cli(
        "adjust",
        "--tenant",
        "acme",
        "v-a",
        "--id",
        "a1",
        "--amount",
        "72",
        "--currency",
        "eur",
        "--reason",
        "goodwill",
    )
    assert json.loads(adjusted.output)["actor"].endswith("via arn:aws:sts::123456789012:user/moto")
    assert "adjustment" in cli("entries", "--tenant", "acme", "v-a").output
    run = json.loads(cli("run", "--tenant", "acme").output)
    # the adjustment is newer than the delay days before the cut-off: it waits
    assert (run["cycle_id"], run["status"], run["payable"]) == ("2026-11-02", "sent", {"EUR": 2528})
    shown = cli("show", "--tenant", "acme", run["cycle_id"]).output
    assert "v-a" in shown and "payable" in shown
    bad = cli("confirm", "--tenant", "acme", run["cycle_id"], "--failed", "EUR:v-a")
    assert bad.exit_code == 2
    done = cli("confirm", "--tenant", "acme", run["cycle_id"], "--failed", "EUR:v-a=closed")
    assert f"{run['cycle_id']}: failed by" in done.output
    assert run["cycle_id"] in cli("cycles", "--tenant", "acme").output
    # the vendor's statement (this tenant names no finance or alert addresses)
    assert len(list((tmp_path / "mail").glob("vendor_statement-*.eml"))) == 1
