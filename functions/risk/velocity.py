"""Velocity counters: how many orders (and how much money) one e-mail, IP, card, customer or
shipping address produced in the current hour, day and week.

Counters live in tumbling UTC buckets (the hour, the day, the ISO week starting Monday) so
that every update is a single atomic ``ADD`` on one item: no read-modify-write, no locks, and
concurrent screenings never lose an increment. A bucket item expires (TTL ``expires_at``) one
full window after its bucket ends, so the table never grows with old counters.

``observe`` reads before it records, so the order being screened is never in its own counts.
It also writes a per-order marker holding the counts it read: a retried screening (Step
Functions retries the task) gets the same counts back and does not count the order twice.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from shared import aws, keys

DIMENSIONS = ("email", "ip", "card", "customer", "shipping")
# Attribute suffix, bucket length in seconds.
WINDOWS: dict[str, int] = {"1h": 3600, "1d": 86_400, "7d": 7 * 86_400}
# 1970-01-01 was a Thursday; weeks start on the Monday four days later.
_WEEK_ORIGIN = 4 * 86_400
# A marker outlives the longest window, so a late retry still finds it.
_MARKER_TTL = 8 * 86_400


@dataclass(frozen=True)
class Counter:
    orders: int = 0
    amount: int = 0


@dataclass(frozen=True)
class VelocityCounts:
    """Counts per ``(dimension, window)``; a missing pair reads as zero."""

    values: Mapping[tuple[str, str], Counter] = field(default_factory=dict)

    def get(self, dimension: str, window: str) -> Counter:
        return self.values.get((dimension, window), Counter())

    def to_json(self) -> str:
        return json.dumps(
            {f"{d}|{w}": [c.orders, c.amount] for (d, w), c in sorted(self.values.items())}
        )

    @classmethod
    def from_json(cls, text: str) -> VelocityCounts:
        raw: dict[str, list[int]] = json.loads(text)
        values = {}
        for key, (orders, amount) in raw.items():
            dimension, window = key.split("|", 1)
            values[dimension, window] = Counter(orders, amount)
        return cls(values)


class VelocityPort(Protocol):
    def observe(
        self,
        tenant: str,
        order_id: str,
        keys: Mapping[str, str],
        at: datetime,
        amount: int,
    ) -> VelocityCounts:
        """Counts for ``keys`` (dimension -> raw value) as they were before this order, then
        record the order. Idempotent per ``order_id``."""
        ...


def bucket_start(window: str, at: datetime) -> int:
    seconds = int(at.timestamp())
    length = WINDOWS[window]
    origin = _WEEK_ORIGIN if window == "7d" else 0
    return (seconds - origin) // length * length + origin


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


class InMemoryVelocity:
    """The DynamoDB adapter's semantics in a dict: tests, the backtest and the benchmark."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str], list[int]] = {}
        self._markers: dict[tuple[str, str], VelocityCounts] = {}

    def observe(
        self,
        tenant: str,
        order_id: str,
        keys: Mapping[str, str],
        at: datetime,
        amount: int,
    ) -> VelocityCounts:
        slots = _slots(tenant, keys, at)
        marker = _marker_key(tenant, order_id)
        with self._lock:
            seen = self._markers.get(marker)
            if seen is not None:
                return seen
            values = {}
            for dimension, window, pk, sk, _ in slots:
                item = self._items.get((pk, sk))
                if item:
                    values[dimension, window] = Counter(item[0], item[1])
            counts = VelocityCounts(values)
            self._markers[marker] = counts
            for _, _, pk, sk, _ in slots:
                item = self._items.setdefault((pk, sk), [0, 0])
                item[0] += 1
                item[1] += amount
            return counts


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
