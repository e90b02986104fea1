"""The queries' rules over plain values (no AWS): answers do not depend on the order the
gateway's events arrived in, and days are the tenant's local days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from functions.reports.queries.domain.customer import (
    Finding,
    charged_twice,
    failed_but_charged,
    refund_not_received,
)
from functions.reports.queries.domain.payments import paid_for_days
from shared.events import (
    Customer,
    LineItem,
    OrderPlaced,
    PaymentAuthorized,
    PaymentFailed,
    PaymentSucceeded,
    Refund,
    RefundUpdated,
    Source,
)
from shared.money import Money
from shared.order_aggregate import OrderState, apply
from shared.settlements import BalanceTransaction, PayoutState

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
EUR = Money.of(2500, "EUR")


def _common(event_id: str, minutes: int) -> dict[str, Any]:
    return {
        "tenant": "acme",
        "source": Source.STRIPE,
        "source_event_id": event_id,
        "occurred_at": T0 + timedelta(minutes=minutes),
    }


PLACED = OrderPlaced(
    **{**_common("placed", 0), "source": Source.SHOP},
    order_id="o1",
    currency="EUR",
    total=EUR,
    lines=(LineItem(line_id="l1", name="Lamp", quantity=1, unit_price=EUR, vendor_id="v1"),),
    customer=Customer(email="ann@example.com"),
)
PAY = {"order_id": "o1", "amount": EUR}
EVENTS = [
    PLACED,
    PaymentFailed(**_common("f1", 1), **PAY, payment_id="pi_1", failure_code="card_declined"),
    PaymentAuthorized(**_common("a2", 2), **PAY, payment_id="pi_2"),
    PaymentSucceeded(**_common("s2", 60), **PAY, payment_id="pi_2", charge_id="ch_2"),
    RefundUpdated(
        **_common("r1", 120),
        order_id="o1",
        payment_id="pi_2",
        refund=Refund(
            refund_id="re_1",
            amount=Money.of(500, "EUR"),
            status="succeeded",
            created_at=T0 + timedelta(minutes=110),
            destination_type="refund",
            network_reference="ARN-1",
        ),
    ),
]


def _state(events: list[Any]) -> OrderState:
    state = OrderState(tenant="acme", order_id="o1")
    for event in events:
        state = apply(state, event)
    return state


@settings(max_examples=40, deadline=None)
@given(st.permutations(EVENTS))
def test_the_answers_do_not_depend_on_the_order_events_arrived_in(events: list[Any]) -> None:
    now = T0 + timedelta(days=3)
    state, reference = _state(events), _state(EVENTS)
    assert charged_twice(state, [], now) == charged_twice(reference, [], now)
    assert refund_not_received(state, now) == refund_not_received(reference, now)
    assert failed_but_charged(state, [], now) == failed_but_charged(reference, [], now)


def test_the_planted_order_reads_as_expected() -> None:
    state, now = _state(EVENTS), T0 + timedelta(days=3)
    assert charged_twice(state, [], now).finding is Finding.HOLD_AND_CAPTURE
    assert refund_not_received(state, now).finding is Finding.REFUND_ON_ITS_WAY
    assert failed_but_charged(state, [], now).finding is Finding.CHARGED_AFTER_FAILED


def _txn(txn_id: str, at: datetime, amount: int) -> BalanceTransaction:
    return BalanceTransaction(
        id=txn_id,
        amount=Money.of(amount, "EUR"),
        fee=Money.of(10, "EUR"),
        net=Money.of(amount - 10, "EUR"),
        type="charge",
        reporting_category="charge",
        source_id=f"ch_{txn_id}",
        created=at,
    )


def test_days_are_the_tenants_local_days_across_a_clock_change() -> None:
    # Amsterdam left summer time on 2026-10-25: 23:30 UTC on the 24th is the 25th at 01:30
    # local; 23:30 UTC on the 25th is the 26th at 00:30 local.
    payout = PayoutState(
        tenant="acme",
        payout_id="po_1",
        currency="EUR",
        amount=2980,
        arrival_date=datetime(2026, 10, 28, tzinfo=UTC),
        paid_at=datetime(2026, 10, 27, tzinfo=UTC),
    )
    txns = [
        _txn("a", datetime(2026, 10, 24, 21, 30, tzinfo=UTC), 1000),  # 23:30 local, the 24th
        _txn("b", datetime(2026, 10, 24, 23, 30, tzinfo=UTC), 1000),  # the 25th
        _txn("c", datetime(2026, 10, 25, 23, 30, tzinfo=UTC), 1000),  # the 26th
    ]
    answer = paid_for_days(
        "acme",
        date(2026, 10, 24),
        date(2026, 10, 26),
        timezone="Europe/Amsterdam",
        today=date(2026, 11, 1),
        kept_from=date(2019, 11, 1),
        orders=[],
        payouts=[(payout, txns)],
        settled={},
    )
    assert [d.figures["EUR"].gateway_gross for d in answer.days] == [1000, 1000, 1000]
    assert all(d.payouts == ["po_1"] for d in answer.days)
