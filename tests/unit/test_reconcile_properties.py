"""Properties of the reconciliation engine where money is involved, on generated days."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.reconcile.domain.engine import ReconResult, carry_forward, reconcile
from functions.reconcile.domain.explain import CategorySums, explain_payout
from functions.reconcile.domain.model import (
    BalanceTxnRecord,
    BreakClass,
    ChargeStatus,
    DayInputs,
    DisputeRecord,
    OrderRecord,
    PayoutRecord,
    RefundRecord,
)
from local.sandboxes.bank import Entry
from local.sandboxes.recon_day import StatementFile, bank_line, gateway_charge

T = TypeVar("T")
TENANT = "t-prop"
DAY = date(2026, 3, 16)
AT = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
CURRENCIES = ("EUR", "USD")
AMOUNTS = (500, 1_000, 1_500)
PAYOUT_AMOUNTS = (9_800, 10_000, 10_000, 12_000, 20_000, 20_500)
STATEMENT = StatementFile("f.csv", "b" * 64, "csv", first_line=2)
CATEGORIES = ("charge", "refund", "dispute", "dispute_reversal", "fee", "adjustment", "payout")

money = st.integers(min_value=-(10**9), max_value=10**9)


@st.composite
def days(draw: st.DrawFn) -> DayInputs:
    currency = st.sampled_from(CURRENCIES)
    order_count = draw(st.integers(0, 10))
    orders = [
        OrderRecord(
            TENANT,
            f"o{n}",
            draw(st.sampled_from(["placed", "completed", "cancelled", "failed", "refunded"])),
            draw(st.sampled_from(AMOUNTS)),
            draw(currency),
            AT,
        )
        for n in range(order_count)
    ]
    charges = []
    for n in range(draw(st.integers(0, 14))):
        captured = draw(st.sampled_from(AMOUNTS))
        status: ChargeStatus = draw(
            st.sampled_from(["succeeded", "succeeded", "succeeded", "failed", "pending"])
        )
        charges.append(
            gateway_charge(
                str(n),
                draw(st.sampled_from([*(f"o{k}" for k in range(12)), None])),
                captured,
                draw(currency),
                AT + timedelta(minutes=draw(st.integers(0, 3))),
                refunded=draw(st.sampled_from([0, 0, captured // 2, captured])),
                status=status,
            )
        )
    # Refunds name their payment's order (as the loader knows it) or, sometimes, not at all.
    order_of = {c.payment_id: c.order_id for c in charges}
    named = draw(st.booleans())
    refunds = []
    for n in range(draw(st.integers(0, 3))):
        payment_id = f"pi_{draw(st.integers(0, 14))}"
        refunds.append(
            RefundRecord(
                f"re{n}",
                payment_id,
                draw(st.sampled_from((100, 500, 1_000))),
                "EUR",
                draw(st.sampled_from(["pending", "succeeded", "failed"])),
                AT,
                order_id=order_of.get(payment_id) if named else None,
            )
        )
    disputes = [
        DisputeRecord(f"dp{n}", f"ch_{n}", 500, "EUR", "needs_response", draw(st.booleans()))
        for n in range(draw(st.integers(0, 2)))
    ]
    payouts = [
        PayoutRecord(
            f"po_{n}",
            draw(st.sampled_from(PAYOUT_AMOUNTS)),
            draw(currency),
            DAY - timedelta(days=draw(st.integers(0, 6))),
            draw(st.sampled_from(["paid", "paid", "pending", "failed", "failed_after_paid"])),
            draw(st.sampled_from(["STRIPE", f"STRIPE {n} X", None])),
            draw(st.sampled_from([None, f"T{n}"])),
        )
        for n in range(draw(st.integers(0, 6)))
    ]
    balance = []
    for p in payouts:
        for k in range(draw(st.integers(0, 3))):
            amount = draw(st.sampled_from((p.amount, 1_000, -300)))
            fee = draw(st.sampled_from((0, 30)))
            balance.append(
                BalanceTxnRecord(
                    f"txn_{p.payout_id}_{k}",
                    p.payout_id,
                    draw(st.sampled_from(["ch_0", "ch_1", "ch_x", None])),
                    draw(st.sampled_from(CATEGORIES)),
                    amount,
                    fee,
                    amount - fee,
                    p.currency,
                )
            )
    bank = []
    for n in range(draw(st.integers(0, 8))):
        remittance = draw(st.sampled_from(["STRIPE", "INVOICE 1", "STRIPE PO_1", "STRIPE 2 X"]))
        code = draw(currency)
        entry = Entry(
            amount=draw(st.sampled_from(PAYOUT_AMOUNTS)),
            direction=draw(st.sampled_from(["credit", "credit", "debit"])),
            booking_date=DAY - timedelta(days=draw(st.integers(0, 6))),
            trace_id=draw(st.sampled_from([None, None, "T0", "T1"])),
            counterparty=draw(st.sampled_from(["STRIPE PAYMENTS", "SOMEONE", None])),
            remittance=remittance,
        )
        source = STATEMENT.position(n)
        bank.append(bank_line(entry, tenant=TENANT, account="ACC", currency=code, source=source))
    return DayInputs(
        tenant=TENANT,
        day=DAY,
        orders=orders,
        charges=charges,
        refunds=refunds,
        disputes=disputes,
        payouts=payouts,
        balance_txns=balance,
        bank_lines=bank,
    )


def shuffled(inputs: DayInputs, seed: int) -> DayInputs:
    rng = random.Random(seed)

    def mix(items: Sequence[T]) -> list[T]:
        out = list(items)
        rng.shuffle(out)
        return out

    return replace(
        inputs,
        orders=mix(inputs.orders),
        charges=mix(inputs.charges),
        refunds=mix(inputs.refunds),
        disputes=mix(inputs.disputes),
        payouts=mix(inputs.payouts),
        balance_txns=mix(inputs.balance_txns),
        bank_lines=mix(inputs.bank_lines),
    )


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(days(), st.integers(0, 2**32))
def test_shuffling_the_inputs_never_changes_the_result(inputs: DayInputs, seed: int) -> None:
    assert reconcile(shuffled(inputs, seed)) == reconcile(inputs)


def category_totals(result: ReconResult, prefix: str) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for category, per_currency in result.matches.items():
        if category.startswith(prefix):
            for currency, tally in per_currency.items():
                out[currency][0] += tally.count
                out[currency][1] += tally.amount
    return {currency: (row[0], row[1]) for currency, row in out.items() if row != [0, 0]}


def expected_totals(records: list[tuple[str, int]]) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for currency, amount in records:
        out[currency][0] += 1
        out[currency][1] += amount
    return {currency: (row[0], row[1]) for currency, row in out.items() if row != [0, 0]}


@FAST
@given(days())
def test_every_record_is_filed_exactly_once(inputs: DayInputs) -> None:
    result = reconcile(inputs)
    assert category_totals(result, "orders.") == expected_totals(
        [(o.currency, o.amount) for o in inputs.orders]
    )
    assert category_totals(result, "charges.") == expected_totals(
        [(c.currency, c.captured) for c in inputs.charges if c.status == "succeeded"]
    )
    assert category_totals(result, "payouts.") == expected_totals(
        [(p.currency, p.amount) for p in inputs.payouts]
    )
    assert category_totals(result, "bank.") == expected_totals(
        [(b.currency, b.amount) for b in inputs.bank_lines if b.direction == "credit"]
    )


@FAST
@given(days())
def test_refunds_suggested_never_exceed_what_is_held(inputs: DayInputs) -> None:
    result = reconcile(inputs)
    pending: dict[str, int] = defaultdict(int)
    for record in inputs.refunds:
        if record.status == "pending":
            pending[record.payment_id] += record.amount
    held = {
        c.charge_id: c.captured - c.refunded - pending[c.payment_id]
        for c in inputs.charges
        if c.status == "succeeded"
    }
    suggested: dict[str, int] = defaultdict(int)
    for brk in result.breaks:
        if brk.suggested_action is None:
            continue
        for refund in brk.suggested_action.refunds:
            assert refund.amount > 0
            suggested[refund.charge_id] += refund.amount
        if brk.suggested_action.refunds:
            # Told in one currency: amounts of different currencies are never added.
            assert brk.amount == sum(
                r.amount for r in brk.suggested_action.refunds if r.currency == brk.currency
            )
    for charge_id, amount in suggested.items():
        assert amount <= held[charge_id]


@FAST
@given(days())
def test_settlement_breaks_are_the_difference_of_their_pair(inputs: DayInputs) -> None:
    result = reconcile(inputs)
    by_payout = {s.payout_id: s for s in result.settlements}
    assert len({s.line_id for s in result.settlements}) == len(result.settlements)
    for brk in result.breaks:
        if brk.break_class in (BreakClass.SHORT_PAYMENT, BreakClass.EXCESS_PAYMENT):
            match = by_payout[brk.key("payout_id")]  # type: ignore[index]
            assert brk.amount == abs(match.bank_amount - match.payout_amount) > 0
            assert (brk.break_class is BreakClass.SHORT_PAYMENT) == (
                match.bank_amount < match.payout_amount
            )


@FAST
@given(days())
def test_break_ids_are_unique_and_carry_forward_of_itself_changes_nothing(
    inputs: DayInputs,
) -> None:
    breaks = reconcile(inputs).breaks
    assert len({b.break_id for b in breaks}) == len(breaks)
    carried = carry_forward(breaks, breaks, DAY)
    assert carried.opened == [] and carried.closed == []
    assert carried.still_open == breaks


sums = st.builds(
    lambda count, amount, fee: (count, amount, fee),
    st.integers(0, 10_000),
    money,
    money,
)


@given(st.dictionaries(st.sampled_from((*CATEGORIES, "reserve", "tax")), sums), money)
def test_payout_explanation_components_add_up_to_the_net(
    raw: dict[str, tuple[int, int, int]], payout_amount: int
) -> None:
    by_category = {cat: CategorySums(c, a, f, a - f) for cat, (c, a, f) in raw.items()}
    payout = PayoutRecord("po_1", payout_amount, "EUR", DAY, "paid")
    explained = explain_payout(payout, by_category)
    assert explained.consistent
    assert explained.components_total == explained.net
    assert explained.net == sum(s.net for cat, s in by_category.items() if cat != "payout")
    assert explained.difference == payout_amount - explained.net
    assert explained.transaction_count == sum(
        s.count for cat, s in by_category.items() if cat != "payout"
    )
    assert explained.text().startswith("Payout po_1")


@given(st.dictionaries(st.sampled_from(CATEGORIES), sums, min_size=1), money)
def test_an_inconsistent_net_is_shown_not_hidden(
    raw: dict[str, tuple[int, int, int]], skew: int
) -> None:
    by_category = {cat: CategorySums(c, a, f, a - f + skew) for cat, (c, a, f) in raw.items()}
    explained = explain_payout(PayoutRecord("po_1", 0, "EUR", DAY, "paid"), by_category)
    counted = sum(1 for cat in by_category if cat != "payout")
    assert explained.consistent == (skew * counted == 0)
