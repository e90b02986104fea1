"""``OrderReader``: the orders a span of time touched, from the processor's per-day change
notes (``shared.order_changes``: one key range per UTC day), each read with one batched get
of its aggregate and its screening beside it (two keys of the order's partition, projected to
the attributes the reports need)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from functions.reports.domain.tally import OrderView
from shared import aws, keys
from shared.order_aggregate import OrderState
from shared.order_changes import OrderChanges, utc_days
from shared.order_store import (
    ORDER_KEYS_PROJECTION,
    STATE_NAMES,
    STATE_PROJECTION,
    order_state_of,
    states_found,
)

# Orders read per batch: 50 orders are 100 keys, one BatchGetItem.
_BATCH = 50


class DynamoOrderReader:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self.changes = OrderChanges(table_name)

    def changed_between(self, tenant: str, start: datetime, end: datetime) -> Iterator[OrderView]:
        ids = sorted(set(self.changes.changed_on(tenant, utc_days(start, end))))
        for first in range(0, len(ids), _BATCH):
            yield from self.views(tenant, ids[first : first + _BATCH])

    def views(self, tenant: str, order_ids: list[str]) -> Iterator[OrderView]:
        wanted = [
            {"PK": {"S": keys.order_pk(tenant, o)}, "SK": {"S": sk}}
            for o in order_ids
            for sk in (keys.ORDER_SK, keys.SCREENING_SK)
        ]
        states: dict[str, OrderState] = {}
        decisions: dict[str, str] = {}
        for item in aws.batch_get(
            self.table_name,
            wanted,
            f"SK, order_id, {STATE_PROJECTION}, #r",
            {**STATE_NAMES, "#r": "result"},
        ):
            if item["SK"]["S"] == keys.ORDER_SK:
                state = order_state_of(item)
                states[state.order_id] = state
            elif "result" in item:
                decision = json.loads(item["result"]["S"]).get("decision")
                if decision:
                    decisions[item["order_id"]["S"]] = str(decision)
        for order_id in order_ids:
            if order_id in states:
                yield OrderView(states[order_id], decisions.get(order_id))

    def _beside(self, tenant: str, order_id: str, prefix: str) -> Iterator[dict[str, Any]]:
        paginator = aws.client("dynamodb").get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
            ExpressionAttributeValues={
                ":pk": {"S": keys.order_pk(tenant, order_id)},
                ":p": {"S": prefix},
            },
        ):
            yield from page["Items"]

    def refund_requests(self, tenant: str, order_id: str) -> list[dict[str, Any]]:
        found = []
        for item in self._beside(tenant, order_id, keys.refund_sk("")):
            plain = {k: next(iter(v.values())) for k, v in item.items()}
            plain["refund_id"] = str(plain["SK"]).removeprefix(keys.refund_sk(""))
            plain["request"] = json.loads(str(plain.get("request", "{}")))
            found.append(plain)
        return found

    def claims(self, tenant: str, order_id: str) -> list[dict[str, Any]]:
        return [
            json.loads(item["claim"]["S"])
            for item in self._beside(tenant, order_id, keys.claim_sk(""))
            if "claim" in item
        ]

    def of_customer(self, tenant: str, email: str) -> list[OrderState]:
        pages = (
            aws.client("dynamodb")
            .get_paginator("query")
            .paginate(
                TableName=self.table_name,
                IndexName=keys.BY_CUSTOMER,
                KeyConditionExpression="GSI1PK = :pk",
                ExpressionAttributeValues={":pk": {"S": keys.customer_index(tenant, email)}},
                ProjectionExpression=ORDER_KEYS_PROJECTION,
            )
        )
        return list(states_found(self.table_name, (i for page in pages for i in page["Items"])))

    def order(self, tenant: str, order_id: str) -> OrderState | None:
        item = (
            aws.client("dynamodb")
            .get_item(
                TableName=self.table_name,
                Key={"PK": {"S": keys.order_pk(tenant, order_id)}, "SK": {"S": keys.ORDER_SK}},
                ProjectionExpression=STATE_PROJECTION,
                ExpressionAttributeNames=STATE_NAMES,
            )
            .get("Item")
        )
        return order_state_of(item) if item else None
