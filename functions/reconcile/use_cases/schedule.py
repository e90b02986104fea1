"""Which tenant and day a run of the daily reconciliation covers.

The hourly tick reconciles each tenant whose local clock has reached its
``reconciliation.run_hour``, for its local yesterday: one schedule for every time zone, and a
new tenant needs no deploy. On demand (``ecomops reconcile run``) the run is given the tenant
and the day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from functions.reconcile.ports import TenantLookup
from shared.tenants import TenantSettings

TICK = timedelta(hours=1)


def run_instant(tenant: TenantSettings, local_day: date) -> datetime:
    """When the tenant's run hour begins on ``local_day``, in UTC.

    On the night clocks go forward the run hour may not exist (02:00 in Amsterdam): the run
    is then at the first instant after the gap. On the night they go back it happens twice:
    the run is at the first."""
    wall = datetime.combine(local_day, time(tenant.reconciliation.run_hour))
    # fold=0 reads a missing wall time with the offset before the change (so it lands at the
    # end of the gap) and a repeated one as its first occurrence.
    return wall.replace(tzinfo=ZoneInfo(tenant.timezone), fold=0).astimezone(UTC)


def due_tenants(tenants: list[TenantSettings], now: datetime) -> list[tuple[TenantSettings, date]]:
    """Tenants whose run instant fell in the hour up to this tick, each with its local
    yesterday: every tenant is due exactly once per local day, whatever its zone does."""
    due = []
    for tenant in tenants:
        zone = ZoneInfo(tenant.timezone)
        days = {now.astimezone(zone).date(), (now - TICK).astimezone(zone).date()}
        for day in sorted(days):
            if now - TICK < run_instant(tenant, day) <= now:
                due.append((tenant, day - timedelta(days=1)))
    return due


def days_to_run(
    tenants: TenantLookup, *, tenant: str | None, day: date | None, now: datetime
) -> list[tuple[TenantSettings, date]]:
    """The tenant and day asked for (on demand), or every tenant due at ``now`` (the tick).
    ``LookupError`` for a tenant with no settings."""
    if tenant:
        settings = tenants.get(tenant)
        if settings is None:
            raise LookupError(f"tenant {tenant!r} has no settings")
        if day is None:
            raise ValueError(f"no day to reconcile for tenant {tenant!r}")
        return [(settings, day)]
    return due_tenants(tenants.all(), now)
