"""The vendor ledger reacting to the orders context: sale, release, void, refunds; unknown
vendors to suspense with an alert; retries add nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from functions.payouts.domain.ledger import PLATFORM, Account, Book, EntryKind
from functions.payouts.use_cases.flows import (
    order_cancelled,
    order_released,
    order_sold,
    refund_completed,
)
from functions.payouts.use_cases.vendors import save_vendor
from shared.events import Customer, LineItem, OrderPlaced, Source
from shared.money import Money
from shared.notices.payouts import UnknownVendor
from shared.order_aggregate import OrderState, apply
from shared.tenants import PayoutSettings, TenantSettings
from tests.payouts_fakes import parcel, payouts_ports

T0 = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)
ACME = TenantSettings(
    id="acme",
    name="Acme",
    currency="EUR",
    customer_sender="shop@acme.example",
    payouts=PayoutSettings(enabled=True, fees_borne_by="vendor"),
)


def eur(n: int) -> Money:
    return Money.of(n, "EUR")


def vendor(vendor_id: str, percent: str = "10", reserve: str = "0") -> dict[str, Any]:
    return {
        "vendor_id": vendor_id,
        "name": vendor_id.upper(),
        "emails": [f"{vendor_id}@example.com"],
        "currencies": ["EUR"],
        "payout": {
            "method": "bank",
            "holder": vendor_id,
            "iban": "DE89370400440532013000",
            "currency": "EUR",
        },
        "commission": [{"percent": percent, "effective_from": "2026-01-01"}],
        "hold": {"reserve_percent": reserve},
    }


def order(order_id: str = "o-1") -> OrderState:
    placed = OrderPlaced(
        tenant="acme",
        source=Source.SHOP,
        source_event_id=f"{order_id}-placed",
        occurred_at=T0,
        order_id=order_id,
        currency="EUR",
        total=eur(6_500),
        lines=(
            LineItem(line_id="l1", name="Mug", quantity=2, unit_price=eur(1_500), vendor_id="v-a"),
            LineItem(line_id="l2", name="Vase", quantity=1, unit_price=eur(3_000), vendor_id="v-b"),
            LineItem(line_id="l3", name="Pot", quantity=1, unit_price=eur(1_000), vendor_id="v-x"),
        ),
        customer=Customer(email="bob@example.com", name="Bob"),
        shipping=eur(500),
        discount=eur(1_000),
    )
    state = apply(OrderState(tenant="acme", order_id=order_id), placed)
    # One parcel without line info (it carries every line), delivered: the release step's
    # lines are all released.
    for event in parcel(order_id, f"1Z-{order_id}", T0):
        state = apply(state, event)
    return state


def _ports() -> Any:
    ports, _, ledger, alerts = payouts_ports()
    save_vendor(ports, "acme", vendor("v-a"), "ops")
    save_vendor(ports, "acme", vendor("v-b", "20", reserve="10"), "ops")
    return ports, ledger, alerts


def test_a_sale_posts_each_line_and_an_unknown_vendor_goes_to_suspense_with_an_alert() -> None:
    ports, ledger, alerts = _ports()
    state = order()
    assert order_sold(ports, ACME, state) == 3
    assert order_sold(ports, ACME, state) == 0  # the step retried
    book = ledger.ledger("acme")
    # l1: 3000 gross, 429 discount (3000/7000 of 1000 → 428.57 → 429 by largest remainder)
    assert book.balance("EUR", Account.vendor("v-a", Book.PENDING)) == 3000 - 429 + 214 - 257
    assert book.balance("EUR", Account.platform(Book.SUSPENSE)) == 1000 - 143 + 72
    assert book.total("EUR") == 0
    notice = alerts.sent[0]
    assert isinstance(notice, UnknownVendor)
    assert (notice.order_id, notice.line_id, notice.vendor_id) == ("o-1", "l3", "v-x")
    assert len(alerts.published) == 1  # the retry's notice is the same one: told once


def test_release_moves_the_released_lines_less_the_reserve_and_only_once() -> None:
    ports, ledger, _ = _ports()
    state = order()
    order_sold(ports, ACME, state)
    assert order_released(ports, ACME, state, ["l2"]) == 1
    assert order_released(ports, ACME, state, ["l1", "l2", "l3"]) == 1  # l1; l3 is in suspense
    assert order_released(ports, ACME, state, ["l1", "l2", "l3"]) == 0
    book = ledger.ledger("acme")
    assert book.balance("EUR", Account.vendor("v-a", Book.PENDING)) == 0
    net_b = book.balance("EUR", Account.vendor("v-b", Book.AVAILABLE)) + book.balance(
        "EUR", Account.vendor("v-b", Book.RESERVED)
    )
    assert book.balance("EUR", Account.vendor("v-b", Book.RESERVED)) == net_b // 10


def test_a_cancellation_before_release_voids_and_its_refund_clears() -> None:
    ports, ledger, _ = _ports()
    state = order()
    order_sold(ports, ACME, state)
    assert order_cancelled(ports, ACME, state) == 3
    assert order_released(ports, ACME, state, ["l1"]) == 0  # voided: never released
    assert refund_completed(ports, ACME, state, "re_cx", 6_500, "EUR") == 1
    balances = ledger.ledger("acme").balances()
    assert all(a.holder == PLATFORM for (_, a) in balances)
    assert balances == {}  # no fee known: nothing left anywhere


def test_a_refund_after_release_takes_back_from_the_vendors_pro_rata() -> None:
    ports, ledger, _ = _ports()
    state = order()
    order_sold(ports, ACME, state)
    order_released(ports, ACME, state, ["l1", "l2"])
    assert refund_completed(ports, ACME, state, "re_1", 1_200, "EUR") == 3
    assert refund_completed(ports, ACME, state, "re_1", 1_200, "EUR") == 0
    assert refund_completed(ports, ACME, state, "re_2", 100, "USD") == 0
    book = ledger.ledger("acme")
    kinds = [e.kind for e in book.entries if e.event_id == "re_1"]
    assert kinds == [EntryKind.REFUND] * 3
    assert book.total("EUR") == 0
    assert order_cancelled(ports, ACME, state) == 0  # released: the refund reverses, no void
    assert refund_completed(ports, ACME, state, "return-r1", 600, "EUR") == 3
    assert {e.kind for e in book.entries if e.event_id == "return-r1"} == {EntryKind.RETURN}


def test_nothing_is_posted_for_an_order_the_ledger_never_sold() -> None:
    ports, ledger, _ = _ports()
    state = order()
    assert order_released(ports, ACME, state, ["l1"]) == 0
    assert order_cancelled(ports, ACME, state) == 0
    assert refund_completed(ports, ACME, state, "re_1", 100, "EUR") == 0
    assert order_sold(ports, ACME, OrderState(tenant="acme", order_id="o-none")) == 0
    assert ledger.ledger("acme").entries == []


def test_a_shop_that_is_not_a_marketplace_keeps_no_vendor_ledger_and_raises_no_alert() -> None:
    ports, ledger, alerts = _ports()
    shop = ACME.model_copy(update={"payouts": PayoutSettings()})
    assert order_sold(ports, shop, order()) == 0
    assert ledger.ledger("acme").entries == [] and alerts.sent == []


def test_a_refund_by_lines_takes_back_only_from_those_lines_vendors() -> None:
    ports, ledger, _ = _ports()
    state = order()
    order_sold(ports, ACME, state)
    order_released(ports, ACME, state, ["l1", "l2"])
    book = ledger.ledger("acme")
    before_a = book.balance("EUR", Account.vendor("v-a", Book.AVAILABLE))
    before_b = book.balance("EUR", Account.vendor("v-b", Book.AVAILABLE))
    # The return of the vase (v-b's line): v-a's mugs are not touched.
    assert refund_completed(ports, ACME, state, "return-r1", 2_000, "EUR", ["l2"]) == 1
    assert book.balance("EUR", Account.vendor("v-a", Book.AVAILABLE)) == before_a
    assert book.balance("EUR", Account.vendor("v-b", Book.AVAILABLE)) < before_b
    (entry,) = [e for e in book.entries if e.event_id == "return-r1"]
    assert (entry.kind, entry.line) == (EntryKind.RETURN, "l2")
    # Lines the sale does not know (or none): the order's lines pro rata, as by amount.
    assert refund_completed(ports, ACME, state, "re_9", 300, "EUR", ["l-unknown"]) == 3
    assert book.total("EUR") == 0
