"""The hourly tick's steps around its per-tenant Map (``use_cases.fanout``) over fakes: which
tenants are due, what a tenant's failure tells its finance people, and the tick's summary."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from functions.reconcile.use_cases.fanout import FanoutTick, TenantRun
from shared.notices.reconcile import ReconciliationFailed, ReconciliationTickIncomplete
from shared.tenants import ReconciliationSettings
from tests.alerts_fakes import FakeAlerts
from tests.unit.reconcile_fakes import FakeTenants
from tests.unit.test_reconcile_use_cases import ACME

TICK = datetime(2026, 11, 21, 1, 20, tzinfo=UTC)
DAY = date(2026, 11, 20)


class FakeTickLog:
    def __init__(self) -> None:
        self.saved: dict[datetime, dict[str, Any]] = {}

    def save(self, tick: datetime, summary: dict[str, Any]) -> None:
        self.saved[tick] = summary


def tenant(tenant_id: str, zone: str, hour: int) -> Any:
    return ACME.model_copy(
        update={
            "id": tenant_id,
            "timezone": zone,
            "reconciliation": ReconciliationSettings(run_hour=hour),
        }
    )


def fanout(*tenants: Any) -> tuple[FanoutTick, FakeAlerts, FakeAlerts, FakeTickLog]:
    finance, ops, log = FakeAlerts(), FakeAlerts(), FakeTickLog()
    tick = FanoutTick(
        tenants=FakeTenants({t.id: t for t in tenants}), alerts=finance, ops_alerts=ops, log=log
    )
    return tick, finance, ops, log


def test_the_tenants_due_are_those_whose_run_hour_began_within_the_hour_in_tenant_order() -> None:
    tick, *_ = fanout(
        tenant("kathmandu", "Asia/Kathmandu", 7),  # 07:00 +05:45 = 01:15 UTC: due
        tenant("eucla", "Australia/Eucla", 10),  # 10:00 +08:45 = 01:15 UTC: due
        tenant("amsterdam", "Europe/Amsterdam", 6),  # 05:00 UTC: not yet
        tenant("kolkata", "Asia/Kolkata", 7),  # 01:30 UTC: not yet
    )
    assert tick.due(TICK) == [TenantRun("eucla", DAY), TenantRun("kathmandu", DAY)]
    assert tick.due(TICK)[0].item() == {"tenant": "eucla", "day": "2026-11-20"}


def test_a_failed_tenant_is_told_to_its_finance_people_with_the_errors_message() -> None:
    tick, finance, ops, _ = fanout()
    cause = json.dumps({"errorMessage": "1 validation error for PayoutState", "stackTrace": []})
    outcome = tick.failed("acme", DAY, {"Error": "ValidationError", "Cause": cause})
    assert outcome == {
        "tenant": "acme",
        "day": "2026-11-20",
        "outcome": "failed",
        "error": "ValidationError",
    }
    (notice,) = finance.sent
    assert isinstance(notice, ReconciliationFailed)
    assert (notice.tenant, notice.day, notice.cause) == (
        "acme",
        "2026-11-20",
        "1 validation error for PayoutState",
    )
    assert notice.headline == "Reconciliation 2026-11-20 failed: ValidationError"
    (published,) = finance.published
    attributes = {k: v["StringValue"] for k, v in published["MessageAttributes"].items()}
    assert attributes == {
        "kind": "reconciliation_failed",
        "tenant": "acme",
        "severity": "critical",
        "team": "finance",
    }
    assert ops.sent == []
    # A timeout's cause is no JSON: kept as text, cut short.
    tick.failed("acme", date(2026, 11, 21), {"Error": "States.Timeout", "Cause": "x" * 900})
    assert finance.sent[-1].cause == "x" * 500  # type: ignore[attr-defined]


def test_the_summary_counts_the_outcomes_keeps_them_and_tells_operations_of_failures() -> None:
    tick, _, ops, log = fanout()
    outcomes: list[dict[str, Any]] = [
        {"tenant": "a", "day": "2026-11-20", "outcome": "reconciled", "breaks_open": 0},
        {"tenant": "c", "day": "2026-11-20", "outcome": "failed", "error": "ValidationError"},
        {"tenant": "b", "day": "2026-11-20", "outcome": "reconciled", "breaks_open": 2},
    ]
    summary = tick.summarise(TICK, outcomes)
    assert summary == {
        "tick": TICK.isoformat(),
        "tenants": 3,
        "reconciled": 2,
        "failed": 1,
        "failed_tenants": ["c:2026-11-20"],
    }
    assert log.saved == {TICK: summary}
    (notice,) = ops.sent
    assert isinstance(notice, ReconciliationTickIncomplete) and notice.tenant is None
    assert notice.headline == (
        "Reconciliation tick 2026-11-21T01:20:00+00:00: 1 tenant failed, 2 reconciled"
    )


def test_a_tick_with_no_failure_tells_nobody_and_one_with_nothing_due_counts_zero() -> None:
    tick, finance, ops, log = fanout()
    assert tick.summarise(TICK, [])["tenants"] == 0
    ok = [{"tenant": "a", "day": "2026-11-20", "outcome": "reconciled"}]
    assert tick.summarise(TICK, ok)["reconciled"] == 1
    assert ops.sent == [] and finance.sent == [] and len(log.saved) == 1


def test_an_outcome_that_is_neither_reconciled_nor_failed_is_refused() -> None:
    tick, _, _, log = fanout()
    with pytest.raises(ValueError, match="not reconciled or failed"):
        tick.summarise(TICK, [{"tenant": "a", "day": "2026-11-20", "outcome": "maybe"}])
    assert log.saved == {}
