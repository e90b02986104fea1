"""Where a day's report lands in S3: one folder per tenant and day."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from shared.tenants import TenantSettings

ReportPart = Literal["report.html", "report.csv", "summary.json"]
_PARTS: frozenset[str] = frozenset({"report.html", "report.csv", "summary.json"})
# The tenant id pattern of ``TenantSettings``: nothing that could climb out of the prefix.
_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")


def report_key(tenant: str | TenantSettings, day: date, part: ReportPart = "report.html") -> str:
    """``reports/{tenant}/reconciliation/{yyyy}/{mm}/{dd}/{part}``: one folder per day, so a
    re-run of the day overwrites its own report and nothing else."""
    tenant_id = tenant.id if isinstance(tenant, TenantSettings) else tenant
    if not _TENANT_ID.match(tenant_id):
        raise ValueError(f"not a tenant id: {tenant_id!r}")
    if part not in _PARTS:
        raise ValueError(f"not a report part: {part!r}")
    return f"reports/{tenant_id}/reconciliation/{day:%Y/%m/%d}/{part}"
