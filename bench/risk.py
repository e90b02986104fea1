"""Screening throughput and latency without AWS I/O: signals + CEL rules on one core.

Orders come from the seeded history generator and are screened in time order through
``use_cases.screening.collect`` against an in-memory velocity store that computes the table's
keys as the DynamoDB adapter does (hashing included) and an in-memory customer history, side by
side with two baselines from the same run: the rules alone on precomputed signals, and the
older list-and-threshold screening (kept here, in risk_baseline.py, as the baseline only).
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import result_line
from risk_baseline import RiskSettings, screen

from functions.risk.adapters.velocity import partition_key, sort_key
from functions.risk.domain import history_gen
from functions.risk.domain.backtest import replay
from functions.risk.domain.customers import CustomerTimeline
from functions.risk.domain.rules import default_ruleset, evaluate
from functions.risk.domain.signals import SignalConfig
from functions.risk.domain.velocity import (
    DIMENSIONS,
    WINDOWS,
    Counter,
    VelocityCounts,
    bucket_start,
)
from functions.risk.use_cases.screening import collect
from shared import keys
from shared.risk_lists import ListSet

ORDERS = 20_000


class TableLikeVelocity:
    """A ``VelocityPort`` in a dict under a lock, keyed as the table's items are (hashed
    values, bucket sort keys, a marker per order): the CPU a live screening spends on
    velocity, without the I/O."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str], list[int]] = {}
        self._markers: dict[tuple[str, str], VelocityCounts] = {}

    def observe(
        self, tenant: str, order_id: str, dims: Mapping[str, str], at: datetime, amount: int
    ) -> VelocityCounts:
        slots = []
        for dimension in DIMENSIONS:
            value = dims.get(dimension)
            if not value:
                continue
            pk = partition_key(tenant, dimension, value)
            slots += [(dimension, w, pk, sort_key(w, bucket_start(w, at))) for w in WINDOWS]
        marker = keys.velocity_marker(tenant, order_id)
        with self._lock:
            seen = self._markers.get(marker)
            if seen is not None:
                return seen
            values = {}
            for dimension, window, pk, sk in slots:
                item = self._items.get((pk, sk))
                if item:
                    values[dimension, window] = Counter(item[0], item[1])
            counts = VelocityCounts(values)
            self._markers[marker] = counts
            for _, _, pk, sk in slots:
                item = self._items.setdefault((pk, sk), [0, 0])
                item[0] += 1
                item[1] += amount
            return counts


def measure(label: str, count: int, step: Callable[[int], object]) -> tuple[float, float, float]:
    samples = []
    started = time.perf_counter()
    for i in range(count):
        t = time.perf_counter_ns()
        step(i)
        samples.append((time.perf_counter_ns() - t) / 1e6)
    elapsed = time.perf_counter() - started
    samples.sort()
    rate = count / elapsed
    p50 = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(f"{label:<34} {rate:>10,.0f}/s   p50 {p50:.3f} ms   p99 {p99:.3f} ms")
    return rate, p50, p99


def main() -> None:
    history = history_gen.generate(ORDERS, seed=3)
    config = SignalConfig(block=ListSet(bins=(history_gen.PLANTED_BIN,)))
    rules = default_ruleset()
    precomputed = [attrs for _, attrs in replay(history[:5000], config)]
    settings = RiskSettings(review_over=50_000)
    velocity, past = TableLikeVelocity(), CustomerTimeline()

    def full(i: int) -> None:
        labeled = history[i]
        attrs = collect(labeled.order, config, velocity, past, labeled.card)
        evaluate(rules, attrs)

    print(f"{len(history)} orders, {len(rules.rules)} rules, one thread")
    measure("old lists-and-thresholds screen", ORDERS, lambda i: screen(history[i].order, settings))
    measure("rules alone (precomputed signals)", 5000, lambda i: evaluate(rules, precomputed[i]))
    rate, p50, p99 = measure("signals + rules", ORDERS, full)
    print(result_line(decisions_per_s=round(rate), p50_ms=p50, p99_ms=p99))


if __name__ == "__main__":
    main()
