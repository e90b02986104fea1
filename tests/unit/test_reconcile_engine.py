"""The reconciliation engine on a planted day: every break class found, nothing else."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from functions.reconcile.domain.bank.model import BankLine, Direction
from functions.reconcile.domain.engine import (
    ReconConfig,
    ReconResult,
    Tally,
    carry_forward,
    reconcile,
)
from functions.reconcile.domain.model import (
    PRIORITY,
    BalanceTxnRecord,
    Break,
    BreakClass,
    ChargeRecord,
    ChargeStatus,
    DayInputs,
    DisputeRecord,
    OrderRecord,
    OrderStatus,
    PayoutRecord,
    PayoutStatus,
    Priority,
    RefundRecord,
)
from local.sandboxes.bank import Entry
from local.sandboxes.recon_day import StatementFile, bank_line, gateway_charge

TENANT = "t-shop"
DAY = date(2026, 3, 16)
AT = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)
EUR = "EUR"
ACCOUNT = "DE89370400440532013000"
STATEMENT = StatementFile("s3://bank/day.xml", "a" * 64, "camt053", "STMT1", first_line=10)
_positions = itertools.count()


def order(oid: str, status: OrderStatus = "completed", amount: int = 1_000) -> OrderRecord:
    return OrderRecord(TENANT, oid, status, amount, EUR, AT, f"{oid}@example.com")


def charge(
    cid: str,
    order_id: str | None,
    captured: int = 1_000,
    *,
    refunded: int = 0,
    status: ChargeStatus = "succeeded",
    minutes: int = 0,
    currency: str = EUR,
) -> ChargeRecord:
    at = AT + timedelta(minutes=minutes)
    return gateway_charge(cid, order_id, captured, currency, at, refunded=refunded, status=status)


def payout(
    pid: str,
    amount: int,
    days_ago: int = 1,
    *,
    status: PayoutStatus = "paid",
    descriptor: str | None = "STRIPE",
    trace: str | None = None,
) -> PayoutRecord:
    return PayoutRecord(pid, amount, EUR, DAY - timedelta(days=days_ago), status, descriptor, trace)


def txns(payout_id: str, net: int, source: str | None = None) -> list[BalanceTxnRecord]:
    """A payout's transactions netting to ``net``: one charge (gross and fee) and the payout
    itself, which the composition leaves out."""
    fee = 30 + net // 100
    return [
        BalanceTxnRecord(
            f"txn_{payout_id}", payout_id, source, "charge", net + fee, fee, net + fee - fee, EUR
        ),
        BalanceTxnRecord(f"txn_{payout_id}_po", payout_id, payout_id, "payout", -net, 0, -net, EUR),
    ]


def line(
    amount: int,
    days_ago: int = 1,
    *,
    remittance: str = "STRIPE",
    counterparty: str | None = "STRIPE PAYMENTS EUROPE LTD",
    trace: str | None = None,
    end_to_end: str | None = None,
    direction: Direction = "credit",
) -> BankLine:
    entry = Entry(
        amount,
        direction,
        DAY - timedelta(days=days_ago),
        end_to_end_id=end_to_end,
        trace_id=trace,
        counterparty=counterparty,
        remittance=remittance,
    )
    source = STATEMENT.position(next(_positions))
    return bank_line(entry, tenant=TENANT, account=ACCOUNT, currency=EUR, source=source)


def day_of(**parts: object) -> DayInputs:
    return DayInputs(tenant=TENANT, day=DAY, **parts)  # type: ignore[arg-type]


def identity(brk: Break) -> tuple[BreakClass, str]:
    return (brk.break_class, brk.keys[0][1])


def planted_day() -> tuple[DayInputs, set[tuple[BreakClass, str]]]:
    """A day with one of every break class planted among clean records of every kind."""
    orders = [
        # clean
        order("o-paid"),
        order("o-placed-paid", "placed"),
        order("o-returned"),  # partially refunded: a return, not a break
        order("o-split", amount=3_000),  # paid by two charges that add up
        order("o-cancel-ok", "cancelled"),
        order("o-failed-ok", "failed"),
        order("o-awaiting", "placed"),
        order("o-refund-on-way", "cancelled"),
        # planted
        order("o-dup"),
        order("o-failed", "failed"),
        order("o-unpaid"),
        order("o-mismatch"),
        order("o-cancelled", "cancelled"),
        order("o-refunded-active"),
        order("o-shop-refunded", "refunded"),
        order("o-refund-failed", "cancelled"),
    ]
    charges = [
        charge("paid", "o-paid"),
        charge("placed", "o-placed-paid"),
        charge("returned", "o-returned", refunded=400),
        charge("split-a", "o-split", 2_000),
        charge("split-b", "o-split", 1_000, minutes=1),
        charge("cancel-ok", "o-cancel-ok", refunded=1_000),
        charge("declined", "o-failed-ok", status="failed"),
        charge("refund-on-way", "o-refund-on-way"),
        charge("dup-1", "o-dup"),
        charge("dup-2", "o-dup", minutes=2),
        charge("failed", "o-failed"),
        charge("ghost", "o-ghost"),
        charge("orphan", None, 700),
        charge("mismatch", "o-mismatch", 900),
        charge("cancelled", "o-cancelled"),
        charge("refunded-active", "o-refunded-active", refunded=1_000),
        charge("shop-refunded", "o-shop-refunded", refunded=250),
        # Refunded in full, until the card refund failed: it no longer counts as refunded.
        charge("refund-failed", "o-refund-failed"),
    ]
    refunds = [
        RefundRecord(
            "re_1", "pi_refund-on-way", 1_000, EUR, "pending", AT, order_id="o-refund-on-way"
        ),
        RefundRecord(
            "re_failed",
            "pi_refund-failed",
            1_000,
            EUR,
            "failed",
            AT,
            order_id="o-refund-failed",
            status_at=AT + timedelta(days=3),
            failure_reason="expired_or_canceled_card",
        ),
    ]
    disputes = [
        DisputeRecord("dp_case", "ch_paid", 1_000, EUR, "needs_response", True, AT),
        DisputeRecord("dp_nocase", "ch_placed", 1_000, EUR, "needs_response", False, AT),
    ]
    payouts = [
        # clean
        payout("po_trace", 50_000, trace="TRACE0001"),
        payout("po_named", 60_000, days_ago=2),
        payout("po_desc", 70_000, descriptor="STRIPE 4411 ACME"),
        payout("po_amount", 80_000, days_ago=3),
        payout("po_pending", 15_000, days_ago=0, status="pending"),
        payout("po_recent", 5_000, days_ago=0),
        payout("po_failed", 9_000, status="failed"),
        # planted
        payout("po_short", 10_000),
        payout("po_excess", 20_000, days_ago=2),
        payout("po_missing", 40_000, days_ago=5),
        payout("po_fap", 25_000, status="failed_after_paid"),
        payout("po_comp", 45_000, days_ago=4),
    ]
    balance = [
        t
        for p in payouts
        if p.status != "pending"
        for t in txns(p.payout_id, p.amount if p.payout_id != "po_comp" else 44_990, "ch_paid")
    ]
    unknown = line(31_337, 0)
    bank = [
        line(50_000, 0, trace="TRACE0001", remittance="SEPA CREDIT"),
        line(60_000, 2, end_to_end="PO_NAMED"),
        line(70_000, 1, remittance="STRIPE 4411 ACME SETTLEMENT"),
        line(80_000, 2),
        line(9_850, 0),  # po_short less a receiving-bank fee
        line(20_500, 2),  # po_excess
        line(25_000, 1),  # po_fap arrived, then the payout failed
        line(45_000, 4),  # po_comp arrived as paid out
        unknown,
        line(12_345, 1, remittance="INVOICE 2211", counterparty="A CUSTOMER"),  # not gateway money
        line(99_000, 1, remittance="RENT", counterparty="LANDLORD", direction="debit"),
    ]
    inputs = day_of(
        orders=orders,
        charges=charges,
        refunds=refunds,
        disputes=disputes,
        payouts=payouts,
        balance_txns=balance,
        bank_lines=bank,
    )
    planted = {
        (BreakClass.DUPLICATE_PAYMENT, "o-dup"),
        (BreakClass.CHARGED_ORDER_NOT_COMPLETED, "o-failed"),
        (BreakClass.CHARGED_ORDER_NOT_COMPLETED, "o-ghost"),
        (BreakClass.CHARGED_ORDER_NOT_COMPLETED, "ch_orphan"),
        (BreakClass.COMPLETED_NOT_PAID, "o-unpaid"),
        (BreakClass.AMOUNT_MISMATCH, "o-mismatch"),
        (BreakClass.CANCELLED_NOT_REFUNDED, "o-cancelled"),
        (BreakClass.CANCELLED_NOT_REFUNDED, "o-shop-refunded"),
        (BreakClass.CANCELLED_NOT_REFUNDED, "o-refund-failed"),
        (BreakClass.REFUND_FAILED, "re_failed"),
        (BreakClass.REFUNDED_STILL_ACTIVE, "o-refunded-active"),
        (BreakClass.DISPUTE_WITHOUT_CASE, "dp_nocase"),
        (BreakClass.SHORT_PAYMENT, "po_short"),
        (BreakClass.EXCESS_PAYMENT, "po_excess"),
        (BreakClass.MISSING_SETTLEMENT, "po_missing"),
        (BreakClass.UNKNOWN_BANK_CREDIT, unknown.line_id),
        (BreakClass.PAYOUT_FAILED_AFTER_PAID, "po_fap"),
        (BreakClass.PAYOUT_COMPOSITION_MISMATCH, "po_comp"),
    }
    return inputs, planted


@pytest.fixture(scope="module")
def planted() -> tuple[DayInputs, set[tuple[BreakClass, str]], ReconResult]:
    inputs, expected = planted_day()
    return inputs, expected, reconcile(inputs)


def by_class(result: ReconResult, cls: BreakClass) -> list[Break]:
    return [b for b in result.breaks if b.break_class is cls]


# -- the planted day ---------------------------------------------------------------------------


def test_every_planted_break_is_found_and_nothing_else(planted) -> None:  # type: ignore[no-untyped-def]
    _, expected, result = planted
    assert {b.break_class for b in result.breaks} == set(BreakClass)
    assert {identity(b) for b in result.breaks} == expected
    assert len(result.breaks) == len(expected)


def test_breaks_carry_their_class_priority_and_today(planted) -> None:  # type: ignore[no-untyped-def]
    _, _, result = planted
    for brk in result.breaks:
        assert brk.priority is PRIORITY[brk.break_class]
        assert brk.tenant == TENANT and brk.first_seen == DAY and brk.age_days == 0
        assert brk.amount >= 0 and brk.explanation
    ranks = [(b.priority.value, b.break_class.value, b.break_id) for b in result.breaks]
    assert ranks == sorted(ranks)
    assert len({b.break_id for b in result.breaks}) == len(result.breaks)


def test_duplicate_payment_refunds_the_later_charge(planted) -> None:  # type: ignore[no-untyped-def]
    _, _, result = planted
    (dup,) = by_class(result, BreakClass.DUPLICATE_PAYMENT)
    assert dup.priority is Priority.P1
    assert (dup.amount, dup.expected, dup.actual) == (1_000, 1_000, 2_000)
    assert dup.key("order_id") == "o-dup"
    assert ("charge_id", "ch_dup-1") in dup.keys and ("charge_id", "ch_dup-2") in dup.keys
    action = dup.suggested_action
    assert action is not None and action.kind == "refund"
    (refund,) = action.refunds
    assert (refund.charge_id, refund.payment_id, refund.amount) == ("ch_dup-2", "pi_dup-2", 1_000)
    assert dup.break_id in refund.idempotency_key


def test_charged_but_not_completed_refunds_failed_orders_only(planted) -> None:  # type: ignore[no-untyped-def]
    _, _, result = planted
    found = {b.keys[0][1]: b for b in by_class(result, BreakClass.CHARGED_ORDER_NOT_COMPLETED)}
    failed = found["o-failed"].suggested_action
    assert failed is not None and failed.kind == "refund"
    assert [(r.charge_id, r.amount) for r in failed.refunds] == [("ch_failed", 1_000)]
    # An order we never saw may still come: find it before giving money back.
    assert found["o-ghost"].suggested_action is None
    assert "no order o-ghost" in found["o-ghost"].explanation
    assert found["ch_orphan"].amount == 700 and found["ch_orphan"].suggested_action is None


def test_cancelled_but_not_refunded_refunds_what_is_still_held(planted) -> None:  # type: ignore[no-untyped-def]
    _, _, result = planted
    found = {b.key("order_id"): b for b in by_class(result, BreakClass.CANCELLED_NOT_REFUNDED)}
    assert found["o-cancelled"].amount == 1_000
    shop_refunded = found["o-shop-refunded"]
    assert shop_refunded.amount == 750  # 250 of 1,000 went back already
    action = shop_refunded.suggested_action
    assert action is not None and [r.amount for r in action.refunds] == [750]


def test_refunded_but_still_active_asks_to_stop_fulfilment(planted) -> None:  # type: ignore[no-untyped-def]
    _, _, result = planted
    (brk,) = by_class(result, BreakClass.REFUNDED_STILL_ACTIVE)
    assert brk.suggested_action is not None and brk.suggested_action.kind == "cancel_order"


def test_dispute_without_case_asks_for_one(planted) -> None:  # type: ignore[no-untyped-def]
    _, _, result = planted
    (brk,) = by_class(result, BreakClass.DISPUTE_WITHOUT_CASE)
    assert brk.key("charge_id") == "ch_placed"
    assert brk.suggested_action is not None
    assert brk.suggested_action.kind == "open_dispute_case"


def test_settlements_name_how_each_payout_was_matched(planted) -> None:  # type: ignore[no-untyped-def]
    _, _, result = planted
    methods = {s.payout_id: s.method for s in result.settlements}
    assert methods == {
        "po_trace": "id",
        "po_named": "id",
        "po_desc": "id",
        "po_amount": "amount",
        "po_short": "short",
        "po_excess": "excess",
        "po_fap": "amount",
        "po_comp": "amount",
    }
    (short,) = by_class(result, BreakClass.SHORT_PAYMENT)
    assert (short.expected, short.actual, short.amount) == (10_000, 9_850, 150)
    (excess,) = by_class(result, BreakClass.EXCESS_PAYMENT)
    assert (excess.expected, excess.actual, excess.amount) == (20_000, 20_500, 500)
    (fap,) = by_class(result, BreakClass.PAYOUT_FAILED_AFTER_PAID)
    assert "bank shows its credit" in fap.explanation


def test_matches_file_every_record_once(planted) -> None:  # type: ignore[no-untyped-def]
    inputs, _, result = planted
    m = result.matches

    def total(prefix: str) -> tuple[int, int]:
        rows = [t for cat, cur in m.items() if cat.startswith(prefix) for t in cur.values()]
        return sum(t.count for t in rows), sum(t.amount for t in rows)

    assert total("orders.") == (len(inputs.orders), sum(o.amount for o in inputs.orders))
    ok = [c for c in inputs.charges if c.status == "succeeded"]
    assert total("charges.") == (len(ok), sum(c.captured for c in ok))
    credits = [b for b in inputs.bank_lines if b.direction == "credit"]
    assert total("bank.") == (len(credits), sum(b.amount for b in credits))
    assert total("payouts.") == (len(inputs.payouts), sum(p.amount for p in inputs.payouts))
    assert m["orders.awaiting_payment"][EUR].count == 1
    assert m["payouts.awaiting_settlement"][EUR].count == 1  # po_recent, within grace
    assert m["payouts.pending"][EUR].count == 1
    assert m["bank.not_settlement"][EUR].amount == 12_345
    assert m["charges.matched"][EUR].count == 6  # paid, placed, returned, split x2, dup-1 (kept)


def test_totals_per_currency(planted) -> None:  # type: ignore[no-untyped-def]
    inputs, expected, result = planted
    eur = result.totals[EUR]
    assert eur["orders"].amount == sum(o.amount for o in inputs.orders)
    assert sum(eur[f"breaks_{p.value}"].count for p in Priority if f"breaks_{p.value}" in eur) == (
        len(expected)
    )


# -- ids -----------------------------------------------------------------------------------------


def test_ids_are_stable_across_runs_and_input_order() -> None:
    inputs, _ = planted_day()
    first = {identity(b): b.break_id for b in reconcile(inputs).breaks}
    shuffled = replace(
        inputs,
        orders=list(reversed(inputs.orders)),
        charges=list(reversed(inputs.charges)),
        payouts=list(reversed(inputs.payouts)),
        balance_txns=list(reversed(inputs.balance_txns)),
        bank_lines=list(reversed(inputs.bank_lines)),
    )
    again = {identity(b): b.break_id for b in reconcile(shuffled).breaks}
    assert again == first


def test_the_same_problem_keeps_its_id_when_its_amount_moves() -> None:
    inputs, _ = planted_day()
    before = {identity(b): b for b in reconcile(inputs).breaks}
    # Next day: the shop's refund returned part of what was held for the cancelled order.
    moved = replace(
        inputs,
        day=DAY + timedelta(days=1),
        charges=[
            replace(c, refunded=600) if c.charge_id == "ch_cancelled" else c for c in inputs.charges
        ],
    )
    after = {identity(b): b for b in reconcile(moved).breaks}
    key = (BreakClass.CANCELLED_NOT_REFUNDED, "o-cancelled")
    assert after[key].break_id == before[key].break_id
    assert (before[key].amount, after[key].amount) == (1_000, 400)
    (refund,) = after[key].suggested_action.refunds  # type: ignore[union-attr]
    assert refund.amount == 400
    (old,) = before[key].suggested_action.refunds  # type: ignore[union-attr]
    assert refund.idempotency_key != old.idempotency_key


def test_ids_differ_between_tenants() -> None:
    inputs, _ = planted_day()
    other = replace(
        inputs,
        tenant="t-other",
        orders=[replace(o, tenant="t-other") for o in inputs.orders],
        bank_lines=[replace(b, tenant="t-other") for b in inputs.bank_lines],
    )
    mine = {b.break_id for b in reconcile(inputs).breaks}
    theirs = {b.break_id for b in reconcile(other).breaks}
    assert not mine & theirs


# -- carry forward -------------------------------------------------------------------------------


def test_carry_forward_ages_opens_and_closes() -> None:
    inputs, _ = planted_day()
    monday = reconcile(inputs).breaks
    carried = carry_forward([], monday, DAY)
    assert carried.opened == monday and not carried.still_open and not carried.closed

    # Tuesday: the duplicate was refunded; everything else is still there, a new problem too.
    tuesday_inputs = replace(
        inputs,
        day=DAY + timedelta(days=1),
        charges=[
            replace(c, refunded=1_000) if c.charge_id == "ch_dup-2" else c for c in inputs.charges
        ],
        orders=[*inputs.orders, order("o-new-unpaid")],
    )
    tuesday = reconcile(tuesday_inputs).breaks
    later = carry_forward(monday, tuesday, DAY + timedelta(days=2))
    assert [identity(b) for b in later.closed] == [(BreakClass.DUPLICATE_PAYMENT, "o-dup")]
    assert [identity(b) for b in later.opened] == [(BreakClass.COMPLETED_NOT_PAID, "o-new-unpaid")]
    assert len(later.still_open) == len(monday) - 1
    assert all(b.first_seen == DAY and b.age_days == 2 for b in later.still_open)
    assert later.opened[0].first_seen == DAY + timedelta(days=1)
    assert later.opened[0].age_days == 1


def test_carry_forward_keeps_todays_amounts_and_the_earliest_first_seen() -> None:
    inputs, _ = planted_day()
    (brk,) = [b for b in reconcile(inputs).breaks if b.break_class is BreakClass.AMOUNT_MISMATCH]
    earlier = replace(brk, first_seen=DAY - timedelta(days=5), amount=7)
    result = carry_forward([earlier], [brk, brk], DAY + timedelta(days=1))
    (kept,) = result.still_open
    assert kept.amount == brk.amount and kept.first_seen == DAY - timedelta(days=5)
    assert kept.age_days == 6


# -- orders ↔ payments, one rule at a time ------------------------------------------------------


def classes(result: ReconResult) -> list[BreakClass]:
    return sorted(b.break_class for b in result.breaks)


def test_split_payment_that_adds_up_is_not_a_duplicate() -> None:
    result = reconcile(
        day_of(
            orders=[order("o", amount=1_500)],
            charges=[charge("a", "o", 1_000), charge("b", "o", 500)],
        )
    )
    assert result.breaks == []
    assert result.matches["charges.matched"][EUR].count == 2


def test_two_payments_that_fall_short_are_an_amount_mismatch() -> None:
    result = reconcile(
        day_of(orders=[order("o", amount=2_000)], charges=[charge("a", "o"), charge("b", "o", 500)])
    )
    (brk,) = result.breaks
    assert brk.break_class is BreakClass.AMOUNT_MISMATCH
    assert (brk.expected, brk.actual, brk.amount) == (2_000, 1_500, 500)


def test_duplicate_keeps_the_charge_that_pays_the_order_exactly() -> None:
    result = reconcile(
        day_of(
            orders=[order("o", amount=1_000)],
            charges=[charge("early", "o", 999), charge("exact", "o", 1_000, minutes=5)],
        )
    )
    (brk,) = result.breaks
    assert brk.break_class is BreakClass.DUPLICATE_PAYMENT
    assert [r.charge_id for r in brk.suggested_action.refunds] == ["ch_early"]  # type: ignore[union-attr]


def test_a_refunded_duplicate_is_resolved() -> None:
    result = reconcile(
        day_of(
            orders=[order("o")],
            charges=[charge("a", "o"), charge("b", "o", refunded=1_000, minutes=1)],
        )
    )
    assert result.breaks == []
    assert result.matches["charges.refunded"][EUR].count == 1


def test_a_refund_on_its_way_is_never_suggested_twice() -> None:
    result = reconcile(
        day_of(
            orders=[order("o", "cancelled")],
            charges=[charge("a", "o")],
            refunds=[
                RefundRecord("re_1", "pi_a", 600, EUR, "pending", AT),
                RefundRecord("re_0", "pi_a", 999, EUR, "failed", AT),
            ],
        )
    )
    (brk,) = by_class(result, BreakClass.CANCELLED_NOT_REFUNDED)
    assert [r.amount for r in brk.suggested_action.refunds] == [400]  # type: ignore[union-attr]
    # The failed one's 999 is held again, less the 600 on its way after it.
    (failed,) = by_class(result, BreakClass.REFUND_FAILED)
    assert failed.amount == 399


def test_a_refund_failed_after_it_succeeded_shows_the_money_held_again(planted) -> None:  # type: ignore[no-untyped-def]
    _, _, result = planted
    (brk,) = by_class(result, BreakClass.REFUND_FAILED)
    assert (brk.amount, brk.currency, brk.priority) == (1_000, EUR, "P1")
    assert brk.key("order_id") == "o-refund-failed" and brk.key("payment_id") == "pi_refund-failed"
    assert "expired_or_canceled_card" in brk.explanation and "2026-03-19" in brk.explanation
    assert brk.suggested_action is not None
    assert brk.suggested_action.kind == "pay_back_customer"
    # The cancelled order is again "cancelled, not refunded", with the refund to make.
    (cancelled,) = [
        b
        for b in by_class(result, BreakClass.CANCELLED_NOT_REFUNDED)
        if b.key("order_id") == "o-refund-failed"
    ]
    assert cancelled.amount == 1_000


def test_a_failed_refund_paid_back_by_a_later_refund_is_no_break() -> None:
    failed = RefundRecord("re_0", "pi_a", 1_000, EUR, "failed", AT, order_id="o")
    again = RefundRecord("re_1", "pi_a", 1_000, EUR, "succeeded", AT + timedelta(days=4))
    inputs = day_of(
        orders=[order("o", "cancelled")],
        charges=[charge("a", "o", refunded=1_000)],
        refunds=[again, failed],
    )
    assert reconcile(inputs).breaks == []
    # Made before the failure, the other refund pays nothing back of it.
    earlier = replace(again, created_at=AT - timedelta(days=1), amount=400)
    partly = day_of(
        orders=[order("o")], charges=[charge("a", "o", refunded=400)], refunds=[failed, earlier]
    )
    (brk,) = by_class(reconcile(partly), BreakClass.REFUND_FAILED)
    assert brk.amount == 600  # all the payment still holds


def test_a_refund_on_its_way_found_by_payment_when_it_names_no_order() -> None:
    inputs, _ = planted_day()
    anonymous = replace(inputs, refunds=[replace(r, order_id=None) for r in inputs.refunds])
    assert reconcile(anonymous) == reconcile(inputs)


def test_amount_tolerance() -> None:
    inputs = day_of(orders=[order("o")], charges=[charge("a", "o", 998)])
    assert classes(reconcile(inputs)) == [BreakClass.AMOUNT_MISMATCH]
    assert reconcile(inputs, config=ReconConfig(amount_tolerance=2)).breaks == []


def test_paid_in_another_currency_is_an_amount_mismatch() -> None:
    result = reconcile(day_of(orders=[order("o")], charges=[charge("a", "o", currency="USD")]))
    (brk,) = result.breaks
    assert brk.break_class is BreakClass.AMOUNT_MISMATCH and "USD" in brk.explanation


def test_placed_order_without_payment_is_awaiting_not_a_break() -> None:
    result = reconcile(day_of(orders=[order("o", "placed")]))
    assert result.breaks == []
    assert result.matches["orders.awaiting_payment"][EUR].count == 1


def test_failed_and_pending_charges_move_no_money() -> None:
    result = reconcile(
        day_of(
            orders=[order("o", "failed")],
            charges=[charge("a", "o", status="failed"), charge("b", "o", status="pending")],
        )
    )
    assert result.breaks == []
    assert result.matches["charges_not_succeeded"][EUR].count == 2


def test_orders_of_another_tenant_are_refused() -> None:
    with pytest.raises(ValueError, match="other tenants"):
        reconcile(day_of(orders=[replace(order("o"), tenant="t-other")]))


def test_an_empty_day_is_clean() -> None:
    result = reconcile(day_of())
    assert result.breaks == [] and result.matches == {} and result.payouts == []


# -- payouts ↔ bank, one rule at a time ----------------------------------------------------------


def settle_day(payouts: list[PayoutRecord], bank: list[BankLine], **config: object) -> ReconResult:
    balance = [t for p in payouts for t in txns(p.payout_id, p.amount)]
    inputs = day_of(payouts=payouts, balance_txns=balance, bank_lines=bank)
    return reconcile(inputs, config=ReconConfig(**config))  # type: ignore[arg-type]


def test_amount_match_takes_the_nearest_date_one_to_one() -> None:
    bank = [line(10_000, 0), line(10_000, 3)]
    result = settle_day([payout("po_a", 10_000, 3), payout("po_b", 10_000, 0)], bank)
    assert result.breaks == []
    pairs = {(s.payout_id, s.booking_date) for s in result.settlements}
    assert pairs == {("po_a", DAY - timedelta(days=3)), ("po_b", DAY)}


def test_a_credit_outside_the_window_does_not_match() -> None:
    result = settle_day([payout("po_a", 10_000, 5)], [line(10_000, 1)], date_window_days=3)
    assert classes(result) == [BreakClass.MISSING_SETTLEMENT, BreakClass.UNKNOWN_BANK_CREDIT]
    wide = settle_day([payout("po_a", 10_000, 5)], [line(10_000, 1)], date_window_days=4)
    assert wide.breaks == []


def test_missing_settlement_only_after_the_grace_days() -> None:
    assert settle_day([payout("po_a", 10_000, 2)], [], grace_days=2).breaks == []
    late = settle_day([payout("po_a", 10_000, 3)], [], grace_days=2)
    (brk,) = late.breaks
    assert brk.break_class is BreakClass.MISSING_SETTLEMENT and brk.priority is Priority.P1
    assert brk.suggested_action is not None and brk.suggested_action.kind == "chase_settlement"


def test_a_generic_descriptor_names_no_payout() -> None:
    # "STRIPE" on both payouts and on the credit: matched by amount, not by the word.
    result = settle_day(
        [payout("po_a", 10_000, descriptor="STRIPE"), payout("po_b", 20_000)],
        [line(20_000, 1, remittance="STRIPE")],
    )
    assert {s.payout_id: s.method for s in result.settlements} == {"po_b": "amount"}


def test_an_id_match_wins_over_an_amount_match() -> None:
    bank = [line(10_000, 1, remittance="STRIPE PO_B"), line(10_000, 1, remittance="STRIPE")]
    result = settle_day([payout("po_a", 10_000), payout("po_b", 10_000)], bank)
    methods = {s.payout_id: s.method for s in result.settlements}
    assert methods == {"po_a": "amount", "po_b": "id"}
    assert result.breaks == []


def test_an_id_match_with_another_amount_is_short_or_excess_whatever_the_gap() -> None:
    result = settle_day([payout("po_a", 10_000, trace="T1")], [line(1_000, 1, trace="T1")])
    (brk,) = result.breaks
    assert brk.break_class is BreakClass.SHORT_PAYMENT and brk.amount == 9_000


def test_leftovers_too_far_apart_in_amount_are_not_paired() -> None:
    result = settle_day([payout("po_a", 10_000, 3)], [line(30_000, 1)])
    assert classes(result) == [BreakClass.MISSING_SETTLEMENT, BreakClass.UNKNOWN_BANK_CREDIT]
    paired = settle_day([payout("po_a", 10_000, 3)], [line(14_000, 1)])
    assert classes(paired) == [BreakClass.EXCESS_PAYMENT]


def test_leftovers_pair_by_closest_amount_then_date() -> None:
    # Date alone would pair po_a with the 19,800 (same day) and po_b with the 10,100.
    result = settle_day(
        [payout("po_a", 10_000, 1), payout("po_b", 20_000, 2)],
        [line(19_800, 1), line(10_100, 2)],
    )
    found = {(b.break_class, b.key("payout_id"), b.amount) for b in result.breaks}
    assert found == {
        (BreakClass.EXCESS_PAYMENT, "po_a", 100),
        (BreakClass.SHORT_PAYMENT, "po_b", 200),
    }


def test_only_settlement_looking_credits_can_be_unknown() -> None:
    bank = [
        line(5_000, 1, remittance="INVOICE 7", counterparty="A CUSTOMER"),
        line(6_000, 1, remittance="SEPA", counterparty="BANK", trace="ACH0001"),  # a trace id
        line(7_000, 1, remittance="stripe transfer", counterparty=None),  # any case
        line(8_000, 1, direction="debit"),
    ]
    result = settle_day([], bank)
    assert sorted(b.amount for b in result.breaks) == [6_000, 7_000]
    custom = settle_day([], bank, settlement_patterns=("ADYEN",))
    assert [b.amount for b in custom.breaks] == [6_000]


def test_the_same_statement_twice_is_one_credit() -> None:
    credit = line(10_000, 1)
    result = settle_day([payout("po_a", 10_000)], [credit, replace(credit)])
    assert result.breaks == []
    assert result.matches["bank.matched_by_amount"][EUR].count == 1


def test_a_line_naming_two_payouts_names_neither() -> None:
    result = settle_day(
        [payout("po_a", 10_000), payout("po_b", 20_000)],
        [line(10_000, 1, remittance="STRIPE PO_A PO_B")],
    )
    assert {s.payout_id: s.method for s in result.settlements} == {"po_a": "amount"}


def test_failed_after_paid_without_a_credit() -> None:
    result = settle_day([payout("po_a", 10_000, 5, status="failed_after_paid")], [])
    (brk,) = result.breaks
    assert brk.break_class is BreakClass.PAYOUT_FAILED_AFTER_PAID
    assert "no bank credit" in brk.explanation and brk.actual == 0


def test_a_failed_payout_is_not_expected_in_the_bank() -> None:
    result = settle_day([payout("po_a", 10_000, 5, status="failed")], [])
    assert result.breaks == []
    assert result.matches["payouts.not_expected"][EUR].count == 1


def test_bank_lines_of_another_tenant_are_refused() -> None:
    with pytest.raises(ValueError, match="tenant"):
        settle_day([], [replace(line(1, 1), tenant="t-other")])


# -- payout composition ------------------------------------------------------------------------


def test_a_paid_payout_without_transactions_is_a_composition_break() -> None:
    inputs = day_of(payouts=[payout("po_a", 10_000, 0)])
    (brk,) = reconcile(inputs).breaks
    assert brk.break_class is BreakClass.PAYOUT_COMPOSITION_MISMATCH
    assert "no balance transactions" in brk.explanation


def test_a_pending_payout_is_not_checked_for_composition() -> None:
    inputs = day_of(payouts=[payout("po_a", 10_000, 0, status="pending")])
    assert reconcile(inputs).breaks == []


def test_the_explanation_names_settled_charges_we_do_not_know() -> None:
    inputs = day_of(
        charges=[charge("known", None)],
        payouts=[payout("po_a", 2_000, 0)],
        balance_txns=[
            BalanceTxnRecord("t1", "po_a", "ch_known", "charge", 1_000, 0, 1_000, EUR),
            BalanceTxnRecord("t2", "po_a", "ch_stranger", "charge", 1_000, 0, 1_000, EUR),
        ],
    )
    (explanation,) = reconcile(inputs).payouts
    assert explanation.unknown_charge_ids == ("ch_stranger",)
    assert "ch_stranger" in explanation.text()


def test_a_payment_in_another_currency_is_never_added_to_the_order() -> None:
    result = reconcile(
        day_of(orders=[order("o")], charges=[charge("a", "o"), charge("b", "o", currency="USD")])
    )
    (brk,) = result.breaks  # not a duplicate: 1,000 EUR and 1,000 USD are not 2,000 of anything
    assert brk.break_class is BreakClass.AMOUNT_MISMATCH and "EUR, USD" in brk.explanation


def test_money_held_in_two_currencies_is_told_in_one() -> None:
    result = reconcile(
        day_of(
            orders=[order("o", "cancelled")],
            charges=[charge("a", "o", 700, currency="USD"), charge("b", "o", 300)],
        )
    )
    (brk,) = result.breaks
    assert (brk.currency, brk.amount) == (EUR, 300)
    refunds = brk.suggested_action.refunds  # type: ignore[union-attr]
    assert sorted((r.currency, r.amount) for r in refunds) == [(EUR, 300), ("USD", 700)]


def test_transactions_of_a_payout_not_in_the_day_are_counted_apart() -> None:
    inputs = day_of(balance_txns=txns("po_elsewhere", 5_000))
    result = reconcile(inputs)
    assert result.breaks == [] and result.payouts == []
    assert result.matches["balance_txns.unknown_payout"][EUR] == Tally(1, 5_000)
