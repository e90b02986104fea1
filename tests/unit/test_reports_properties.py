"""Properties of the tallies: over any orders with facts scattered across days around a change
of summer time, the days' tallies add up to each fact counted exactly once, and adding tallies
in any order gives the same period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from random import Random
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from functions.reports.domain.tally import Tally, combine, tally_day
from tests.reports_fakes import Order

TZ = "Europe/Amsterdam"
FIRST = date(2026, 10, 22)  # summer time ends on the 25th
DAYS = [FIRST + timedelta(days=n) for n in range(7)]
START = datetime(2026, 10, 22, tzinfo=ZoneInfo(TZ)).astimezone(UTC)
SPAN = int((datetime(2026, 10, 29, tzinfo=ZoneInfo(TZ)).astimezone(UTC) - START).total_seconds())

minutes = st.integers(min_value=0, max_value=SPAN // 60 - 1)


@dataclass(frozen=True)
class Plan:
    placed: int
    currency: str
    price: int
    quantity: int
    discount: int
    paid_after: int | None
    refund_after: int | None
    refund: int


plans_of_orders = st.lists(
    st.builds(
        Plan,
        placed=minutes,
        currency=st.sampled_from(["EUR", "USD", "JPY"]),
        price=st.integers(min_value=1, max_value=100_000),
        quantity=st.integers(min_value=1, max_value=5),
        discount=st.integers(min_value=0, max_value=50),
        paid_after=st.none() | st.integers(min_value=0, max_value=3000),
        refund_after=st.none() | st.integers(min_value=0, max_value=6000),
        refund=st.integers(min_value=1, max_value=50),
    ),
    max_size=12,
)


def build(plans: list[Plan]) -> tuple[list[Order], dict[str, dict[str, int]]]:
    """The orders, and what the week must count of them, worked out from the plans."""
    orders: list[Order] = []
    expected: dict[str, dict[str, int]] = {}
    end = START + timedelta(seconds=SPAN)
    for n, plan in enumerate(plans):
        at = START + timedelta(minutes=plan.placed)
        order = Order(
            "t",
            f"o{n}",
            at,
            [("sku", "v", plan.quantity, plan.price)],
            currency=plan.currency,
            discount=plan.discount,
        )
        sums = expected.setdefault(plan.currency, {"orders": 0, "gross": 0, "returns": 0})
        if plan.paid_after is not None:
            paid = at + timedelta(minutes=plan.paid_after)
            order.paid(paid)
            if paid < end:
                sums["orders"] += 1
                sums["gross"] += plan.price * plan.quantity
            if plan.refund_after is not None:
                refunded = paid + timedelta(minutes=plan.refund_after)
                order.refunded(refunded, f"re{n}", plan.refund)
                if refunded < end:
                    sums["returns"] += plan.refund
        orders.append(order)
    return orders, expected


@settings(max_examples=60, deadline=None)
@given(plans_of_orders, st.randoms())
def test_days_add_up_to_every_fact_once_in_any_order(plans: list[Plan], rnd: Random) -> None:
    orders, expected = build(plans)
    views = [o.view for o in orders]
    days = [tally_day(d, TZ, views, 3) for d in DAYS]
    week = combine(days)
    for currency, sums in expected.items():
        got = week.currencies.get(currency)
        counted = (got.orders, got.gross, got.returns) if got else (0, 0, 0)
        assert counted == (sums["orders"], sums["gross"], sums["returns"])
    assert week.placed == len(orders)
    shuffled = list(days)
    rnd.shuffle(shuffled)
    assert combine(shuffled) == week
    assert Tally.model_validate_json(week.model_dump_json()) == week
