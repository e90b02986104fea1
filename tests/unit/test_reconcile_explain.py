"""How a payout's amount came about: components and the text an operator reads."""

from __future__ import annotations

from datetime import date

from functions.reconcile.domain.amounts import money
from functions.reconcile.domain.explain import CategorySums, explain_payout
from functions.reconcile.domain.model import PayoutRecord

DAY = date(2026, 3, 16)


def test_amounts_read_by_currency_exponent_even_beyond_what_the_system_stores() -> None:
    assert money(123_456, "EUR").format(grouping=True) == "EUR 1,234.56"
    assert money(-1_200, "EUR").format(grouping=True, signed=True) == "-EUR 12.00"
    assert money(5, "EUR").format(grouping=True, signed=True) == "+EUR 0.05"
    assert money(1_500, "JPY").format(grouping=True) == "JPY 1,500"
    assert money(1_250, "KWD").format(grouping=True) == "KWD 1.250"
    assert money(-1_250, "KWD").decimal_text() == "-1.250"
    # A bank file may carry 18 digits of minor units; breaks and problems still show them.
    assert money(10**17, "EUR").format(grouping=True) == "EUR 1,000,000,000,000,000.00"


def test_a_payout_explained_component_by_component() -> None:
    sums = {
        "charge": CategorySums(count=3, amount=30_000, fee=900, net=29_100),
        "refund": CategorySums(count=1, amount=-5_000, fee=0, net=-5_000),
        "dispute": CategorySums(count=1, amount=-10_000, fee=1_500, net=-11_500),
        "dispute_reversal": CategorySums(count=1, amount=10_000, fee=-1_500, net=11_500),
        "fee": CategorySums(count=1, amount=-200, fee=0, net=-200),
        "adjustment": CategorySums(count=1, amount=-100, fee=0, net=-100),
        "payout": CategorySums(count=1, amount=-23_800, fee=0, net=-23_800),
    }
    payout = PayoutRecord("po_1", 23_800, "EUR", DAY, "paid")
    explained = explain_payout(payout, sums, ["ch_b", "ch_a"])
    assert explained.gross_charges == 30_000
    assert explained.fees == -1_100  # 900 on charges, 200 billed on their own
    assert explained.refunds == -5_000
    assert (explained.disputes, explained.dispute_reversals, explained.dispute_fees) == (
        -10_000,
        10_000,
        0,
    )
    assert explained.adjustments == -100
    assert explained.net == 23_800 == explained.components_total
    assert explained.difference == 0 and explained.transaction_count == 8
    assert explained.unknown_charge_ids == ("ch_a", "ch_b")
    text = explained.text()
    assert "Payout po_1 of EUR 238.00, arriving 2026-03-16 (paid)" in text
    assert "gross charges" in text and "+EUR 300.00" in text
    assert "= net" in text and "the payout equals the net of its transactions" in text
    assert "2 settled charges are unknown to us: ch_a, ch_b" in text


def test_a_payout_that_does_not_add_up_says_by_how_much() -> None:
    sums = {"charge": CategorySums(count=1, amount=1_000, fee=30, net=970)}
    explained = explain_payout(PayoutRecord("po_2", 1_000, "EUR", DAY, "paid"), sums)
    assert explained.difference == 30
    assert "differs from the net of its transactions by +EUR 0.30" in explained.text()


def test_many_unknown_charges_are_counted_not_all_listed() -> None:
    unknown = [f"ch_{n:03d}" for n in range(25)]
    explained = explain_payout(PayoutRecord("po_3", 0, "EUR", DAY, "paid"), {}, unknown)
    assert explained.unknown_charge_count == 25 and len(explained.unknown_charge_ids) == 10
    assert "and 15 more" in explained.text()
