"""The orders use cases tell the vendor ledger through their ``VendorLedger`` port (filled by
``functions.payouts.composition``): confirmed → sale, release step → release, cancellation →
void, refund completed → reversal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.orders import contracts as c
from functions.orders.ports import Ports
from functions.orders.use_cases import lifecycle, operations, refunds
from functions.payouts.composition import VendorLedgerHooks
from functions.payouts.domain.ledger import Account, Book, EntryKind
from functions.payouts.use_cases.vendors import save_vendor
from shared.events import Customer, LineItem, OrderPlaced, Source
from shared.money import Money
from shared.tenants import PayoutSettings, TenantSettings
from tests.clocks import FixedClock
from tests.orders_fakes import FakePorts, FakeTenants
from tests.payouts_fakes import InMemoryLedger, parcel, payouts_ports
from tests.unit.test_orders_use_cases import paid
from tests.unit.test_payouts_flows import vendor

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
ACME = TenantSettings(
    id="acme",
    name="Acme",
    currency="EUR",
    customer_sender="shop@acme.example",
    payouts=PayoutSettings(enabled=True),
)


def _placed() -> OrderPlaced:
    return OrderPlaced(
        tenant="acme",
        source=Source.SHOP,
        source_event_id="o-1-placed",
        occurred_at=T0,
        order_id="o-1",
        currency="EUR",
        total=Money.of(5000, "EUR"),
        lines=(
            LineItem(
                line_id="l1",
                name="Mug",
                quantity=2,
                unit_price=Money.of(1500, "EUR"),
                vendor_id="v-a",
            ),
            LineItem(
                line_id="l2",
                name="Bowl",
                quantity=1,
                unit_price=Money.of(2000, "EUR"),
                vendor_id="v-b",
            ),
        ),
        customer=Customer(email="bob@example.com", name="Bob"),
    )


def _wired(shipped: bool = True) -> tuple[FakePorts, c.LifecycleAction, InMemoryLedger, Ports]:
    fake = FakePorts(clock=FixedClock(T0 + timedelta(days=20)), tenants=FakeTenants(ACME))
    ports, _, ledger, _ = payouts_ports(T0 + timedelta(days=20))
    save_vendor(ports, "acme", vendor("v-a"), "ops")
    save_vendor(ports, "acme", vendor("v-b"), "ops")
    fake.orders.add(_placed(), paid(), *(parcel("o-1", "1Z1", T0) if shipped else ()))
    orders = replace(fake.ports(), vendor_ledger=VendorLedgerHooks(ports))
    return fake, c.LifecycleAction.STAGE, ledger, orders


def _step(model: type[Any], action: c.LifecycleAction, **fields: Any) -> Any:
    return model(tenant="acme", order_id="o-1", action=action, **fields)


def test_confirmed_then_released_then_refunded() -> None:
    _, _, ledger, orders = _wired()
    lifecycle.stage(orders, _step(c.StageInput, c.LifecycleAction.STAGE, stage=c.Stage.CONFIRMED))
    book = ledger.ledger("acme")
    assert book.balance("EUR", Account.vendor("v-a", Book.PENDING)) == 3000 - 300
    lifecycle.release(orders, _step(c.ReleaseInput, c.LifecycleAction.RELEASE))
    assert book.balance("EUR", Account.vendor("v-a", Book.AVAILABLE)) == 2700
    assert book.balance("EUR", Account.vendor("v-b", Book.AVAILABLE)) == 1800
    refunds.complete(
        orders,
        c.CompleteInput(
            tenant="acme",
            order_id="o-1",
            refund_id="r1",
            action=c.RefundAction.COMPLETE,
            prepared=c.Prepared(payment_id="pi_1", amount=1000, currency="EUR"),
            cause=c.RefundCause.CUSTOMER_REQUEST,
        ),
    )
    assert [e.kind for e in book.entries].count(EntryKind.REFUND) == 2
    assert book.balance("EUR", Account.vendor("v-a", Book.AVAILABLE)) == 2700 - 540
    assert book.total("EUR") == 0


def test_a_cancellation_before_release_voids_the_sale() -> None:
    _, _, ledger, orders = _wired(shipped=False)
    lifecycle.stage(orders, _step(c.StageInput, c.LifecycleAction.STAGE, stage=c.Stage.CONFIRMED))
    operations.cancel_order(orders, "acme", "o-1", "customer asked")
    book = ledger.ledger("acme")
    assert [e.kind for e in book.entries].count(EntryKind.VOID) == 2
    assert book.balance("EUR", Account.vendor("v-a", Book.PENDING)) == 0
    assert book.balance("EUR", Account.platform(Book.REFUNDS_CLEARING)) == 5000


def _dispute(kind: type[Any], status: str, minutes: int) -> Any:
    return kind(
        tenant="acme",
        source=Source.STRIPE,
        source_event_id=f"evt-dp-{kind.__name__}",
        occurred_at=T0 + timedelta(days=30, minutes=minutes),
        dispute_id="dp_1",
        charge_id="ch_pi_1",
        order_id="o-1",
        amount=Money.of(5000, "EUR"),
        status=status,
    )


def test_a_chargeback_lost_is_borne_by_the_vendors_when_the_tenant_says_so() -> None:
    from functions.orders.use_cases import changes
    from shared.events import DisputeClosed, DisputeFundsWithdrawn, DisputeOpened

    fake, _, ledger, orders = _wired()
    bearing = ACME.model_copy(
        update={"payouts": PayoutSettings(enabled=True, chargebacks_borne_by="vendor")}
    )
    fake.tenants = FakeTenants(bearing)
    orders = replace(orders, tenants=fake.tenants)
    lifecycle.stage(orders, _step(c.StageInput, c.LifecycleAction.STAGE, stage=c.Stage.CONFIRMED))
    lifecycle.release(orders, _step(c.ReleaseInput, c.LifecycleAction.RELEASE))
    for kind, status, minute in (
        (DisputeOpened, "needs_response", 0),
        (DisputeFundsWithdrawn, "needs_response", 1),
        (DisputeClosed, "lost", 2),
    ):
        event = _dispute(kind, status, minute)
        fake.orders.add(event)
        changes.order_changed(orders, event, "o-1", "applied")
        changes.order_changed(orders, event, "o-1", "applied")  # a replay adds nothing
    book = ledger.ledger("acme")
    kinds = [e.kind for e in book.entries]
    assert kinds.count(EntryKind.CHARGEBACK_OPENED) == 1
    assert kinds.count(EntryKind.CHARGEBACK_LOST) == 2  # one per line, pro rata
    assert book.balance("EUR", Account.platform(Book.CHARGEBACK_LOSSES)) == 0
    assert book.balance("EUR", Account.vendor("v-a", Book.AVAILABLE)) == 2700 - 3000
    assert book.balance("EUR", Account.vendor("v-b", Book.AVAILABLE)) == 1800 - 2000
    assert book.total("EUR") == 0


def test_a_refund_asked_by_lines_reaches_the_ledger_with_those_lines() -> None:
    _, _, ledger, orders = _wired()
    lifecycle.stage(orders, _step(c.StageInput, c.LifecycleAction.STAGE, stage=c.Stage.CONFIRMED))
    lifecycle.release(orders, _step(c.ReleaseInput, c.LifecycleAction.RELEASE))
    book = ledger.ledger("acme")
    # As the request was claimed: one of v-b's line, nothing of v-a's.
    orders.refunds.claim("acme", "o-1", "r-lines", {"lines": [{"line_id": "l2"}], "amount": None})
    refunds.complete(
        orders,
        c.CompleteInput(
            tenant="acme",
            order_id="o-1",
            refund_id="r-lines",
            action=c.RefundAction.COMPLETE,
            prepared=c.Prepared(payment_id="pi_1", amount=1000, currency="EUR"),
            cause=c.RefundCause.CUSTOMER_REQUEST,
        ),
    )
    assert book.balance("EUR", Account.vendor("v-a", Book.AVAILABLE)) == 2700
    assert book.balance("EUR", Account.vendor("v-b", Book.AVAILABLE)) == 1800 - 900
    assert [e.line for e in book.entries if e.event_id == "r-lines"] == ["l2"]
