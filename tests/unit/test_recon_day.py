"""The synthetic reconciliation days the bench, the report screenshot and the tests build on:
planted breaks are the ones the engine finds, nothing else, and days are deterministic."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from functions.reconcile.domain.engine import reconcile
from functions.reconcile.domain.model import BreakClass
from local.sandboxes.recon_day import (
    DISPUTE_FEE,
    EU_CARDS,
    ReconDay,
    generate,
    named_as_planted,
)

DAY = date(2026, 3, 16)
AT = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def test_a_generated_day_has_every_break_planted_and_found_and_no_other() -> None:
    day = generate(4_000, seed=3)
    assert {cls for cls, _ in day.planted} == set(BreakClass)
    result = reconcile(day.with_lines())
    assert named_as_planted(result.breaks) == day.planted


@pytest.mark.parametrize(
    "breaks",
    [
        frozenset(),
        frozenset({BreakClass.DUPLICATE_PAYMENT, BreakClass.SHORT_PAYMENT}),
        frozenset({BreakClass.CHARGED_ORDER_NOT_COMPLETED, BreakClass.UNKNOWN_BANK_CREDIT}),
    ],
)
def test_only_the_breaks_asked_for_are_planted(breaks: frozenset[BreakClass]) -> None:
    day = generate(4_000, seed=3, breaks=breaks)
    assert {cls for cls, _ in day.planted} == breaks
    assert named_as_planted(reconcile(day.with_lines()).breaks) == day.planted


def test_a_generated_day_is_deterministic_by_seed() -> None:
    first, again, other = generate(1_000, seed=5), generate(1_000, seed=5), generate(1_000, seed=6)
    assert first.with_lines() == again.with_lines() and first.planted == again.planted
    assert first.inputs.orders != other.inputs.orders


def test_sizes_and_the_payouts_sweeping_them() -> None:
    day = generate(2_000, charges_per_payout=100, currency="USD", fee=EU_CARDS)
    inputs = day.inputs
    assert len(inputs.orders) <= 2_000 <= len(inputs.charges)
    succeeded = [c for c in inputs.charges if c.status == "succeeded"]
    assert len(inputs.payouts) == (len(succeeded) + 99) // 100
    assert {p.currency for p in inputs.payouts} == {"USD"}
    swept = {t.source_id for t in inputs.balance_txns if t.reporting_category == "charge"}
    assert swept == {c.charge_id for c in succeeded}


def test_a_day_built_by_hand_settles_its_charges_disputes_and_movements() -> None:
    day = ReconDay("t-hand", DAY, "EUR", AT, fee=EU_CARDS, key_prefix="X")
    day.order("o-1", 10_000)
    paid = day.charge("1", "o-1", 10_000)
    day.order("o-2", 4_000, "completed", AT + timedelta(hours=1))
    day.charge("2", "o-2", 4_000, refunded=1_000)
    assert paid.charge_id == "ch_X1" and day.charge_of("1") is paid
    dispute = day.dispute("dp_1", paid, has_case=True)
    assert (dispute.amount, dispute.order_id, dispute.payment_id) == (10_000, "o-1", "pi_X1")

    payout = day.settle("po_1", day.charges, arrival=DAY - timedelta(days=1))
    fees = EU_CARDS(10_000) + EU_CARDS(4_000)
    assert payout.amount == 14_000 - fees - 1_000 - 10_000 - DISPUTE_FEE
    assert payout.amount == sum(t.net for t in day.txns)
    assert [t.reporting_category for t in day.txns] == ["charge", "dispute", "charge", "refund"]

    day.line(payout.amount, payout.arrival_date, "STRIPE")
    assert day.lines[0].source.entry_index == 0 and day.lines[0].value_date == DAY - timedelta(1)
    result = reconcile(day.inputs())
    assert result.breaks == []
    assert [s.payout_id for s in result.settlements] == ["po_1"]
