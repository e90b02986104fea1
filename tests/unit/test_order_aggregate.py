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
    RefundUpdated,
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


def charge_report(eid: str, minute: int, refunds: dict[str, int]) -> ChargeRefunded:
    """``charge.refunded`` listing its succeeded refunds, with their cumulative amount."""
    return ChargeRefunded(
        tenant="t1",
        source=Source.STRIPE,
        source_event_id=eid,
        occurred_at=at(minute),
        charge_id="ch_1",
        payment_id="pi_1",
        amount_refunded=Money.of(sum(refunds.values()), USD),
        refunds=tuple(
            Refund(refund_id=rid, amount=Money.of(amount, USD), status="succeeded")
            for rid, amount in refunds.items()
        ),
    )


def test_refunds_add_up_by_id_whatever_order_the_reports_come_in() -> None:
    first = refund_news("re_a", 1000, "succeeded", 30, "evt_r1")
    both = charge_report("evt_r2", 40, {"re_b": 2000, "re_a": 1000})
    for events in ([placed(), paid(), both, first], [placed(), first, paid(), both, first]):
        state = fold(events)
        assert state.refunded() == 3000
        assert state.status() == "partially_refunded"


def test_only_the_cumulative_amount_known_counts_the_latest_report() -> None:
    """Old API versions list no refunds: the latest cumulative report is all there is."""

    def cumulative(amount: int, minute: int) -> ChargeRefunded:
        return refunded(amount, minute, f"evt_c{minute}").model_copy(update={"refunds": ()})

    assert fold([placed(), paid(), cumulative(3000, 40), cumulative(1000, 30)]).refunded() == 3000


def refund_news(
    refund_id: str, amount: int, status: str, minute: int, eid: str, reason: str | None = None
) -> RefundUpdated:
    return RefundUpdated(
        tenant="t1",
        source=Source.STRIPE,
        source_event_id=eid,
        occurred_at=at(minute),
        payment_id="pi_1",
        charge_id="ch_1",
        refund=Refund(
            refund_id=refund_id,
            amount=Money.of(amount, USD),
            status=status,
            created_at=at(20),
            failure_reason=reason,
        ),
    )


def test_a_refund_failing_after_it_succeeded_is_no_longer_refunded() -> None:
    """The defect: ``refunded = max(...)`` kept a failed refund as money given back."""
    succeeded = refunded(5000, 30, "evt_r").model_copy(update={"payment_id": "pi_1"})
    failed = refund_news(
        "re_5000", 5000, "failed", 3 * 24 * 60, "evt_f", reason="expired_or_canceled_card"
    )
    state = fold([placed(), paid(), succeeded, failed])
    assert state.refunded() == 0
    assert state.status() == "paid"
    facts = state.payments["pi_1"].refunds["re_5000"]
    assert facts.status.value == "failed"
    assert facts.failure_reason is not None
    assert facts.failure_reason.value == "expired_or_canceled_card"


def test_a_late_succeeded_report_does_not_bring_a_failed_refund_back() -> None:
    failed = refund_news("re_5000", 5000, "failed", 30, "evt_f")
    # Stamped the same second as the failure, and even a later one: failed is final.
    same_time = refund_news("re_5000", 5000, "succeeded", 30, "evt_zzz")
    later = refund_news("re_5000", 5000, "succeeded", 31, "evt_late")
    assert fold([placed(), paid(), failed, same_time, later]).refunded() == 0


REFUND_EVENTS: list[Any] = [
    placed(),
    paid(),
    refund_news("re_a", 1000, "pending", 21, "evt_a1"),
    refund_news("re_a", 1000, "succeeded", 22, "evt_a2"),
    charge_report("evt_ch", 22, {"re_a": 1000, "re_b": 500}),
    refund_news("re_b", 500, "succeeded", 23, "evt_b1"),
    refund_news("re_a", 1000, "failed", 4000, "evt_a3", "lost_or_stolen_card"),
    refund_news("re_a", 1000, "succeeded", 4000, "evt_a4"),
    refund_news("re_c", 700, "pending", 30, "evt_c1"),
]


@settings(max_examples=200, deadline=None)
@given(
    st.permutations(REFUND_EVENTS),
    st.lists(st.integers(0, len(REFUND_EVENTS) - 1), max_size=8),
)
def test_refund_news_in_any_order_refunds_the_same_amount(
    order: list[Any], dupes: list[int]
) -> None:
    """re_a succeeded, then failed (a succeeded report stamped the same second must not
    resurrect it); re_b succeeded; re_c is in flight: 500 refunded, whatever the order."""
    state = fold(list(order) + [REFUND_EVENTS[i] for i in dupes])
    assert state == fold(REFUND_EVENTS)
    assert state.refunded() == 500
    refunds = state.payments["pi_1"].refunds
    assert {rid: r.status.value for rid, r in refunds.items()} == {
        "re_a": "failed",
        "re_b": "succeeded",
        "re_c": "pending",
    }


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
