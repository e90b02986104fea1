"""Payout cycles over fakes: what a cycle pays, carries and holds; re-runs and interrupted runs
pay nothing twice; finance's confirmation with a failed line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from functions.payouts.domain.cycles import CycleStatus, LineStatus
from functions.payouts.domain.ledger import Account, Book, EntryKind
from functions.payouts.domain.postings import Refused
from functions.payouts.domain.settlement import Outcome
from functions.payouts.domain.vendors import VendorStatus
from functions.payouts.use_cases.cycles import confirm, cycle_due, run_cycle, show
from functions.payouts.use_cases.flows import order_released, order_sold, refund_completed
from functions.payouts.use_cases.vendors import save_vendor, set_status
from shared.tenants import PayoutSettings, TenantSettings
from tests.clocks import FixedClock
from tests.payouts_fakes import payouts_ports
from tests.unit.test_payouts_flows import order, vendor

# Monday 2 November 2026 is a cycle day (weekly, Mondays, 06:00 Berlin).
SOLD_AT = datetime(2026, 10, 20, 9, tzinfo=UTC)
TENANT = TenantSettings(
    id="acme",
    name="Acme",
    currency="EUR",
    customer_sender="shop@acme.example",
    timezone="Europe/Berlin",
    payouts=PayoutSettings(enabled=True, schedule="weekly", weekday=0, cutoff_hour=6, delay_days=2),
)


def _setup(**vendor_b: Any) -> Any:
    ports, _vendors, ledger, _ = payouts_ports(SOLD_AT)
    save_vendor(ports, "acme", vendor("v-a"), "ops")
    save_vendor(ports, "acme", {**vendor("v-b", "20"), **vendor_b}, "ops")
    state = order()
    order_sold(ports, TENANT, state)
    _at(ports, datetime(2026, 10, 28, 12, tzinfo=UTC))  # released on a Wednesday
    order_released(ports, TENANT, state, ["l1", "l2", "l3"])
    return ports, ledger, state


def _at(ports: Any, when: datetime) -> None:
    assert isinstance(ports.clock, FixedClock)
    ports.clock.set(when)


def test_a_cycle_pays_what_is_available_once_and_a_rerun_pays_nothing() -> None:
    ports, ledger, _ = _setup()
    _at(ports, datetime(2026, 11, 2, 6, 30, tzinfo=UTC))
    assert cycle_due(ports, TENANT)
    sent: list[Any] = []
    cycle = run_cycle(ports, TENANT, send=lambda c, lines: sent.append((c, lines)))
    assert (cycle.cycle_id, cycle.status) == ("2026-11-02", CycleStatus.SENT)
    assert cycle.cutoff == datetime(2026, 11, 2, 5, tzinfo=UTC)  # 06:00 CET
    _, lines = show(ports, "acme", "2026-11-02")
    by_vendor = {line.vendor_id: line for line in lines}
    book = ledger.ledger("acme")
    assert by_vendor["v-a"].status is LineStatus.PAYABLE
    assert book.balance("EUR", Account.vendor("v-a", Book.PAID)) == by_vendor["v-a"].amount > 0
    assert book.balance("EUR", Account.vendor("v-a", Book.AVAILABLE)) == 0
    assert cycle.payable == {"EUR": by_vendor["v-a"].amount + by_vendor["v-b"].amount}
    assert len(sent) == 1
    entries = len(book.entries)
    assert not cycle_due(ports, TENANT)
    assert run_cycle(ports, TENANT, send=lambda c, lines: sent.append(c)) == cycle
    assert (len(book.entries), len(sent)) == (entries, 1)


def test_money_released_within_the_delay_days_waits_for_the_next_cycle() -> None:
    ports, _ledger, _ = _setup()
    # The Monday of the release's week: cut-off 26 Oct, before the release: nothing.
    _at(ports, datetime(2026, 10, 31, 12, tzinfo=UTC))  # Saturday: latest cut-off 26 Oct
    first = run_cycle(ports, TENANT)
    assert first.cycle_id == "2026-10-26" and first.payable == {}
    _, lines = show(ports, "acme", first.cycle_id)
    assert {line.outcome for line in lines} == {Outcome.NOTHING}
    assert all(line.held_back > 0 for line in lines)


def test_under_the_minimum_on_hold_and_without_a_method_in_the_currency_are_held() -> None:
    ports, ledger, _ = _setup(minimum_payout={"EUR": 10**6})
    set_status(ports, "acme", "v-a", VendorStatus.ON_HOLD, "KYC expired", "ops")
    _at(ports, datetime(2026, 11, 2, 7, tzinfo=UTC))
    cycle = run_cycle(ports, TENANT)
    _, lines = show(ports, "acme", cycle.cycle_id)
    by_vendor = {line.vendor_id: line for line in lines}
    assert by_vendor["v-a"].outcome is Outcome.ON_HOLD
    assert by_vendor["v-a"].reason == "on hold: KYC expired"
    assert by_vendor["v-b"].outcome is Outcome.UNDER_MINIMUM
    assert cycle.payable == {}
    assert ledger.ledger("acme").balance("EUR", Account.vendor("v-a", Book.PAID)) == 0


def test_an_interrupted_cycle_resumes_without_paying_anyone_twice() -> None:
    ports, ledger, _ = _setup()
    _at(ports, datetime(2026, 11, 2, 7, tzinfo=UTC))

    def crash(cycle: Any, lines: Any) -> None:
        raise ConnectionError("S3 is down")

    with pytest.raises(ConnectionError):
        run_cycle(ports, TENANT, send=crash)
    draft, _lines = show(ports, "acme", "2026-11-02")
    assert draft.status is CycleStatus.DRAFT and draft.lines_complete
    paid_before = ledger.ledger("acme").balance("EUR", Account.vendor("v-a", Book.PAID))
    assert cycle_due(ports, TENANT)
    resumed = run_cycle(ports, TENANT)
    assert resumed.status is CycleStatus.SENT
    book = ledger.ledger("acme")
    assert book.balance("EUR", Account.vendor("v-a", Book.PAID)) == paid_before
    assert [e.kind for e in book.entries].count(EntryKind.PAYOUT) == 2


def test_a_refund_after_payout_is_carried_and_recovered_from_the_next_cycle() -> None:
    ports, ledger, state = _setup()
    _at(ports, datetime(2026, 11, 2, 7, tzinfo=UTC))
    run_cycle(ports, TENANT)
    refund_completed(ports, TENANT, state, "re_late", 3_000, "EUR")
    _at(ports, datetime(2026, 11, 9, 7, tzinfo=UTC))
    second = run_cycle(ports, TENANT)
    _, lines = show(ports, "acme", second.cycle_id)
    assert {line.outcome for line in lines} == {Outcome.NEGATIVE}
    book = ledger.ledger("acme")
    owed = book.balance("EUR", Account.vendor("v-a", Book.NEGATIVE_CARRIED))
    assert owed < 0 and book.balance("EUR", Account.vendor("v-a", Book.AVAILABLE)) == 0
    # A new sale released before the next cut-off pays what is left after the debt.
    new = order("o-2")
    _at(ports, datetime(2026, 11, 9, 8, tzinfo=UTC))
    order_sold(ports, TENANT, new)
    order_released(ports, TENANT, new, ["l1"])
    net = book.balance("EUR", Account.vendor("v-a", Book.AVAILABLE))
    _at(ports, datetime(2026, 11, 16, 7, tzinfo=UTC))
    third = run_cycle(ports, TENANT)
    line = next(x for x in show(ports, "acme", third.cycle_id)[1] if x.vendor_id == "v-a")
    assert (line.outcome, line.amount) == (Outcome.PAYABLE, net + owed)
    assert book.balance("EUR", Account.vendor("v-a", Book.NEGATIVE_CARRIED)) == 0
    assert book.total("EUR") == 0


def test_finance_confirms_with_a_failed_line_whose_money_returns() -> None:
    ports, ledger, _ = _setup()
    _at(ports, datetime(2026, 11, 2, 7, tzinfo=UTC))
    cycle = run_cycle(ports, TENANT)
    with pytest.raises(Refused) as refused:
        confirm(ports, "acme", cycle.cycle_id, "", {("EUR", "v-zz"): "?"})
    assert len(refused.value.reasons) == 2
    done = confirm(ports, "acme", cycle.cycle_id, "finance@acme", {("EUR", "v-b"): "IBAN closed"})
    assert done.status is CycleStatus.PARTLY_CONFIRMED and done.confirmed_by == "finance@acme"
    _, lines = show(ports, "acme", cycle.cycle_id)
    status = {line.vendor_id: (line.status, line.reason) for line in lines}
    assert status["v-a"][0] is LineStatus.PAID
    assert status["v-b"] == (LineStatus.FAILED, "IBAN closed")
    book = ledger.ledger("acme")
    assert book.balance("EUR", Account.vendor("v-b", Book.PAID)) == 0
    assert book.balance("EUR", Account.vendor("v-b", Book.AVAILABLE)) > 0
    with pytest.raises(Refused, match="not sent"):
        confirm(ports, "acme", cycle.cycle_id, "finance@acme")


def test_the_hourly_tick_runs_the_due_cycles_of_marketplaces_only() -> None:
    from functions.payouts.use_cases.cycles import run_due_cycles

    ports, _, _ = _setup()
    shop = TENANT.model_copy(update={"id": "shop", "payouts": PayoutSettings()})
    _at(ports, datetime(2026, 11, 2, 7, tzinfo=UTC))
    done = run_due_cycles(ports, [TENANT, shop])
    assert [(c.tenant, c.cycle_id) for c in done] == [("acme", "2026-11-02")]
    assert run_due_cycles(ports, [TENANT, shop]) == []


def test_a_reserve_is_paid_by_the_first_cycle_after_its_reserve_days() -> None:
    ports, ledger, _ = _setup(hold={"reserve_percent": "10", "reserve_days": 14})
    book = ledger.ledger("acme")
    reserved = book.balance("EUR", Account.vendor("v-b", Book.RESERVED))
    assert reserved > 0
    # Released 28 Oct; the 2 Nov cycle is within the 14 days: the reserve stays.
    _at(ports, datetime(2026, 11, 2, 6, 30, tzinfo=UTC))
    first = run_cycle(ports, TENANT)
    line = {x.vendor_id: x for x in show(ports, "acme", first.cycle_id)[1]}["v-b"]
    assert line.reserve_released == 0
    assert book.balance("EUR", Account.vendor("v-b", Book.RESERVED)) == reserved
    paid_before = book.balance("EUR", Account.vendor("v-b", Book.PAID))
    # 9 Nov: 12 days after the release, still kept; 16 Nov: 19 days, due and paid.
    _at(ports, datetime(2026, 11, 9, 6, 30, tzinfo=UTC))
    second = run_cycle(ports, TENANT)
    assert "v-b" not in {x.vendor_id for x in show(ports, "acme", second.cycle_id)[1]}
    _at(ports, datetime(2026, 11, 16, 6, 30, tzinfo=UTC))
    third = run_cycle(ports, TENANT)
    line = {x.vendor_id: x for x in show(ports, "acme", third.cycle_id)[1]}["v-b"]
    assert (line.reserve_released, line.amount, line.status) == (
        reserved,
        reserved,
        LineStatus.PAYABLE,
    )
    assert book.balance("EUR", Account.vendor("v-b", Book.RESERVED)) == 0
    assert book.balance("EUR", Account.vendor("v-b", Book.PAID)) == paid_before + reserved
    # Run again, and resumed from its stored lines: the reserve moves once.
    entries = len(book.entries)
    assert run_cycle(ports, TENANT) == third
    assert len(book.entries) == entries
    assert [e.kind for e in book.entries].count(EntryKind.RESERVE_RELEASE) == 1
    assert book.total("EUR") == 0


def test_a_vendors_extra_hold_days_keep_a_release_for_a_later_cycle() -> None:
    ports, ledger, _ = _setup(hold={"extra_days": 10})
    book = ledger.ledger("acme")
    # Released 28 Oct: past the tenant's two delay days on 2 Nov, not the vendor's ten.
    _at(ports, datetime(2026, 11, 2, 6, 30, tzinfo=UTC))
    first = run_cycle(ports, TENANT)
    line = {x.vendor_id: x for x in show(ports, "acme", first.cycle_id)[1]}["v-b"]
    assert line.status is not LineStatus.PAYABLE and line.held_back > 0
    assert book.balance("EUR", Account.vendor("v-b", Book.PAID)) == 0
    # 9 Nov: twelve days on, paid.
    _at(ports, datetime(2026, 11, 9, 6, 30, tzinfo=UTC))
    second = run_cycle(ports, TENANT)
    line = {x.vendor_id: x for x in show(ports, "acme", second.cycle_id)[1]}["v-b"]
    assert line.status is LineStatus.PAYABLE
    assert book.balance("EUR", Account.vendor("v-b", Book.PAID)) == line.amount > 0
