"""Vendors are told (docs/payouts.md, "Vendors are told"): through the orders context's
``VendorLedger`` port, each vendor of a confirmed order gets its lines (what to pack and ship,
where), and each cancellation, return or refund touching its lines; once each, whatever retries
and replays, and never at the cost of the order or of the ledger's entries."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.orders import contracts as c
from functions.orders.use_cases import lifecycle, operations, refunds
from functions.payouts.composition import VendorLedgerHooks
from functions.payouts.domain.ledger import Account, Book, EntryKind
from functions.payouts.domain.postings import (
    Context,
    FeeBearer,
    OrderLine,
    Rate,
    SaleLine,
    allocate,
    refund_by_amount,
)
from functions.payouts.domain.vendor_news import order_news, refund_news
from functions.payouts.use_cases.vendors import save_vendor
from shared.events import Address, Customer, LineItem, OrderPlaced, Source
from shared.money import Money
from shared.notices.payouts import VendorNotTold
from shared.tenants import PayoutSettings, TenantSettings
from tests.clocks import FixedClock
from tests.orders_fakes import FakePorts, FakeTenants
from tests.payouts_fakes import InMemoryLedger, parcel, payouts_ports
from tests.unit.test_orders_use_cases import paid
from tests.unit.test_payouts_flows import vendor
from tests.unit.test_payouts_orders_port import ACME, T0

VENDOR_KINDS = {"vendor_order", "vendor_order_change"}


def _placed() -> OrderPlaced:
    def line(line_id: str, name: str, qty: int, price: int, vendor_id: str, sku: str) -> LineItem:
        return LineItem(
            line_id=line_id,
            name=name,
            sku=sku,
            quantity=qty,
            unit_price=Money.of(price, "EUR"),
            vendor_id=vendor_id,
        )

    return OrderPlaced(
        tenant="acme",
        source=Source.SHOP,
        source_event_id="o-1-placed",
        occurred_at=T0,
        order_id="o-1",
        order_number="#1001",
        currency="EUR",
        total=Money.of(6000, "EUR"),
        shipping=Money.of(1000, "EUR"),
        lines=(
            line("l1", "Mug", 2, 1500, "v-a", "MUG-BLUE"),
            line("l2", "Bowl", 1, 2000, "v-b", "BOWL-1"),
        ),
        customer=Customer(email="bob@example.com", name="Bob"),
        shipping_address=Address(
            name="Bob Baker",
            line1="Hauptstraße 5",
            city="Berlin",
            postal_code="10115",
            country="DE",
            phone="+49301234567",
        ),
    )


class Wired:
    def __init__(self, tenant: TenantSettings = ACME) -> None:
        self.fake = FakePorts(clock=FixedClock(T0 + timedelta(days=1)), tenants=FakeTenants(tenant))
        ports, _, self.ledger, _ = payouts_ports(T0 + timedelta(days=1))
        save_vendor(ports, "acme", vendor("v-a"), "ops")
        two_addresses = {**vendor("v-b"), "emails": ["b1@v.example", "b2@v.example"]}
        save_vendor(ports, "acme", two_addresses, "ops")
        self.fake.orders.add(_placed(), paid(amount=6000))
        self.payouts = replace(
            ports,
            mailer=self.fake.mailer,
            notifications=self.fake.notifications,
            sender="Ecom OPS <ops@ecomops.example>",
        )
        self.hooks = VendorLedgerHooks(self.payouts)
        self.orders = replace(self.fake.ports(), vendor_ledger=self.hooks)

    def confirm(self) -> None:
        lifecycle.stage(
            self.orders,
            c.StageInput(
                tenant="acme",
                order_id="o-1",
                action=c.LifecycleAction.STAGE,
                stage=c.Stage.CONFIRMED,
            ),
        )

    def refund(self, refund_id: str, amount: int) -> None:
        refunds.complete(
            self.orders,
            c.CompleteInput(
                tenant="acme",
                order_id="o-1",
                refund_id=refund_id,
                action=c.RefundAction.COMPLETE,
                prepared=c.Prepared(payment_id="pi_1", amount=amount, currency="EUR"),
                cause=c.RefundCause.CUSTOMER_REQUEST,
            ),
        )

    def not_told(self) -> list[VendorNotTold]:
        sent = self.payouts.alerts.sent  # type: ignore[attr-defined]
        return [n for n in sent if isinstance(n, VendorNotTold)]

    def vendor_mails(self) -> list[Any]:
        return [m for m in self.fake.mailer.sent if m.kind in VENDOR_KINDS]


def test_each_vendor_of_a_confirmed_order_is_told_what_to_pack_and_where_to_ship_it() -> None:
    w = Wired()
    w.confirm()
    mails = {m.to: m for m in w.vendor_mails()}
    assert set(mails) == {("v-a@example.com",), ("b1@v.example", "b2@v.example")}
    a = mails[("v-a@example.com",)]
    assert a.subject == "[Acme] New order o-1: please pack and ship"
    assert a.order_id == "o-1" and a.tenant == "acme"
    # Only its own lines: the mug, never the other vendor's bowl.
    assert "2 \N{MULTIPLICATION SIGN} Mug (SKU MUG-BLUE)" in a.text and "Bowl" not in a.text
    for part in ("Bob Baker", "Hauptstraße 5", "10115 Berlin", "Germany", "+49301234567"):
        assert part in a.text and part in a.html
    # Charged: 3000 goods + 600 of the shipping (pro rata); share: less 10 % commission of 3000.
    assert "charged €36.00, your share €33.00" in a.text
    b = mails[("b1@v.example", "b2@v.example")]
    assert "1 \N{MULTIPLICATION SIGN} Bowl (SKU BOWL-1)" in b.text and "Mug" not in b.text
    # The customer's confirmation goes as before, beside the vendors'.
    assert "order_confirmation" in w.fake.mailer.kinds()


def test_a_retried_step_or_a_replayed_confirmation_tells_no_vendor_twice() -> None:
    w = Wired()
    w.confirm()
    w.confirm()
    w.hooks.sold(ACME, w.fake.orders.load("acme", "o-1")[0])
    assert len(w.vendor_mails()) == 2
    assert [e.kind for e in w.ledger.ledger("acme").entries].count(EntryKind.SALE) == 2


def test_a_mail_that_fails_never_fails_the_order_nor_its_ledger_entries() -> None:
    w = Wired()
    w.fake.mailer.fail = True
    w.confirm()  # does not raise
    book = w.ledger.ledger("acme")
    assert book.balance("EUR", Account.vendor("v-a", Book.PENDING)) == 3300
    assert w.fake.notifications.records[("acme", "o-1", "vendor_order:v-a")] == "failed"
    told = w.not_told()
    assert {(n.vendor_id, n.news) for n in told} == {("v-a", "order"), ("v-b", "order")}
    # Mail is back: the next run of the step sends what failed, once.
    w.fake.mailer.fail = False
    w.confirm()
    w.confirm()
    assert len(w.vendor_mails()) == 2


class _BrokenLedger(InMemoryLedger):
    def __init__(self) -> None:
        super().__init__()
        self.broken = True

    def post(self, tenant: str, entries: Any) -> int:
        if self.broken:
            raise ConnectionError("DynamoDB throttled")
        return super().post(tenant, entries)


def test_a_ledger_write_that_fails_does_not_keep_the_vendors_from_being_told() -> None:
    w = Wired()
    broken = _BrokenLedger()
    w.hooks.ports = replace(w.payouts, ledger=broken)
    with pytest.raises(ConnectionError):
        w.confirm()  # the step fails and is retried: the ledger's entries are not lost
    assert len(w.vendor_mails()) == 2
    broken.broken = False
    w.confirm()
    assert [e.kind for e in broken.ledger("acme").entries].count(EntryKind.SALE) == 2
    assert len(w.vendor_mails()) == 2  # the retry sent nothing again


def test_a_cancellation_tells_the_vendors_told_of_the_order_which_lines_are_off() -> None:
    w = Wired()
    w.confirm()
    operations.cancel_order(w.orders, "acme", "o-1", "customer asked")
    operations.cancel_order(w.orders, "acme", "o-1", "customer asked")  # a second cancel
    changes = [m for m in w.vendor_mails() if m.kind == "vendor_order_change"]
    assert len(changes) == 2
    a = next(m for m in changes if m.to == ("v-a@example.com",))
    assert a.subject == "[Acme] Order o-1 is cancelled: do not ship"
    off = "2 \N{MULTIPLICATION SIGN} Mug (SKU MUG-BLUE): charged €36.00, no longer owed €33.00"
    assert off in a.text
    # The refund of the cancelled order is not news to the vendors: the cancellation was.
    w.refund("r-cancel", 6000)
    assert len([m for m in w.vendor_mails() if m.kind == "vendor_order_change"]) == 2


def test_a_vendor_never_told_of_an_order_hears_nothing_of_its_cancellation() -> None:
    w = Wired()
    operations.cancel_order(w.orders, "acme", "o-1", "customer asked")  # before confirmation
    assert w.vendor_mails() == []


def test_a_refund_by_amount_tells_each_vendor_its_share_as_the_ledger_takes_it() -> None:
    w = Wired()
    w.confirm()
    w.fake.orders.add(*parcel("o-1", "1Z1", T0))  # delivered: the release step releases all
    lifecycle.release(
        w.orders, c.ReleaseInput(tenant="acme", order_id="o-1", action=c.LifecycleAction.RELEASE)
    )
    w.refund("r1", 1001)
    w.refund("r1", 1001)  # the step retried
    changes = [m for m in w.vendor_mails() if m.kind == "vendor_order_change"]
    assert len(changes) == 2
    book = w.ledger.ledger("acme")
    taken = {
        v: 3300 - book.balance("EUR", Account.vendor("v-a", Book.AVAILABLE))
        if v == "v-a"
        else 2200 - book.balance("EUR", Account.vendor("v-b", Book.AVAILABLE))
        for v in ("v-a", "v-b")
    }
    a = next(m for m in changes if m.to == ("v-a@example.com",))
    b = next(m for m in changes if m.to != ("v-a@example.com",))
    # 1001 over charged 3600 and 2400: 601 and 400 (largest remainder), the vendor's part of
    # each as the ledger posted it.
    assert "refunded €6.01 for your lines (refund r1)" in a.text
    assert f"€{taken['v-a'] / 100:.2f} is taken from your balance" in a.text
    assert "refunded €4.00 for your lines" in b.text
    assert f"€{taken['v-b'] / 100:.2f} is taken from your balance" in b.text
    assert a.subject == "[Acme] Order o-1 was refunded in part or whole"


def test_a_returns_refund_is_told_as_a_return() -> None:
    w = Wired()
    w.confirm()
    w.refund("return-rt1", 3600)
    changes = [m for m in w.vendor_mails() if m.kind == "vendor_order_change"]
    assert {m.subject for m in changes} == {"[Acme] Items of order o-1 were returned"}


def test_a_return_of_one_vendors_line_is_told_to_that_vendor_only() -> None:
    w = Wired()
    w.confirm()
    # The return's refund as it was asked: v-b's line only.
    w.orders.refunds.claim("acme", "o-1", "return-rt2", {"lines": [{"line_id": "l2"}]})
    w.refund("return-rt2", 1000)
    changes = [m for m in w.vendor_mails() if m.kind == "vendor_order_change"]
    assert [m.to for m in changes] == [("b1@v.example", "b2@v.example")]


def test_a_vendor_without_an_address_is_an_alert_and_the_others_are_told() -> None:
    w = Wired()
    versions = w.payouts.vendors.versions("acme", "v-b")
    versions[-1] = versions[-1].model_copy(
        update={"vendor": versions[-1].vendor.model_copy(update={"emails": ()})}
    )
    w.payouts.vendors.items[("acme", "v-b")] = versions  # type: ignore[attr-defined]
    w.confirm()
    assert [m.to for m in w.vendor_mails()] == [("v-a@example.com",)]
    told = w.not_told()
    assert [(n.vendor_id, n.reason) for n in told] == [("v-b", "the vendor has no e-mail")]


def test_a_shop_that_is_not_a_marketplace_tells_no_vendor() -> None:
    shop = ACME.model_copy(update={"payouts": PayoutSettings(enabled=False)})
    w = Wired(shop)
    w.confirm()
    assert w.vendor_mails() == []


def test_a_vendor_not_paid_in_the_orders_currency_is_still_told_what_to_ship() -> None:
    w = Wired()
    usd_only = {
        **vendor("v-b"),
        "currencies": ["USD"],
        "payout": {**vendor("v-b")["payout"], "currency": "USD"},
    }
    save_vendor(w.payouts, "acme", usd_only, "ops")
    w.confirm()
    b = next(m for m in w.vendor_mails() if m.to == ("v-b@example.com",))
    assert "1 \N{MULTIPLICATION SIGN} Bowl (SKU BOWL-1): charged €24.00, your share €0.00" in b.text


# -- the amounts told, as the ledger posts them ---------------------------------------------------


@st.composite
def _orders(draw: st.DrawFn) -> tuple[OrderPlaced, list[SaleLine]]:
    count = draw(st.integers(1, 6))
    items = [
        LineItem(
            line_id=f"l{i}",
            name=f"Item {i}",
            quantity=draw(st.integers(1, 4)),
            unit_price=Money.of(draw(st.integers(0, 9_999)), "EUR"),
            vendor_id=draw(st.sampled_from(("v-a", "v-b", "v-c"))),
        )
        for i in range(count)
    ]
    rates = {
        item.line_id: Rate(draw(st.integers(0, 10_000)), draw(st.integers(0, 300)))
        for item in items
    }
    gross = sum(i.unit_price.amount * i.quantity for i in items)
    sold = allocate(
        [
            OrderLine(i.line_id, i.vendor_id, i.quantity, i.unit_price.amount, sku=f"S{n}")
            for n, i in enumerate(items)
        ],
        discount=draw(st.integers(0, gross)),
        shipping=draw(st.integers(0, 2_000)),
        tax=draw(st.integers(0, 2_000)),
        gateway_fee=draw(st.integers(0, 500)),
        rates=rates,
        fees_borne_by=draw(st.sampled_from(FeeBearer)),
    )
    placed = OrderPlaced(
        tenant="acme",
        source=Source.SHOP,
        source_event_id="p",
        occurred_at=T0,
        order_id="o-1",
        currency="EUR",
        total=Money.of(sum(line.charged for line in sold), "EUR"),
        lines=tuple(items),
        customer=Customer(email="bob@example.com"),
    )
    return placed, sold


@settings(max_examples=150, deadline=None)
@given(_orders(), st.data())
def test_each_vendor_is_told_its_share_exactly_as_the_ledger_takes_it(
    order: tuple[OrderPlaced, list[SaleLine]], data: st.DataObject
) -> None:
    placed, sold = order
    charged = sum(line.charged for line in sold)
    told = order_news(placed, sold)
    # What the order told the vendors adds up to the order, line by line, once.
    assert sum(n.amount for n in told) == charged
    assert sorted(line.line_id for n in told for line in n.lines) == sorted(
        line.line_id for line in sold
    )
    assert sum(n.vendor_amount for n in told) == sum(line.vendor_net for line in sold)
    amount = data.draw(st.integers(1, max(1, charged)))
    refunded = refund_news(placed, sold, "r1", amount, returned=False)
    ctx = Context("acme", "EUR", "o-1")
    entries = refund_by_amount(ctx, "r1", sold, amount, T0)
    if charged:
        assert sum(n.amount for n in refunded) == amount
    for news in refunded:
        taken = -sum(e.amount_for(Account.vendor(news.vendor_id, Book.AVAILABLE)) for e in entries)
        assert news.vendor_amount == taken
        assert all(line.amount > 0 for line in news.lines)
