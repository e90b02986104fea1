"""The orders as the queries read them: the ``ByCustomer`` index (one query per lookup) and the
order aggregate itself."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from functions.reports.queries.domain.lookup import OrderHit, Search
from shared import aws, keys
from shared.order_aggregate import OrderState
from shared.order_changes import OrderChanges
from shared.order_lookup import LookupKind
from shared.order_store import (
    ORDER_KEYS_PROJECTION,
    STATE_NAMES,
    STATE_PROJECTION,
    order_state_of,
    states_found,
)


def _at(sort_key: str) -> datetime | None:
    """The time in an index sort key ``[<BIN>#]<time>#<order>``."""
    parts = sort_key.split("#")
    for part in parts:
        try:
            return datetime.fromisoformat(part)
        except ValueError:
            continue
    return None


class TableOrderIndex:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def _ddb(self) -> Any:
        return aws.client("dynamodb")

    def find(self, search: Search, limit: int) -> tuple[list[OrderHit], bool]:
        if search.kind is LookupKind.ORDER:
            state = self.load(search.tenant, search.key)
            if state is None:
                return [], False
            return [OrderHit(state.order_id, state.placed_at(), state)], False
        if search.kind is LookupKind.EMAIL:
            partition = keys.customer_index(search.tenant, search.key)
        else:
            partition = keys.lookup_index(search.tenant, search.kind, search.key)
        condition = "GSI1PK = :pk"
        values: dict[str, Any] = {":pk": {"S": partition}}
        if search.bin:
            condition += " AND begins_with(GSI1SK, :bin)"
            values[":bin"] = {"S": f"{search.bin}#"}
        answer = self._ddb.query(
            TableName=self.table_name,
            IndexName=keys.BY_CUSTOMER,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            Limit=limit + 1,  # one more than shown tells whether there are more
            ProjectionExpression=f"{ORDER_KEYS_PROJECTION}, order_id, GSI1SK",
        )
        items = answer.get("Items", [])
        # A customer's index entries are the orders themselves; a lookup entry's hit is loaded
        # by the caller as before.
        states = {s.order_id: s for s in states_found(self.table_name, items[:limit])}
        hits = []
        for item in items[:limit]:
            order_id = item["order_id"]["S"]
            state = states.get(order_id) if item["SK"]["S"] == keys.ORDER_SK else None
            hits.append(OrderHit(order_id, _at(item["GSI1SK"]["S"]), state))
        return hits, len(items) > limit

    def load(self, tenant: str, order_id: str) -> OrderState | None:
        item = self._ddb.get_item(
            TableName=self.table_name,
            Key={"PK": {"S": keys.order_pk(tenant, order_id)}, "SK": {"S": keys.ORDER_SK}},
            ProjectionExpression=STATE_PROJECTION,
            ExpressionAttributeNames=STATE_NAMES,
        ).get("Item")
        return order_state_of(item) if item else None

    def changed_on(self, tenant: str, utc_days: Iterable[date]) -> Iterator[OrderState]:
        ids = sorted(set(OrderChanges(self.table_name).changed_on(tenant, utc_days)))
        wanted = [{"PK": {"S": keys.order_pk(tenant, o)}, "SK": {"S": keys.ORDER_SK}} for o in ids]
        for item in aws.batch_get(self.table_name, wanted, STATE_PROJECTION, STATE_NAMES):
            yield order_state_of(item)
