"""The hourly tick's steps around its per-tenant Map (``use_cases.fanout``), one Lambda for
the light work of the tick's state machine, chosen by ``action``:

- ``due`` (``time``: the schedule's instant): ``{"tick", "due": [{"tenant", "day"}, …]}``;
- ``failed`` (``tenant``, ``day``, ``error``: the error the Map's Catch caught): the tenant's
  finance people are told; ``{"tenant", "day", "outcome": "failed", "error"}``;
- ``summary`` (``tick``, ``outcomes``: the Map's results): counts kept and logged, operations
  told of failures;
- ``remind`` (``tick``): the reminders of open query cases due (``functions.reports.queries``).

Settings: ``functions.reconcile.composition.ReconcileSettings``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shared.coldstart import imports_without_gc

with imports_without_gc():
    from functions.reconcile.composition import (
        CLOCK,
        ReconcileSettings,
        fanout_tick,
        query_case_reminders,
    )
    from shared.observability import logger


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = ReconcileSettings.from_env()
    tick = fanout_tick(settings)
    action = event.get("action")
    if action == "due":
        now = datetime.fromisoformat(event["time"]) if event.get("time") else CLOCK.now()
        return {"tick": now.isoformat(), "due": [run.item() for run in tick.due(now)]}
    if action == "failed":
        return tick.failed(
            event["tenant"], date.fromisoformat(event["day"]), event.get("error") or {}
        )
    if action == "summary":
        return tick.summarise(datetime.fromisoformat(event["tick"]), event.get("outcomes") or [])
    if action == "remind":
        reminders = query_case_reminders(settings)(datetime.fromisoformat(event["tick"]))
        return {"query_case_reminders": reminders}
    raise ValueError(f"unknown action {action!r}: expected due, failed, summary or remind")
