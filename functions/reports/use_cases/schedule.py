"""Which tenants' report mornings an hourly tick runs: each tenant whose local clock reached its
``reports.run_hour`` in the hour up to the tick, for its local yesterday.

Apart from the summaries (``use_cases.summary``) so that a tick finding no tenant due loads no
tally, no order state and no summary model: most hours run no tenant's morning.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.tenants import TenantSettings

TICK = timedelta(hours=1)


def run_instant(tenant: TenantSettings, day: date) -> datetime:
    """When the tenant's report hour begins on its local ``day`` (on a night clocks skip the
    hour, the first instant after the gap; on a night they repeat it, the first)."""
    wall = datetime.combine(day, time(tenant.reports.run_hour))
    return wall.replace(tzinfo=ZoneInfo(tenant.timezone), fold=0).astimezone(UTC)


def morning(tenant: TenantSettings, now: datetime) -> tuple[date, datetime] | None:
    """The tenant's local day whose report hour began in the hour up to ``now``, and that
    instant; None in the other hours of its day."""
    zone = ZoneInfo(tenant.timezone)
    for day in sorted({now.astimezone(zone).date(), (now - TICK).astimezone(zone).date()}):
        instant = run_instant(tenant, day)
        if now - TICK < instant <= now:
            return day, instant
    return None


def due(tenants: list[TenantSettings], now: datetime) -> list[tuple[TenantSettings, date]]:
    """Each tenant whose report hour began in the hour up to ``now``, with its local
    yesterday: once per local day, whatever the zone does."""
    found = []
    for tenant in tenants:
        began = morning(tenant, now)
        if began is not None:
            found.append((tenant, began[0] - timedelta(days=1)))
    return found
