"""Where "now" comes from: one clock, passed in.

Every piece of code that needs the current time (ingress timestamps, the processor, lifecycle
steps, risk history and velocity, reconciliation days and ageing, signed-link expiry, stored
``*_at`` attributes, report dates) takes a ``Clock`` from whoever composes it, and the
composition roots pass ``SYSTEM_CLOCK``. Tests pass a clock that says what time it is
(``tests/clocks.py``), so no test depends on how today relates to a date written in it.

Which time a recorded fact carries is decided where the fact is recorded, by one rule:

- a fact a source reports (an order placed, a payment, a refund, a dispute, a scan) carries the
  time the source says it happened — the event's ``occurred_at`` — so replaying old traffic
  files it where it belongs;
- a fact we decide ourselves (a fraud decision, a notification sent, a stage reached) carries
  the moment we decided it, from this clock, and never earlier than the order it is about;
- a reader looking back (screening's customer history) sees only facts strictly before the
  moment it looks from (the screened order's ``occurred_at``).

Together these keep "an order never sees facts from after its time" under live and replayed
traffic alike: a decision taken while old traffic is replayed is dated at the replay, after
every replayed order, so none of them sees it.

Durations (timeouts, retries, benchmarks) use ``time.monotonic`` and are not "now".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock: what every deployed function and the local stack run on."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM_CLOCK: Clock = SystemClock()


def epoch_seconds(clock: Clock) -> int:
    """Whole seconds since the epoch (signatures, link expiry, DynamoDB TTL)."""
    return int(clock.now().timestamp())


def decided_at(clock: Clock, not_before: datetime) -> datetime:
    """The time a decision of ours carries: now, but never before the fact it is about (the
    source's clock may run ahead of ours)."""
    return max(clock.now(), not_before.astimezone(UTC))
