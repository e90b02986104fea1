"""Re-driving stored events: from the dead-letter queue, or by tenant, source and time.

Replays go through ``process.process``, the very function the stream processor calls, and the
timeline makes an already applied event a no-op: replaying is always safe.

A replay by time reads the archive for the part of its window older than what every tenant's
table surely still holds (``domain.archiving.table_keeps_since``: the shortest period a tenant
may set), and the table for the whole window: the table has the newest events (the archiver
writes an hour once it has ended) and any older ones it has not let go yet; an event found in
both is replayed once. The dead-letter drain reads the table: a dead letter never outlives the
events it names (14 days' retention, the table's shortest period).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from functions.webhooks.domain.archiving import table_keeps_since
from functions.webhooks.ports import DeadLetters, StoredEvent
from functions.webhooks.use_cases.process import Dependencies, process
from shared.retention import received_instant


@dataclass
class ReplayReport:
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[str, str]] = field(default_factory=list)
    messages_deleted: int = 0

    def add(self, raw: StoredEvent, deps: Dependencies) -> bool:
        try:
            self.outcomes[process(raw, deps)] += 1
            return True
        except Exception as error:  # reported per event; the rest of the replay goes on
            self.failures.append((raw.event_id, f"{type(error).__name__}: {error}"))
            self.outcomes["failed"] += 1
            return False


def replay_since(tenant: str, source: str, since: str, deps: Dependencies) -> ReplayReport:
    """Every event of ``tenant`` and ``source`` received at or after ``since`` (ISO 8601; UTC
    when it names no offset), the archive's and the table's, each once."""
    report = ReplayReport()
    start = received_instant(since)
    table_from = table_keeps_since(deps.clock.now())
    replayed: set[str] = set()
    if start < table_from:
        for raw in deps.raw_events.archived(tenant, source, start, table_from):
            replayed.add(raw.event_id)
            report.add(raw, deps)
    # As the table's receive times are written: UTC, so an offset in ``since`` counts.
    for raw in deps.raw_events.since(tenant, source, start.strftime("%Y-%m-%dT%H:%M:%S.%f")):
        if raw.event_id not in replayed:
            report.add(raw, deps)
    return report


def drain_dead_letters(
    letters: DeadLetters, deps: Dependencies, max_messages: int = 1000
) -> ReplayReport:
    """Process every event the dead-letter queue points at; delete a message once all of its
    events applied, keep it otherwise."""
    report = ReplayReport()
    seen = 0
    while seen < max_messages:
        messages = letters.receive()
        if not messages:
            break
        for message in messages:
            seen += 1
            events = list(letters.events_of(message))
            results = [report.add(raw, deps) for raw in events]
            if all(results):
                letters.delete(message)
                report.messages_deleted += 1
    return report
