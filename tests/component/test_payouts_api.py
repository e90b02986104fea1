"""The payouts routes of the operator API on moto: tenant-scoped, vendors saved as versions
(400 with every reason), balances and entries, adjustments, cycles run, shown and confirmed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from functions.payouts.composition import build_ports
from functions.payouts.use_cases.flows import order_released, order_sold
from shared.tenants import TenantDirectory
from tests.alerts_fakes import FakeAlerts
from tests.clocks import FixedClock
from tests.component.conftest import TABLE
from tests.component.test_operator_api import (  # noqa: F401 (fixtures)
    ALICE,
    _Context,
    env,
    http_event,
    moto,
)
from tests.unit.test_payouts_cycles import SOLD_AT, TENANT
from tests.unit.test_payouts_flows import order, vendor

BASE = "/ops/tenants/{tenant}/payouts"


def call(
    method: str, path: str, body: Any = None, claims: dict[str, Any] | None = ALICE
) -> tuple[int, dict[str, Any]]:
    from functions.api.handlers import operator

    raw = None if body is None else json.dumps(body)
    event = http_event(method, BASE.format(tenant="acme") + path, claims=claims, body=raw)
    answer = operator.handler(event, _Context())  # type: ignore[arg-type]
    return answer["statusCode"], json.loads(answer["body"])


@pytest.mark.usefixtures("env")
def test_vendors_are_saved_as_versions_and_bad_ones_refused_with_every_reason() -> None:
    status, saved = call("PUT", "/vendors/v-a", vendor("v-a"))
    assert (status, saved["version"], saved["saved_by"]) == (201, 1, "alice@acme.example")
    bad = {**vendor("v-a"), "commission": [{"percent": "120", "effective_from": "2026-01-01"}]}
    bad["payout"] = {**bad["payout"], "iban": "DE00370400440532013000"}
    status, refused = call("PUT", "/vendors/v-a", bad)
    assert status == 400
    assert "invalid IBAN" in refused["message"] and "over 100 %" in refused["message"]
    status, renamed = call("PUT", "/vendors/v-a", {**vendor("v-a"), "name": "Anna"})
    assert (status, renamed["version"], renamed["changed"]) == (201, 2, ["name"])
    status, shown = call("GET", "/vendors/v-a")
    assert (shown["name"], [h["version"] for h in shown["history"]]) == ("Anna", [1])
    assert call("GET", "/vendors")[1]["vendors"][0]["vendor_id"] == "v-a"
    assert call("GET", "/vendors/nobody")[0] == 404
    globex = {**ALICE, "ecomops:tenants": "globex"}
    assert call("GET", "/vendors", claims=globex)[0] == 403


@pytest.mark.usefixtures("env")
def test_balances_entries_adjustments_and_a_cycle_run_shown_and_confirmed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from functions.api.composition import services

    monkeypatch.setenv("MAIL_DIR", str(tmp_path))
    # The operator runs the cycle days after the release below, whatever the machine's date.
    monkeypatch.setattr(services(), "clock", FixedClock(datetime(2026, 11, 2, 12, tzinfo=UTC)))
    TenantDirectory(TABLE).save(TENANT)
    call("PUT", "/vendors/v-a", vendor("v-a"))
    clock = FixedClock(SOLD_AT)
    ports = build_ports(TABLE, clock, FakeAlerts())
    state = order()
    order_sold(ports, TENANT, state)
    clock.set(datetime(2026, 10, 28, 12, tzinfo=UTC))
    order_released(ports, TENANT, state, ["l1"])
    status, balances = call("GET", "/vendors/v-a/balances")
    assert status == 200 and balances["balances"]["EUR"]["available"] == "25.28"
    status, listed = call("GET", "/vendors/v-a/entries")
    assert [e["kind"] for e in listed["entries"]] == ["sale", "release"]
    adjustment = {"adjustment_id": "adj-1", "amount": -28, "currency": "EUR", "reason": ""}
    status, refused = call("POST", "/vendors/v-a/adjustments", adjustment)
    assert status == 400 and "reason" in refused["message"]
    adjustment["reason"] = "damaged on arrival"
    assert call("POST", "/vendors/v-a/adjustments", adjustment)[0] == 201
    assert call("POST", "/vendors/v-a/adjustments", adjustment)[0] == 200  # a retry: nothing
    status, usd = call("POST", "/vendors/v-a/adjustments", {**adjustment, "currency": "USD"})
    assert status == 400 and "not paid in USD" in usd["message"]
    assert call("GET", "/vendors/v-a/balances")[1]["balances"]["EUR"]["available"] == "25.00"
    status, cycle = call("POST", "/cycles")
    assert status == 201 and cycle["status"] == "sent"
    assert [line["amount"] for line in cycle["lines"]] == [2500]
    assert call("GET", f"/cycles/{cycle['cycle_id']}")[1]["lines"] == cycle["lines"]
    assert call("GET", "/cycles/1999-01-01")[0] == 404
    failed = {"failed": [{"currency": "EUR", "vendor_id": "v-a", "reason": "IBAN closed"}]}
    status, done = call("POST", f"/cycles/{cycle['cycle_id']}/confirm", failed)
    assert (status, done["status"], done["confirmed_by"]) == (200, "failed", "alice@acme.example")
    assert call("GET", "/vendors/v-a/balances")[1]["balances"]["EUR"]["available"] == "25.00"
    assert call("POST", f"/cycles/{cycle['cycle_id']}/confirm", {})[0] == 400
    assert [c["cycle_id"] for c in call("GET", "/cycles")[1]["cycles"]] == [cycle["cycle_id"]]
