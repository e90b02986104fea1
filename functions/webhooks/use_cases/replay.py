"""Re-driving stored events: from the dead-letter queue, or by tenant, source and time.

Replays go through ``process.process``, the very function the stream processor calls, and the
timeline makes an already applied event a no-op: replaying is always safe.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from functions.webhooks.ports import DeadLetters, StoredEvent
from functions.webhooks.use_cases.process import Dependencies, process


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
    report = ReplayReport()
    for raw in deps.raw_events.since(tenant, source, since):
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
