"""Parcels and holds: a line is released only when every parcel carrying it was delivered; the
others are held (not delivered, not shipped, reshipped) until an operator releases or voids them;
a claim the carrier paid credits the parcel's vendors. Over fakes (``tests/payouts_fakes.py``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.orders import contracts as c
from functions.orders.use_cases import lifecycle, parcels
from functions.payouts.composition import VendorLedgerHooks
from functions.payouts.domain.ledger import Account, Book, EntryKind
from functions.payouts.domain.parcels import (
    HoldReason,
    HoldStatus,
    Parcel,
    release_plan,
)
from functions.payouts.domain.postings import Refused
from functions.payouts.use_cases.flows import (
    order_delivery_problem,
    order_released,
    order_sold,
    refund_completed,
)
from functions.payouts.use_cases.holds import NoHolds, decide, parcels_of
from functions.payouts.use_cases.vendors import save_vendor
from shared.events import Customer, LineItem, OrderPlaced, Source
from shared.notices.payouts import VendorLinesHeld
from shared.order_aggregate import OrderState, apply
from tests.orders_fakes import FakePorts, FakeTenants
from tests.payouts_fakes import parcel, payouts_ports
from tests.unit.test_orders_use_cases import eur, paid
from tests.unit.test_payouts_flows import vendor
from tests.unit.test_payouts_orders_port import ACME

T0 = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
LINES = ("l1", "l2", "l3")


def placed(order_id: str = "o-1") -> OrderPlaced:
    """Three lines of two vendors: l1 v-a 30.00, l2 v-b 20.00, l3 v-a 10.00."""
    return OrderPlaced(
        tenant="acme",
        source=Source.SHOP,
        source_event_id=f"{order_id}-placed",
        occurred_at=T0,
        order_id=order_id,
        currency="EUR",
        total=eur(6_000),
        lines=(
            LineItem(line_id="l1", name="Mug", quantity=2, unit_price=eur(1_500), vendor_id="v-a"),
            LineItem(line_id="l2", name="Vase", quantity=1, unit_price=eur(2_000), vendor_id="v-b"),
            LineItem(line_id="l3", name="Pot", quantity=1, unit_price=eur(1_000), vendor_id="v-a"),
        ),
        customer=Customer(email="bob@example.com", name="Bob"),
    )


def state_of(*events: Any) -> OrderState:
    state = OrderState(tenant="acme", order_id="o-1")
    for event in (placed(), *events):
        state = apply(state, event)
    return state


def sold_ports() -> Any:
    ports, _, ledger, alerts = payouts_ports(T0 + timedelta(days=20))
    save_vendor(ports, "acme", vendor("v-a"), "ops")
    save_vendor(ports, "acme", vendor("v-b"), "ops")
    order_sold(ports, ACME, state_of())
    return ports, ledger.ledger("acme"), alerts


def bal(book: Any, vendor_id: str, kind: Book) -> int:
    return int(book.balance("EUR", Account.vendor(vendor_id, kind)))


# -- the plan ------------------------------------------------------------------------------------


def test_a_line_is_released_only_when_its_own_parcel_was_delivered() -> None:
    plan = release_plan(
        LINES,
        [
            Parcel("1ZA", ("l1", "l3"), delivered=True, state="delivered"),
            Parcel("1ZB", ("l2",), delivered=False, state="lost"),
        ],
    )
    assert plan.released == ("l1", "l3")
    (held,) = plan.held
    assert (held.line_id, held.reason, held.detail) == ("l2", HoldReason.NOT_DELIVERED, "1ZB lost")


def test_a_parcel_without_line_info_carries_the_lines_no_other_parcel_names() -> None:
    both = [Parcel("1ZA", ("l1",), delivered=True), Parcel("1ZB", (), delivered=True)]
    assert release_plan(LINES, both).released == LINES
    late = [Parcel("1ZA", ("l1",), delivered=True), Parcel("1ZB", (), state="in_transit")]
    plan = release_plan(LINES, late)
    assert plan.released == ("l1",)
    assert [(h.line_id, h.reason) for h in plan.held] == [
        ("l2", HoldReason.NOT_DELIVERED),
        ("l3", HoldReason.NOT_DELIVERED),
    ]


def test_a_line_no_parcel_carries_and_a_reshipped_line_are_held() -> None:
    plan = release_plan(
        LINES,
        [
            Parcel("1ZA", ("l1",), delivered=False, state="lost"),
            Parcel("1ZC", ("l1", "l2"), delivered=True, state="delivered"),
        ],
    )
    assert plan.released == ("l2",)
    assert [(h.line_id, h.reason) for h in plan.held] == [
        ("l1", HoldReason.RESHIPPED),
        ("l3", HoldReason.NOT_SHIPPED),
    ]
    assert plan.held[0].detail == "1ZA lost, 1ZC delivered"


# Each parcel: which lines the shop named (possibly none) and how its journey ended.
_PARCELS = st.lists(
    st.tuples(
        st.lists(st.sampled_from(LINES), unique=True, max_size=2),
        st.sampled_from([None, "in_transit", "delivered", "lost", "return_to_sender"]),
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=60, deadline=None)
@given(parcels_=_PARCELS, data=st.data())
def test_parcels_reported_in_any_order_and_twice_give_the_same_releases(
    parcels_: list[tuple[list[str], str | None]], data: st.DataObject
) -> None:
    events = [
        e
        for i, (lines, status) in enumerate(parcels_)
        for e in parcel("o-1", f"1Z{i}", T0 + timedelta(hours=i), lines=lines, status=status)
    ]
    shuffled = data.draw(st.permutations(events + data.draw(st.lists(st.sampled_from(events)))))
    expected = release_plan(LINES, parcels_of(state_of(*events)))
    assert release_plan(LINES, parcels_of(state_of(*shuffled))) == expected
    held = [h.line_id for h in expected.held]
    assert sorted([*expected.released, *held]) == sorted(LINES)  # each line once: paid or held
    # Never released: a line a parcel that did not arrive carries.
    undelivered = {
        line
        for lines, status in parcels_
        if status != "delivered"
        for line in (lines or [x for x in LINES if all(x not in n for n, _ in parcels_)])
    }
    assert not undelivered & set(expected.released)
    # And the ledger moves the same whatever order the facts came in.
    first, book1, _ = sold_ports()
    second, book2, _ = sold_ports()
    order_released(first, ACME, state_of(*events), list(LINES))
    order_released(second, ACME, state_of(*shuffled), list(LINES))
    assert book1.balances() == book2.balances()
    assert sorted(h.line_id for h in first.holds.held("acme")) == sorted(
        h.line_id for h in expected.held
    )


# -- the flows -----------------------------------------------------------------------------------


def _lost_b() -> OrderState:
    return state_of(
        *parcel("o-1", "1ZA", T0, lines=["l1", "l3"]),
        *parcel("o-1", "1ZB", T0, lines=["l2"], status="lost"),
    )


def test_the_release_step_releases_the_delivered_lines_and_holds_the_rest_once() -> None:
    ports, book, alerts = sold_ports()
    state = _lost_b()
    assert order_released(ports, ACME, state, list(LINES)) == 2
    assert bal(book, "v-a", Book.AVAILABLE) == 3600  # 3000 + 1000 less 10 %
    assert bal(book, "v-b", Book.PENDING) == 1800 and bal(book, "v-b", Book.AVAILABLE) == 0
    (hold,) = ports.holds.held("acme", HoldStatus.OPEN)
    assert (hold.line_id, hold.vendor_id, hold.reason) == ("l2", "v-b", HoldReason.NOT_DELIVERED)
    assert order_released(ports, ACME, state, list(LINES)) == 0  # retried: nothing twice
    held = [n for n in alerts.sent if isinstance(n, VendorLinesHeld)]
    assert held[0].lines == ("l2 (not_delivered: 1ZB lost)",)
    assert len(alerts.published) == 1  # told once, whatever the retries


def test_a_delivery_problem_holds_at_once_and_a_late_delivery_does_not_release_it() -> None:
    ports, book, _ = sold_ports()
    assert order_delivery_problem(ports, ACME, _lost_b()) == 1
    # The parcel turns up after the lifecycle ended in the exception: still an operator's call.
    found = apply(_lost_b(), parcel("o-1", "1ZB", T0 + timedelta(days=3), lines=["l2"])[1])
    assert order_released(ports, ACME, found, list(LINES)) == 2
    assert bal(book, "v-b", Book.AVAILABLE) == 0 and bal(book, "v-b", Book.PENDING) == 1800


def test_an_operator_releases_a_held_line_once_with_who_and_why() -> None:
    ports, book, _ = sold_ports()
    order_released(ports, ACME, _lost_b(), list(LINES))
    (moved,) = decide(ports, ACME, "o-1", "release", reason="found at the depot", who="ann")
    assert (moved.status, moved.decided_by, moved.decision_reason) == (
        HoldStatus.RELEASED,
        "ann",
        "found at the depot",
    )
    assert bal(book, "v-b", Book.AVAILABLE) == 1800 and bal(book, "v-b", Book.PENDING) == 0
    entries = len(book.entries)
    # A retry of the same decision finishes nothing twice; the lifecycle's release after it
    # is the same entry.
    decide(ports, ACME, "o-1", "release", reason="again", who="ann", line_ids=["l2"])
    order_released(ports, ACME, _lost_b(), list(LINES))
    assert len(book.entries) == entries and bal(book, "v-b", Book.AVAILABLE) == 1800
    with pytest.raises(Refused, match="released already by ann"):
        decide(ports, ACME, "o-1", "void", reason="changed my mind", who="bob", line_ids=["l2"])
    with pytest.raises(NoHolds):
        decide(ports, ACME, "o-1", "void", reason="x", who="bob")  # no open hold left


def test_a_decision_without_reason_or_operator_is_refused_with_every_reason() -> None:
    ports, book, _ = sold_ports()
    order_released(ports, ACME, _lost_b(), list(LINES))
    before = len(book.entries)
    with pytest.raises(Refused) as refused:
        decide(ports, ACME, "o-1", "pay", reason=" ", who="")
    assert refused.value.reasons == [
        "a hold is decided by release or void",
        "a decision on a hold needs a reason",
        "a decision on a hold needs the operator who takes it",
    ]
    assert len(book.entries) == before
    assert ports.holds.held("acme", HoldStatus.OPEN)[0].decided_by is None
    with pytest.raises(NoHolds, match="holds no line l9"):
        decide(ports, ACME, "o-1", "release", reason="x", who="ann", line_ids=["l9"])


def test_a_voided_held_line_is_never_paid_and_its_refund_leaves_refunds_clearing() -> None:
    ports, book, _ = sold_ports()
    state = _lost_b()
    order_released(ports, ACME, state, list(LINES))
    decide(ports, ACME, "o-1", "void", reason="lost; customer refunded", who="ann")
    assert bal(book, "v-b", Book.PENDING) == 0 and bal(book, "v-b", Book.AVAILABLE) == 0
    clearing = Account.platform(Book.REFUNDS_CLEARING)
    assert book.balance("EUR", clearing) == 2000
    # The refund of the lost vase: 20.00 over the lines as they charged (30:20:10 → 10, 6.67,
    # 3.33); the voided line's share leaves clearing, the delivered lines' vendor gives back its.
    refund_completed(ports, ACME, state, "r-lost", 2000, "EUR")
    assert book.balance("EUR", clearing) == 2000 - 667
    assert bal(book, "v-a", Book.AVAILABLE) == 3600 - 900 - 300
    assert bal(book, "v-b", Book.AVAILABLE) == 0
    assert order_released(ports, ACME, state, list(LINES)) == 0  # voided: never released
    assert book.total("EUR") == 0


def test_a_claim_the_carrier_paid_credits_the_parcels_vendor_once() -> None:
    """Through the orders context: an operator records the carrier's payment of the claim."""
    fake = FakePorts(clock=parcels_clock(), tenants=FakeTenants(ACME))
    ports, book, _ = sold_ports()
    lost = parcel("o-1", "1ZB", T0, lines=["l2"], status="lost")
    fake.orders.add(
        placed(), paid(amount=6000), *parcel("o-1", "1ZA", T0, lines=["l1", "l3"]), *lost
    )
    orders = replace(fake.ports(), vendor_ledger=VendorLedgerHooks(ports))
    state, _ = fake.orders.load("acme", "o-1")
    parcels.parcel_news(orders, "acme", "o-1", state)  # the loss opens a claim for 1ZB's lines
    parcels.move_claim(orders, "acme", "o-1", "1ZB", "accepted", by="ann", reference="UPS-9")
    parcels.move_claim(orders, "acme", "o-1", "1ZB", "paid", by="ann", amount_paid=1500)
    claims = [e for e in book.entries if e.kind is EntryKind.CARRIER_CLAIM]
    assert [(e.line, e.refs["claim"]) for e in claims] == [("l2", "claim-1ZB")]
    assert bal(book, "v-b", Book.AVAILABLE) == 1500
    # Recorded again (a retry of the hook): the same entry, nothing twice.
    VendorLedgerHooks(ports).claim_paid(ACME, state, "1ZB", 1500, ["l2"])
    assert bal(book, "v-b", Book.AVAILABLE) == 1500 and book.total("EUR") == 0


