"""Stripe Connect mode over fakes: the cycle pays Connect vendors by transfers (one per vendor
and currency, keyed by the whole identity, grouped by cycle, drawing on the one charge the money
came from), never twice; a refund after the payout reverses the vendor's share, and when the
connected account's balance is too low the negative balance is carried and recovered at the next
cycle, with a notice to the team."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.payouts.domain.connect import (
    shortfall,
    source_charge,
    transfer_group,
    transfer_key,
)
from functions.payouts.domain.cycles import CycleStatus, LineStatus
from functions.payouts.domain.ledger import Account, Book, EntryKind
from functions.payouts.domain.reports import statement
from functions.payouts.use_cases.cycles import (
    CyclesInterrupted,
    run_cycle,
    run_due_cycles,
    show,
)
from functions.payouts.use_cases.flows import (
    order_disputed,
    order_released,
    order_sold,
    refund_completed,
)
from functions.payouts.use_cases.vendors import save_vendor
from shared.events import Customer, LineItem, OrderPlaced, Source
from shared.money import Money
from shared.notices.payouts import ConnectReversalFailed
from shared.order_aggregate import DisputeFacts, OrderState, PaymentFacts, Register, apply
from shared.tenants import PayoutSettings, TenantSettings
from tests.clocks import FixedClock
from tests.payouts_fakes import FakeTransfers, parcel, payouts_ports

ACCOUNT = "acct_1VendorC"
MARKET = TenantSettings(
    id="acme",
    name="Acme",
    currency="EUR",
    customer_sender="shop@acme.example",
    payouts=PayoutSettings(enabled=True, schedule="daily", connect_transfers=True),
)


def _day(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


def connect_vendor(vendor_id: str = "v-c", account: str = ACCOUNT) -> dict[str, Any]:
    return {
        "vendor_id": vendor_id,
        "name": vendor_id.upper(),
        "emails": [f"{vendor_id}@example.com"],
        "currencies": ["EUR"],
        "payout": {"method": "stripe_connect", "account_id": account, "currency": "EUR"},
        "commission": [{"percent": "10", "effective_from": "2026-01-01"}],
    }


def paid_order(order_id: str, price: int, at: datetime, charges: tuple[str, ...]) -> OrderState:
    """One line of vendor v-c at ``price``, paid by ``charges``."""
    placed = OrderPlaced(
        tenant="acme",
        source=Source.SHOP,
        source_event_id=f"{order_id}-placed",
        occurred_at=at,
        order_id=order_id,
        currency="EUR",
        total=Money.of(price, "EUR"),
        lines=(
            LineItem(
                line_id="l1",
                name="Lamp",
                quantity=1,
                unit_price=Money.of(price, "EUR"),
                vendor_id="v-c",
            ),
        ),
        customer=Customer(email="bob@example.com", name="Bob"),
    )
    state = apply(OrderState(tenant="acme", order_id=order_id), placed)
    for event in parcel(order_id, f"1Z-{order_id}", at):  # delivered: released at the step
        state = apply(state, event)
    state.payments[f"pi_{order_id}"] = PaymentFacts(
        payment_id=f"pi_{order_id}",
        currency="EUR",
        amount=price,
        charge_ids=list(charges),
        captured=price,
    )
    return state


def _at(ports: Any, when: datetime) -> None:
    assert isinstance(ports.clock, FixedClock)
    ports.clock.set(when)


def _market(tenant: TenantSettings = MARKET) -> tuple[Any, Any, FakeTransfers, Any]:
    ports, _, ledger, alerts = payouts_ports(_day(20, 9))
    transfers = FakeTransfers()
    ports = replace(ports, transfers=transfers)
    save_vendor(ports, "acme", connect_vendor(), "ops")
    return ports, ledger, transfers, alerts


def _sold_and_released(ports: Any, order_id: str, price: int, day: int, charges: Any = None) -> Any:
    _at(ports, _day(day, 9))
    state = paid_order(order_id, price, _day(day, 9), charges or (f"ch_{order_id}",))
    order_sold(ports, MARKET, state)
    _at(ports, _day(day, 12))
    order_released(ports, MARKET, state, ["l1"])
    return state


def _sold_before_the_cycle(
    tenant: TenantSettings = MARKET,
) -> tuple[Any, Any, FakeTransfers, Any, Any]:
    """Order o-1 (5,000: the vendor's net 4,500) sold and released on 20 October; the clock
    at the next cycle's time (22 October, 01:00)."""
    ports, ledger, transfers, alerts = _market(tenant)
    state = _sold_and_released(ports, "o-1", 5_000, 20)
    _at(ports, _day(22, 1))
    return ports, ledger, transfers, alerts, state


def balances(ledger: Any, vendor_id: str = "v-c") -> dict[Book, int]:
    book = ledger.ledger("acme")
    return {
        b: book.balance("EUR", Account.vendor(vendor_id, b))
        for b in (Book.AVAILABLE, Book.PAID, Book.NEGATIVE_CARRIED)
    }


# -- the domain ---------------------------------------------------------------------------------


def test_the_transfer_key_hashes_the_whole_identity() -> None:
    key = transfer_key("acme", "2026-10-22", "v-c", "EUR")
    assert len(key) == 64 and key == transfer_key("acme", "2026-10-22", "v-c", "EUR")
    others = {
        transfer_key("acme2", "2026-10-22", "v-c", "EUR"),
        transfer_key("acme", "2026-10-23", "v-c", "EUR"),
        transfer_key("acme", "2026-10-22", "v-d", "EUR"),
        transfer_key("acme", "2026-10-22", "v-c", "USD"),
        # no part bleeds into the next
        transfer_key("acme", "2026-10-22v", "-c", "EUR"),
    }
    assert key not in others and len(others) == 5
    assert transfer_group("2026-10-22") == "payout-cycle-2026-10-22"


@pytest.mark.parametrize(
    ("balances_", "taken", "expected"),
    [
        ({("EUR", Book.AVAILABLE): -500, ("EUR", Book.PENDING): 2000}, 500, 0),  # not paid yet
        ({("EUR", Book.AVAILABLE): -500, ("EUR", Book.PENDING): 200}, 500, 300),  # partly paid
        ({("EUR", Book.AVAILABLE): -500, ("EUR", Book.NEGATIVE_CARRIED): -700}, 500, 500),
        ({("EUR", Book.AVAILABLE): -500, ("USD", Book.PENDING): 9000}, 500, 500),  # no netting
        ({("EUR", Book.AVAILABLE): 100}, 500, 0),
    ],
)
def test_the_shortfall_is_what_unpaid_money_no_longer_covers_at_most_what_was_taken(
    balances_: dict[tuple[str, Book], int], taken: int, expected: int
) -> None:
    assert shortfall(balances_, "EUR", taken) == expected


def test_source_transaction_only_when_the_money_came_from_one_order_paid_by_one_charge() -> None:
    ports, ledger, _, _ = _market(
        MARKET.model_copy(update={"payouts": PayoutSettings(enabled=True)})
    )
    _sold_and_released(ports, "o-1", 5_000, 20)
    entries = ledger.entries("acme", "v-c")
    assert source_charge(entries, "v-c", "EUR", "2026-10-22", 4_500) == "ch_o-1"
    # More than that order added (older credits outside the entries read): no source.
    assert source_charge(entries, "v-c", "EUR", "2026-10-22", 4_501) is None
    _sold_and_released(ports, "o-2", 3_000, 21)
    assert source_charge(ledger.entries("acme", "v-c"), "v-c", "EUR", "2026-10-22", 10) is None
    _sold_and_released(ports, "o-3", 3_000, 21, charges=("ch_a", "ch_b"))
    only_o3 = [e for e in ledger.entries("acme", "v-c") if e.order_id == "o-3"]
    assert source_charge(only_o3, "v-c", "EUR", "2026-10-22", 10) is None  # two charges
    assert source_charge(entries, "v-c", "USD", "2026-10-22", 10) is None


# -- the cycle pays by transfer ------------------------------------------------------------------


def test_a_cycle_pays_a_connect_vendor_by_one_transfer_and_a_rerun_creates_none() -> None:
    ports, ledger, transfers, _, _ = _sold_before_the_cycle()
    cycle = run_cycle(ports, MARKET)
    (line,) = show(ports, "acme", cycle.cycle_id)[1]
    ((order, transfer_id),) = transfers.transfers.values()
    assert (line.status, line.amount, line.transfer_id) == (LineStatus.PAID, 4_500, transfer_id)
    assert line.source_transaction == "ch_o-1" == order.source_transaction
    assert order.key == transfer_key("acme", "2026-10-22", "v-c", "EUR")
    assert (order.account_id, order.amount, order.currency) == (ACCOUNT, 4_500, "EUR")
    assert order.group == "payout-cycle-2026-10-22"
    assert balances(ledger) == {Book.AVAILABLE: 0, Book.PAID: 4_500, Book.NEGATIVE_CARRIED: 0}
    calls = list(transfers.calls)
    assert run_cycle(ports, MARKET) == cycle
    assert transfers.calls == calls == ["transfer"]


def test_a_lost_answer_leaves_the_cycle_a_draft_and_the_resumed_run_finds_the_transfer() -> None:
    ports, ledger, transfers, _, _ = _sold_before_the_cycle()
    transfers.timeouts = 1
    with pytest.raises(TimeoutError):
        run_cycle(ports, MARKET)
    assert ports.cycles.get("acme", "2026-10-22").status is CycleStatus.DRAFT
    cycle = run_cycle(ports, MARKET)
    assert cycle.status is CycleStatus.SENT
    (line,) = show(ports, "acme", cycle.cycle_id)[1]
    assert len(transfers.transfers) == 1 and line.transfer_id == "tr_1"
    assert transfers.calls == ["transfer", "find"]
    assert balances(ledger)[Book.PAID] == 4_500


def test_a_refused_transfer_fails_the_line_and_gives_the_money_back() -> None:
    ports, ledger, transfers, _, _ = _sold_before_the_cycle()
    transfers.refuse = "No such destination: 'acct_1VendorC'"
    cycle = run_cycle(ports, MARKET)
    (line,) = show(ports, "acme", cycle.cycle_id)[1]
    assert line.status is LineStatus.FAILED and "No such destination" in line.reason
    assert not line.transfer_id and transfers.transfers == {}
    assert balances(ledger) == {Book.AVAILABLE: 4_500, Book.PAID: 0, Book.NEGATIVE_CARRIED: 0}


def test_without_connect_mode_finance_pays_the_connect_line() -> None:
    plain = MARKET.model_copy(update={"payouts": PayoutSettings(enabled=True, schedule="daily")})
    ports, _, transfers, _, _ = _sold_before_the_cycle(plain)
    (line,) = show(ports, "acme", run_cycle(ports, plain).cycle_id)[1]
    assert line.status is LineStatus.PAYABLE and transfers.calls == []


# -- refunds after the payout ------------------------------------------------------------------


def test_a_refund_after_the_payout_reverses_the_vendors_share_once() -> None:
    ports, ledger, transfers, alerts, state = _sold_before_the_cycle()
    run_cycle(ports, MARKET)
    _at(ports, _day(22, 10))
    refund_completed(ports, MARKET, state, "r1", 2_000, "EUR")
    refund_completed(ports, MARKET, state, "r1", 2_000, "EUR")  # a replay
    ((order, reversal_id),) = transfers.reversals.values()
    assert (order.transfer_id, order.amount) == ("tr_1", 1_800)  # 2,000 less 10 % commission
    assert transfers.balances[ACCOUNT] == 4_500 - 1_800
    assert balances(ledger) == {Book.AVAILABLE: 0, Book.PAID: 2_700, Book.NEGATIVE_CARRIED: 0}
    (reversed_,) = [
        e for e in ledger.entries("acme", "v-c") if e.kind is EntryKind.TRANSFER_REVERSAL
    ]
    assert reversed_.refs["reversal"] == reversal_id and reversed_.refs["transfer"] == "tr_1"
    assert alerts.sent == []


def test_a_refund_before_the_payout_reverses_nothing() -> None:
    ports, ledger, transfers, _ = _market()
    state = _sold_and_released(ports, "o-1", 5_000, 20)
    refund_completed(ports, MARKET, state, "r1", 2_000, "EUR")
    assert transfers.calls == [] and balances(ledger)[Book.AVAILABLE] == 2_700


def test_a_failed_reversal_carries_the_negative_and_the_next_cycle_recovers_it() -> None:
    ports, ledger, transfers, alerts, state = _sold_before_the_cycle()
    run_cycle(ports, MARKET)
    transfers.balances[ACCOUNT] = 1_000  # the vendor paid most of it out to its bank
    _at(ports, _day(22, 10))
    refund_completed(ports, MARKET, state, "r1", 5_000, "EUR")
    assert transfers.reversals == {}
    (notice,) = alerts.sent
    assert isinstance(notice, ConnectReversalFailed)
    assert (notice.vendor_id, notice.transfer_id, notice.amount) == ("v-c", "tr_1", 4_500)
    assert "Insufficient funds" in notice.reason
    assert balances(ledger) == {Book.AVAILABLE: -4_500, Book.PAID: 4_500, Book.NEGATIVE_CARRIED: 0}
    _at(ports, _day(23, 1))
    carried = run_cycle(ports, MARKET)
    (line,) = show(ports, "acme", carried.cycle_id)[1]
    assert line.status is LineStatus.HELD and transfers.calls.count("transfer") == 1
    assert balances(ledger) == {Book.AVAILABLE: 0, Book.PAID: 4_500, Book.NEGATIVE_CARRIED: -4_500}
    _sold_and_released(ports, "o-2", 10_000, 23)
    _at(ports, _day(24, 1))
    recovered = run_cycle(ports, MARKET)
    (line,) = show(ports, "acme", recovered.cycle_id)[1]
    assert (line.status, line.amount) == (LineStatus.PAID, 9_000 - 4_500)
    order, _ = transfers.transfers[transfer_key("acme", "2026-10-24", "v-c", "EUR")]
    assert (order.amount, order.source_transaction) == (4_500, "ch_o-2")
    assert balances(ledger) == {Book.AVAILABLE: 0, Book.PAID: 9_000, Book.NEGATIVE_CARRIED: 0}


def test_a_chargeback_lost_after_the_payout_that_vendors_bear_is_reversed_too() -> None:
    bearing = MARKET.model_copy(
        update={"payouts": MARKET.payouts.model_copy(update={"chargebacks_borne_by": "vendor"})}
    )
    ports, ledger, transfers, _, state = _sold_before_the_cycle(bearing)
    run_cycle(ports, bearing)
    _at(ports, _day(25, 10))
    lost = Register[str](value="lost", at=_day(25, 10), event_id="evt_lost")
    state.disputes["dp_1"] = DisputeFacts(
        dispute_id="dp_1",
        charge_id="ch_o-1",
        currency="EUR",
        amount=5_000,
        status=lost,
        funds_withdrawn=True,
    )
    order_disputed(ports, bearing, state)
    order_disputed(ports, bearing, state)  # the next dispute event of the order
    ((order, _),) = transfers.reversals.values()
    # The vendor bears all 5,000 (the commission's part too): the transfer gives back all it
    # paid, 4,500; the rest stays negative, for the next cycles to carry and recover.
    assert (order.transfer_id, order.amount) == ("tr_1", 4_500)
    assert balances(ledger) == {Book.AVAILABLE: -500, Book.PAID: 0, Book.NEGATIVE_CARRIED: 0}
    assert transfers.calls.count("reverse") == 1


@settings(max_examples=25, deadline=None)
@given(
    refunds=st.lists(st.integers(min_value=1, max_value=1_500), min_size=1, max_size=4),
    connected=st.integers(min_value=0, max_value=6_000),
    before_payout=st.integers(min_value=0, max_value=4),
)
def test_what_the_ledger_says_was_paid_is_what_the_connected_account_kept(
    refunds: list[int], connected: int, before_payout: int
) -> None:
    """Whatever refunds come before or after the payout, and whatever the connected account
    holds: the vendor's ``paid`` is what its transfers gave less what reversals took back, and
    its books add up to its net less what refunds took."""
    ports, ledger, transfers, _ = _market()
    state = _sold_and_released(ports, "o-1", 5_000, 20)
    refunds = refunds[: 5_000 // 1_500]  # never more than the order's 5,000
    for n, amount in enumerate(refunds[:before_payout]):
        refund_completed(ports, MARKET, state, f"r{n}", amount, "EUR")
    _at(ports, _day(22, 1))
    run_cycle(ports, MARKET)
    sent = sum(order.amount for order, _ in transfers.transfers.values())
    transfers.balances[ACCOUNT] = min(connected, sent)
    _at(ports, _day(22, 10))
    for n, amount in enumerate(refunds[before_payout:], start=before_payout):
        refund_completed(ports, MARKET, state, f"r{n}", amount, "EUR")
    taken_back = sum(order.amount for order, _ in transfers.reversals.values())
    books = balances(ledger)
    assert books[Book.PAID] == sent - taken_back >= 0
    refunded_net = 4_500 * sum(refunds) // 5_000  # within a minor unit per refund
    total = books[Book.AVAILABLE] + books[Book.NEGATIVE_CARRIED] + books[Book.PAID]
    assert abs(total - (4_500 - refunded_net)) <= len(refunds)


def test_the_vendors_statement_shows_the_payout_a_transfer_made() -> None:
    ports, ledger, _, _, _ = _sold_before_the_cycle()
    cycle = run_cycle(ports, MARKET)
    (line,) = show(ports, "acme", cycle.cycle_id)[1]
    told = statement("v-c", ledger.entries("acme", "v-c"), line, ledger.balances("acme", "v-c"))
    assert line.status is LineStatus.PAID
    assert told["payout"] == {"amount": 4_500, "currency": "EUR"}


def test_one_tenants_gateway_down_holds_back_no_other_tenants_cycle() -> None:
    ports, ledger, transfers, _, _ = _sold_before_the_cycle()
    other = MARKET.model_copy(update={"id": "other"})
    save_vendor(ports, "other", connect_vendor(), "ops")
    _at(ports, _day(20, 9))
    state = paid_order("o-9", 2_000, _day(20, 9), ("ch_o-9",)).model_copy(
        update={"tenant": "other"}
    )
    order_sold(ports, other, state)
    order_released(ports, other, state, ["l1"])
    _at(ports, _day(22, 1))
    transfers.timeouts = 1  # the first tenant's transfer: its answer is lost
    with pytest.raises(CyclesInterrupted) as interrupted:
        run_due_cycles(ports, [MARKET, other])
    assert interrupted.value.tenants == ["acme"]
    assert ports.cycles.get("acme", "2026-10-22").status is CycleStatus.DRAFT
    assert ports.cycles.get("other", "2026-10-22").status is CycleStatus.SENT
    (resumed,) = run_due_cycles(ports, [MARKET, other])
    assert (resumed.tenant, resumed.status) == ("acme", CycleStatus.SENT)
    assert len(transfers.transfers) == 2  # one each, none twice
    assert balances(ledger)[Book.PAID] == 4_500
