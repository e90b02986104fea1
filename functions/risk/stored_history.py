"""Labelled history from the orders a tenant actually has, for ``ecomops risk backtest --tenant``.

An order's label comes from what happened to it afterwards:

- ``fraud_chargeback``: a dispute with reason ``fraudulent`` (when it was opened);
- ``refunded_fraud``: cancelled and refunded because screening blocked it or a reviewer
  rejected it (the lifecycle's cancellation reason);
- ``fine``: everything else.

The card is the one the gateway reported on the order's payment. Orders come from the status
index (one key range per status), the lifecycle's stage and screening by batch reads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from functions.risk.backtest import LabeledOrder
from shared import aws, keys
from shared.events import Card
from shared.order_aggregate import FRAUD_CANCELLATIONS, ORDER_STATUSES, OrderState
from shared.order_store import order_pk


def label(
    state: OrderState, stage: dict[str, str] | None, screening: dict[str, Any] | None
) -> LabeledOrder | None:
    order = state.order
    if order is None:
        return None
    card = None
    for payment in sorted(state.payments.values(), key=lambda p: p.payment_id):
        if payment.card is not None:
            card = Card.model_validate(payment.card.value)
            break
    fraud_disputes = [d for d in state.disputes.values() if d.reason == "fraudulent"]
    decision_then = (screening or {}).get("decision")
    stage = stage or {}
    cancelled_for = stage.get("detail") if stage.get("stage") == "cancelled" else None
    if cancelled_for == "rejected_in_review":
        decision_then = "rejected"
    if fraud_disputes:
        first = min(fraud_disputes, key=lambda d: d.opened_at or order.occurred_at)
        return LabeledOrder(
            order=order,
            card=card,
            label="fraud_chargeback",
            outcome_at=first.opened_at or order.occurred_at,
            decision_then=decision_then,
        )
    if cancelled_for in FRAUD_CANCELLATIONS:
        when = stage.get("updated_at")
        return LabeledOrder(
            order=order,
            card=card,
            label="refunded_fraud",
            outcome_at=datetime.fromisoformat(when) if when else order.occurred_at,
            refunded=state.refunded() > 0,
            decision_then=decision_then,
        )
    return LabeledOrder(
        order=order, card=card, refunded=state.refunded() > 0, decision_then=decision_then
    )


class StoredOrders:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def _orders(self, tenant: str) -> Iterator[OrderState]:
        paginator = aws.client("dynamodb").get_paginator("query")
        for status in ORDER_STATUSES:
            for page in paginator.paginate(
                TableName=self.table_name,
                IndexName="ByStatus",
                KeyConditionExpression="GSI2PK = :pk",
                ExpressionAttributeValues={":pk": {"S": keys.status_index(tenant, status)}},
                ProjectionExpression="#s",
                ExpressionAttributeNames={"#s": "state"},
            ):
                for item in page["Items"]:
                    yield OrderState.model_validate_json(item["state"]["S"])

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

    def labeled(self, tenant: str) -> list[LabeledOrder]:
        states = list(self._orders(tenant))
        lifecycle = self._lifecycle(tenant, [s.order_id for s in states])
        labeled = []
        for state in states:
            screening_item = lifecycle.get((state.order_id, "SCREENING"))
            screening = json.loads(screening_item["result"]) if screening_item else None
            entry = label(state, lifecycle.get((state.order_id, "WORKFLOW")), screening)
            if entry is not None:
                labeled.append(entry)
        return labeled
