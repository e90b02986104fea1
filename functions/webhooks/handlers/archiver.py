"""Hourly: every tenant's raw webhooks of the hours that ended, to the archive bucket
(``use_cases.archive``). Fails the invocation when a tenant could not be archived, after trying
every tenant: the alarm on this function's errors tells operations, and the next run catches up
from each tenant's checkpoint.

An EventBridge event's ``time`` (the schedule's instant) is "now", never later than the clock:
an hour is written once, so archiving one that has not ended would leave out its later events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.coldstart import imports_without_gc

with imports_without_gc():
    from functions.webhooks.composition import archive_raw_events
    from shared.clock import SYSTEM_CLOCK
    from shared.observability import logger


class _ScheduledAt:
    def __init__(self, time: str | None) -> None:
        self.time = datetime.fromisoformat(time) if time else None

    def now(self) -> datetime:
        now = SYSTEM_CLOCK.now()
        return min(self.time, now) if self.time is not None else now


class ArchiveIncomplete(RuntimeError):
    """Some tenants' hours are not archived yet; the next run goes on from their checkpoint."""


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = archive_raw_events(clock=_ScheduledAt(event.get("time")))
    summary = {
        "tenants": report.tenants,
        "objects_written": report.objects_written,
        "objects_found": report.objects_found,
        "events": report.events,
        "failed": [tenant for tenant, _ in report.failures],
    }
    logger.info("raw events archived", extra=summary)
    if report.failures:
        raise ArchiveIncomplete(f"not archived: {report.failures}")
    return summary