def test_the_lifecycles_delivery_problem_step_holds_the_undelivered_lines() -> None:
    fake = FakePorts(clock=parcels_clock(), tenants=FakeTenants(ACME))
    ports, book, _ = sold_ports()
    fake.orders.add(
        placed(),
        paid(amount=6000),
        *parcel("o-1", "1ZA", T0, lines=["l1", "l3"]),
        *parcel("o-1", "1ZB", T0, lines=["l2"], status="return_to_sender"),
    )
    orders = replace(fake.ports(), vendor_ledger=VendorLedgerHooks(ports))
    step = c.StageInput(
        tenant="acme",
        order_id="o-1",
        action=c.LifecycleAction.STAGE,
        stage=c.Stage.DELIVERY_PROBLEM,
        shipment="return_to_sender",
    )
    lifecycle.stage(orders, step)
    assert [(h.line_id, h.detail) for h in ports.holds.held("acme")] == [
        ("l2", "1ZB return_to_sender")
    ]
    release = c.ReleaseInput(
        tenant="acme", order_id="o-1", action=c.LifecycleAction.RELEASE, delivered_only=True
    )
    assert lifecycle.release(orders, release) == {"released": 2}
    assert bal(book, "v-a", Book.AVAILABLE) == 3600 and bal(book, "v-b", Book.PENDING) == 1800


