"""Screening throughput and latency without AWS I/O: signals + CEL rules on one core.

Orders come from the seeded history generator and are screened in time order against the
in-memory velocity store and history (what the backtest uses), side by side with two
baselines from the same run: the rules alone on precomputed signals, and the older list-and-
threshold ``screening.screen``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import result_line

from functions.risk import history_gen
from functions.risk.backtest import replay
from functions.risk.rules import default_ruleset, evaluate
from functions.risk.screening import RiskSettings, screen
from functions.risk.signals import InMemoryHistory, ListSet, SignalConfig, collect
from functions.risk.velocity import InMemoryVelocity

ORDERS = 20_000


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
    velocity, past = InMemoryVelocity(), InMemoryHistory()

    def full(i: int) -> None:
        labeled = history[i]
        attrs = collect(labeled.order, config, velocity, past, labeled.card)
        evaluate(rules, attrs)

    print(f"{len(history)} orders, {len(rules.rules)} rules, one thread")
    measure("old screening.screen", ORDERS, lambda i: screen(history[i].order, settings))
    measure("rules alone (precomputed signals)", 5000, lambda i: evaluate(rules, precomputed[i]))
    rate, p50, p99 = measure("signals + rules", ORDERS, full)
    print(result_line(decisions_per_s=round(rate), p50_ms=p50, p99_ms=p99))


if __name__ == "__main__":
    main()
