"""Report periods in the tenant's time zone: a day, an ISO week (Monday to Sunday), a month,
a year, each a run of whole local days.

A period's instants are its local midnights converted to UTC, so a week that holds a change
to or from summer time is exactly 167 or 169 hours long, and a day is 23, 24 or 25 hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class PeriodKind(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    YEARLY = "yearly"


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    kind: PeriodKind
    first: date  # the first local day
    last: date  # the last local day (inclusive)

    @classmethod
    def containing(cls, kind: PeriodKind, day: date) -> Period:
        match kind:
            case PeriodKind.DAILY:
                return cls(kind, day, day)
            case PeriodKind.WEEKLY:
                first = day - timedelta(days=day.weekday())
                return cls(kind, first, first + timedelta(days=6))
            case PeriodKind.MONTHLY:
                first = day.replace(day=1)
                return cls(kind, first, _next_month(first) - timedelta(days=1))
            case PeriodKind.YEARLY:
                return cls(kind, date(day.year, 1, 1), date(day.year, 12, 31))
        raise ValueError(f"not a period kind: {kind!r}")

    def previous(self) -> Period:
        return Period.containing(self.kind, self.first - timedelta(days=1))

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """The period as the half-open UTC interval [start, end)."""
        zone = ZoneInfo(timezone)
        start = datetime.combine(self.first, time.min, zone)
        end = datetime.combine(self.last + timedelta(days=1), time.min, zone)
        return start.astimezone(UTC), end.astimezone(UTC)

    def ended(self, timezone: str, now: datetime) -> bool:
        return self.bounds(timezone)[1] <= now

    @property
    def label(self) -> str:
        match self.kind:
            case PeriodKind.DAILY:
                return self.first.isoformat()
            case PeriodKind.WEEKLY:
                year, week, _ = self.first.isocalendar()
                return f"{year}-W{week:02d} ({self.first.isoformat()} to {self.last.isoformat()})"
            case PeriodKind.MONTHLY:
                return f"{self.first:%Y-%m}"
        return f"{self.first:%Y}"

    @property
    def slug(self) -> str:
        """A path segment naming the period (S3 keys, file names)."""
        match self.kind:
            case PeriodKind.DAILY:
                return self.first.isoformat()
            case PeriodKind.WEEKLY:
                year, week, _ = self.first.isocalendar()
                return f"{year}-W{week:02d}"
            case PeriodKind.MONTHLY:
                return f"{self.first:%Y-%m}"
        return f"{self.first:%Y}"


def local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def periods_closing_on(day: date) -> list[PeriodKind]:
    """The periods whose last day is ``day``: each is summarised the morning after."""
    kinds = [PeriodKind.DAILY]
    if day.weekday() == 6:
        kinds.append(PeriodKind.WEEKLY)
    if (day + timedelta(days=1)).day == 1:
        kinds.append(PeriodKind.MONTHLY)
    if day.month == 12 and day.day == 31:
        kinds.append(PeriodKind.YEARLY)
    return kinds


def parse_period(kind: str | None, day: str | None) -> Period:
    """A period from what a caller typed (``weekly``, ``2026-10-21``), every mistake named."""
    problems = []
    try:
        chosen = PeriodKind(kind or "daily")
    except ValueError:
        problems.append(f"period {kind!r} is not one of {', '.join(k.value for k in PeriodKind)}")
    try:
        when = date.fromisoformat(day or "")
    except ValueError:
        problems.append(f"day {day!r} is not a date (YYYY-MM-DD)")
    if problems:
        raise ValueError("; ".join(problems))
    return Period.containing(chosen, when)
