"""The order aggregate: any arrival order, any number of duplicates, the same result."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from functions.webhooks.use_cases.apply import route
from shared.events import (
    ChargeRefunded,
    Customer,
    DisputeClosed,
    DisputeOpened,
    LineItem,
    OrderCancelled,
    OrderPlaced,
    PaymentFailed,
    PaymentSucceeded,
    Refund,
    ShipmentStatus,
    ShipmentUpdated,
    Source,
)
from shared.money import Money
from shared.order_aggregate import OrderState, apply
from tests.fakes import InMemoryOrders

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
USD = "USD"


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def placed(order_id: str = "o-1", total: int = 5000) -> OrderPlaced:
    return OrderPlaced(
        tenant="t1",
        source=Source.SHOP,
        source_event_id=f"shop-{order_id}",
        occurred_at=at(0),
        order_id=order_id,
        currency=USD,
        total=Money.of(total, USD),
        lines=(
            LineItem(
                line_id="l1",
                name="Boots",
                quantity=1,
                unit_price=Money.of(total, USD),
                vendor_id="v1",
            ),
        ),
        customer=Customer(email="ann@example.com"),
    )


def paid(
    order_id: str | None = "o-1",
    pi: str = "pi_1",
    ch: str = "ch_1",
    amount: int = 5000,
    minute: int = 1,
) -> PaymentSucceeded:
    return PaymentSucceeded(
        tenant="t1",
        source=Source.STRIPE,
        source_event_id=f"evt_paid_{pi}",
        occurred_at=at(minute),
        order_id=order_id,
        payment_id=pi,
        charge_id=ch,
        amount=Money.of(amount, USD),
    )


def refunded(amount: int, minute: int, eid: str) -> ChargeRefunded:
    return ChargeRefunded(
        tenant="t1",
        source=Source.STRIPE,
        source_event_id=eid,
        occurred_at=at(minute),
        charge_id="ch_1",
        amount_refunded=Money.of(amount, USD),
        refunds=(
            Refund(refund_id=f"re_{amount}", amount=Money.of(amount, USD), status="succeeded"),
        ),
    )


def shipment(status: ShipmentStatus, minute: int) -> ShipmentUpdated:
    return ShipmentUpdated(
        tenant="t1",
        source=Source.EASYPOST,
        source_event_id=f"trk-{minute}",
        occurred_at=at(minute),
        tracking_code="1Z1",
        status=status,
        order_id="o-1",
        carrier="UPS",
    )


def fold(events: list[Any]) -> OrderState:
    state = OrderState(tenant="t1", order_id="o-1")
    for event in events:
        state = apply(state, event)
    return state


def test_happy_path_reaches_delivered() -> None:
    state = fold(
        [
            placed(),
            paid(),
            shipment(ShipmentStatus.IN_TRANSIT, 60),
            shipment(ShipmentStatus.DELIVERED, 120),
        ]
    )
    assert state.status() == "delivered"
    assert state.paid() == 5000


def test_delivered_before_in_transit_stays_delivered() -> None:
    state = fold(
        [
            placed(),
            paid(),
            shipment(ShipmentStatus.DELIVERED, 120),
            shipment(ShipmentStatus.IN_TRANSIT, 60),
        ]
    )
    assert state.status() == "delivered"


def test_refund_before_its_payment_success_still_refunds() -> None:
    state = fold([refunded(5000, 30, "evt_r"), placed(), paid()])
    assert state.status() == "refunded"


def test_cumulative_refunds_take_the_largest_report() -> None:
    state = fold([placed(), paid(), refunded(3000, 40, "evt_r2"), refunded(1000, 30, "evt_r1")])
    assert state.refunded() == 3000
    assert state.status() == "partially_refunded"


def test_failed_then_succeeded_payment_is_paid_whatever_the_order() -> None:
    failed = PaymentFailed(
        tenant="t1",
        source=Source.STRIPE,
        source_event_id="evt_f",
        occurred_at=at(5),
        order_id="o-1",
        payment_id="pi_1",
        amount=Money.of(5000, USD),
        failure_code="card_declined",
    )
    assert fold([placed(), paid(minute=6), failed]).status() == "paid"
    assert fold([placed(), failed]).status() == "payment_failed"


def test_a_payment_in_another_currency_never_pays_the_order() -> None:
    """The defect: a JPY 5000 payment marked a USD 50.00 order paid."""
    yen = paid().model_copy(update={"amount": Money.of(5000, "JPY"), "payment_id": "pi_jpy"})
    state = fold([placed(total=5000), yen])
    assert state.paid() == 0
    assert state.status() == "pending_payment"
    assert [p.payment_id for p in state.foreign_payments()] == ["pi_jpy"]
    # A payment in the order's currency still pays it; the foreign one stays apart.
    both = fold([placed(total=5000), yen, paid()])
    assert (both.paid(), both.status()) == (5000, "paid")


def test_dispute_open_then_lost() -> None:
    def dispute(kind: type, status: str, minute: int) -> Any:
        return kind(
            tenant="t1",
            source=Source.STRIPE,
            source_event_id=f"evt_{status}",
            occurred_at=at(minute),
            dispute_id="dp_1",
            charge_id="ch_1",
            amount=Money.of(5000, USD),
            status=status,
            order_id="o-1",
        )

    opened, lost = (
        dispute(DisputeOpened, "needs_response", 100),
        dispute(DisputeClosed, "lost", 200),
    )
    assert fold([placed(), paid(), opened]).status() == "disputed"
    assert fold([placed(), paid(), lost, opened]).status() == "chargeback"


def test_cancellation_before_payment() -> None:
    cancelled = OrderCancelled(
        tenant="t1",
        source=Source.SHOP,
        source_event_id="c1",
        occurred_at=at(3),
        order_id="o-1",
        reason="customer",
    )
    assert fold([cancelled, placed()]).status() == "cancelled"


ALL_EVENTS: list[Any] = [
    placed(),
    paid(),
    paid(pi="pi_2", ch="ch_2", minute=2),
    refunded(1000, 30, "evt_r1"),
    refunded(2500, 40, "evt_r2"),
    shipment(ShipmentStatus.PRE_TRANSIT, 50),
    shipment(ShipmentStatus.IN_TRANSIT, 60),
    shipment(ShipmentStatus.OUT_FOR_DELIVERY, 70),
    shipment(ShipmentStatus.DELIVERED, 80),
    OrderCancelled(
        tenant="t1", source=Source.SHOP, source_event_id="c1", occurred_at=at(90), order_id="o-1"
    ),
]


@settings(max_examples=150, deadline=None)
@given(st.permutations(ALL_EVENTS), st.lists(st.integers(0, len(ALL_EVENTS) - 1), max_size=10))
def test_any_order_and_any_duplicates_give_the_same_state(
    order: list[Any], dupes: list[int]
) -> None:
    shuffled = list(order) + [ALL_EVENTS[i] for i in dupes]
    assert fold(shuffled) == fold(ALL_EVENTS)


@settings(max_examples=100, deadline=None)
@given(
    st.permutations(
        [
            placed(),
            paid(order_id=None),
            refunded(5000, 30, "evt_r"),
            paid(order_id="o-1", pi="pi_1", ch="ch_1"),
        ]
    )
)
def test_routing_through_references_is_order_free(events: list[Any]) -> None:
    # The first payment event names no order: it is found through (or parked under) its charge.
    repo = InMemoryOrders()
    for event in events:
        route(event, repo)
    state, _ = repo.load("t1", "o-1")
    assert state.status() == "refunded"
    assert repo.parking == {} or all(not v for v in repo.parking.values())
    assert len(repo.timelines[("t1", "o-1")]) == 3  # paid(None) and paid(o-1) share an event id
