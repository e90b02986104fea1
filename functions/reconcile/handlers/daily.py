"""The daily reconciliation function: every hour it reconciles yesterday for each tenant whose
local clock has reached its ``reconciliation.run_hour``; on demand (``ecomops reconcile run``,
an event with ``tenant`` and ``day``) it reconciles the tenant and day it is given. An event's
``time`` (EventBridge's) is the tick's instant. The tick also sends the reminders of open query
cases that are due (``functions.reports.queries``).

Settings: ``functions.reconcile.composition.ReconcileSettings``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from functions.reconcile.composition import (
    CLOCK,
    ReconcileSettings,
    daily_reconciliation,
    query_case_reminders,
    tenant_directory,
)
from functions.reconcile.use_cases.schedule import days_to_run
from shared.observability import logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = ReconcileSettings.from_env()
    tenant = event.get("tenant") or None
    day = date.fromisoformat(event["day"]) if tenant else None
    now = datetime.fromisoformat(event["time"]) if event.get("time") else CLOCK.now()
    work = days_to_run(tenant_directory(settings), tenant=tenant, day=day, now=now)
    daily = daily_reconciliation(settings)
    results = []
    for settings_of_tenant, run_day in work:
        logger.append_keys(tenant=settings_of_tenant.id, day=run_day.isoformat())
        results.append(daily.run(settings_of_tenant, run_day))
    if tenant is None:
        # The hourly tick also reminds finance of the query cases still open.
        return {"reconciled": results, "query_case_reminders": query_case_reminders(settings)(now)}
    return {"reconciled": results}
