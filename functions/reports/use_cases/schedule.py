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


def due(tenants: list[TenantSettings], now: datetime) -> list[tuple[TenantSettings, date]]:
    """Each tenant whose report hour began in the hour up to ``now``, with its local
    yesterday: once per local day, whatever the zone does."""
    found = []
    for tenant in tenants:
        zone = ZoneInfo(tenant.timezone)
        for day in sorted({now.astimezone(zone).date(), (now - TICK).astimezone(zone).date()}):
            if now - TICK < run_instant(tenant, day) <= now:
                found.append((tenant, day - timedelta(days=1)))
    return found
