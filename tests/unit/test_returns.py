"""Returns: the window, the lines and quantities a return may take, the return's life and its
inspection, over fakes of the orders ports (no AWS)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.orders import contracts as c
from functions.orders.domain import (
    InspectionOutcome,
    check_return_window,
    delivered_at,
    inspection_refund,
    lines_refunded,
    lines_to_return,
)
from functions.orders.errors import OperationRefused, ReturnInvalid, ReturnRefused
from functions.orders.use_cases import changes, operations, returns
from shared.events import (
    Customer,
    LineItem,
    OrderPlaced,
    PaymentSucceeded,
    ShipmentStatus,
    ShipmentUpdated,
    Source,
)
from shared.money import Money
from shared.order_aggregate import OrderState
from shared.tenants import ReturnSettings, TenantSettings
from tests.clocks import FixedClock
from tests.orders_fakes import FakePorts, FakeTenants

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
DELIVERED = T0 + timedelta(hours=2)
ACME = TenantSettings(id="acme", name="Acme", currency="EUR", customer_sender="shop@acme.example")
INSPECTING = ACME.model_copy(update={"returns": ReturnSettings(inspection=True)})


def eur(amount: int) -> Money:
    return Money.of(amount, "EUR")


def placed(quantities: tuple[int, ...] = (2, 1)) -> OrderPlaced:
    lines = tuple(
        LineItem(
            line_id=f"l{i + 1}",
            name=f"Item {i + 1}",
            quantity=q,
            unit_price=eur(1000),
            vendor_id="v1",
        )
        for i, q in enumerate(quantities)
    )
    return OrderPlaced(
        tenant="acme",
        source=Source.SHOP,
        source_event_id="o-1-placed",
        occurred_at=T0,
        order_id="o-1",
        currency="EUR",
        total=eur(1000 * sum(quantities)),
        lines=lines,
        customer=Customer(email="bob@example.com", name="Bob"),
    )


def paid(amount: int) -> PaymentSucceeded:
    return PaymentSucceeded(
        tenant="acme",
        source=Source.STRIPE,
        source_event_id="evt-pi_1",
        occurred_at=T0 + timedelta(minutes=1),
        order_id="o-1",
        payment_id="pi_1",
        charge_id="ch_1",
        amount=eur(amount),
    )


def scan(status: str, tracking: str, at: datetime) -> ShipmentUpdated:
    return ShipmentUpdated(
        tenant="acme",
        source=Source.EASYPOST,
        source_event_id=f"trk-{tracking}-{status}",
        occurred_at=at,
        tracking_code=tracking,
        status=ShipmentStatus(status),
        order_id="o-1",
        carrier="USPS",
    )


def delivered_order(fake: FakePorts, quantities: tuple[int, ...] = (2, 1)) -> OrderState:
    return fake.orders.add(
        placed(quantities), paid(1000 * sum(quantities)), scan("delivered", "1ZOUT", DELIVERED)
    )


def make(tenant: TenantSettings = ACME, days_after_delivery: float = 3) -> FakePorts:
    clock = FixedClock(DELIVERED + timedelta(days=days_after_delivery))
    return FakePorts(clock=clock, tenants=FakeTenants(tenant))


def line(line_id: str, quantity: int | None = None) -> dict[str, Any]:
    return {"line_id": line_id, **({"quantity": quantity} if quantity else {})}


# -- the rules ---------------------------------------------------------------------------------


def test_the_window_runs_from_the_delivery_scan_for_the_tenants_days() -> None:
    check_return_window(DELIVERED, 14, DELIVERED + timedelta(days=14))
    with pytest.raises(ReturnRefused, match="window of 14 days closed"):
        check_return_window(DELIVERED, 14, DELIVERED + timedelta(days=14, seconds=1))
    with pytest.raises(ReturnRefused, match="only a delivered order"):
        check_return_window(None, 14, DELIVERED)
    with pytest.raises(ReturnRefused, match="window of 0 days"):
        check_return_window(DELIVERED, 0, DELIVERED + timedelta(seconds=1))


def test_the_delivery_date_is_the_last_outbound_parcels_and_ignores_return_parcels() -> None:
    state = OrderState(tenant="acme", order_id="o-1")
    from shared.order_aggregate import apply

    for event in (
        placed(),
        scan("delivered", "1ZA", DELIVERED),
        scan("in_transit", "1ZB", DELIVERED),
    ):
        state = apply(state, event)
    assert delivered_at(state, set()) is None  # one parcel still on its way
    state = apply(state, scan("delivered", "1ZB", DELIVERED + timedelta(days=1)))
    state = apply(state, scan("in_transit", "9400RET", DELIVERED + timedelta(days=2)))
    assert delivered_at(state, {"9400RET"}) == DELIVERED + timedelta(days=1)


def test_lines_are_returned_within_what_was_bought_less_returns_and_refunds() -> None:
    order = placed((2, 1))
    ask = [c.RefundLine(line_id="l1", quantity=1)]
    assert lines_to_return(order, ask, {}, {}) == {"l1": 1}
    assert lines_to_return(order, [c.RefundLine(line_id="l1")], {"l1": 1}, {}) == {"l1": 1}
    with pytest.raises(ReturnRefused, match=r"line l1: already returned or refunded: 2 of 2"):
        lines_to_return(order, ask, {"l1": 1}, {"l1": 1})
    with pytest.raises(ReturnInvalid, match="line l9: the order has no such line"):
        lines_to_return(order, [c.RefundLine(line_id="l9")], {}, {})
    with pytest.raises(ReturnInvalid, match="line l2: 1 bought, 2 cannot be returned"):
        lines_to_return(order, [c.RefundLine(line_id="l2", quantity=2)], {}, {})
    # The same line twice in one request counts twice.
    with pytest.raises(ReturnInvalid, match="line l1: 2 bought, 3"):
        lines_to_return(order, [*ask, c.RefundLine(line_id="l1", quantity=2)], {}, {})


def test_refunds_by_lines_count_but_failed_ones_and_returns_own_refunds_do_not() -> None:
    requests: list[dict[str, Any]] = [
        {"refund_id": "r1", "status": "completed", "request": {"lines": [line("l1", 1)]}},
        {"refund_id": "r2", "status": "failed", "request": {"lines": [line("l1", 1)]}},
        {"refund_id": "return-x", "status": "completed", "request": {"lines": [line("l2")]}},
        {"refund_id": "r3", "status": "accepted", "request": '{"lines": [{"line_id": "l2"}]}'},
        {"refund_id": "r4", "status": "completed", "request": {"amount": 500, "lines": None}},
    ]
    assert lines_refunded(placed((2, 1)), requests) == {"l1": 1, "l2": 1}


def test_an_inspection_refunds_the_return_part_of_it_or_nothing() -> None:
    held = {"l1": 2, "l2": 1}
    accept, partial, reject = InspectionOutcome
    assert inspection_refund(held, 3000, accept, None, None, None) == (held, None)
    assert inspection_refund(
        held, 3000, partial, [c.RefundLine(line_id="l1", quantity=1)], None, "one scuffed"
    ) == ({"l1": 1}, None)
    assert inspection_refund(held, 3000, partial, None, 1200, "worn") == (None, 1200)
    assert inspection_refund(held, 3000, reject, None, None, "not ours") == (None, None)
    for bad in (
        (partial, None, None, "why"),
        (partial, [c.RefundLine(line_id="l1", quantity=3)], None, "why"),
        (partial, [c.RefundLine(line_id="l3")], None, "why"),
        (partial, None, 3001, "why"),
        (partial, None, 100, None),
        (reject, None, None, " "),
        (reject, None, 100, "why"),
        (accept, None, 100, None),
    ):
        with pytest.raises(ReturnInvalid):
            inspection_refund(held, 3000, *bad)


# -- the use cases over fakes ------------------------------------------------------------------


def test_a_return_inside_the_window_gets_the_carriers_label_and_tells_the_customer() -> None:
    fake = make()
    delivered_order(fake)
    opened = returns.open_return(fake.ports(), "acme", "o-1", [line("l1", 1)], "too big", "ops@x")
    assert opened["status"] == "label_issued"
    assert (opened["tracking_code"], opened["amount"]) == ("9400RET0001", 1000)
    assert opened["label_url"] == f"https://labels.example/{opened['return_id']}.pdf"
    assert fake.orders.links[("acme", "tracking:9400RET0001")] == "o-1"
    record = fake.returns.get("acme", "o-1", opened["return_id"])
    assert record is not None and record["requested_by"] == "ops@x"
    assert record["shipment_id"] == "shp_1"
    assert fake.mailer.kinds() == ["return_opened"]
    assert opened["label_url"] in fake.mailer.sent[0].text


def test_a_return_outside_the_window_is_refused_and_leaves_nothing() -> None:
    fake = make(days_after_delivery=15)
    delivered_order(fake)
    with pytest.raises(ReturnRefused, match="window of 14 days closed"):
        returns.open_return(fake.ports(), "acme", "o-1", [line("l1")], "late")
    assert (fake.returns.returns, fake.return_labels.issued, fake.mailer.kinds()) == ({}, [], [])


def test_a_line_is_returned_once_and_a_line_refunded_by_lines_is_not_returnable() -> None:
    fake = make()
    delivered_order(fake)
    ports = fake.ports()
    returns.open_return(ports, "acme", "o-1", [line("l1", 2)], "both")
    with pytest.raises(ReturnRefused, match="line l1: already returned or refunded: 2 of 2"):
        returns.open_return(ports, "acme", "o-1", [line("l1", 1)], "again")
    operations.request_refund(ports, "acme", "o-1", lines=[line("l2")], refund_id="r1")
    with pytest.raises(ReturnRefused, match="line l2: already returned or refunded: 1 of 1"):
        returns.open_return(ports, "acme", "o-1", [line("l2")], "after refund")
    assert len(fake.returns.returns) == 1


def test_a_return_the_carrier_gives_no_label_for_is_cancelled_and_frees_its_lines() -> None:
    fake = make()
    delivered_order(fake)
    fake.return_labels.refuse = OSError("carrier down")
    with pytest.raises(ReturnRefused, match="no return label could be issued: carrier down"):
        returns.open_return(fake.ports(), "acme", "o-1", [line("l1")], "x")
    assert [r["status"] for r in fake.returns.returns.values()] == ["cancelled"]
    assert fake.returns.returned("acme", "o-1") == {"l1": 0}
    fake.return_labels.refuse = None
    assert returns.open_return(fake.ports(), "acme", "o-1", [line("l1")], "x")["amount"] == 2000


def test_without_inspection_the_refund_follows_the_return_parcels_delivery_scan() -> None:
    fake = make()
    delivered_order(fake)
    ports = fake.ports()
    opened = returns.open_return(ports, "acme", "o-1", [line("l1", 1)], "x")
    tracking, return_id = opened["tracking_code"], opened["return_id"]
    state = fake.orders.add(scan("in_transit", tracking, DELIVERED + timedelta(days=4)))
    changes.order_changed(ports, scan("in_transit", tracking, DELIVERED), "o-1", "applied")
    assert fake.returns.get("acme", "o-1", return_id)["status"] == "in_transit"  # type: ignore[index]
    assert fake.workflows.started == {}
    state = fake.orders.add(scan("delivered", tracking, DELIVERED + timedelta(days=5)))
    assert returns.return_parcels_moved(ports, "acme", "o-1", state) == [return_id]
    record = fake.returns.get("acme", "o-1", return_id)
    assert record is not None and record["status"] == "refunded"
    assert [h["status"] for h in record["history"]] == [
        "requested", "label_issued", "in_transit", "received", "refunded"
    ]  # fmt: skip
    (document,) = fake.workflows.started.values()
    assert (document["refund_id"], document["lines"], document["cause"]) == (
        f"return-{return_id}",
        [{"line_id": "l1", "quantity": 1}],
        "return",
    )


def test_with_inspection_a_received_return_waits_then_a_partial_refunds_what_was_accepted() -> None:
    fake = make(INSPECTING)
    delivered_order(fake)
    ports = fake.ports()
    opened = returns.open_return(ports, "acme", "o-1", [line("l1", 2)], "x")
    return_id = opened["return_id"]
    with pytest.raises(ReturnRefused, match="not received yet"):
        returns.inspect_return(ports, "acme", "o-1", return_id, "accept", by="ann@acme")
    state = fake.orders.add(
        scan("delivered", opened["tracking_code"], DELIVERED + timedelta(days=5))
    )
    assert returns.return_parcels_moved(ports, "acme", "o-1", state) == []
    assert fake.workflows.started == {}
    assert [a[1] for a in fake.alerts.sent] == ["Return received, to inspect: order o-1"]
    fake.clock.advance(timedelta(days=1))
    done = returns.inspect_return(
        ports, "acme", "o-1", return_id, "partial", by="ann@acme",
        lines=[line("l1", 1)], reason="one pair worn",
    )  # fmt: skip
    assert done["inspection"]["by"] == "ann@acme"
    assert done["inspection"]["at"] == fake.clock.now().isoformat()
    assert done["inspection"]["amount"] == 1000
    (document,) = fake.workflows.started.values()
    assert document["lines"] == [{"line_id": "l1", "quantity": 1}]
    # The same inspection again (a retry) does nothing new; a different one is refused.
    again = returns.inspect_return(
        ports, "acme", "o-1", return_id, "partial", by="ann@acme",
        lines=[line("l1", 1)], reason="one pair worn",
    )  # fmt: skip
    assert again["refund"]["refund_id"] == f"return-{return_id}"
    assert len(fake.workflows.started) == 1
    with pytest.raises(ReturnRefused, match="inspected already \\(partial\\) by ann@acme"):
        returns.inspect_return(ports, "acme", "o-1", return_id, "accept", by="bo@acme")
    assert fake.mailer.kinds() == ["return_opened", "return_inspected"]
    assert "one pair worn" in fake.mailer.sent[-1].text


def test_a_rejected_return_refunds_nothing_and_tells_the_customer_why() -> None:
    fake = make(INSPECTING)
    delivered_order(fake)
    ports = fake.ports()
    opened = returns.open_return(ports, "acme", "o-1", [line("l2")], "x")
    state = fake.orders.add(
        scan("delivered", opened["tracking_code"], DELIVERED + timedelta(days=5))
    )
    returns.return_parcels_moved(ports, "acme", "o-1", state)
    returns.inspect_return(
        ports, "acme", "o-1", opened["return_id"], "reject", by="ann@acme", reason="not our item"
    )
    assert fake.returns.get("acme", "o-1", opened["return_id"])["status"] == "rejected"  # type: ignore[index]
    assert fake.workflows.started == {}
    assert "not our item" in fake.mailer.sent[-1].text
    # Its line stays returned: the same item cannot be sent back again.
    with pytest.raises(ReturnRefused, match="line l2"):
        returns.open_return(ports, "acme", "o-1", [line("l2")], "again")


def test_an_inspection_is_refused_where_the_tenant_does_not_inspect() -> None:
    fake = make()
    delivered_order(fake)
    opened = returns.open_return(fake.ports(), "acme", "o-1", [line("l2")], "x")
    with pytest.raises(ReturnRefused, match=r"returns\.inspection is off"):
        returns.inspect_return(fake.ports(), "acme", "o-1", opened["return_id"], "accept", by="a")


# -- never more than bought ----------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    quantities=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    asks=st.lists(
        st.tuples(
            st.sampled_from(["return", "refund"]),
            st.lists(
                st.tuples(st.integers(0, 3), st.none() | st.integers(1, 5)),
                min_size=1,
                max_size=3,
            ),
            st.booleans(),  # a return's parcel comes back (and is refunded on receipt)
        ),
        max_size=8,
    ),
)
def test_never_more_of_a_line_is_returned_or_refunded_than_was_bought(
    quantities: list[int], asks: list[tuple[str, list[tuple[int, int | None]], bool]]
) -> None:
    fake = make()
    order = delivered_order(fake, tuple(quantities)).order
    assert order is not None
    ports = fake.ports()
    for n, (kind, wanted, comes_back) in enumerate(asks):
        lines = [line(f"l{i % len(quantities) + 1}", q) for i, q in wanted]
        if kind == "refund":
            with contextlib.suppress(OperationRefused):
                operations.request_refund(ports, "acme", "o-1", lines=lines, refund_id=f"r{n}")
            continue
        try:
            opened = returns.open_return(ports, "acme", "o-1", lines, "prop")
        except ReturnRefused:
            continue
        if comes_back:
            back = scan("delivered", opened["tracking_code"], DELIVERED + timedelta(days=5))
            returns.return_parcels_moved(ports, "acme", "o-1", fake.orders.add(back))
    held = fake.returns.returned("acme", "o-1")
    # Every refund started, by operators or by returns received: by lines, never more than
    # was bought of any line.
    started: dict[str, int] = {}
    for document in fake.workflows.started.values():
        for asked in document.get("lines") or ():
            bought_q = next(ln.quantity for ln in order.lines if ln.line_id == asked["line_id"])
            started[asked["line_id"]] = started.get(asked["line_id"], 0) + (
                asked.get("quantity") or bought_q
            )
    refunded = lines_refunded(order, fake.refunds.requests("acme", "o-1"))
    by_returns: dict[str, int] = {}
    for record in fake.returns.returns.values():
        for line_id, q in record["lines"].items():
            by_returns[line_id] = by_returns.get(line_id, 0) + q
    for bought in order.lines:
        assert held.get(bought.line_id, 0) == by_returns.get(bought.line_id, 0)
        assert held.get(bought.line_id, 0) + refunded.get(bought.line_id, 0) <= bought.quantity
        assert started.get(bought.line_id, 0) <= bought.quantity


def test_a_refund_by_lines_cannot_take_what_a_return_holds_or_another_refund_took() -> None:
    fake = make()
    delivered_order(fake)
    ports = fake.ports()
    returns.open_return(ports, "acme", "o-1", [line("l1", 1)], "x")
    with pytest.raises(OperationRefused, match="line l1: already returned or refunded: 1 of 2"):
        operations.request_refund(ports, "acme", "o-1", lines=[line("l1", 2)], refund_id="r1")
    assert operations.request_refund(ports, "acme", "o-1", lines=[line("l1", 1)], refund_id="r2")
    # The same request again (a retry) is not refused by its own claim.
    again = operations.request_refund(ports, "acme", "o-1", lines=[line("l1", 1)], refund_id="r2")
    assert again["exists"]
    with pytest.raises(OperationRefused, match="line l1"):
        operations.request_refund(ports, "acme", "o-1", lines=[line("l1")], refund_id="r3")
