"""The hourly archiver: each tenant's raw webhooks of every ended hour, one object per source.

The table lets raw events go after the tenant's ``retention.raw_event_days``; before that, each
hour of them is written to the archive bucket once (``shared.raw_events``: gzipped JSON lines,
never overwritten) and the tenant's checkpoint moves past it. A run that fails leaves the
checkpoint where it was, and the next run (an hour later) writes the same hours: the table
keeps them at least 14 days, so an outage shorter than that loses nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby

from functions.webhooks.domain.archiving import QUIET_CHECKPOINT, archive_window, hour_of
from functions.webhooks.domain.sources import SOURCES
from functions.webhooks.ports import RawEventArchive, StoredEvent
from shared.clock import Clock
from shared.observability import logger
from shared.retention import received_instant


@dataclass
class ArchiveReport:
    tenants: int = 0
    objects_written: int = 0
    # Hours found archived already (a run that failed after writing them): left as they are.
    objects_found: int = 0
    events: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


def archive_ended_hours(
    tenants: Iterable[str],
    archive: RawEventArchive,
    clock: Clock,
    sources: Iterable[str] = SOURCES,
) -> ArchiveReport:
    """Archive every tenant's ended hours; one tenant's failure does not stop the others."""
    report = ArchiveReport()
    now = clock.now()
    names = tuple(sources)
    for tenant in tenants:
        report.tenants += 1
        try:
            _archive_tenant(tenant, archive, now, names, report)
        except Exception as error:  # reported, retried by the next run from the checkpoint
            logger.exception("raw events not archived", extra={"tenant": tenant})
            report.failures.append((tenant, f"{type(error).__name__}: {error}"))
    return report


def _archive_tenant(
    tenant: str,
    archive: RawEventArchive,
    now: datetime,
    sources: tuple[str, ...],
    report: ArchiveReport,
) -> None:
    through = archive.archived_through(tenant)
    oldest = None
    if through is None:
        oldest = min(
            (at for s in sources if (at := archive.oldest_received(tenant, s)) is not None),
            default=None,
        )
    window = archive_window(now, through, oldest)
    if window is None:
        return
    start, end = window
    hours = 0
    for source in sources:
        events = archive.received_between(tenant, source, start, end)
        for hour, in_hour in groupby(events, key=_hour_received):
            batch = list(in_hour)
            hours += 1
            if archive.archive_hour(tenant, source, hour, batch):
                report.objects_written += 1
                report.events += len(batch)
            else:
                report.objects_found += 1
    if hours or end - start >= QUIET_CHECKPOINT:
        archive.mark_archived_through(tenant, end)


def _hour_received(event: StoredEvent) -> datetime:
    return hour_of(received_instant(event.received_at))
