"""Returns opened on an order, in the table: ``RETURN#<return>`` beside the order, and
``RETURNED`` with what returns hold of each line (``line:<line id>`` → quantity).

Opening a return is one transaction: the return's item is put (if new) and each of its lines
is added to ``RETURNED`` on the condition that the line stays within its cap, so two
concurrent returns of the same line cannot both pass, and a refused one writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from shared import aws, keys

# Stored as attributes of their own (the status is what transitions are conditioned on);
# every other field of the record is one JSON-encoded attribute ``r_<field>``.
_PLAIN = ("status",)


def _line(line_id: str) -> str:
    return f"line:{line_id}"


class DynamoReturns:
    def __init__(self, table: str) -> None:
        self.table = table

    def _key(self, tenant: str, order_id: str, sk: str) -> dict[str, Any]:
        return {"PK": {"S": keys.order_pk(tenant, order_id)}, "SK": {"S": sk}}

    def reserve(
        self, tenant: str, order_id: str, record: dict[str, Any], cap: dict[str, int]
    ) -> bool:
        client = aws.client("dynamodb")
        lines: dict[str, int] = record["lines"]
        names = {f"#l{i}": _line(line_id) for i, line_id in enumerate(lines)}
        values: dict[str, Any] = {":zero": {"N": "0"}, ":kind": {"S": "returned_lines"}}
        adds, conditions = [], []
        for i, (line_id, quantity) in enumerate(lines.items()):
            values[f":q{i}"] = {"N": str(quantity)}
            values[f":room{i}"] = {"N": str(cap[line_id] - quantity)}
            adds.append(f"#l{i} = if_not_exists(#l{i}, :zero) + :q{i}")
            conditions.append(f"(attribute_not_exists(#l{i}) OR #l{i} <= :room{i})")
        item = {
            **self._key(tenant, order_id, keys.return_sk(record["return_id"])),
            "kind": {"S": "return"},
            "status": {"S": record["status"]},
            **{
                f"r_{k}": {"S": json.dumps(v, default=str)}
                for k, v in record.items()
                if k not in _PLAIN
            },
        }
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": self._key(tenant, order_id, keys.returned_lines_sk()),
                            "UpdateExpression": "SET " + ", ".join(adds) + ", kind = :kind",
                            "ConditionExpression": " AND ".join(conditions),
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": values,
                        }
                    },
                ]
            )
        except client.exceptions.TransactionCanceledException:
            return False
        return True

    def returned(self, tenant: str, order_id: str) -> dict[str, int]:
        item = (
            aws.client("dynamodb")
            .get_item(
                TableName=self.table,
                Key=self._key(tenant, order_id, keys.returned_lines_sk()),
                ConsistentRead=True,
            )
            .get("Item", {})
        )
        return {
            name.removeprefix(_line("")): int(value["N"])
            for name, value in item.items()
            if name.startswith(_line(""))
        }

    @staticmethod
    def _record(item: dict[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {"status": item["status"]["S"]}
        for name, value in item.items():
            if name.startswith("r_"):
                record[name.removeprefix("r_")] = json.loads(value["S"])
        return record

    def get(self, tenant: str, order_id: str, return_id: str) -> dict[str, Any] | None:
        item = (
            aws.client("dynamodb")
            .get_item(
                TableName=self.table,
                Key=self._key(tenant, order_id, keys.return_sk(return_id)),
                ConsistentRead=True,
            )
            .get("Item")
        )
        return self._record(item) if item else None

    def all(self, tenant: str, order_id: str) -> list[dict[str, Any]]:
        answer = aws.client("dynamodb").query(
            TableName=self.table,
            ConsistentRead=True,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
            ExpressionAttributeValues={
                ":pk": {"S": keys.order_pk(tenant, order_id)},
                ":p": {"S": keys.return_sk("")},
            },
        )
        return [self._record(item) for item in answer["Items"]]

    def advance(
        self,
        tenant: str,
        order_id: str,
        return_id: str,
        before: Iterable[str],
        status: str,
        **fields: Any,
    ) -> bool:
        client = aws.client("dynamodb")
        allowed = {f":b{i}": {"S": s} for i, s in enumerate(before)}
        names = {"#s": "status", **{f"#f{i}": f"r_{k}" for i, k in enumerate(fields)}}
        values = {
            ":s": {"S": status},
            **allowed,
            **{f":f{i}": {"S": json.dumps(v, default=str)} for i, v in enumerate(fields.values())},
        }
        sets = ["#s = :s", *(f"#f{i} = :f{i}" for i in range(len(fields)))]
        try:
            client.update_item(
                TableName=self.table,
                Key=self._key(tenant, order_id, keys.return_sk(return_id)),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=f"attribute_exists(PK) AND #s IN ({', '.join(allowed)})",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def cancel(self, tenant: str, order_id: str, return_id: str, reason: str) -> None:
        record = self.get(tenant, order_id, return_id)
        if record is None or record["status"] == "cancelled":
            return
        lines: dict[str, int] = record["lines"]
        names = {"#s": "status", **{f"#l{i}": _line(line_id) for i, line_id in enumerate(lines)}}
        client = aws.client("dynamodb")
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": self._key(tenant, order_id, keys.return_sk(return_id)),
                            "UpdateExpression": "SET #s = :c, r_cancelled = :why",
                            "ConditionExpression": "#s = :requested",
                            "ExpressionAttributeNames": {"#s": "status"},
                            "ExpressionAttributeValues": {
                                ":c": {"S": "cancelled"},
                                ":requested": {"S": "requested"},
                                ":why": {"S": json.dumps(reason)},
                            },
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": self._key(tenant, order_id, keys.returned_lines_sk()),
                            "UpdateExpression": "SET "
                            + ", ".join(f"#l{i} = #l{i} - :q{i}" for i in range(len(lines))),
                            "ExpressionAttributeNames": {
                                k: v for k, v in names.items() if k != "#s"
                            },
                            "ExpressionAttributeValues": {
                                f":q{i}": {"N": str(q)} for i, q in enumerate(lines.values())
                            },
                        }
                    },
                ]
            )
        except client.exceptions.TransactionCanceledException:
            return  # cancelled by a concurrent attempt, or it moved on (a label after all)
