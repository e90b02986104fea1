"""The vendor ledger's domain: allocation by largest remainder, what each fact posts, cycles."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.payouts.domain.allocation import split
from functions.payouts.domain.ledger import (
    PLATFORM,
    Account,
    Book,
    Entry,
    EntryKind,
    Ledger,
    Posting,
    UnbalancedEntry,
    idempotency_key,
)
from functions.payouts.domain.postings import (
    Context,
    FeeBearer,
    OrderLine,
    Rate,
    Refused,
    adjustment,
    allocate,
    carrier_claim,
    chargeback_lost,
    chargeback_opened,
    chargeback_won,
    commission,
    refund_by_amount,
    refund_by_lines,
    refund_cash,
    release,
    sale,
    sold_line,
    suspense_assigned,
    void,
)
from functions.payouts.domain.settlement import Outcome, decide, payout_failed

AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
CTX = Context("t1", "EUR", "o-1")
V = Account.vendor


def _order(fees: FeeBearer = FeeBearer.PLATFORM) -> list:  # type: ignore[type-arg]
    lines = [
        OrderLine("l1", "v-a", 1, 1000, sku="A"),
        OrderLine("l2", "v-b", 2, 1000, sku="B"),
        OrderLine("l3", None, 1, 1000, sku="C"),
    ]
    return allocate(
        lines,
        discount=100,
        shipping=500,
        tax=301,
        gateway_fee=89,
        rates={"l1": Rate(1000), "l2": Rate(1250, 10)},
        fees_borne_by=fees,
    )


# -- allocation ----------------------------------------------------------------------------------


def test_largest_remainder_gives_the_leftover_units_to_the_largest_remainders_then_the_first() -> (
    None
):
    assert split(100, [1, 1, 1]) == [34, 33, 33]
    assert split(10, [3, 3, 4]) == [3, 3, 4]
    assert split(7, [2, 5]) == [2, 5]
    assert split(1, [1, 2]) == [0, 1]
    assert split(-100, [1, 1, 1]) == [-34, -33, -33]
    assert split(5, [0, 0]) == [3, 2]


@settings(deadline=None)
@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30),
)
def test_shares_always_add_up_and_stay_within_one_unit_of_exact(
    amount: int, weights: list[int]
) -> None:
    shares = split(amount, weights)
    assert sum(shares) == amount
    total = sum(weights) or len(weights)
    for share, weight in zip(shares, weights or [], strict=True):
        exact = abs(amount) * (weight if sum(weights) else 1) / total
        assert abs(abs(share) - exact) < 1


def test_split_refuses_negative_weights_and_nothing_to_split_over() -> None:
    with pytest.raises(ValueError):
        split(10, [1, -1])
    with pytest.raises(ValueError):
        split(10, [])
    assert split(0, []) == []


def test_sale_allocation_is_exact_per_line_and_adds_up_to_the_order() -> None:
    lines = _order()
    assert [line.gross for line in lines] == [1000, 2000, 1000]
    assert [line.discount for line in lines] == [25, 50, 25]
    assert sum(line.shipping for line in lines) == 500
    assert [line.shipping for line in lines] == [125, 250, 125]
    assert sum(line.tax for line in lines) == 301
    assert [line.tax for line in lines] == [75, 151, 75]
    assert sum(line.fee for line in lines) == 89
    # 10 % of 975 = 97.5 → 98 (half up); 12.5 % of 1950 = 243.75 → 244, + 10 fixed
    assert [line.commission for line in lines] == [98, 254, 0]
    assert sum(line.charged for line in lines) == 4000 - 100 + 500 + 301


def test_commission_never_exceeds_the_goods() -> None:
    assert commission(100, Rate(10_000, 50)) == 100
    assert commission(0, Rate(1000, 50)) == 0
    assert commission(1000, Rate(0, 30)) == 30


def test_the_vendor_bears_its_fee_share_only_when_the_tenant_says_so() -> None:
    platform = _order(FeeBearer.PLATFORM)
    vendor = _order(FeeBearer.VENDOR)
    assert [line.vendor_fee for line in platform] == [0, 0, 0]
    assert [line.vendor_fee for line in vendor[:2]] == [line.fee for line in vendor[:2]]
    assert vendor[2].vendor_fee == 0  # an unknown vendor bears nothing: the platform does
    assert vendor[0].vendor_net == platform[0].vendor_net - vendor[0].fee


# -- entries -------------------------------------------------------------------------------------


def test_an_entry_that_does_not_balance_is_refused() -> None:
    with pytest.raises(UnbalancedEntry):
        Entry("t1", "EUR", EntryKind.SALE, "e", "l", AT, (Posting(V("v", Book.PENDING), 5),))
    with pytest.raises(UnbalancedEntry):
        Entry("t1", "EUR", EntryKind.SALE, "e", "l", AT, ())


def test_accounts_belong_to_who_holds_them() -> None:
    with pytest.raises(ValueError):
        Account(PLATFORM, Book.PENDING)
    with pytest.raises(ValueError):
        Account("v-a", Book.COMMISSION)
    with pytest.raises(ValueError):
        V(PLATFORM, Book.PAID)


def test_the_idempotency_key_is_the_whole_identity_hashed() -> None:
    key = idempotency_key("t1", "EUR", "o1", "evt", "l1", "sale")
    assert len(key) == 64
    assert key != idempotency_key("t1", "EUR", "o1", "evt", "l1", "release")
    assert key != idempotency_key("t1", "USD", "o1", "evt", "l1", "sale")
    assert key != idempotency_key("t1", "EUR", "o2", "evt", "l1", "sale")
    # no separator games: "a|b" + "c" is not "a" + "b|c"
    assert idempotency_key("t", "EUR", "o", "a|b", "c", "k") != idempotency_key(
        "t", "EUR", "o", "a", "b|c", "k"
    )


def test_a_sale_posts_the_vendor_net_commission_and_fees_against_receipts() -> None:
    lines = _order()
    posted = sale(CTX, "evt-paid", lines[0], AT)
    assert posted is not None
    assert posted.amount_for(V("v-a", Book.PENDING)) == lines[0].vendor_net
    assert posted.amount_for(Account.platform(Book.COMMISSION)) == 98
    assert posted.amount_for(Account.platform(Book.FEES_BORNE)) == -lines[0].fee
    assert posted.amount_for(Account.platform(Book.RECEIPTS)) == -(lines[0].charged - lines[0].fee)


def test_an_unknown_vendors_line_goes_to_suspense_until_an_operator_names_it() -> None:
    lines = _order()
    ledger = Ledger("t1")
    ledger.post(sale(CTX, "evt-paid", lines[2], AT))
    assert ledger.balance("EUR", Account.platform(Book.SUSPENSE)) == lines[2].vendor_net
    assert release(CTX, "rel", lines[2], AT) is None
    ledger.post(suspense_assigned(CTX, "assign-1", lines[2], "v-c", AT, actor="ops@x"))
    assert ledger.balance("EUR", Account.platform(Book.SUSPENSE)) == 0
    assert ledger.balance("EUR", V("v-c", Book.PENDING)) == lines[2].vendor_net
    with pytest.raises(Refused):
        suspense_assigned(CTX, "assign-2", lines[2], "v-c", AT, actor=" ")


def test_release_moves_the_net_to_available_less_the_reserve() -> None:
    line = _order()[1]
    ledger = Ledger("t1")
    ledger.post(sale(CTX, "evt-paid", line, AT))
    ledger.post(release(CTX, "rel", line, AT, reserve_basis_points=1000))
    reserve = line.vendor_net // 10
    assert ledger.balance("EUR", V("v-b", Book.PENDING)) == 0
    assert ledger.balance("EUR", V("v-b", Book.RESERVED)) == reserve
    assert ledger.balance("EUR", V("v-b", Book.AVAILABLE)) == line.vendor_net - reserve


def test_a_cancelled_orders_void_and_refund_leave_the_platform_with_only_the_gateway_fee() -> None:
    lines = _order(FeeBearer.VENDOR)
    ledger = Ledger("t1")
    for line in lines:
        ledger.post(sale(CTX, "evt-paid", line, AT))
        ledger.post(void(CTX, "cancel", line, AT))
    charged = sum(line.charged for line in lines)
    ledger.post(refund_cash(CTX, "cancel-refund", charged, AT))
    balances = ledger.balances()
    assert balances == {
        ("EUR", Account.platform(Book.RECEIPTS)): 89,
        ("EUR", Account.platform(Book.FEES_BORNE)): -89,
    }


def test_a_refund_by_amount_is_split_over_the_lines_pro_rata_exactly() -> None:
    lines = _order()
    made = refund_by_amount(CTX, "re-1", lines, 1000, AT)
    assert sum(e.amount_for(Account.platform(Book.RECEIPTS)) for e in made) == 1000
    per_line = [e.amount_for(Account.platform(Book.RECEIPTS)) for e in made]
    charged = [line.charged for line in lines]
    assert per_line == split(1000, charged)
    assert all(e.refs["refund"] == "re-1" for e in made)


def test_a_refund_by_lines_takes_from_the_vendors_available_and_the_commission() -> None:
    line = _order()[0]
    (made,) = refund_by_lines(CTX, EntryKind.RETURN, "ret-1", [(line, line.charged)], AT)
    assert made.amount_for(V("v-a", Book.AVAILABLE)) == -line.vendor_net
    assert made.amount_for(Account.platform(Book.COMMISSION)) == -line.commission


def test_chargebacks_lost_by_the_vendor_and_won_back() -> None:
    lines = _order()[:2]
    ledger = Ledger("t1")
    ledger.post(chargeback_opened(CTX, "dp-1", 3000, AT))
    assert ledger.balance("EUR", Account.platform(Book.CHARGEBACK_LOSSES)) == -3000
    ledger.post_all(chargeback_lost(CTX, "dp-1", lines, 3000, AT, vendors_bear=True))
    assert ledger.balance("EUR", Account.platform(Book.CHARGEBACK_LOSSES)) == 0
    assert (
        ledger.balance("EUR", V("v-a", Book.AVAILABLE))
        + ledger.balance("EUR", V("v-b", Book.AVAILABLE))
        == -3000
    )
    assert chargeback_lost(CTX, "dp-2", lines, 3000, AT, vendors_bear=False) == []
    ledger.post(chargeback_opened(CTX, "dp-3", 500, AT))
    ledger.post(chargeback_won(CTX, "dp-3", 500, AT))
    assert ledger.balance("EUR", Account.platform(Book.CHARGEBACK_LOSSES)) == 0


def test_a_carrier_claim_credits_the_lines_vendors() -> None:
    lines = _order()[:2]
    ledger = Ledger("t1")
    ledger.post_all(carrier_claim(CTX, "claim-1", lines, 900, AT))
    assert ledger.balance("EUR", V("v-a", Book.AVAILABLE)) == 300
    assert ledger.balance("EUR", V("v-b", Book.AVAILABLE)) == 600


def test_an_adjustment_needs_a_reason_and_who_with_every_reason_given() -> None:
    with pytest.raises(Refused) as refused:
        adjustment("t1", "EUR", "adj-1", "v-a", 0, AT, reason="", actor="")
    assert len(refused.value.reasons) == 3
    made = adjustment("t1", "EUR", "adj-1", "v-a", -250, AT, reason="damaged", actor="ops@x")
    assert made.amount_for(V("v-a", Book.AVAILABLE)) == -250
    assert (made.reason, made.actor) == ("damaged", "ops@x")


def test_posting_the_same_entry_twice_adds_nothing() -> None:
    line = _order()[0]
    ledger = Ledger("t1")
    assert ledger.post(sale(CTX, "evt-paid", line, AT))
    assert not ledger.post(sale(CTX, "evt-paid", line, AT))
    assert len(ledger.entries) == 1
    with pytest.raises(ValueError):
        ledger.post(sale(Context("t2", "EUR", "o"), "evt-paid", line, AT))


def test_currencies_never_net() -> None:
    line = _order()[0]
    ledger = Ledger("t1")
    ledger.post(sale(CTX, "e", line, AT))
    ledger.post(sale(Context("t1", "USD", "o-2"), "e", line, AT))
    assert ledger.balance("EUR", V("v-a", Book.PENDING)) == line.vendor_net
    assert ledger.balance("USD", V("v-a", Book.PENDING)) == line.vendor_net
    assert ledger.total("EUR") == ledger.total("USD") == 0


# -- a cycle for one vendor ----------------------------------------------------------------------


def test_a_cycle_pays_what_is_available_at_or_above_the_minimum_once() -> None:
    line = _order()[0]
    ledger = Ledger("t1")
    ledger.post(sale(CTX, "e", line, AT))
    first = decide(ledger, "c1", "v-a", "EUR", AT, minimum=0)
    assert first.outcome is Outcome.NOTHING  # not released: nothing to pay
    ledger.post(release(CTX, "r", line, AT))
    under = decide(ledger, "c2", "v-a", "EUR", AT, minimum=line.vendor_net + 1)
    assert (under.outcome, under.entry) == (Outcome.UNDER_MINIMUM, None)
    paid = decide(ledger, "c3", "v-a", "EUR", AT, minimum=100)
    assert paid.outcome is Outcome.PAYABLE and paid.amount == line.vendor_net
    assert ledger.post(paid.entry)
    assert not ledger.post(decide(ledger, "c3", "v-a", "EUR", AT, minimum=100).entry)
    assert ledger.balance("EUR", V("v-a", Book.PAID)) == line.vendor_net
    held = decide(ledger, "c4", "v-a", "EUR", AT, minimum=0, on_hold=True)
    assert held.outcome is Outcome.ON_HOLD


def test_a_refund_after_payout_is_carried_and_recovered_next_cycle() -> None:
    first, second = _order()[0], _order()[0]
    ledger = Ledger("t1")
    ledger.post(sale(CTX, "e1", first, AT))
    ledger.post(release(CTX, "r1", first, AT))
    ledger.post(decide(ledger, "c1", "v-a", "EUR", AT, minimum=0).entry)
    ledger.post_all(refund_by_lines(CTX, EntryKind.REFUND, "re", [(first, first.charged)], AT))
    carry = decide(ledger, "c2", "v-a", "EUR", AT, minimum=0)
    assert carry.outcome is Outcome.NEGATIVE
    ledger.post(carry.entry)
    assert ledger.balance("EUR", V("v-a", Book.NEGATIVE_CARRIED)) == -first.vendor_net
    ctx2 = Context("t1", "EUR", "o-2")
    ledger.post(sale(ctx2, "e2", second, AT))
    ledger.post(release(ctx2, "r2", second, AT))
    # recovered: the new line's net less what was owed, i.e. nothing left to pay
    nothing = decide(ledger, "c3", "v-a", "EUR", AT, minimum=0)
    assert nothing.outcome is Outcome.NOTHING
    ledger.post(adjustment("t1", "EUR", "adj", "v-a", 700, AT, reason="goodwill", actor="ops"))
    paid = decide(ledger, "c4", "v-a", "EUR", AT, minimum=0)
    assert (paid.outcome, paid.amount) == (Outcome.PAYABLE, 700)
    ledger.post(paid.entry)
    assert ledger.balance("EUR", V("v-a", Book.NEGATIVE_CARRIED)) == 0
    ledger.post(payout_failed("t1", "EUR", "c4", "v-a", 700, AT))
    assert ledger.balance("EUR", V("v-a", Book.AVAILABLE)) == 700
    assert ledger.total("EUR") == 0


def test_a_sale_entry_keeps_its_lines_allocation_for_what_follows() -> None:
    for line in _order(FeeBearer.VENDOR):
        posted = sale(CTX, "paid", line, AT)
        assert posted is not None
        assert sold_line(posted) == line
    with pytest.raises(ValueError):
        sold_line(release(CTX, "r", _order()[0], AT))  # type: ignore[arg-type]


# -- schedules -----------------------------------------------------------------------------------


def test_cutoffs_follow_the_schedule_in_the_tenants_time_zone_across_daylight_saving() -> None:
    from functions.payouts.domain.cycles import cycle_id_for, latest_cutoff
    from shared.tenants import PayoutSettings

    weekly = PayoutSettings(schedule="weekly", weekday=0, cutoff_hour=6)
    # Berlin leaves summer time on Sunday 25 October 2026: the Monday cut-off stays 06:00 local.
    before = latest_cutoff(weekly, "Europe/Berlin", datetime(2026, 10, 24, 12, tzinfo=UTC))
    after = latest_cutoff(weekly, "Europe/Berlin", datetime(2026, 10, 27, 12, tzinfo=UTC))
    assert before == datetime(2026, 10, 19, 4, tzinfo=UTC)  # 06:00 CEST
    assert after == datetime(2026, 10, 26, 5, tzinfo=UTC)  # 06:00 CET
    assert cycle_id_for(after, "Europe/Berlin") == "2026-10-26"
    # New York moves to summer time on 8 March 2026
    daily = PayoutSettings(schedule="daily", cutoff_hour=1)
    assert latest_cutoff(daily, "America/New_York", datetime(2026, 3, 8, 5, 59, tzinfo=UTC)) == (
        datetime(2026, 3, 7, 6, tzinfo=UTC)
    )
    assert latest_cutoff(daily, "America/New_York", datetime(2026, 3, 9, 5, 59, tzinfo=UTC)) == (
        datetime(2026, 3, 9, 5, tzinfo=UTC)  # 01:00 EDT
    )
    monthly = PayoutSettings(schedule="monthly", day=31)
    assert latest_cutoff(monthly, "UTC", datetime(2026, 3, 15, tzinfo=UTC)) == datetime(
        2026, 2, 28, tzinfo=UTC
    )


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1),
    st.sampled_from(("EUR", "JPY", "KWD", "CLF", "USD")),
)
def test_the_reports_fast_money_text_is_money_decimal_text(amount: int, currency: str) -> None:
    from shared.money import Money

    assert Money.decimal_text_of(amount, currency) == Money.of(amount, currency).decimal_text()
