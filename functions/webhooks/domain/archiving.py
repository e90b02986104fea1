"""The pure side of archiving raw webhooks: which hours the archiver may write, and which part of
a replay's window the table surely still holds.

The table lets a raw event go ``retention.raw_event_days`` after it arrived (never fewer than
``RAW_TABLE_SHORTEST_DAYS``); the archive keeps it ``RAW_EVENT_DAYS``. The archiver writes each
tenant's ended hours, one object per hour and source, from where it stopped last time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.retention import RAW_TABLE_SHORTEST_DAYS

# An hour is archived once this long after it ended: the front door stamps ``received_at``
# before its put (within its 10 s timeout), and the index follows the table within seconds.
SETTLE = timedelta(minutes=10)
# The most one run archives of a tenant (a first run over events stored before the archiver
# existed, or catching up after an outage): the next run goes on from there.
MOST_PER_RUN = timedelta(days=31)
# Hours without events move the checkpoint only once they add up to this: a quiet tenant's
# window is asked again (an empty query) instead of a checkpoint PUT every hour.
QUIET_CHECKPOINT = timedelta(days=1)


def hour_of(at: datetime) -> datetime:
    """The UTC hour ``at`` falls in."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def archive_window(
    now: datetime, archived_through: datetime | None, oldest_in_table: datetime | None
) -> tuple[datetime, datetime] | None:
    """``[start, end)`` of whole hours to archive now, or None when there is nothing to do.

    From where the last run stopped (or, the first time, the hour of the oldest event the table
    holds) to the last hour that ended at least ``SETTLE`` ago, at most ``MOST_PER_RUN``."""
    start = archived_through or (hour_of(oldest_in_table) if oldest_in_table else None)
    if start is None:
        return None
    end = min(hour_of(now - SETTLE), start + MOST_PER_RUN)
    return (start, end) if start < end else None


def table_keeps_since(now: datetime) -> datetime:
    """Every raw event received at or after this instant is still in the table, whatever its
    tenant set: a replay reads what is older from the archive."""
    return now - timedelta(days=RAW_TABLE_SHORTEST_DAYS)
