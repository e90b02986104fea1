"""Customer history in the single table, as timed facts per customer (``ports.HistoryPort``;
which time each fact carries: ``domain/customers.py``).

``T#<t>#CUSTHIST#<hash of customer key>`` / ``<UTC time>#<kind>#<ref>``: one item per order,
refund, chargeback and fraud decision. The sort key starts with the time the fact happened, so
"what was known before this order" is one key-range query, and a fact learned late (a
chargeback weeks after the order) is seen by orders placed after it happened, never by earlier
ones. Writes are idempotent puts: re-recording is harmless.

A screening reads strictly before the screened order's ``occurred_at``, so replayed traffic
files every reported fact where it belongs, and a decision taken during a replay (dated at the
replay) is seen by no order that was placed before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from functions.risk.domain.customers import CustomerHistory, HistoryEvent, tally
from shared import aws, keys

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def history_pk(tenant: str, who: str) -> str:
    return keys.customer_history_pk(tenant, who)


def _at(at: datetime) -> str:
    return at.astimezone(UTC).strftime(_TIME_FORMAT)


class DynamoHistory:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def record(
        self, tenant: str, who: str, at: datetime, kind: HistoryEvent, ref: str, amount: int = 0
    ) -> None:
        if not who:
            return
        aws.client("dynamodb").put_item(
            TableName=self.table_name,
            Item={
                "PK": {"S": history_pk(tenant, who)},
                "SK": {"S": f"{_at(at)}#{kind}#{ref}"},
                "kind": {"S": "customer-history"},
                "tenant": {"S": tenant},
                "fact": {"S": kind},
                "ref": {"S": ref},
                "amount": {"N": str(amount)},
            },
        )

    def history(self, tenant: str, customer_key: str, before: datetime) -> CustomerHistory:
        return tally(self._facts(tenant, customer_key, before))

    def _facts(self, tenant: str, customer_key: str, before: datetime) -> Iterator[tuple[str, int]]:
        seen: set[tuple[str, str]] = set()
        client = aws.client("dynamodb")
        args: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk AND SK < :before",
            "ExpressionAttributeValues": {
                ":pk": {"S": history_pk(tenant, customer_key)},
                ":before": {"S": _at(before)},
            },
            "ProjectionExpression": "fact, #r, amount",
            "ExpressionAttributeNames": {"#r": "ref"},
        }
        while True:
            page = client.query(**args)
            for item in page.get("Items", []):
                fact, ref = item["fact"]["S"], item["ref"]["S"]
                # One fact per reference, even if it was recorded at two times (a replayed
                # event with a corrected timestamp).
                if (fact, ref) in seen:
                    continue
                seen.add((fact, ref))
                yield fact, int(item["amount"]["N"])
            if "LastEvaluatedKey" not in page:
                break
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
