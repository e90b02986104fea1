"""Lambda's billed duration, modelled from what an invocation did in-process.

In-process, an invocation's wall time is the wrong figure in both directions. Every AWS call is
served by moto (and every call to Stripe or a carrier by a local sandbox) inside the same
interpreter, far slower than the services themselves; and the function's own Python work runs
on a whole core of this machine, where Lambda gives a function CPU in proportion to its memory
(a full vCPU at 1,769 MB). So the model takes the invocation apart:

    billed ms = ceil((wall - time inside calls out) * max(1, full_vcpu_mb / memory_mb)
                     + sum over calls of attempts * the call's modelled latency)

The latencies and the memory of a full vCPU are data (``latencies.json``), each with its source
and the day it was read; a call without a latency is refused, like a quantity without a price.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

LATENCIES = Path(__file__).with_name("latencies.json")


@dataclass(frozen=True)
class Latency:
    ms: float
    source: str
    read_on: str
    basis: str


@dataclass(frozen=True)
class LatencyTable:
    full_vcpu_mb: int
    latencies: Mapping[tuple[str, str], Latency]

    def of(self, service: str, operation: str) -> Latency:
        try:
            return self.latencies[(service, operation)]
        except KeyError:
            raise KeyError(f"no latency for {service}:{operation}") from None

    def cpu_share(self, memory_mb: int) -> float:
        """How many times longer the function's own work takes than on a full core."""
        if memory_mb <= 0:
            raise ValueError("a function's memory must be positive")
        return max(1.0, self.full_vcpu_mb / memory_mb)


def load_latencies(path: Path = LATENCIES) -> LatencyTable:
    document = json.loads(path.read_text())
    latencies: dict[tuple[str, str], Latency] = {}
    for entry in document["latencies"].values():
        figure = Latency(entry["ms"], entry["source"], entry["read_on"], entry["basis"])
        for call in entry["calls"]:
            service, _, operation = call.partition(":")
            if (service, operation) in latencies:
                raise ValueError(f"{call} has two latencies in {path.name}")
            latencies[(service, operation)] = figure
    return LatencyTable(int(document["cpu"]["full_vcpu_memory_mb"]), latencies)


@dataclass(frozen=True)
class InvocationTime:
    """One invocation as the local runtime ran it."""

    function: str
    memory_mb: int
    wall_ms: float
    call_ms: float  # wall time inside calls out (moto, the sandboxes)
    calls: Mapping[tuple[str, str], int]  # attempts per (service, operation)
    cpu_ms: float = 0.0  # the thread's CPU time: shows what of the own time was waiting

    @property
    def own_ms(self) -> float:
        return max(0.0, self.wall_ms - self.call_ms)


def measured_ms(invocation: InvocationTime) -> int:
    """Billed duration as timed in-process (Lambda rounds up to the millisecond)."""
    return math.ceil(invocation.wall_ms)


def modelled_ms(invocation: InvocationTime, table: LatencyTable) -> int:
    own = invocation.own_ms * table.cpu_share(invocation.memory_mb)
    waiting = sum(n * table.of(service, op).ms for (service, op), n in invocation.calls.items())
    return math.ceil(own + waiting)


def gb_seconds(ms: int, memory_mb: int) -> float:
    return ms / 1000 * memory_mb / 1024


@dataclass
class FunctionTime:
    """A function's invocations of the day, both ways."""

    invocations: int = 0
    measured_gb_s: float = 0.0
    modelled_gb_s: float = 0.0
    wall_ms: float = 0.0
    own_ms: float = 0.0
    cpu_ms: float = 0.0
    modelled_ms: float = 0.0
    calls: int = 0
    by_call: Counter[tuple[str, str]] = field(default_factory=Counter)


def by_function(invocations: list[InvocationTime], table: LatencyTable) -> dict[str, FunctionTime]:
    """Every function's invocations measured and modelled; refuses a call with no latency."""
    unknown = sorted(
        {f"{s}:{o}" for i in invocations for (s, o) in i.calls if (s, o) not in table.latencies}
    )
    if unknown:
        raise KeyError(f"no latency for {', '.join(unknown)}")
    times: dict[str, FunctionTime] = {}
    for invocation in invocations:
        time = times.setdefault(invocation.function, FunctionTime())
        modelled = modelled_ms(invocation, table)
        time.invocations += 1
        time.measured_gb_s += gb_seconds(measured_ms(invocation), invocation.memory_mb)
        time.modelled_gb_s += gb_seconds(modelled, invocation.memory_mb)
        time.wall_ms += invocation.wall_ms
        time.own_ms += invocation.own_ms
        time.cpu_ms += invocation.cpu_ms
        time.modelled_ms += modelled
        time.calls += sum(invocation.calls.values())
        time.by_call.update(invocation.calls)
    return times
