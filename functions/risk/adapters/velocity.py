"""Velocity counters in the single table (``ports.VelocityPort``; what they count is
``domain/velocity.py``).

``PK = T#<tenant>#VEL#<dimension>#<sha256(value)[:16]>``, ``SK = <window>#<bucket start>``: one
atomic ``ADD`` per counter, no read-modify-write, no locks. A bucket item expires (TTL
``expires_at``) one full window after its bucket ends, so the table never grows with old
counters. ``observe`` reads before it records and writes a per-order marker holding the counts
it read: a retried screening (Step Functions retries the task) gets the same counts back and
does not count the order twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from functions.risk.domain.velocity import (
    DIMENSIONS,
    WINDOWS,
    Counter,
    VelocityCounts,
    bucket_start,
)
from shared import aws, keys

# A marker outlives the longest window, so a late retry still finds it.
_MARKER_TTL = 8 * 86_400


def value_hash(value: str) -> str:
    # Hashed so raw e-mails, IPs and addresses never appear in keys (they end up in logs,
    # metrics and exports); 16 hex digits keep collisions negligible per tenant.
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def partition_key(tenant: str, dimension: str, value: str) -> str:
    return keys.velocity_pk(tenant, dimension, value_hash(value))


def sort_key(window: str, start: int) -> str:
    stamp = datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{window}#{stamp}"


def expires_at(window: str, start: int) -> int:
    return start + 2 * WINDOWS[window]


def _slots(
    tenant: str, keys: Mapping[str, str], at: datetime
) -> list[tuple[str, str, str, str, int]]:
    """(dimension, window, PK, SK, bucket start) for every counter this order touches."""
    slots = []
    for dimension in DIMENSIONS:
        value = keys.get(dimension)
        if not value:
            continue
        pk = partition_key(tenant, dimension, value)
        for window in WINDOWS:
            start = bucket_start(window, at)
            slots.append((dimension, window, pk, sort_key(window, start), start))
    return slots


def _marker_key(tenant: str, order_id: str) -> tuple[str, str]:
    return keys.velocity_marker(tenant, order_id)


class DynamoVelocity:
    """Counters in the single table; the items carry ``kind = velocity``."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def observe(
        self,
        tenant: str,
        order_id: str,
        keys: Mapping[str, str],
        at: datetime,
        amount: int,
    ) -> VelocityCounts:
        client = aws.client("dynamodb")
        slots = _slots(tenant, keys, at)
        counts = self._read(client, slots)
        marker_pk, marker_sk = _marker_key(tenant, order_id)
        try:
            client.put_item(
                TableName=self.table_name,
                Item={
                    "PK": {"S": marker_pk},
                    "SK": {"S": marker_sk},
                    "kind": {"S": "velocity-marker"},
                    "counts": {"S": counts.to_json()},
                    "expires_at": {"N": str(int(at.timestamp()) + _MARKER_TTL)},
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            stored = client.get_item(
                TableName=self.table_name,
                Key={"PK": {"S": marker_pk}, "SK": {"S": marker_sk}},
                ConsistentRead=True,
            )
            return VelocityCounts.from_json(stored["Item"]["counts"]["S"])
        # A crash between the marker and these updates under-counts one order; the opposite
        # order of writes would double-count it on every retry instead.
        for _, window, pk, sk, start in slots:
            client.update_item(
                TableName=self.table_name,
                Key={"PK": {"S": pk}, "SK": {"S": sk}},
                UpdateExpression="ADD orders :one, amount :amount SET expires_at = :exp, kind = :k",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":amount": {"N": str(amount)},
                    ":exp": {"N": str(expires_at(window, start))},
                    ":k": {"S": "velocity"},
                },
            )
        return counts

    def _read(self, client: Any, slots: list[tuple[str, str, str, str, int]]) -> VelocityCounts:
        if not slots:
            return VelocityCounts()
        by_key = {(pk, sk): (dimension, window) for dimension, window, pk, sk, _ in slots}
        values: dict[tuple[str, str], Counter] = {}
        pending: list[dict[str, Any]] = [{"PK": {"S": pk}, "SK": {"S": sk}} for pk, sk in by_key]
        # Five dimensions times three windows stays under BatchGetItem's 100 keys; the loop
        # is for the unprocessed keys DynamoDB may hand back under load.
        while pending:
            answer = client.batch_get_item(
                RequestItems={
                    self.table_name: {
                        "Keys": pending,
                        "ConsistentRead": True,
                        "ProjectionExpression": "PK, SK, orders, amount",
                    }
                }
            )
            for item in answer["Responses"].get(self.table_name, []):
                slot = by_key[item["PK"]["S"], item["SK"]["S"]]
                # An item another writer is creating may not carry its counters yet.
                values[slot] = Counter(
                    int(item.get("orders", {}).get("N", "0")),
                    int(item.get("amount", {}).get("N", "0")),
                )
            pending = answer.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
        return VelocityCounts(values)
