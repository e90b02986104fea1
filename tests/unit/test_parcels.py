"""Parcels in the order aggregate (issue 13.1 and 13.2): an order is delivered when every parcel
is; an attempt or a delay is news, not a loss; a parcel declared lost and then delivered is
delivered; and none of it depends on the order the scans arrive in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from functions.orders.contracts import WaitKind
from functions.orders.domain import wait_outcome
from shared.events import (
    Customer,
    LineItem,
    OrderFulfilled,
    OrderPlaced,
    ShipmentStatus,
    ShipmentUpdated,
    Source,
)
from shared.money import Money
from shared.order_aggregate import OrderState, OrderStatus, apply

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def placed() -> OrderPlaced:
    def line(line_id: str) -> LineItem:
        return LineItem(
            line_id=line_id,
            name=f"item {line_id}",
            quantity=1,
            unit_price=Money.of(1000, "USD"),
            vendor_id="v1",
        )

    return OrderPlaced(
        tenant="t1",
        source=Source.SHOP,
        source_event_id="placed",
        occurred_at=at(0),
        order_id="o-1",
        currency="USD",
        total=Money.of(3000, "USD"),
        lines=(line("l1"), line("l2"), line("l3")),
        customer=Customer(email="ann@example.com"),
    )


def fulfilled(code: str, *lines: str, minute: int = 1) -> OrderFulfilled:
    return OrderFulfilled(
        tenant="t1",
        source=Source.SHOP,
        source_event_id=f"ful-{code}",
        occurred_at=at(minute),
        order_id="o-1",
        tracking_code=code,
        line_ids=lines,
    )


def scan(
    code: str, status: ShipmentStatus, minute: int, event_id: str | None = None
) -> ShipmentUpdated:
    return ShipmentUpdated(
        tenant="t1",
        source=Source.EASYPOST,
        source_event_id=event_id or f"{code}-{status}-{minute}",
        occurred_at=at(minute),
        tracking_code=code,
        status=status,
    )


def state_of(*events: object) -> OrderState:
    state = OrderState(tenant="t1", order_id="o-1")
    for event in events:
        state = apply(state, event)
    return state


def test_one_delivered_parcel_of_two_does_not_deliver_the_order() -> None:
    state = state_of(
        placed(),
        fulfilled("A", "l1"),
        fulfilled("B", "l2", "l3"),
        scan("A", ShipmentStatus.DELIVERED, 60),
        scan("B", ShipmentStatus.IN_TRANSIT, 30),
    )
    assert state.shipment_status() == "in_transit"
    assert state.status() is OrderStatus.SHIPPED
    state = apply(state, scan("B", ShipmentStatus.DELIVERED, 90))
    assert state.shipment_status() == "delivered"
    assert state.status() is OrderStatus.DELIVERED


def test_a_problem_with_one_parcel_names_that_parcels_lines() -> None:
    state = state_of(
        placed(),
        fulfilled("A", "l1"),
        fulfilled("B"),
        scan("A", ShipmentStatus.LOST, 60),
        scan("B", ShipmentStatus.DELIVERED, 60),
    )
    a, b = state.parcels()
    assert (a.state, state.parcel_lines(a)) == ("lost", ["l1"])
    assert (b.state, state.parcel_lines(b)) == ("delivered", ["l2", "l3"])
    assert state.status() is OrderStatus.DELIVERY_EXCEPTION


def test_an_attempt_is_news_and_the_parcel_keeps_going() -> None:
    state = state_of(
        placed(),
        fulfilled("A"),
        scan("A", ShipmentStatus.ATTEMPT_FAILED, 60),
        # The aggregator sends the same attempt again under another event id.
        scan("A", ShipmentStatus.ATTEMPT_FAILED, 60, event_id="resent"),
    )
    assert state.status() is OrderStatus.SHIPPED
    (parcel,) = state.parcels()
    assert [n.status for n in parcel.notices.values()] == ["attempt_failed"]
    state = apply(state, scan("A", ShipmentStatus.DELIVERED, 60 * 24))
    assert state.status() is OrderStatus.DELIVERED


def test_delivered_after_declared_lost_is_delivered_whatever_the_times() -> None:
    # A carrier's "lost" can carry a later time than the delivery it got wrong.
    state = state_of(
        placed(),
        fulfilled("A"),
        scan("A", ShipmentStatus.DELIVERED, 100),
        scan("A", ShipmentStatus.LOST, 200),
    )
    assert state.shipment_status() == "delivered"


def test_return_parcels_are_not_outbound_parcels() -> None:
    state = state_of(
        placed(),
        fulfilled("A"),
        scan("A", ShipmentStatus.DELIVERED, 100),
        scan("RET1", ShipmentStatus.IN_TRANSIT, 200),
    )
    assert [p.tracking_code for p in state.parcels()] == ["A"]
    assert state.status() is OrderStatus.DELIVERED


SCAN_STATUSES = st.sampled_from(
    [
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.ATTEMPT_FAILED,
        ShipmentStatus.DELAYED,
        ShipmentStatus.EXCEPTION,
        ShipmentStatus.LOST,
        ShipmentStatus.DAMAGED,
        ShipmentStatus.DELIVERED,
    ]
)
SCANS = st.lists(
    st.tuples(st.sampled_from(["A", "B", "C"]), SCAN_STATUSES, st.integers(0, 5)),
    min_size=1,
    max_size=12,
)


def _outcome(state: OrderState) -> tuple[object, ...]:
    resumed = wait_outcome(state, WaitKind.DELIVERY)
    return (
        resumed.model_dump() if resumed else None,
        state.status(),
        state.shipment_status(),
        tuple(
            (p.tracking_code, p.state, tuple(state.parcel_lines(p)), tuple(sorted(p.notices)))
            for p in state.parcels()
        ),
    )


@settings(max_examples=150, deadline=None)
@given(scans=SCANS, data=st.data())
def test_the_outcome_does_not_depend_on_the_order_scans_arrive_in(
    scans: list[tuple[str, ShipmentStatus, int]], data: st.DataObject
) -> None:
    events: list[object] = [
        placed(),
        fulfilled("A", "l1"),
        fulfilled("B", "l2"),
        fulfilled("C"),
        *(scan(code, status, 10 + minute) for code, status, minute in scans),
    ]
    reference = _outcome(state_of(*events))
    shuffled = data.draw(st.permutations(events))
    duplicated = [*shuffled, *data.draw(st.lists(st.sampled_from(events), max_size=5))]
    assert _outcome(state_of(*duplicated)) == reference
    # Every parcel delivered (and only then) is the order delivered.
    parcels = state_of(*events).parcels()
    everything_delivered = all(p.state == "delivered" for p in parcels)
    assert (reference[2] == "delivered") is everything_delivered
    # The delivery wait is resumed as delivered exactly then (never by the latest scan alone).
    resumed = reference[0]
    assert (isinstance(resumed, dict) and resumed["outcome"] == "delivered") is everything_delivered
