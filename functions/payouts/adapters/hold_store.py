"""Held order lines in the single table (``ports.HoldStore``): ``T#<t>#VHOLD#<order>`` /
``L#<line>`` one held line (GSI2 ``T#<t>#VHOLDS`` / ``<held at>#<order>#<line>``); its status
is the condition of the decision's write."""

from __future__ import annotations

from typing import Any

from functions.payouts.adapters.dynamo import query_all
from functions.payouts.domain.parcels import Hold, HoldStatus
from shared import aws, keys
from shared.retention import Retention


class DynamoHolds:
    def __init__(self, table_name: str, retention: Retention | None = None) -> None:
        self.table_name = table_name
        self.retention = retention

    def _item(self, hold: Hold) -> dict[str, Any]:
        return {
            "PK": {"S": keys.payout_holds_pk(hold.tenant, hold.order_id)},
            "SK": {"S": keys.payout_hold_sk(hold.line_id)},
            "GSI2PK": {"S": keys.payout_holds_index(hold.tenant)},
            "GSI2SK": {
                "S": keys.payout_holds_index_sk(
                    hold.held_at.isoformat(), hold.order_id, hold.line_id
                )
            },
            "kind": {"S": "payout_hold"},
            "status": {"S": hold.status.value},
            "body": {"S": hold.model_dump_json()},
            **(self.retention.attribute(hold.tenant) if self.retention else {}),
        }

    def hold(self, hold: Hold) -> bool:
        client = aws.client("dynamodb")
        try:
            client.put_item(
                TableName=self.table_name,
                Item=self._item(hold),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def of_order(self, tenant: str, order_id: str) -> list[Hold]:
        items = query_all(
            self.table_name,
            {
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": keys.payout_holds_pk(tenant, order_id)}},
                "ConsistentRead": True,
            },
        )
        return [Hold.model_validate_json(item["body"]["S"]) for item in items]

    def held(self, tenant: str, status: HoldStatus | None = None) -> list[Hold]:
        items = query_all(
            self.table_name,
            {
                "IndexName": keys.BY_STATUS,
                "KeyConditionExpression": "GSI2PK = :p",
                "ExpressionAttributeValues": {":p": {"S": keys.payout_holds_index(tenant)}},
            },
        )
        holds = [Hold.model_validate_json(item["body"]["S"]) for item in items]
        return [h for h in holds if status is None or h.status is status]

    def decide(self, hold: Hold) -> bool:
        client = aws.client("dynamodb")
        try:
            client.put_item(
                TableName=self.table_name,
                Item=self._item(hold),
                ConditionExpression="#s IN (:open, :decided)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":open": {"S": HoldStatus.OPEN.value},
                    ":decided": {"S": hold.status.value},
                },
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True
