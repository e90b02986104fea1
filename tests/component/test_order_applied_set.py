"""The order item's applied set on moto: each event is recorded by the SHA-256 of its whole
timeline key (never a truncated one), so a redelivery is a duplicate however the store is
reached; an item that still holds the keys themselves (written before) reads the same, and
its next write holds digests."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from shared import aws
from shared.order_aggregate import OrderState, TimelineEntry
from shared.order_store import OrderStore
from tests.clocks import FixedClock
from tests.component.conftest import TABLE

AT = datetime(2026, 3, 2, 12, tzinfo=UTC)
KEY = {"PK": {"S": "T#acme#ORDER#o-1"}, "SK": {"S": "ORDER"}}


def _entry(event_id: str) -> TimelineEntry:
    return TimelineEntry(AT, "stripe", event_id, "PaymentSucceeded", "paid")


def _order_item() -> dict[str, Any]:
    item: dict[str, Any] = aws.client("dynamodb").get_item(TableName=TABLE, Key=KEY)["Item"]
    return item


def _digest(entry: TimelineEntry) -> bytes:
    return hashlib.sha256(entry.sort_key.encode()).digest()


def test_an_event_is_recorded_by_the_digest_of_its_whole_key(aws_env: dict[str, Any]) -> None:
    first, second = _entry("evt_1"), _entry("evt_1#retry")
    store = OrderStore(TABLE, FixedClock(AT))
    state = OrderState(tenant="acme", order_id="o-1")
    assert store.commit(state, 0, first) == "applied"
    assert store.commit(state, 1, second) == "applied"

    applied = _order_item()["applied"]
    assert set(applied) == {"BS"}
    assert sorted(applied["BS"]) == sorted([_digest(first), _digest(second)])
    assert all(len(digest) == 32 for digest in applied["BS"])
    # Another container (no cache) meets the same delivery: a duplicate, nothing written.
    other = OrderStore(TABLE, FixedClock(AT))
    assert other.commit(state, 2, first) == "duplicate"
    assert _order_item()["version"] == {"N": "2"}


def test_an_item_holding_the_keys_themselves_reads_the_same(aws_env: dict[str, Any]) -> None:
    old, new = _entry("evt_old"), _entry("evt_new")
    store = OrderStore(TABLE, FixedClock(AT))
    state = OrderState(tenant="acme", order_id="o-1")
    assert store.commit(state, 0, new) == "applied"
    # The same item as written before: its applied set is the timeline keys, as text.
    item = _order_item()
    item["applied"] = {"SS": [old.sort_key]}
    aws.client("dynamodb").put_item(TableName=TABLE, Item=item)

    reader = OrderStore(TABLE, FixedClock(AT))
    assert reader.commit(state, 1, old) == "duplicate"
    assert reader.commit(state, 1, new) == "applied"
    assert sorted(_order_item()["applied"]["BS"]) == sorted([_digest(old), _digest(new)])
