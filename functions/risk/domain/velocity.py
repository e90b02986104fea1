"""Velocity: how many orders (and how much money) one e-mail, IP, card, customer or shipping
address produced in the current hour, day and week.

Counters live in tumbling UTC buckets (the hour, the day, the ISO week starting Monday), so
every update adds to one counter and concurrent screenings never lose an increment (the table's
adapter, ``adapters/velocity.py``, makes each an atomic ``ADD``). The order being screened is
never in its own counts: they are read before the order is recorded, and a second look at the
same order returns what the first one read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

DIMENSIONS = ("email", "ip", "card", "customer", "shipping")
# Attribute suffix, bucket length in seconds.
WINDOWS: dict[str, int] = {"1h": 3600, "1d": 86_400, "7d": 7 * 86_400}
# 1970-01-01 was a Thursday; weeks start on the Monday four days later.
_WEEK_ORIGIN = 4 * 86_400


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


def bucket_start(window: str, at: datetime) -> int:
    seconds = int(at.timestamp())
    length = WINDOWS[window]
    origin = _WEEK_ORIGIN if window == "7d" else 0
    return (seconds - origin) // length * length + origin


def buckets(keys: Mapping[str, str], at: datetime) -> list[tuple[str, str, str, int]]:
    """(dimension, window, value, bucket start) of every counter an order at ``at`` touches."""
    return [
        (dimension, window, keys[dimension], bucket_start(window, at))
        for dimension in DIMENSIONS
        if keys.get(dimension)
        for window in WINDOWS
    ]


class VelocityTally:
    """Velocity counters in memory, bucketed as the table's: a backtest replays orders in the
    order they were placed through one of these (each order counted after it is screened).
    ``observe`` has ``ports.VelocityPort``'s meaning: counts before the order, then the order
    recorded; the same order again gets the same counts and is not counted twice."""

    def __init__(self) -> None:
        self._counters: dict[tuple[str, str, str, str, int], list[int]] = {}
        self._observed: dict[tuple[str, str], VelocityCounts] = {}

    def observe(
        self,
        tenant: str,
        order_id: str,
        keys: Mapping[str, str],
        at: datetime,
        amount: int,
    ) -> VelocityCounts:
        seen = self._observed.get((tenant, order_id))
        if seen is not None:
            return seen
        touched = [(tenant, *bucket) for bucket in buckets(keys, at)]
        values = {}
        for counter_key in touched:
            counter = self._counters.get(counter_key)
            if counter:
                values[counter_key[1], counter_key[2]] = Counter(counter[0], counter[1])
        counts = VelocityCounts(values)
        self._observed[tenant, order_id] = counts
        for counter_key in touched:
            counter = self._counters.setdefault(counter_key, [0, 0])
            counter[0] += 1
            counter[1] += amount
        return counts
