"""The reports function: every hour (EventBridge) it tallies yesterday for each tenant whose
local clock reached its ``reports.run_hour`` and publishes the periods that ended, and mails
each tenant's teams the routine notices held for their digest (``use_cases.digest``); on demand
(an event with ``tenant``, ``kind`` and ``day``) it publishes that period, and an event with
``digests`` sends only the digests due. An event's ``time`` (EventBridge's) is the tick's
instant.

Settings: ``functions.reports.composition.ReportsSettings``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shared.coldstart import imports_without_gc

with imports_without_gc():
    from functions.reports.composition import (
        CLOCK,
        ReportsSettings,
        digest_ports,
        reports_ports,
        tenant_directory,
    )
    from functions.reports.use_cases.digest import send_digests
    from functions.reports.use_cases.schedule import due
    from shared.observability import logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = ReportsSettings.from_env()
    now = datetime.fromisoformat(event["time"]) if event.get("time") else CLOCK.now()
    # The summaries (tallies, order state, the summary models) load for a tenant's report:
    # most hourly ticks find no tenant's morning due, read the tenants and stop there.
    if event.get("tenant"):
        from functions.reports.domain.periods import PeriodKind
        from functions.reports.use_cases.summary import business_summary, publish

        ports = reports_ports(settings)
        tenant = ports.tenant(event["tenant"])
        logger.append_keys(tenant=tenant.id)
        summary = business_summary(
            ports, tenant.id, PeriodKind(event["kind"]), date.fromisoformat(event["day"]), now
        )
        return {"published": [publish(ports, tenant, summary)]}
    tenants = tenant_directory(settings).all()
    digests = send_digests(digest_ports(settings), tenants, now)
    if event.get("digests"):
        return {"digests": digests}
    due_now = due(tenants, now)
    if not due_now:
        return {"ticked": [], "digests": digests}
    from functions.reports.use_cases.summary import tick

    return {"ticked": tick(reports_ports(settings), now, due_now), "digests": digests}
