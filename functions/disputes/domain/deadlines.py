"""Evidence deadlines: how the client team reads one (its own time zone), and which reminder
is due (5, 2 and 1 days before, while the evidence is not submitted, once each)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from functions.disputes.domain.case import CaseState, DisputeCase

REMINDER_DAYS = (5, 2, 1)
_NOT_SUBMITTED = frozenset({CaseState.NEW, CaseState.COLLECTING, CaseState.READY})


def local_deadline(due_by: datetime | None, timezone: str) -> str | None:
    """``Fri 27 Nov 2026 23:59 CET``: the deadline in the tenant's time zone."""
    if due_by is None:
        return None
    return due_by.astimezone(ZoneInfo(timezone)).strftime("%a %d %b %Y %H:%M %Z")


def reminders_due(case: DisputeCase, now: datetime) -> list[int]:
    """The reminders the case has crossed and not been sent, most urgent first: only the
    first is sent (a case found with one day left gets the one-day reminder, not three), and
    all are recorded as done."""
    if case.state not in _NOT_SUBMITTED or case.evidence_due_by is None:
        return []
    left = case.evidence_due_by - now
    if left <= timedelta(0):
        return []
    crossed = [d for d in REMINDER_DAYS if left <= timedelta(days=d)]
    return sorted(d for d in crossed if d not in case.reminders_sent)