def parcels_clock() -> Any:
    from tests.clocks import FixedClock

    return FixedClock(T0 + timedelta(days=20))


def test_a_decision_that_failed_after_marking_the_hold_is_finished_by_its_retry() -> None:
    ports, book, _ = sold_ports()
    order_released(ports, ACME, _lost_b(), list(LINES))
    post = ports.ledger.post
    calls = {"n": 0}

    def flaky(tenant: str, entries: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("the table did not answer")
        return int(post(tenant, entries))

    ports.ledger.post = flaky
    with pytest.raises(ConnectionError):
        decide(ports, ACME, "o-1", "release", reason="found", who="ann")
    assert ports.holds.of_order("acme", "o-1")[0].status is HoldStatus.RELEASED
    assert bal(book, "v-b", Book.AVAILABLE) == 0  # marked, not posted yet
    # Another operator cannot void it meanwhile; the retry (no lines named) finishes it.
    with pytest.raises(Refused, match="released already"):
        decide(ports, ACME, "o-1", "void", reason="x", who="bob", line_ids=["l2"])
    decide(ports, ACME, "o-1", "release", reason="found", who="ann")
    assert bal(book, "v-b", Book.AVAILABLE) == 1800


@pytest.mark.parametrize(
    "steps",
    [
        ("void", "refund"),
        ("refund", "void"),
        ("refund", "void", "refund"),  # the refund's step replayed after the void
        ("void", "refund", "void", "refund"),
    ],
)
def test_a_void_and_a_refund_give_the_same_balances_in_either_order(
    steps: tuple[str, ...],
) -> None:
    def run(order: tuple[str, ...]) -> Any:
        ports, book, _ = sold_ports()
        state = _lost_b()
        order_released(ports, ACME, state, list(LINES))
        for step in order:
            if step == "void":
                decide(ports, ACME, "o-1", "void", reason="lost", who="ann", line_ids=["l2"])
            else:
                refund_completed(ports, ACME, state, "r-lost", 2000, "EUR")
        return book

    expected = run(("void", "refund"))
    book = run(steps)
    assert book.balances() == expected.balances()
    assert bal(book, "v-b", Book.AVAILABLE) == 0 and bal(book, "v-b", Book.PENDING) == 0
    # What is left to refund of the voided vase: 20.00 less its 6.67 share of the refund.
    assert book.balance("EUR", Account.platform(Book.REFUNDS_CLEARING)) == 2000 - 667
    assert book.total("EUR") == 0


def test_a_refund_of_the_voided_line_alone_leaves_refunds_clearing_and_no_vendor() -> None:
    ports, book, _ = sold_ports()
    state = _lost_b()
    order_released(ports, ACME, state, list(LINES))
    decide(ports, ACME, "o-1", "void", reason="lost; refunded", who="ann")
    refund_completed(ports, ACME, state, "r-vase", 2000, "EUR", line_ids=["l2"])
    assert book.balance("EUR", Account.platform(Book.REFUNDS_CLEARING)) == 0
    assert bal(book, "v-a", Book.AVAILABLE) == 3600 and bal(book, "v-b", Book.AVAILABLE) == 0
    assert book.total("EUR") == 0
