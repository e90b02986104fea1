"""Orders planted for the queries' component tests, written the way the processor writes them
(``route`` onto the order store), so the lookup entries are the ones production writes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from functions.webhooks.domain.normalise.stripe import balance_transaction_from_stripe
from shared.events import (
    Card,
    OrderCancelled,
    OrderFulfilled,
    PaymentAuthorized,
    PaymentFailed,
    PaymentSucceeded,
    PayoutPaid,
    Refund,
    RefundUpdated,
    Source,
)
from shared.money import Money
from shared.settlement_store import SettlementStore
from tests.component.conftest import TABLE
from tests.component.orders import apply, place
from tests.component.test_reconcile_daily import txn as reconcile_txn

TENANT = "acme"
VISA = Card(fingerprint="fp_visa", bin="424242", last4="4242", brand="visa", country="GB")


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def placed(
    order_id: str,
    at: datetime,
    *,
    amount: int = 2500,
    email: str = "Ann.Smith@Example.com",
    phone: str | None = "020 7946 0958",
    number: str | None = None,
) -> None:
    """An order by Ann, billed in Great Britain (her phone may be national)."""
    place(
        order_id,
        at=at,
        amount=amount,
        email=email,
        phone=phone,
        bill_to="GB",
        order_number=number,
    )


def _payment(order_id: str, payment_id: str, amount: int, card: Card | None) -> dict[str, Any]:
    return {
        "tenant": TENANT,
        "source": Source.STRIPE,
        "order_id": order_id,
        "payment_id": payment_id,
        "charge_id": f"ch_{payment_id}",
        "amount": eur(amount),
        "card": card,
    }


def authorised(
    order_id: str, payment_id: str, amount: int, at: datetime, card: Card | None = VISA
) -> None:
    apply(
        PaymentAuthorized(
            **_payment(order_id, payment_id, amount, card),
            source_event_id=f"evt-auth-{payment_id}",
            occurred_at=at,
        )
    )


def paid(
    order_id: str, payment_id: str, amount: int, at: datetime, card: Card | None = VISA
) -> None:
    apply(
        PaymentSucceeded(
            **_payment(order_id, payment_id, amount, card),
            source_event_id=f"evt-paid-{payment_id}",
            occurred_at=at,
        )
    )


def failed(
    order_id: str,
    payment_id: str,
    amount: int,
    at: datetime,
    code: str = "card_declined",
    card: Card | None = VISA,
) -> None:
    apply(
        PaymentFailed(
            **_payment(order_id, payment_id, amount, card),
            source_event_id=f"evt-failed-{payment_id}",
            occurred_at=at,
            failure_code=code,
        )
    )


def refunded(
    order_id: str,
    payment_id: str,
    refund_id: str,
    amount: int,
    at: datetime,
    *,
    status: str = "succeeded",
    created_at: datetime | None = None,
    failure_reason: str | None = None,
    destination_type: str | None = None,
    network_reference: str | None = None,
) -> None:
    apply(
        RefundUpdated(
            tenant=TENANT,
            source=Source.STRIPE,
            source_event_id=f"evt-{refund_id}-{status}",
            occurred_at=at,
            order_id=order_id,
            payment_id=payment_id,
            charge_id=f"ch_{payment_id}",
            refund=Refund(
                refund_id=refund_id,
                amount=eur(amount),
                status=status,
                created_at=created_at or at,
                failure_reason=failure_reason,
                destination_type=destination_type,
                network_reference=network_reference,
            ),
        )
    )


def cancelled(order_id: str, at: datetime) -> None:
    apply(
        OrderCancelled(
            tenant=TENANT,
            source=Source.SHOP,
            source_event_id=f"{order_id}-cancelled",
            occurred_at=at,
            order_id=order_id,
        )
    )


def shipped(order_id: str, tracking_code: str, at: datetime) -> None:
    apply(
        OrderFulfilled(
            tenant=TENANT,
            source=Source.SHOP,
            source_event_id=f"{order_id}-{tracking_code}",
            occurred_at=at,
            order_id=order_id,
            tracking_code=tracking_code,
            carrier="ups",
        )
    )


# -- payouts -------------------------------------------------------------------------------------


def txn(
    txn_id: str,
    category: str,
    amount: int,
    fee: int,
    at: datetime,
    source: str | None = None,
    fee_details: tuple[tuple[str, int], ...] = (),
    exchange_rate: float | None = None,
) -> dict[str, Any]:
    """A Stripe balance transaction as reconciliation's tests write them, at ``at``, with its
    fee itemised and the rate it was converted at."""
    return {
        **reconcile_txn(txn_id, source or "", amount, fee, category),
        "source": source,
        "created": int(at.timestamp()),
        "fee_details": [
            {"type": kind, "amount": value, "currency": "eur"} for kind, value in fee_details
        ],
        "exchange_rate": exchange_rate,
    }


def payout(payout_id: str, txns: list[dict[str, Any]], arrival: date) -> int:
    net = int(sum(t["net"] for t in txns))
    store = SettlementStore(TABLE)
    store.apply(
        PayoutPaid(
            tenant="acme",
            source=Source.STRIPE,
            source_event_id=f"evt-{payout_id}",
            occurred_at=datetime.combine(arrival, datetime.min.time(), UTC) - timedelta(hours=6),
            payout_id=payout_id,
            amount=Money.of(net, "EUR"),
            arrival_date=datetime.combine(arrival, datetime.min.time(), UTC),
            status="paid",
        )
    )
    store.file_balance_transactions(
        "acme", payout_id, [balance_transaction_from_stripe(t, payout_id=payout_id) for t in txns]
    )
    return net
