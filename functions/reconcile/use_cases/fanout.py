"""The hourly tick, fanned out: which tenants are due, what to say when one fails, the summary.

The tick is a Standard state machine (``infra/constructs/reconciliation.py``): a first step
lists the tenants whose run hour has come (``due``), a Map runs the daily reconciliation once
per tenant with bounded concurrency, each iteration retried and caught, so that one tenant's
failure is told to its finance people (``failed``) and never stops the others; a last step
counts what happened (``summarise``), keeps it and tells operations when a tenant failed.
The per-tenant step is the daily reconciliation function itself, the one ``ecomops reconcile
run`` invokes on demand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from functions.reconcile.ports import Alerts, TenantLookup, TickLog
from functions.reconcile.use_cases.schedule import due_tenants
from shared.notices.reconcile import ReconciliationFailed, ReconciliationTickIncomplete
from shared.observability import logger

RECONCILED = "reconciled"
FAILED = "failed"

# Step Functions' error cause can be a whole stack trace: the notice carries its start.
CAUSE_CHARS = 500


@dataclass(frozen=True)
class TenantRun:
    """One item of the Map: a tenant and the local day its run covers."""

    tenant: str
    day: date

    def item(self) -> dict[str, str]:
        return {"tenant": self.tenant, "day": self.day.isoformat()}


@dataclass
class FanoutTick:
    tenants: TenantLookup
    # The tenant's finance people (client alerts topic and e-mail).
    alerts: Alerts
    # Our operators (the operations topic).
    ops_alerts: Alerts
    log: TickLog

    def due(self, now: datetime) -> list[TenantRun]:
        """Every tenant whose run hour fell in the hour up to ``now``, with its local yesterday,
        in tenant order (``schedule.due_tenants`` decides, as it always has)."""
        runs = [TenantRun(t.id, day) for t, day in due_tenants(self.tenants.all(), now)]
        return sorted(runs, key=lambda run: (run.tenant, run.day))

    def failed(self, tenant: str, day: date, error: Mapping[str, Any]) -> dict[str, Any]:
        """A tenant's run failed after its retries (``error`` is Step Functions' caught error:
        ``Error`` and ``Cause``): its finance people are told, and the outcome says so."""
        name = str(error.get("Error") or "UnknownError")
        cause = _cause_text(error.get("Cause"))
        logger.error(
            "tenant reconciliation failed",
            extra={"tenant": tenant, "day": day.isoformat(), "error": name},
        )
        self.alerts.send(
            ReconciliationFailed(tenant=tenant, day=day.isoformat(), error=name, cause=cause)
        )
        return {"tenant": tenant, "day": day.isoformat(), "outcome": FAILED, "error": name}

    def summarise(self, tick: datetime, outcomes: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """Counts of the tick's tenants reconciled and failed; kept, logged, and operations
        told when any failed. An outcome that is neither is a fault of the workflow: refused."""
        reconciled: list[str] = []
        failed: list[str] = []
        for outcome in outcomes:
            kind = outcome.get("outcome")
            label = f"{outcome.get('tenant')}:{outcome.get('day')}"
            if kind == RECONCILED:
                reconciled.append(label)
            elif kind == FAILED:
                failed.append(label)
            else:
                raise ValueError(f"outcome of {label} is {kind!r}, not reconciled or failed")
        summary: dict[str, Any] = {
            "tick": tick.isoformat(),
            "tenants": len(reconciled) + len(failed),
            "reconciled": len(reconciled),
            "failed": len(failed),
            "failed_tenants": sorted(failed),
        }
        self.log.save(tick, summary)
        logger.info("reconciliation tick", extra=summary)
        if failed:
            self.ops_alerts.send(
                ReconciliationTickIncomplete(
                    tick=tick.isoformat(), reconciled=len(reconciled), failed=tuple(sorted(failed))
                )
            )
        return summary


def _cause_text(cause: Any) -> str | None:
    """Lambda's error payload arrives as a JSON string in ``Cause``: its message if it has one."""
    if cause is None:
        return None
    text = str(cause)
    try:
        parsed = json.loads(text)
    except ValueError:
        return text[:CAUSE_CHARS]
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        return str(parsed["errorMessage"])[:CAUSE_CHARS]
    return text[:CAUSE_CHARS]
