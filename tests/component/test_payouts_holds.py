"""Held order lines on moto: the hold store's conditions, the operator routes and the CLI that
release or void them (with the reason and who)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import main
from cli.target import Target
from functions.payouts.adapters.hold_store import DynamoHolds
from functions.payouts.composition import build_ports
from functions.payouts.domain.ledger import Book, EntryKind
from functions.payouts.domain.parcels import HoldStatus
from functions.payouts.use_cases.flows import order_released, order_sold, refund_completed
from functions.payouts.use_cases.vendors import save_vendor
from shared.order_aggregate import OrderState, apply
from shared.tenants import TenantDirectory
from tests.alerts_fakes import FakeAlerts
from tests.clocks import FixedClock
from tests.component.conftest import PREFIX, TABLE
from tests.component.test_operator_api import (  # noqa: F401 (fixtures)
    ALICE,
    _Context,
    env,
    http_event,
    moto,
)
from tests.component.test_payouts_api import call
from tests.payouts_fakes import parcel
from tests.unit.test_payouts_cycles import SOLD_AT, TENANT
from tests.unit.test_payouts_flows import order, vendor

RELEASED_AT = datetime(2026, 10, 28, 12, tzinfo=UTC)


def lost_vase() -> OrderState:
    """``order()`` (one unnamed parcel, delivered) and a second parcel naming l2 (v-b), lost."""
    state = order()
    for event in parcel("o-1", "1ZB", SOLD_AT, lines=["l2"], status="lost"):
        state = apply(state, event)
    return state


def held_order() -> Any:
    TenantDirectory(TABLE).save(TENANT)
    clock = FixedClock(SOLD_AT)
    ports = build_ports(TABLE, clock, FakeAlerts())
    save_vendor(ports, "acme", vendor("v-a"), "ops")
    save_vendor(ports, "acme", vendor("v-b", "20", reserve="10"), "ops")
    order_sold(ports, TENANT, lost_vase())
    clock.set(RELEASED_AT)
    assert order_released(ports, TENANT, lost_vase(), ["l1", "l2", "l3"]) == 1
    return ports


@pytest.mark.usefixtures("env")
def test_the_hold_store_writes_a_line_once_and_one_decision() -> None:
    ports = held_order()
    store = DynamoHolds(TABLE)
    (hold,) = store.held("acme", HoldStatus.OPEN)
    assert (hold.order_id, hold.line_id, hold.detail) == ("o-1", "l2", "1ZB lost")
    assert store.hold(hold.model_copy(update={"detail": "again"})) is False
    released = hold.model_copy(update={"status": HoldStatus.RELEASED, "decided_by": "ann"})
    voided = hold.model_copy(update={"status": HoldStatus.VOIDED, "decided_by": "bob"})
    assert store.decide(released) is True
    assert store.decide(released) is True  # the same decision, retried
    assert store.decide(voided) is False  # another operator, the other way: refused
    assert [h.decided_by for h in store.of_order("acme", "o-1")] == ["ann"]
    assert store.held("acme", HoldStatus.OPEN) == []
    assert ports.ledger.balances("acme", "v-b") == {("EUR", Book.PENDING): 2272}


@pytest.mark.usefixtures("env")
def test_operators_list_and_release_held_lines_through_the_api() -> None:
    ports = held_order()
    status, listed = call("GET", "/holds")
    assert status == 200
    assert [(h["line_id"], h["reason"]) for h in listed["holds"]] == [("l2", "not_delivered")]
    status, refused = call("POST", "/holds/o-1/decision", {"decision": "release", "reason": " "})
    assert status == 400 and "reason" in refused["message"]
    assert call("POST", "/holds/o-2/decision", {"decision": "void", "reason": "x"})[0] == 404
    globex = {**ALICE, "ecomops:tenants": "globex"}
    assert call("GET", "/holds", claims=globex)[0] == 403
    body = {"decision": "release", "reason": "found at the depot", "line_ids": ["l2"]}
    status, decided = call("POST", "/holds/o-1/decision", body)
    assert status == 200, decided
    (hold,) = decided["holds"]
    assert (hold["status"], hold["decided_by"]) == ("released", "alice@acme.example")
    # 2272 (3000 less 428 discount, plus 214 shipping, less 514 commission) released less
    # v-b's 10 % reserve (227).
    assert ports.ledger.balances("acme", "v-b") == {
        ("EUR", Book.AVAILABLE): 2045,
        ("EUR", Book.RESERVED): 227,
    }
    status, voiding = call("POST", "/holds/o-1/decision", {**body, "decision": "void"})
    assert status == 400 and "released already by alice@acme.example" in voiding["message"]
    assert call("GET", "/holds/o-1")[1]["holds"][0]["decision_reason"] == "found at the depot"
    assert released("released") == ["l2"] and released("open") == []
    assert released("paid") == 400


def released(status: str) -> Any:
    from functions.api.handlers import operator

    event = http_event(
        "GET", "/ops/tenants/acme/payouts/holds", claims=ALICE, query={"status": status}
    )
    answer = operator.handler(event, _Context())  # type: ignore[arg-type]
    if answer["statusCode"] != 200:
        return answer["statusCode"]
    return [h["line_id"] for h in json.loads(answer["body"])["holds"]]


@pytest.mark.usefixtures("env")
def test_the_cli_lists_and_voids_held_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    ports = held_order()
    target = Target({"TableName": TABLE}, PREFIX)
    monkeypatch.setattr("cli.target.resolve", lambda local_url: target)
    monkeypatch.setattr("functions.payouts.composition.CLOCK", FixedClock(RELEASED_AT))

    def run(*args: str) -> Any:
        return CliRunner().invoke(main, ["payouts", *args], catch_exceptions=False)

    assert (
        "o-1 l2  v-b  open     not_delivered: 1ZB lost" in run("holds", "--tenant", "acme").output
    )
    refused = run("hold-decide", "--tenant", "acme", "o-1", "void", "--reason", " ")
    assert refused.exit_code == 1 and "needs a reason" in refused.output
    # The customer was refunded the lost vase before the operator voided it: the refund took
    # the vase's share from v-b, which the void gives back (re-booked as the refund's cash).
    refund_completed(ports, TENANT, lost_vase(), "re_vase", 3000, "EUR")
    assert ports.ledger.balances("acme", "v-b")[("EUR", Book.AVAILABLE)] < 0
    done = run("hold-decide", "--tenant", "acme", "o-1", "void", "--reason", "lost, refunded")
    assert done.exit_code == 0 and "o-1 l2: voided by" in done.output
    assert ports.ledger.balances("acme", "v-b") == {}
    rebooked = [e for e in ports.ledger.entries("acme", "v-b") if e.kind is EntryKind.REFUND_CASH]
    assert [(e.event_id, e.line) for e in rebooked] == [("hold-void:re_vase", "l2")]
    listed = run("holds", "--tenant", "acme", "--order", "o-1").output
    assert "voided" in listed and "lost, refunded" in listed
    assert json.loads(run("balances", "--tenant", "acme", "v-b").output) == {}
