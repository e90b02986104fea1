"""Payout cycles in the single table (``ports.CycleStore``): ``T#<t>#PCYCLE#<cycle>`` /
``CYCLE`` the cycle (its status the condition of every change; GSI2 ``T#<t>#PCYCLES`` /
``<cut-off>#<cycle>``) and ``LINE#<currency>#<vendor>`` its lines."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from functions.payouts.adapters.dynamo import query_all
from functions.payouts.domain.cycles import Cycle, CycleConflict, CycleLine, CycleStatus
from shared import aws, keys
from shared.retention import Retention


class DynamoCycles:
    def __init__(self, table_name: str, retention: Retention | None = None) -> None:
        self.table_name = table_name
        self.retention = retention

    def _ttl(self, tenant: str) -> dict[str, Any]:
        return self.retention.attribute(tenant) if self.retention else {}

    def _item(self, cycle: Cycle) -> dict[str, Any]:
        return {
            "PK": {"S": keys.payout_cycle_pk(cycle.tenant, cycle.cycle_id)},
            "SK": {"S": keys.PAYOUT_CYCLE_SK},
            "GSI2PK": {"S": keys.payout_cycles_index(cycle.tenant)},
            "GSI2SK": {"S": keys.payout_cycles_index_sk(cycle.cutoff.isoformat(), cycle.cycle_id)},
            "kind": {"S": "payout_cycle"},
            "tenant": {"S": cycle.tenant},
            "status": {"S": cycle.status.value},
            "body": {"S": cycle.model_dump_json()},
            **self._ttl(cycle.tenant),
        }

    def get(self, tenant: str, cycle_id: str) -> Cycle | None:
        item = (
            aws.client("dynamodb")
            .get_item(
                TableName=self.table_name,
                Key={
                    "PK": {"S": keys.payout_cycle_pk(tenant, cycle_id)},
                    "SK": {"S": keys.PAYOUT_CYCLE_SK},
                },
                ConsistentRead=True,
            )
            .get("Item")
        )
        return Cycle.model_validate_json(item["body"]["S"]) if item else None

    def create(self, cycle: Cycle) -> bool:
        client = aws.client("dynamodb")
        try:
            client.put_item(
                TableName=self.table_name,
                Item=self._item(cycle),
                ConditionExpression="attribute_not_exists(PK)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def save(self, cycle: Cycle, expected: CycleStatus) -> None:
        client = aws.client("dynamodb")
        try:
            client.put_item(
                TableName=self.table_name,
                Item=self._item(cycle),
                ConditionExpression="#s = :expected",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":expected": {"S": expected.value}},
            )
        except client.exceptions.ConditionalCheckFailedException as error:
            raise CycleConflict(f"cycle {cycle.cycle_id} is no longer {expected}") from error

    def put_lines(self, tenant: str, cycle_id: str, lines: Sequence[CycleLine]) -> None:
        pk = keys.payout_cycle_pk(tenant, cycle_id)
        ttl = self._ttl(tenant)
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "PK": {"S": pk},
                        "SK": {"S": keys.payout_cycle_line_sk(line.currency, line.vendor_id)},
                        "kind": {"S": "payout_cycle_line"},
                        "body": {"S": line.model_dump_json()},
                        **ttl,
                    }
                }
            }
            for line in lines
        ]
        aws.batch_write(self.table_name, requests)

    def save_line(self, tenant: str, cycle_id: str, line: CycleLine, expected: CycleLine) -> None:
        client = aws.client("dynamodb")
        try:
            client.put_item(
                TableName=self.table_name,
                Item={
                    "PK": {"S": keys.payout_cycle_pk(tenant, cycle_id)},
                    "SK": {"S": keys.payout_cycle_line_sk(line.currency, line.vendor_id)},
                    "kind": {"S": "payout_cycle_line"},
                    "body": {"S": line.model_dump_json()},
                    **self._ttl(tenant),
                },
                # The line as it was read, whole: two answers to one line cannot both win.
                ConditionExpression="body = :expected",
                ExpressionAttributeValues={":expected": {"S": expected.model_dump_json()}},
            )
        except client.exceptions.ConditionalCheckFailedException as error:
            raise CycleConflict(
                f"the line of {line.vendor_id} ({line.currency}) in {cycle_id} changed meanwhile"
            ) from error

    def lines(self, tenant: str, cycle_id: str) -> list[CycleLine]:
        items = query_all(
            self.table_name,
            {
                "KeyConditionExpression": "PK = :pk AND begins_with(SK, :l)",
                "ExpressionAttributeValues": {
                    ":pk": {"S": keys.payout_cycle_pk(tenant, cycle_id)},
                    ":l": {"S": keys.PAYOUT_CYCLE_LINES},
                },
                "ConsistentRead": True,
            },
        )
        return [CycleLine.model_validate_json(item["body"]["S"]) for item in items]

    def recent(self, tenant: str, limit: int = 20) -> list[Cycle]:
        page = aws.client("dynamodb").query(
            TableName=self.table_name,
            IndexName=keys.BY_STATUS,
            KeyConditionExpression="GSI2PK = :p",
            ExpressionAttributeValues={":p": {"S": keys.payout_cycles_index(tenant)}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [Cycle.model_validate_json(item["body"]["S"]) for item in page.get("Items", [])]
