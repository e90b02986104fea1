"""The order's entry in the status index changes only with what the index's readers take from
it: an event that leaves the status as it was rewrites the order item, not its index entry
(DynamoDB writes an index only when a projected attribute or a key changes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from shared import aws, keys
from shared.order_aggregate import TimelineEntry
from shared.order_store import OrderStore
from tests.clocks import FixedClock
from tests.component.conftest import TABLE
from tests.component.orders import place

AT = datetime(2026, 3, 2, 12, tzinfo=UTC)


def _order_item() -> dict[str, Any]:
    return dict(
        aws.client("dynamodb").get_item(
            TableName=TABLE,
            ConsistentRead=True,
            Key={"PK": {"S": keys.order_pk("acme", "o-1")}, "SK": {"S": keys.ORDER_SK}},
        )["Item"]
    )


def _status_index_entry(item: dict[str, Any]) -> dict[str, Any]:
    (index,) = [i for i in keys.TABLE.indexes if i.name == keys.BY_STATUS]
    kept = {index.partition_key, index.sort_key, "PK", "SK", *index.projected}
    return {k: v for k, v in item.items() if k in kept}


def test_an_event_that_keeps_the_status_leaves_the_index_entry_as_it_was(
    aws_env: dict[str, Any],
) -> None:
    place("o-1", at=AT)
    before = _order_item()
    clock = FixedClock(AT + timedelta(minutes=5))
    store = OrderStore(TABLE, clock)

    clock.advance(timedelta(hours=3))
    state, version = store.load_for_update("acme", "o-1")
    later = TimelineEntry(AT + timedelta(hours=3), "shop", "e-2", "OrderNoted", "noted")
    assert store.commit(state, version, later) == "applied"
    after = _order_item()

    assert after["version"] != before["version"]  # the item was written again
    assert _status_index_entry(after) == _status_index_entry(before)
    assert after["changed_at"] != before["changed_at"]  # when, kept on the item alone
