"""What changed on which day, on moto: the processor notes every order a stored event changed
(once per order and day, with a TTL), and the daily loader reads those orders beside the ones
placed that day, and those cancelled within the tenant's window (13.5)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3

from functions.orders.contracts import Stage
from functions.reconcile.adapters.loader import DayLoader
from functions.reconcile.ports import LoadWindow
from shared import keys
from shared.lifecycle_store import LifecycleStore
from shared.order_changes import OrderChanges
from shared.retention import RAW_EVENT_DAYS
from tests.clocks import FixedClock
from tests.component import orders
from tests.component.conftest import TABLE

DAY = date(2026, 11, 20)
PLACED = datetime(2026, 11, 2, 9, tzinfo=UTC)  # 18 days before the day


def stripe_refund_failed(created: datetime) -> dict[str, Any]:
    return {
        "id": "evt_refund_failed",
        "object": "event",
        "type": "refund.failed",
        "created": int(created.timestamp()),
        "data": {
            "object": {
                "id": "re_1",
                "object": "refund",
                "amount": 2500,
                "currency": "eur",
                "charge": "ch_pi_old",
                "payment_intent": "pi_old",
                "status": "failed",
                "failure_reason": "expired_or_canceled_card",
                "metadata": {"order_id": "o-old"},
                "created": int(PLACED.timestamp()) + 600,
            }
        },
    }


def processed(document: dict[str, Any], received: datetime) -> None:
    assert orders.process_stripe(document, received) == "applied"


def noted(day: date) -> list[dict[str, Any]]:
    answer = boto3.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.changed_orders_pk("acme", day)}},
    )
    return list(answer["Items"])


def test_the_processor_notes_a_changed_order_once_per_day_with_a_ttl(
    aws_env: dict[str, Any],
) -> None:
    orders.place("o-old", at=PLACED)
    orders.pay("o-old", "pi_old", 2500, PLACED)
    failed_at = datetime(2026, 11, 20, 8, tzinfo=UTC)
    # Stripe retried for a day before we took the event: noted under both days.
    processed(stripe_refund_failed(failed_at), failed_at + timedelta(days=1))
    processed(stripe_refund_failed(failed_at), failed_at + timedelta(days=1))  # a replay
    (item,) = noted(DAY)
    assert item["order_id"]["S"] == "o-old"
    # Kept as long as the tenant's financial records, never shorter than the raw webhooks.
    expires = datetime.fromtimestamp(int(item["expires_at"]["N"]), UTC)
    assert expires - failed_at >= timedelta(days=RAW_EVENT_DAYS)
    assert [i["order_id"]["S"] for i in noted(DAY + timedelta(days=1))] == ["o-old"]
    assert OrderChanges(TABLE).note("acme", "o-old", [DAY]) == 0


def test_the_day_covers_orders_placed_or_changed_that_day(aws_env: dict[str, Any]) -> None:
    """The defect: ``DayLoader`` read orders by placed time only, so a refund that failed on
    an order placed weeks earlier was never looked at again."""
    orders.place("o-today", at=datetime(2026, 11, 20, 10, tzinfo=UTC))
    orders.place("o-old", at=PLACED)
    orders.pay("o-old", "pi_old", 2500, PLACED)
    orders.place("o-untouched", at=PLACED)
    failed_at = datetime(2026, 11, 20, 8, tzinfo=UTC)
    processed(stripe_refund_failed(failed_at), failed_at)
    inputs = DayLoader(TABLE).load(
        "acme", DAY, "Europe/Amsterdam", LoadWindow(2, 3, cancellation_window_days=0)
    )
    assert sorted(o.order_id for o in inputs.orders) == ["o-old", "o-today"]
    (refund,) = inputs.refunds
    assert (refund.refund_id, refund.status, refund.failure_reason) == (
        "re_1",
        "failed",
        "expired_or_canceled_card",
    )


def test_orders_cancelled_in_the_window_are_checked_every_day(aws_env: dict[str, Any]) -> None:
    """Cancelled 18 and 45 days before the day (placed long before that, and unchanged since):
    the tenant's window decides which cancellations the day checks for their refund."""
    placed = datetime(2026, 8, 1, 9, tzinfo=UTC)
    for order_id, days_back in (("o-in", 18), ("o-out", 45)):
        orders.place(order_id, at=placed)
        orders.pay(order_id, f"pi_{order_id}", 2500, placed)
        cancelled = datetime(2026, 11, 20, 9, tzinfo=UTC) - timedelta(days=days_back)
        LifecycleStore(TABLE, FixedClock(cancelled)).set_stage(
            "acme", order_id, Stage.CANCELLED, "rejected in review"
        )
    loader = DayLoader(TABLE)
    window = LoadWindow(2, 3, cancellation_window_days=30)
    inputs = loader.load("acme", DAY, "UTC", window)
    assert [(o.order_id, o.status) for o in inputs.orders] == [("o-in", "cancelled")]
    wider = loader.load("acme", DAY, "UTC", LoadWindow(2, 3, cancellation_window_days=60))
    assert sorted(o.order_id for o in wider.orders) == ["o-in", "o-out"]
    # Cancelled is also a change of its day, once.
    assert [i["order_id"]["S"] for i in noted(DAY - timedelta(days=18))] == ["o-in"]
