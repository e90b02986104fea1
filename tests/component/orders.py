"""Orders written the way the processor writes them (``route`` onto the order store), for the
component tests of what reads orders back: screening, backtests, reconciliation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from functions.webhooks.use_cases.apply import route
from shared.events import Address, Customer, LineItem, OrderPlaced, PaymentSucceeded, Source
from shared.money import Money
from shared.order_store import OrderStore
from tests.component.conftest import TABLE


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def apply(event: Any, table: str = TABLE) -> str:
    result = route(event, OrderStore(table))
    assert result in ("applied", "duplicate"), result
    return result


def place(
    order_id: str,
    *,
    at: datetime,
    amount: int = 2500,
    tenant: str = "acme",
    email: str | None = None,
    ip: str | None = "81.2.69.142",
    bill_to: str | None = None,
    ship_to: str | None = None,
    phone: str | None = None,
    order_number: str | None = None,
) -> None:
    """One order of one line; addresses only when a country is given."""

    def address(country: str | None) -> Address | None:
        return Address(line1="1 High St", postal_code="N1", country=country) if country else None

    apply(
        OrderPlaced(
            tenant=tenant,
            source=Source.SHOP,
            source_event_id=f"{order_id}-placed",
            occurred_at=at,
            order_id=order_id,
            order_number=order_number,
            currency="EUR",
            total=eur(amount),
            lines=(
                LineItem(
                    line_id="l1", name="Lamp", quantity=1, unit_price=eur(amount), vendor_id="v1"
                ),
            ),
            customer=Customer(
                email=email or f"{order_id}@example.com", name="Ann", ip=ip, phone=phone
            ),
            billing_address=address(bill_to),
            shipping_address=address(ship_to),
        )
    )


def pay(order_id: str, payment_id: str, amount: int, at: datetime, tenant: str = "acme") -> None:
    apply(
        PaymentSucceeded(
            tenant=tenant,
            source=Source.STRIPE,
            source_event_id=f"evt-{payment_id}",
            occurred_at=at,
            order_id=order_id,
            payment_id=payment_id,
            charge_id=f"ch_{payment_id}",
            amount=eur(amount),
        )
    )


class NoPayouts:
    """The gateway, asked only about payouts (none in these tests)."""

    def balance_transactions_for_payout(self, payout_id: str) -> list[dict[str, Any]]:
        raise AssertionError(f"no payout in this test, asked for {payout_id}")


def process_stripe(document: dict[str, Any], received: datetime, *, disputes: Any = None) -> str:
    """A Stripe event stored as the front door stores it, then processed as the processor
    does; the change notes dated when the test says the event reached us."""
    import json

    from functions.webhooks.use_cases.process import Dependencies, process
    from shared.order_changes import OrderChanges
    from shared.raw_events import RawEventStore
    from shared.settlement_store import SettlementStore
    from tests.clocks import FixedClock
    from tests.component.conftest import ARCHIVE

    raw_events = RawEventStore(TABLE, ARCHIVE)
    raw_events.put_new(
        tenant="acme",
        source="stripe",
        event_id=document["id"],
        event_type=document["type"],
        body=json.dumps(document).encode(),
        received_at=received.isoformat(timespec="microseconds"),
    )
    raw = raw_events.get("acme", "stripe", document["id"])
    assert raw is not None
    store = OrderStore(TABLE)
    deps = Dependencies(
        raw_events=raw_events,
        orders=store,
        settlements=SettlementStore(TABLE),
        gateway_for=lambda tenant: NoPayouts(),
        changes=OrderChanges(TABLE, clock=FixedClock(received)),
        disputes=disputes(store) if disputes is not None else None,
    )
    return process(raw, deps)
