"""The hourly reconciliation tick on the local stack: its state machine lists the tenants due,
reconciles each in a Map, and one tenant's failure (a payout record it cannot read) is retried,
told to its finance people and to operations, while the other two tenants are reconciled."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from functions.reconcile.adapters.bank_store import BankStore
from functions.reconcile.adapters.break_store import BreakStore
from functions.reconcile.adapters.tick_log import DynamoTickLog
from functions.reconcile.domain.bank.model import BankLine, SourcePosition
from local import template as tpl
from shared import keys
from tests.workflow.alerts import TopicInbox

pytestmark = pytest.mark.local

# A fixed instant, whatever the machine's clock says: 01:20 UTC is 07:05 in Kathmandu
# (+05:45), 06:50 in Kolkata (+05:30) and 10:05 in Eucla (+08:45), so each tenant below is due
# (its run hour began within the hour) for its local yesterday, 20 November.
TICK = "2026-11-21T01:20:00+00:00"
DAY = date(2026, 11, 20)
TENANTS = {
    "fan-kathmandu": ("Asia/Kathmandu", 7),
    "fan-kolkata": ("Asia/Kolkata", 6),
    "fan-eucla": ("Australia/Eucla", 10),
}
BROKEN = "fan-kolkata"
# An hour of the day at which no tenant of the workflow tests runs its reconciliation.
QUIET_HOUR = datetime(2026, 3, 2, 15, tzinfo=UTC)


def install(stack: Any, tmp_path: Path) -> None:
    tenants = [
        {
            "settings": {
                "id": tenant,
                "name": f"Fan-out {tenant}",
                "currency": "EUR",
                "timezone": zone,
                "customer_sender": f"orders@{tenant}.example",
                "finance_emails": [f"finance@{tenant}.example"],
                "reconciliation": {"run_hour": hour},
            },
            "secrets": {},
        }
        for tenant, (zone, hour) in TENANTS.items()
    ]
    path = tmp_path / "fanout-tenants.json"
    path.write_text(json.dumps({"tenants": tenants}))
    stack.install_tenants(path)


def plant(stack: Any) -> None:
    """A settlement-looking bank credit no payout explains for every tenant (an unknown bank
    credit), and for one tenant a payout record that does not parse."""
    table = stack.deployment.outputs["TableName"]
    store = BankStore(table)
    for tenant in TENANTS:
        store.put_lines(
            [
                BankLine(
                    tenant=tenant,
                    account="NL91ABNA0417164300",
                    currency="EUR",
                    amount=12_345,
                    direction="credit",
                    booking_date=DAY,
                    value_date=DAY,
                    source=SourcePosition(
                        file=f"bank-statements/{tenant}/{DAY}.csv",
                        file_sha256="a" * 64,
                        format="csv",
                        line_no=2,
                        entry_index=0,
                    ),
                    counterparty="STRIPE PAYMENTS",
                    remittance="STRIPE PAYOUT",
                )
            ]
        )
    stack.client("dynamodb").put_item(
        TableName=table,
        Item={
            "PK": {"S": keys.payout_pk(BROKEN, "po_broken")},
            "SK": {"S": "PAYOUT"},
            "GSI2PK": {"S": keys.payouts_index(BROKEN)},
            "GSI2SK": {"S": f"{DAY}T12:00:00+00:00#po_broken"},
            "state": {"S": '{"tenant": "fan-kolkata", "payout_id": '},
        },
    )


def fanout_machine(stack: Any) -> str:
    deployment = stack.deployment
    (arn,) = [
        physical
        for lid, physical in deployment.physical.items()
        if deployment.types.get(lid) == "AWS::StepFunctions::StateMachine"
        and lid.startswith("ReconciliationFanout")
    ]
    return str(arn)


def finished(stack: Any, execution_arn: str, timeout_s: float = 180) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.5)
    raise AssertionError(f"the tick {execution_arn} still runs after {timeout_s}s")


def history(stack: Any, execution_arn: str) -> list[dict[str, Any]]:
    pages = stack.client("stepfunctions").get_paginator("get_execution_history")
    return [e for page in pages.paginate(executionArn=execution_arn) for e in page["events"]]


@pytest.fixture(scope="module")
def tick(local_stack: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    install(local_stack, tmp_path_factory.mktemp("fanout"))
    plant(local_stack)
    finance = TopicInbox(local_stack, filter_policy={"kind": ["reconciliation_failed"]})
    ops = TopicInbox(
        local_stack, topic="Ops", filter_policy={"kind": ["reconciliation_tick_incomplete"]}
    )
    execution = local_stack.client("stepfunctions").start_execution(
        stateMachineArn=fanout_machine(local_stack), input=json.dumps({"time": TICK})
    )
    described = finished(local_stack, execution["executionArn"])
    return {
        "described": described,
        "output": json.loads(described.get("output") or "{}"),
        "history": history(local_stack, execution["executionArn"]),
        "finance": finance,
        "ops": ops,
    }


def test_one_tenant_fails_and_the_other_two_are_reconciled(
    local_stack: Any, tick: dict[str, Any]
) -> None:
    assert tick["described"]["status"] == "SUCCEEDED", tick["described"]
    output = tick["output"]
    assert output["run"]["tick"] == TICK
    mine = {o["tenant"]: o for o in output["outcomes"] if o["tenant"] in TENANTS}
    assert set(mine) == set(TENANTS)
    assert mine[BROKEN] == {
        "tenant": BROKEN,
        "day": DAY.isoformat(),
        "outcome": "failed",
        "error": "ValidationError",
    }
    table = local_stack.deployment.outputs["TableName"]
    breaks = BreakStore(table)
    for tenant in set(TENANTS) - {BROKEN}:
        assert mine[tenant] == {
            "tenant": tenant,
            "day": DAY.isoformat(),
            "outcome": "reconciled",
            "breaks_open": 1,
        }
        run = breaks.run(tenant, DAY)
        assert run is not None and run["by_class"] == {"unknown_bank_credit": 1}
        (open_break,) = breaks.breaks(tenant, "open")
        assert (open_break.amount, open_break.currency) == (12_345, "EUR")
        report = local_stack.client("s3").get_object(
            Bucket=local_stack.deployment.outputs["ReportsBucket"], Key=run["report"]["json"]
        )
        assert json.loads(report["Body"].read())["tenant"] == tenant
    # Nothing of the failed tenant's day was written.
    assert breaks.run(BROKEN, DAY) is None and breaks.breaks(BROKEN, "open") == []


def test_the_failed_tenant_was_retried_before_finance_and_operations_were_told(
    local_stack: Any, tick: dict[str, Any]
) -> None:
    daily = local_stack.deployment.physical[
        next(
            lid
            for lid, kind in local_stack.deployment.types.items()
            if kind == "AWS::Lambda::Function" and lid.startswith("ReconciliationDaily")
        )
    ]
    attempts: dict[str, int] = {}
    for event in tick["history"]:
        scheduled = event.get("lambdaFunctionScheduledEventDetails") or {}
        if scheduled.get("resource", "").endswith(f":function:{daily}"):
            tenant = json.loads(scheduled["input"])["tenant"]
            attempts[tenant] = attempts.get(tenant, 0) + 1
    assert {t: attempts.get(t) for t in TENANTS} == {
        "fan-kathmandu": 1,
        "fan-eucla": 1,
        BROKEN: 3,  # the first run and its two retries
    }

    told = tick["finance"].wait_for(BROKEN, "reconciliation_failed")
    assert told["severity"] == "critical" and told["team"] == "finance"
    assert told["message"].startswith(f"Reconciliation {DAY} failed: ValidationError")
    assert f"ecomops reconcile run --tenant {BROKEN} --date {DAY}" in told["message"]
    others = [m for m in tick["finance"].read() if m.get("tenant") in TENANTS]
    assert others == []  # the reconciled tenants' finance people hear nothing of it

    (incomplete,) = [m for m in tick["ops"].read() if TICK in m["message"]]
    assert incomplete["severity"] == "critical" and "tenant" not in incomplete
    assert f"{BROKEN}:{DAY}" in incomplete["message"]

    summary = tick["output"]["summary"]
    assert summary["failed_tenants"] == [f"{BROKEN}:{DAY}"]
    assert summary["tenants"] == len(tick["output"]["outcomes"]) >= 3
    assert summary["reconciled"] == summary["tenants"] - 1
    kept = DynamoTickLog(local_stack.deployment.outputs["TableName"]).get(
        datetime.fromisoformat(TICK)
    )
    assert kept == summary


def test_the_hourly_schedule_starts_the_tick_with_its_instant(local_stack: Any) -> None:
    (schedule,) = [
        s
        for s in tpl.schedules(local_stack.deployment.template)
        if s.rule_logical_id.startswith("ReconciliationHourly")
    ]
    # A fixed instant: fired now, the tick reconciled every tenant the worker's earlier tests
    # left due at this hour of the day (20 s to 90 s by the time of day).
    (execution_arn,) = local_stack.fire(schedule.rule_logical_id, at=QUIET_HOUR)
    described = finished(local_stack, execution_arn)
    assert described["status"] == "SUCCEEDED", described
    given = json.loads(described["input"])
    assert given == {"time": "2026-03-02T15:00:00Z"}
    output = json.loads(described["output"])
    assert output["summary"]["tenants"] == len(output["run"]["due"])
