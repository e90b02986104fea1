"""Properties of the vendor ledger on generated marketplaces (the issue's acceptance list):
every entry balances; per tenant and currency the ledger sums to zero; a vendor is never paid
before a release; paid + held + reversed = sold (+ credited); any order of the same facts, with
any duplicates, gives the same balances."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from functions.payouts.domain.ledger import PLATFORM, Account, Book, Entry, EntryKind, Ledger
from functions.payouts.domain.postings import (
    Context,
    FeeBearer,
    OrderLine,
    Rate,
    SaleLine,
    allocate,
    carrier_claim,
    chargeback_lost,
    chargeback_opened,
    chargeback_won,
    refund_by_amount,
    refund_by_lines,
    refund_cash,
    release,
    sale,
    void,
)
from functions.payouts.domain.settlement import decide

TENANT = "t-prop"
AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
VENDORS = ("v1", "v2", "v3")
REVERSALS = {EntryKind.REFUND, EntryKind.RETURN, EntryKind.VOID, EntryKind.CHARGEBACK_LOST}
CREDITS = {EntryKind.CARRIER_CLAIM}

Fact = list[Entry | None]


@dataclass
class Order:
    ctx: Context
    lines: list[SaleLine]


@st.composite
def orders(draw: st.DrawFn, index: int) -> Order:
    currency = draw(st.sampled_from(("EUR", "USD", "JPY")))
    raw = [
        OrderLine(
            f"l{i}",
            draw(st.sampled_from((*VENDORS, None))),
            draw(st.integers(1, 3)),
            draw(st.integers(0, 5_000)),
            sku=f"sku{i}",
        )
        for i in range(draw(st.integers(1, 4)))
    ]
    gross = sum(line.quantity * line.unit_price for line in raw)
    lines = allocate(
        raw,
        discount=draw(st.integers(0, gross)),
        shipping=draw(st.integers(0, 1_000)),
        tax=draw(st.integers(0, 1_000)),
        gateway_fee=draw(st.integers(0, 300)),
        rates={
            line.line_id: Rate(draw(st.integers(0, 10_000)), draw(st.integers(0, 200)))
            for line in raw
        },
        fees_borne_by=draw(st.sampled_from(FeeBearer)),
    )
    return Order(Context(TENANT, currency, f"o{index}"), lines)


@st.composite
def marketplaces(draw: st.DrawFn) -> list[Fact]:
    """The entries of the facts of a few orders (only facts that can happen together), one
    list per fact."""
    facts: list[Fact] = []
    for index in range(draw(st.integers(1, 6))):
        order = draw(orders(index))
        ctx, lines = order.ctx, order.lines
        charged = sum(line.charged for line in lines)
        facts.extend([sale(ctx, f"paid-{ctx.order_id}", line, AT)] for line in lines)
        if draw(st.booleans()) and draw(st.booleans()):  # cancelled before release
            facts.extend([void(ctx, "cancel", line, AT)] for line in lines)
            facts.append([refund_cash(ctx, "cx-refund", charged, AT)])
            continue
        reserve = draw(st.sampled_from((0, 0, 1_000, 5_000)))
        facts.extend(
            [release(ctx, "rel", line, AT, reserve)] for line in lines if draw(st.booleans())
        )
        left = charged
        if draw(st.booleans()):
            amount = draw(st.integers(0, left))
            left -= amount
            facts.append(list(refund_by_amount(ctx, "re1", lines, amount, AT)))
        returned = [ln for ln in lines if draw(st.booleans())]
        if returned and sum(ln.charged for ln in returned) <= left:
            left -= sum(ln.charged for ln in returned)
            amounts = [(ln, ln.charged) for ln in returned]
            facts.append(list(refund_by_lines(ctx, EntryKind.RETURN, "ret1", amounts, AT)))
        if draw(st.booleans()):
            amount = draw(st.integers(0, left))
            facts.append([chargeback_opened(ctx, "dp", amount, AT)])
            if draw(st.booleans()):
                bear = draw(st.booleans())
                facts.append(list(chargeback_lost(ctx, "dp", lines, amount, AT, vendors_bear=bear)))
            else:
                facts.append([chargeback_won(ctx, "dp", amount, AT)])
        if draw(st.booleans()):
            amount = draw(st.integers(0, 2_000))
            facts.append(list(carrier_claim(ctx, "cl", lines, amount, AT)))
    return facts


def _replay(facts: list[Fact]) -> Ledger:
    ledger = Ledger(TENANT)
    for fact in facts:
        ledger.post_all(fact)
    return ledger


@settings(max_examples=80, deadline=None)
@given(marketplaces(), st.randoms(use_true_random=False))
def test_any_order_and_any_duplicates_give_the_same_balances(
    facts: list[Fact], rnd: random.Random
) -> None:
    reference = _replay(facts)
    shuffled = facts + rnd.choices(facts, k=len(facts))
    rnd.shuffle(shuffled)
    again = _replay(shuffled)
    assert again.balances() == reference.balances()
    assert sorted(e.key for e in again.entries) == sorted(e.key for e in reference.entries)


@settings(max_examples=80, deadline=None)
@given(marketplaces())
def test_every_entry_balances_and_the_ledger_sums_to_zero_per_currency(
    facts: list[Fact],
) -> None:
    ledger = _replay(facts)
    for item in ledger.entries:
        assert sum(p.amount for p in item.postings) == 0
        assert all(p.amount for p in item.postings)
    for currency in ledger.currencies():
        assert ledger.total(currency) == 0


@settings(max_examples=80, deadline=None)
@given(marketplaces(), st.randoms(use_true_random=False), st.integers(0, 3_000))
def test_never_paid_before_release_and_paid_plus_held_plus_reversed_is_sold(
    facts: list[Fact], rnd: random.Random, minimum: int
) -> None:
    """Facts in any order with cycles run between them: no vendor is ever paid more than what
    was released to it (plus carrier credits); at the end, per vendor and currency, what was paid
    plus what is held plus what was reversed equals what was sold plus what was credited."""
    facts = list(facts)
    rnd.shuffle(facts)
    ledger = Ledger(TENANT)
    for step, fact in enumerate(facts):
        ledger.post_all(fact)
        if rnd.random() < 0.4:
            for currency in sorted(ledger.currencies()):
                for vendor in list(ledger.vendors(currency)):
                    ledger.post(
                        decide(ledger, f"c{step}", vendor, currency, AT, minimum=minimum).entry
                    )
        _never_paid_before_release(ledger)
    sold: dict[tuple[str, str], int] = defaultdict(int)
    credited: dict[tuple[str, str], int] = defaultdict(int)
    reversed_: dict[tuple[str, str], int] = defaultdict(int)
    for item in ledger.entries:
        for p in item.postings:
            if p.account.holder == PLATFORM:
                continue
            key = (item.currency, p.account.holder)
            if item.kind is EntryKind.SALE:
                sold[key] += p.amount
            elif item.kind in CREDITS:
                credited[key] += p.amount
            elif item.kind in REVERSALS:
                reversed_[key] -= p.amount
    for key in {*sold, *credited, *reversed_}:
        currency, vendor = key
        paid = ledger.balance(currency, _account(vendor, Book.PAID))
        held = sum(
            ledger.balance(currency, _account(vendor, book))
            for book in (Book.PENDING, Book.AVAILABLE, Book.RESERVED, Book.NEGATIVE_CARRIED)
        )
        assert paid + held + reversed_[key] == sold[key] + credited[key]


def _account(vendor: str, book: Book) -> Account:
    return Account.vendor(vendor, book)


def _never_paid_before_release(ledger: Ledger) -> None:
    """Every payout is backed by money released (or credited) to the vendor: what was paid
    never exceeds what releases and credits ever put into ``available``. (A line can net
    below zero — a free item whose fee share its vendor bears — so each counts at most what
    it added.)"""
    released: dict[tuple[str, str], int] = defaultdict(int)
    for item in ledger.entries:
        if item.kind in (EntryKind.RELEASE, *CREDITS):
            for p in item.postings:
                if p.account.holder != PLATFORM and p.account.book is Book.AVAILABLE:
                    released[(item.currency, p.account.holder)] += max(0, p.amount)
    for currency in ledger.currencies():
        for vendor in ledger.vendors(currency):
            paid = ledger.balance(currency, _account(vendor, Book.PAID))
            assert paid <= released[(currency, vendor)]
