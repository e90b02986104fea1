"""Returns opened on an order, in the table (``RETURN#<return>`` beside the order)."""

from __future__ import annotations

import json
from typing import Any

from shared import aws, keys


class DynamoReturns:
    def __init__(self, table: str) -> None:
        self.table = table

    def open(self, tenant: str, order_id: str, record: dict[str, Any]) -> None:
        aws.client("dynamodb").put_item(
            TableName=self.table,
            Item={
                "PK": {"S": keys.order_pk(tenant, order_id)},
                "SK": {"S": keys.return_sk(record["return_id"])},
                "kind": {"S": "return"},
                "status": {"S": "opened"},
                "tracking_code": {"S": record["tracking_code"]},
                "lines": {"S": json.dumps(record["lines"])},
                "amount": {"N": str(record["amount"])},
                "reason": {"S": record["reason"]},
            },
        )

    def opened(self, tenant: str, order_id: str) -> list[dict[str, Any]]:
        answer = aws.client("dynamodb").query(
            TableName=self.table,
            ConsistentRead=True,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
            ExpressionAttributeValues={
                ":pk": {"S": keys.order_pk(tenant, order_id)},
                ":p": {"S": keys.return_sk("")},
            },
        )
        return [
            {
                "return_id": item["SK"]["S"].removeprefix(keys.return_sk("")),
                "tracking_code": item["tracking_code"]["S"],
                "lines": json.loads(item["lines"]["S"]),
                "amount": int(item["amount"]["N"]),
            }
            for item in answer["Items"]
            if item["status"]["S"] == "opened"
        ]

    def mark_received(self, tenant: str, order_id: str, return_id: str) -> None:
        aws.client("dynamodb").update_item(
            TableName=self.table,
            Key={
                "PK": {"S": keys.order_pk(tenant, order_id)},
                "SK": {"S": keys.return_sk(return_id)},
            },
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "received"}},
        )
