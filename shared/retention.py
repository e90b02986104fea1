"""How long financial records are kept: at least as long as the raw webhooks they came from.

Raw webhook payloads are archived for ``RAW_EVENT_DAYS`` (the archive bucket's expiry,
``infra.config.StackConfig.archive_expire_days``). Everything an audit would check them
against (orders and their timelines, refund requests and reservations, the funds released to
vendors, payouts and their balance transactions, bank files and lines, reconciliation breaks,
actions and runs) carries a DynamoDB TTL of the tenant's ``retention.financial_years`` counted
from each write, so a record lives that long after it last changed; reports and bank files in
S3 expire by the stack's per-prefix lifecycle rules (``infra/constructs/storage.py``).

Raw webhooks stay in the table only ``retention.raw_event_days`` (a tenant's setting, 35 days
unless set; ``RAW_TABLE_*_DAYS``): long enough to deduplicate every sender's retries and serve
recent replays. The hourly archiver copies each ended hour of them to the archive bucket first
(docs/ingestion.md), which keeps them ``RAW_EVENT_DAYS``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from shared import keys
from shared.clock import SYSTEM_CLOCK, Clock
from shared.observability import logger

if TYPE_CHECKING:
    from shared.tenants import TenantSettings

# Raw webhooks are kept this long (seven years of 365 days); nothing financial is kept less.
RAW_EVENT_DAYS = 2555
DEFAULT_FINANCIAL_YEARS = 7
# The longest a tenant may ask for; what a record is kept when its tenant's settings cannot be
# read (never shorter than asked; the next write that reads them sets the tenant's own period).
LONGEST_FINANCIAL_YEARS = 100
TTL_ATTRIBUTE = keys.TABLE.ttl_attribute

# How long a raw webhook stays in the table (the archive keeps it RAW_EVENT_DAYS). The shortest
# outlives the dead-letter queue's 14 days, so a dead letter never points at an expired event;
# the longest is about a year of recent replays served by the table.
RAW_TABLE_DEFAULT_DAYS = 35
RAW_TABLE_SHORTEST_DAYS = 14
RAW_TABLE_LONGEST_DAYS = 400
SECONDS_PER_DAY = 86_400


def raw_table_days(days: int) -> int:
    """``days`` within the bounds a tenant may set (what a raw webhook is kept in the table)."""
    return max(RAW_TABLE_SHORTEST_DAYS, min(RAW_TABLE_LONGEST_DAYS, days))


def received_instant(received_at: str) -> datetime:
    """A raw event's ``received_at`` (ISO 8601; without an offset, UTC) as a UTC instant."""
    at = datetime.fromisoformat(received_at)
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)


def raw_event_expiry(received_at: datetime, days: int) -> int:
    """The epoch second a raw webhook received at ``received_at`` leaves the table."""
    return int(received_at.timestamp()) + raw_table_days(days) * SECONDS_PER_DAY


def shortest_days(years: int) -> int:
    """The fewest days ``years`` calendar years can last (no leap day among them)."""
    return 365 * years


def keep_until(now: datetime, years: int) -> int:
    """The epoch second ``years`` calendar years after ``now`` (29 February → 28 February)."""
    try:
        later = now.replace(year=now.year + years)
    except ValueError:  # 29 February, into a year that has none
        later = now.replace(year=now.year + years, day=28)
    return int(later.timestamp())


class TenantLookup(Protocol):
    def get(self, tenant: str) -> TenantSettings | None: ...


class Retention:
    """The TTL a tenant's financial records are written with, from the clock."""

    def __init__(self, tenants: TenantLookup | None, clock: Clock = SYSTEM_CLOCK) -> None:
        self.tenants = tenants
        self.clock = clock

    def years(self, tenant: str) -> int:
        if self.tenants is None:
            return DEFAULT_FINANCIAL_YEARS
        try:
            settings = self.tenants.get(tenant)
        except Exception as unreadable:  # the record is written all the same, kept longest
            logger.warning(
                "tenant settings unreadable: financial record kept the longest period",
                extra={"error": str(unreadable)[:300]},
            )
            return LONGEST_FINANCIAL_YEARS
        return settings.retention.financial_years if settings else DEFAULT_FINANCIAL_YEARS

    def expires_at(self, tenant: str) -> int:
        return keep_until(self.clock.now(), self.years(tenant))

    def attribute(self, tenant: str) -> dict[str, dict[str, str]]:
        """The TTL attribute of an item about to be written for ``tenant``."""
        return {TTL_ATTRIBUTE: {"N": str(self.expires_at(tenant))}}

    def update(self, tenant: str) -> tuple[str, dict[str, str], dict[str, Any]]:
        """For an UpdateExpression: the ``SET`` clause, its name and its value."""
        return (
            "#ttl = :ttl",
            {"#ttl": TTL_ATTRIBUTE},
            {":ttl": {"N": str(self.expires_at(tenant))}},
        )


def table_retention(table_name: str, clock: Clock = SYSTEM_CLOCK) -> Retention:
    """The retention of the tenants whose settings live in ``table_name``, read through the
    store's own cache of settings (a store writes many records for few tenants)."""
    from shared.tenants import CachedTenants, TenantDirectory

    return Retention(CachedTenants(TenantDirectory(table_name)), clock)
