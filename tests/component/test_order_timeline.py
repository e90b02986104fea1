"""An order's timeline on moto: an entry stores what its sort key does not already say (time,
source and event id are in the key, tenant and order in the partition) and no copy of the
event; it reads back whole. Entries written in the earlier, fuller shape read the same."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from functions.orders.adapters.notification_log import DynamoNotificationLog
from shared import aws, keys
from shared.order_aggregate import TimelineEntry
from shared.order_store import OrderStore
from tests.clocks import FixedClock
from tests.component.conftest import TABLE

AT = datetime(2026, 3, 2, 12, tzinfo=UTC)
TTL = keys.TABLE.ttl_attribute


def _entry_items(order_id: str) -> list[dict[str, Any]]:
    answer = aws.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :tl)",
        ExpressionAttributeValues={":pk": {"S": f"T#acme#ORDER#{order_id}"}, ":tl": {"S": "TL#"}},
    )
    return list(answer["Items"])


def test_an_entry_keeps_only_what_its_key_does_not_say(aws_env: dict[str, Any]) -> None:
    store = OrderStore(TABLE, FixedClock(AT))
    # An event id may hold the separator: everything after the source is the id.
    store.note("acme", "o-1", TimelineEntry(AT, "shop", "e#1", "OrderPlaced", "placed 3 lines"))

    (item,) = _entry_items("o-1")
    assert set(item) == {"PK", "SK", "kind", "event_kind", "summary", TTL}
    assert store.timeline("acme", "o-1") == [
        {
            "PK": "T#acme#ORDER#o-1",
            "SK": item["SK"]["S"],
            "occurred_at": "2026-03-02T12:00:00+00:00",
            "source": "shop",
            "event_id": "e#1",
            "kind": "timeline",
            "event_kind": "OrderPlaced",
            "summary": "placed 3 lines",
            TTL: item[TTL]["N"],
        }
    ]


def test_an_entry_in_the_earlier_shape_reads_the_same_without_its_event_copy(
    aws_env: dict[str, Any],
) -> None:
    sk = keys.timeline_sk("2026-03-02T12:00:00+00:00", "stripe", "evt_1")
    aws.client("dynamodb").put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": "T#acme#ORDER#o-2"},
            "SK": {"S": sk},
            "kind": {"S": "timeline"},
            "tenant": {"S": "acme"},
            "order_id": {"S": "o-2"},
            "event_kind": {"S": "PaymentSucceeded"},
            "source": {"S": "stripe"},
            "event_id": {"S": "evt_1"},
            "summary": {"S": "paid EUR 50.00"},
            "occurred_at": {"S": "2026-03-02T12:00:00+00:00"},
            "event_z": {"B": b"\x00packed"},
        },
    )

    (entry,) = OrderStore(TABLE).timeline("acme", "o-2")
    assert entry["occurred_at"] == "2026-03-02T12:00:00+00:00"
    assert (entry["source"], entry["event_id"], entry["event_kind"]) == (
        "stripe",
        "evt_1",
        "PaymentSucceeded",
    )
    assert "event_z" not in entry and "event" not in entry


def test_an_emails_entry_keeps_its_message_id_and_both_items_expire_with_the_order(
    aws_env: dict[str, Any],
) -> None:
    clock = FixedClock(AT)
    DynamoNotificationLog(TABLE, clock).record(
        "acme", "o-3", "order_shipped", "sent", "ses-0001", "Your order is on its way"
    )

    (entry,) = OrderStore(TABLE, clock).timeline("acme", "o-3")
    assert (entry["source"], entry["event_id"], entry["event_kind"]) == (
        "notify",
        "ses-0001",
        "NotificationSent",
    )
    assert entry["summary"] == "e-mail order_shipped: Your order is on its way"
    assert entry["occurred_at"] == AT.isoformat()
    notice = aws.client("dynamodb").get_item(
        TableName=TABLE,
        Key={"PK": {"S": "T#acme#ORDER#o-3"}, "SK": {"S": keys.notify_sk("order_shipped")}},
    )["Item"]
    (item,) = _entry_items("o-3")
    assert notice[TTL] == item[TTL]
    assert int(item[TTL]["N"]) > AT.timestamp() + 6 * 365 * 86_400
