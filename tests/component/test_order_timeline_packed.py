"""A timeline entry keeps the event it applied packed when that is smaller, and reads it back
as the JSON it was."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from shared import aws
from shared.order_aggregate import TimelineEntry
from shared.order_store import OrderStore
from tests.component.conftest import TABLE

AT = datetime(2026, 3, 2, 12, tzinfo=UTC)


def _entry_item(order_id: str) -> dict[str, Any]:
    answer = aws.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :tl)",
        ExpressionAttributeValues={":pk": {"S": f"T#acme#ORDER#{order_id}"}, ":tl": {"S": "TL#"}},
    )
    (item,) = answer["Items"]
    return dict(item)


def test_a_bulky_event_is_kept_packed_and_read_back_whole(aws_env: dict[str, Any]) -> None:
    event = {
        "lines": [{"sku": f"SKU-{n}", "name": "Walnut desk lamp", "qty": 1} for n in range(40)]
    }
    store = OrderStore(TABLE)
    store.note("acme", "o-1", TimelineEntry(AT, "shop", "e-1", "OrderPlaced", "placed", event))

    item = _entry_item("o-1")
    assert "event" not in item and "event_z" in item
    assert len(item["event_z"]["B"]) < len(json.dumps(event)) / 3
    (entry,) = store.timeline("acme", "o-1")
    assert json.loads(entry["event"]) == event and "event_z" not in entry


def test_a_small_event_stays_text(aws_env: dict[str, Any]) -> None:
    store = OrderStore(TABLE)
    store.note("acme", "o-2", TimelineEntry(AT, "ops", "call-1", "CallMade", "called", {"ok": 1}))

    assert _entry_item("o-2")["event"] == {"S": '{"ok": 1}'}
    (entry,) = store.timeline("acme", "o-2")
    assert json.loads(entry["event"]) == {"ok": 1}
