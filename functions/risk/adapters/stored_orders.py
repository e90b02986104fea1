"""A tenant's stored orders for backtests (``ecomops risk backtest --tenant``): the order
aggregates from the status index (one key range per status), the lifecycle's stage and
screening of each by batch reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from functions.risk.domain.backtest import LabeledOrder, StoredOrder, label_all
from shared import aws, keys
from shared.order_aggregate import ORDER_STATUSES, OrderState
from shared.order_store import ORDER_KEYS_PROJECTION, order_pk, states_found


class StoredOrders:
    """``ports.StoredOrdersPort`` on the table."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def _orders(self, tenant: str) -> Iterator[OrderState]:
        paginator = aws.client("dynamodb").get_paginator("query")
        for status in ORDER_STATUSES:
            pages = paginator.paginate(
                TableName=self.table_name,
                IndexName="ByStatus",
                KeyConditionExpression="GSI2PK = :pk",
                ExpressionAttributeValues={":pk": {"S": keys.status_index(tenant, status)}},
                ProjectionExpression=ORDER_KEYS_PROJECTION,
            )
            yield from states_found(
                self.table_name, (item for page in pages for item in page["Items"])
            )

    def _lifecycle(
        self, tenant: str, order_ids: list[str]
    ) -> dict[tuple[str, str], dict[str, Any]]:
        keys = [
            {"PK": {"S": order_pk(tenant, o)}, "SK": {"S": sk}}
            for o in order_ids
            for sk in ("WORKFLOW", "SCREENING")
        ]
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for item in aws.batch_get(self.table_name, keys):
            values = {k: v["S"] for k, v in item.items() if "S" in v}
            found[values["order_id"], values["SK"]] = values
        return found

    def stored_orders(self, tenant: str) -> list[StoredOrder]:
        states = list(self._orders(tenant))
        lifecycle = self._lifecycle(tenant, [s.order_id for s in states])
        stored = []
        for state in states:
            screening_item = lifecycle.get((state.order_id, "SCREENING"))
            stored.append(
                StoredOrder(
                    state,
                    lifecycle.get((state.order_id, "WORKFLOW")),
                    json.loads(screening_item["result"]) if screening_item else None,
                )
            )
        return stored

    def labeled(self, tenant: str) -> list[LabeledOrder]:
        """The tenant's orders labelled by their outcomes (``use_cases.stored_history``)."""
        return label_all(self.stored_orders(tenant))
