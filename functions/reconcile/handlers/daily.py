"""The daily reconciliation function: one tenant's day, the one it is given (``tenant`` and
``day``). The hourly tick's fan-out (``handlers.tick`` and the Map of the tick's state machine)
invokes it once per tenant due; ``ecomops reconcile run`` and the demo invoke it on demand.
It answers ``{"tenant", "day", "breaks_open", "reconciled": [the run's summary]}``.

Settings: ``functions.reconcile.composition.ReconcileSettings``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.coldstart import imports_without_gc

with imports_without_gc():
    from functions.reconcile.composition import (
        CLOCK,
        ReconcileSettings,
        daily_reconciliation,
        tenant_directory,
    )
    from functions.reconcile.use_cases.schedule import days_to_run
    from shared.observability import logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    tenant = event.get("tenant") or None
    if tenant is None or not event.get("day"):
        # The tick no longer loops over tenants here: its state machine fans out (one
        # invocation per tenant), so an event without both is a mistake, not a tick.
        raise ValueError("expected the tenant and the day to reconcile ({'tenant', 'day'})")
    settings = ReconcileSettings.from_env()
    day = date.fromisoformat(event["day"])
    (work,) = days_to_run(tenant_directory(settings), tenant=tenant, day=day, now=CLOCK.now())
    settings_of_tenant, run_day = work
    logger.append_keys(tenant=settings_of_tenant.id, day=run_day.isoformat())
    summary = daily_reconciliation(settings).run(settings_of_tenant, run_day)
    # Beside the summary, at the top, what the tick's Map keeps of each tenant's run.
    return {
        "tenant": summary["tenant"],
        "day": summary["day"],
        "breaks_open": summary["counts"]["breaks_open"],
        "reconciled": [summary],
    }
