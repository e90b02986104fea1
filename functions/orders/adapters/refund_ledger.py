"""Refund requests and what they reserve on each payment, in the table (``shared.keys``:
``REFUND#<refund>`` and ``REFUNDABLE#<payment>`` beside the order)."""

from __future__ import annotations

import json
from typing import Any

from shared import aws, keys
from shared.clock import SYSTEM_CLOCK, Clock
from shared.retention import Retention, table_retention


class DynamoRefundLedger:
    """What our refunds hold against each payment, beside the order.

    - ``REFUND#<refund id>``: one refund request: ``accepted`` → ``requested`` (money
      reserved) → ``submitted`` → ``completed``; or ``failed`` with the reason (reservation
      released) or ``unconfirmed``.
    - ``REFUNDABLE#<payment id>``: ``reserved`` (minor units our refunds hold on the payment,
      completed ones included) and ``hold:<refund id>`` (what each request holds).
    - ``REFUNDFAILED#<gateway refund id>``: the gateway failed a refund after taking it (kept
      once, which is what makes the client team's alert go out once).

    A reservation is one conditional write on the payment's item: it succeeds only if what is
    reserved leaves room for the amount, so concurrent requests can never reserve more than
    was captured, whatever their interleaving."""

    def __init__(
        self, table: str, clock: Clock = SYSTEM_CLOCK, retention: Retention | None = None
    ) -> None:
        self.table = table
        # Every write keeps the refund records the tenant's retention period from now.
        self.retention = retention or table_retention(table, clock)

    def _key(self, tenant: str, order_id: str, sk: str) -> dict[str, Any]:
        return {"PK": {"S": keys.order_pk(tenant, order_id)}, "SK": {"S": sk}}

    def _items(self, tenant: str, order_id: str, prefix: str) -> list[dict[str, Any]]:
        answer = aws.client("dynamodb").query(
            TableName=self.table,
            ConsistentRead=True,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
            ExpressionAttributeValues={
                ":pk": {"S": keys.order_pk(tenant, order_id)},
                ":p": {"S": prefix},
            },
        )
        return list(answer["Items"])

    def requests(self, tenant: str, order_id: str) -> list[dict[str, Any]]:
        prefix = keys.refund_sk("")
        return [
            {
                **{k: next(iter(v.values())) for k, v in item.items()},
                "refund_id": item["SK"]["S"].removeprefix(prefix),
            }
            for item in self._items(tenant, order_id, prefix)
        ]

    def reserved(self, tenant: str, order_id: str, payment_id: str) -> int:
        item = (
            aws.client("dynamodb")
            .get_item(
                TableName=self.table,
                Key=self._key(tenant, order_id, keys.refundable_sk(payment_id)),
                ConsistentRead=True,
            )
            .get("Item")
        )
        return int(item["reserved"]["N"]) if item and "reserved" in item else 0

    def reserve(
        self, tenant: str, order_id: str, payment_id: str, refund_id: str, amount: int, cap: int
    ) -> bool:
        """Reserve ``amount`` for ``refund_id`` if reservations stay within ``cap``; True if
        reserved now or earlier (a retried step), False if there is no room."""
        client = aws.client("dynamodb")
        hold = {"#hold": f"hold:{refund_id}"}
        keep, ttl_name, ttl_value = self.retention.update(tenant)
        try:
            client.update_item(
                TableName=self.table,
                Key=self._key(tenant, order_id, keys.refundable_sk(payment_id)),
                UpdateExpression="SET reserved = if_not_exists(reserved, :zero) + :amount, "
                f"#hold = :amount, kind = :kind, {keep}",
                ConditionExpression="attribute_not_exists(#hold) "
                "AND (attribute_not_exists(reserved) OR reserved <= :room)",
                ExpressionAttributeNames={**hold, **ttl_name},
                ExpressionAttributeValues={
                    ":zero": {"N": "0"},
                    ":amount": {"N": str(amount)},
                    ":room": {"N": str(cap - amount)},
                    ":kind": {"S": "refund_reservations"},
                    **ttl_value,
                },
            )
        except client.exceptions.ConditionalCheckFailedException:
            item = client.get_item(
                TableName=self.table,
                Key=self._key(tenant, order_id, keys.refundable_sk(payment_id)),
                ConsistentRead=True,
            ).get("Item", {})
            return hold["#hold"] in item
        return True

    def release(self, tenant: str, order_id: str, refund_id: str) -> int:
        """Give back what ``refund_id`` holds on any payment of the order (a refused or failed
        refund); once only. Returns the amount released."""
        client = aws.client("dynamodb")
        name = f"hold:{refund_id}"
        released = 0
        keep, ttl_name, ttl_value = self.retention.update(tenant)
        for item in self._items(tenant, order_id, keys.refundable_sk("")):
            if name not in item:
                continue
            amount = item[name]["N"]
            try:
                client.update_item(
                    TableName=self.table,
                    Key={"PK": item["PK"], "SK": item["SK"]},
                    UpdateExpression=f"SET reserved = reserved - :amount, {keep} REMOVE #hold",
                    ConditionExpression="#hold = :amount",
                    ExpressionAttributeNames={"#hold": name, **ttl_name},
                    ExpressionAttributeValues={":amount": {"N": amount}, **ttl_value},
                )
            except client.exceptions.ConditionalCheckFailedException:
                continue  # released by a concurrent attempt
            released += int(amount)
        return released

    def claim(
        self, tenant: str, order_id: str, refund_id: str, request: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Accept a refund request once per id; returns the earlier request if the id is
        taken (the caller compares the two)."""
        client = aws.client("dynamodb")
        fingerprint = json.dumps(request, sort_keys=True, default=str)
        try:
            client.put_item(
                TableName=self.table,
                Item={
                    **self._key(tenant, order_id, keys.refund_sk(refund_id)),
                    "kind": {"S": "refund_request"},
                    "status": {"S": "accepted"},
                    "request": {"S": fingerprint},
                    **self.retention.attribute(tenant),
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            earlier = client.get_item(
                TableName=self.table,
                Key=self._key(tenant, order_id, keys.refund_sk(refund_id)),
                ConsistentRead=True,
            ).get("Item", {})
            return dict(json.loads(earlier.get("request", {}).get("S", "{}")))
        return None

    def record(self, tenant: str, order_id: str, refund_id: str, **fields: Any) -> None:
        names = {f"#{k}": k for k in fields}
        values = {
            f":{k}": ({"N": str(v)} if isinstance(v, int) else {"S": str(v)})
            for k, v in fields.items()
        }
        keep, ttl_name, ttl_value = self.retention.update(tenant)
        aws.client("dynamodb").update_item(
            TableName=self.table,
            Key=self._key(tenant, order_id, keys.refund_sk(refund_id)),
            UpdateExpression="SET " + ", ".join([*(f"#{k} = :{k}" for k in fields), keep]),
            ExpressionAttributeNames={**names, **ttl_name},
            ExpressionAttributeValues={**values, **ttl_value},
        )

    def completed(
        self, tenant: str, order_id: str, refund_id: str, amount: int, currency: str
    ) -> None:
        """RefundCompleted beside the order, for the vendor ledger to reverse what it credited."""
        aws.client("dynamodb").put_item(
            TableName=self.table,
            Item={
                "PK": {"S": keys.order_pk(tenant, order_id)},
                "SK": {"S": keys.refund_completed_sk(refund_id)},
                "kind": {"S": "RefundCompleted"},
                "amount": {"N": str(amount)},
                "currency": {"S": currency},
                "tenant": {"S": tenant},
                **self.retention.attribute(tenant),
            },
        )

    def note_gateway_failure(
        self, tenant: str, order_id: str, gateway_refund_id: str, details: dict[str, Any]
    ) -> bool:
        client = aws.client("dynamodb")
        try:
            client.put_item(
                TableName=self.table,
                Item={
                    **self._key(tenant, order_id, keys.refund_failed_sk(gateway_refund_id)),
                    "kind": {"S": "refund_failed_at_gateway"},
                    "details": {"S": json.dumps(details, sort_keys=True, default=str)},
                    **self.retention.attribute(tenant),
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True
