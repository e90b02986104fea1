"""The payouts adapters on moto: vendor versions (conditional puts) and the ledger store
(entries written once with their balances, replays add nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.payouts.adapters.ledger_store import DynamoLedger
from functions.payouts.adapters.vendor_store import DynamoVendors
from functions.payouts.domain.ledger import PLATFORM, Book, EntryKind, Ledger
from functions.payouts.domain.postings import (
    Context,
    FeeBearer,
    OrderLine,
    Rate,
    allocate,
    refund_by_amount,
    refund_cash,
    release,
    sale,
)
from functions.payouts.domain.settlement import decide
from functions.payouts.domain.vendors import VendorVersion, VersionConflict, check_vendor
from tests.component.conftest import TABLE
from tests.component.test_reconcile_daily import _Context

AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
CTX = Context("acme", "EUR", "o-1")


def _lines() -> list[Any]:
    return allocate(
        [
            OrderLine("l1", "v-a", 1, 1999, sku="A"),
            OrderLine("l2", "v-b", 3, 500, sku="B"),
            OrderLine("l3", "v-a", 1, 250, sku="C"),
            OrderLine("l4", None, 1, 700, sku="D", named_vendor="v-new"),
        ],
        discount=300,
        shipping=495,
        tax=0,
        gateway_fee=131,
        rates={"l1": Rate(1000), "l2": Rate(1500, 25), "l3": Rate(1000)},
        fees_borne_by=FeeBearer.VENDOR,
    )


def test_entries_are_written_once_and_balances_move_once_with_them(aws_env: Any) -> None:
    store = DynamoLedger(TABLE)
    reference = Ledger("acme")
    lines = _lines()
    sales = [sale(CTX, "evt-paid", line, AT) for line in lines]
    entries = [e for e in sales if e is not None]
    assert store.post("acme", entries) == 4
    writes = store.writes
    assert store.post("acme", entries) == 0  # a replay
    assert store.post("acme", list(reversed(entries))) == 0
    assert store.writes == writes
    reference.post_all(entries)
    releases = [release(CTX, "release-1", line, AT + timedelta(days=20)) for line in lines]
    store.post("acme", [e for e in releases if e is not None])
    reference.post_all(releases)
    refunds = refund_by_amount(CTX, "re_1", lines, 1200, AT + timedelta(days=21))
    store.post("acme", refunds)
    reference.post_all(refunds)
    cash = refund_cash(CTX, "re_x", 50, AT)
    store.post("acme", [cash] if cash else [])
    reference.post(cash)
    for vendor in ("v-a", "v-b"):
        expected = {
            (currency, account.book): amount
            for (currency, account), amount in reference.balances().items()
            if account.holder == vendor
        }
        assert store.balances("acme", vendor) == expected
    # the unknown vendor's line is filed under the vendor the shop named, posted to suspense
    suspense, refunded = store.entries("acme", "v-new")
    assert suspense == sales[3]
    assert refunded.kind is EntryKind.REFUND
    assert {p.account.holder for p in suspense.postings} == {PLATFORM}
    assert store.balances("acme", "v-new") == {}
    assert [e.kind for e in store.entries("acme", PLATFORM)] == [EntryKind.REFUND_CASH]
    with pytest.raises(ValueError):
        store.balances("acme", PLATFORM)


def test_entries_read_back_by_time_as_written(aws_env: Any) -> None:
    store = DynamoLedger(TABLE)
    lines = _lines()
    made = [sale(CTX, "evt-paid", line, AT) for line in lines[:2]]
    later = [release(CTX, "rel", line, AT + timedelta(days=30)) for line in lines[:2]]
    store.post("acme", [e for e in [*made, *later] if e is not None])
    everything = store.entries("acme", "v-a")
    assert [e.kind for e in everything] == [EntryKind.SALE, EntryKind.RELEASE]
    assert everything[0] == made[0]
    assert store.entries("acme", "v-a", since=AT + timedelta(days=1)) == [later[0]]
    assert store.entries("acme", "v-a", until=AT + timedelta(days=30)) == [made[0]]


def test_a_cycle_paid_twice_pays_once(aws_env: Any) -> None:
    store = DynamoLedger(TABLE)
    line = _lines()[0]
    store.post("acme", [e for e in (sale(CTX, "p", line, AT), release(CTX, "r", line, AT)) if e])
    ledger = Ledger("acme")
    ledger.post_all(store.entries("acme", "v-a"))
    decision = decide(ledger, "cycle-1", "v-a", "EUR", AT, minimum=0)
    assert decision.entry is not None
    assert store.post("acme", [decision.entry]) == 1
    assert store.post("acme", [decision.entry]) == 0
    assert store.balances("acme", "v-a")[("EUR", Book.PAID)] == line.vendor_net


def test_vendor_versions_are_conditional_puts(aws_env: Any) -> None:
    store = DynamoVendors(TABLE)
    vendor = check_vendor(
        {
            "vendor_id": "v-a",
            "name": "A",
            "emails": ["a@example.com"],
            "currencies": ["EUR"],
            "payout": {
                "method": "bank",
                "holder": "A GmbH",
                "iban": "DE89370400440532013000",
                "currency": "EUR",
            },
        }
    )
    first = VendorVersion(vendor=vendor, version=1, saved_by="ops", saved_at=AT)
    store.put("acme", first)
    with pytest.raises(VersionConflict):
        store.put("acme", first)
    renamed = vendor.model_copy(update={"name": "A2"})
    store.put(
        "acme",
        VendorVersion(vendor=renamed, version=2, saved_by="lead", saved_at=AT, changed=("name",)),
    )
    assert store.latest("acme", "v-a").vendor.name == "A2"  # type: ignore[union-attr]
    assert [v.version for v in store.versions("acme", "v-a")] == [1, 2]
    assert [v.version for v in store.current("acme")] == [2]
    assert store.latest("acme", "nobody") is None
    assert store.current("other") == []


def test_an_event_may_post_more_of_its_lines_later_but_never_one_twice(aws_env: Any) -> None:
    store = DynamoLedger(TABLE)
    lines = _lines()[:3]
    store.post("acme", [e for e in (sale(CTX, "paid", ln, AT) for ln in lines) if e])
    first = release(CTX, "release", lines[0], AT)
    rest = [release(CTX, "release", ln, AT) for ln in lines]
    assert first is not None
    assert store.post("acme", [first]) == 1
    assert store.post("acme", [e for e in rest if e]) == 2  # l1 was released already
    assert store.post("acme", [e for e in rest if e]) == 0
    released = store.posted("acme", "v-a", "EUR", "o-1", "release", "release")
    assert sorted(e.line for e in released) == ["l1", "l3"]
    assert store.balances("acme", "v-a")[("EUR", Book.AVAILABLE)] == (
        lines[0].vendor_net + lines[2].vendor_net
    )


def test_a_cycle_on_dynamodb_is_claimed_once_resumed_and_confirmed(aws_env: Any) -> None:
    from functions.payouts.composition import build_ports
    from functions.payouts.domain.cycles import CycleStatus, LineStatus
    from functions.payouts.use_cases.cycles import confirm, run_cycle, show
    from functions.payouts.use_cases.flows import order_released, order_sold
    from functions.payouts.use_cases.vendors import save_vendor
    from tests.alerts_fakes import FakeAlerts
    from tests.clocks import FixedClock
    from tests.unit.test_payouts_cycles import SOLD_AT, TENANT
    from tests.unit.test_payouts_flows import order, vendor

    clock = FixedClock(SOLD_AT)
    ports = build_ports(TABLE, clock, FakeAlerts())
    save_vendor(ports, "acme", vendor("v-a"), "ops")
    save_vendor(ports, "acme", vendor("v-b", "20"), "ops")
    state = order()
    order_sold(ports, TENANT, state)
    clock.set(datetime(2026, 10, 28, 12, tzinfo=UTC))
    order_released(ports, TENANT, state, ["l1", "l2"])
    clock.set(datetime(2026, 11, 2, 7, tzinfo=UTC))

    def crash(cycle: Any, lines: Any) -> None:
        raise ConnectionError("interrupted")

    with pytest.raises(ConnectionError):
        run_cycle(ports, TENANT, send=crash)
    paid = ports.ledger.balances("acme", "v-a")[("EUR", Book.PAID)]
    cycle = run_cycle(ports, TENANT)
    assert cycle.status is CycleStatus.SENT
    assert ports.ledger.balances("acme", "v-a")[("EUR", Book.PAID)] == paid > 0
    assert run_cycle(ports, TENANT) == cycle
    assert [c.cycle_id for c in ports.cycles.recent("acme")] == ["2026-11-02"]
    done = confirm(ports, "acme", cycle.cycle_id, "finance", {("EUR", "v-b"): "bounced"})
    assert done.status is CycleStatus.PARTLY_CONFIRMED
    _, lines = show(ports, "acme", cycle.cycle_id)
    assert sorted(line.status for line in lines) == [LineStatus.FAILED, LineStatus.PAID]
    assert ports.ledger.balances("acme", "v-b").get(("EUR", Book.PAID), 0) == 0


def test_the_hourly_handler_runs_due_cycles_with_their_files_and_mail(
    aws_env: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.payouts.composition import build_ports
    from functions.payouts.handlers.cycles import handler
    from functions.payouts.use_cases.flows import order_released, order_sold
    from functions.payouts.use_cases.vendors import save_vendor
    from shared.tenants import TenantDirectory
    from tests.alerts_fakes import FakeAlerts
    from tests.clocks import FixedClock
    from tests.unit.test_payouts_cycles import SOLD_AT
    from tests.unit.test_payouts_flows import order, vendor
    from tests.unit.test_payouts_outputs import FINANCE

    aws_env["s3"].create_bucket(Bucket="reports-test")
    monkeypatch.setenv("REPORTS_BUCKET", "reports-test")
    monkeypatch.setenv("MAIL_DIR", str(tmp_path))
    TenantDirectory(TABLE).save(FINANCE)
    clock = FixedClock(SOLD_AT)
    ports = build_ports(TABLE, clock, FakeAlerts())
    save_vendor(ports, "acme", vendor("v-a"), "ops")
    state = order()
    order_sold(ports, FINANCE, state)
    clock.set(datetime(2026, 10, 28, 12, tzinfo=UTC))
    order_released(ports, FINANCE, state, ["l1"])
    tick = {"time": "2026-11-02T07:00:00+00:00"}
    assert handler(tick, _Context()) == {
        "cycles": [{"tenant": "acme", "cycle": "2026-11-02", "status": "sent"}]
    }
    assert handler(tick, _Context()) == {"cycles": []}  # run: not due again
    listed = aws_env["s3"].list_objects_v2(Bucket="reports-test", Prefix="reports/acme/payouts/")
    names = sorted(o["Key"].rsplit("/", 1)[1] for o in listed["Contents"])
    assert names == ["detail.csv", "pain001.xml", "report.json", "summary.csv"]
    assert len(list(tmp_path.glob("*.eml"))) == 3  # report, instruction, the vendor's statement
