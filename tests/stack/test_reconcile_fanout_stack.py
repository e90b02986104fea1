"""The hourly reconciliation tick in the template: the schedule starts the fan-out state
machine, whose Map runs the daily function once per tenant with bounded concurrency, retries
and a catch, between the listing step and the summary."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from infra.constructs.reconciliation import MAX_CONCURRENT_TENANTS

pytestmark = pytest.mark.stack


def _logical_id(template: dict[str, Any], kind: str, prefix: str) -> str:
    (found,) = [
        lid
        for lid, r in template["Resources"].items()
        if r["Type"] == kind and lid.startswith(prefix)
    ]
    return str(found)


def _definition(template: dict[str, Any], machine: str) -> dict[str, Any]:
    """The state machine's ASL, each ``Fn::GetAtt`` of a function's Arn read as ``<lid>``."""
    parts = template["Resources"][machine]["Properties"]["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else f"<{p['Fn::GetAtt'][0]}>" for p in parts)
    parsed: dict[str, Any] = json.loads(text)
    return parsed


@pytest.fixture(scope="module")
def fanout(template: dict[str, Any]) -> dict[str, Any]:
    machine = _logical_id(
        template, "AWS::StepFunctions::StateMachine", "ReconciliationFanoutStateMachine"
    )
    return {
        "machine": machine,
        "asl": _definition(template, machine),
        "daily": _logical_id(template, "AWS::Lambda::Function", "ReconciliationDaily"),
        "tick": _logical_id(template, "AWS::Lambda::Function", "ReconciliationTick"),
    }


def test_the_hourly_schedule_starts_the_fanout_with_the_ticks_instant(
    template: dict[str, Any], fanout: dict[str, Any]
) -> None:
    assertions = Template.from_json(template)
    assertions.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "cron(5 * * * ? *)",
            "State": "ENABLED",
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Ref": fanout["machine"]},
                        "InputTransformer": {
                            "InputPathsMap": {"time": "$.time"},
                            "InputTemplate": '{"time":<time>}',
                        },
                        "RetryPolicy": {"MaximumRetryAttempts": 2},
                    }
                )
            ],
        },
    )
    assertions.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {
            "StateMachineType": "STANDARD",
            "TracingConfiguration": {"Enabled": True},
            "LoggingConfiguration": Match.object_like(
                {"IncludeExecutionData": False, "Level": "ERROR"}
            ),
        },
    )


def test_a_map_reconciles_each_tenant_due_between_the_listing_and_the_summary(
    fanout: dict[str, Any],
) -> None:
    asl, daily, tick = fanout["asl"], f"<{fanout['daily']}>", f"<{fanout['tick']}>"
    assert asl["StartAt"] == "ListDue"
    states = asl["States"]
    assert [states["ListDue"]["Next"], states["EachTenant"]["Next"], states["Summary"]["Next"]] == [
        "EachTenant",
        "Summary",
        "RemindQueryCases",
    ]
    assert states["ListDue"]["Resource"] == tick
    assert states["ListDue"]["Parameters"] == {"action": "due", "time.$": "$.time"}

    each = states["EachTenant"]
    assert each["Type"] == "Map"
    assert each["ItemsPath"] == "$.run.due"
    assert each["MaxConcurrency"] == MAX_CONCURRENT_TENANTS > 1
    assert each["ItemSelector"] == {
        "tenant.$": "$$.Map.Item.Value.tenant",
        "day.$": "$$.Map.Item.Value.day",
    }
    assert each["ResultPath"] == "$.outcomes"
    processor = each["ItemProcessor"]
    assert processor["ProcessorConfig"] == {"Mode": "INLINE"}
    assert processor["StartAt"] == "ReconcileTenant"
    reconcile = processor["States"]["ReconcileTenant"]
    # The very function `ecomops reconcile run` invokes, with the same event.
    assert reconcile["Resource"] == daily
    assert reconcile["Parameters"] == {"tenant.$": "$.tenant", "day.$": "$.day"}
    assert reconcile["ResultSelector"]["outcome"] == "reconciled"
    retries = {tuple(r["ErrorEquals"]): r for r in reconcile["Retry"]}
    assert retries[("States.ALL",)]["MaxAttempts"] == 2
    assert reconcile["Retry"][-1]["ErrorEquals"] == ["States.ALL"]  # the catch-all comes last
    (catch,) = reconcile["Catch"]
    assert catch == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "TellFinance"}
    told = processor["States"]["TellFinance"]
    assert told["Resource"] == tick and told["Parameters"]["action"] == "failed"
    assert told["Parameters"]["error.$"] == "$.error" and told.get("End") is True

    assert states["Summary"]["Parameters"] == {
        "action": "summary",
        "tick.$": "$.run.tick",
        "outcomes.$": "$.outcomes",
    }
    assert states["RemindQueryCases"]["Parameters"]["action"] == "remind"


def test_the_tick_function_is_small_and_may_tell_finance_and_operations(
    template: dict[str, Any], fanout: dict[str, Any]
) -> None:
    props = template["Resources"][fanout["tick"]]["Properties"]
    assert props["Handler"] == "functions.reconcile.handlers.tick.handler"
    assert props["MemorySize"] <= 1024
    env = props["Environment"]["Variables"]
    assert {"TABLE_NAME", "CLIENT_ALERTS_TOPIC", "OPS_ALERTS_TOPIC", "OPS_SENDER"} <= set(env)
    role = props["Role"]["Fn::GetAtt"][0]
    published: set[str] = set()
    for policy in template["Resources"].values():
        if policy["Type"] != "AWS::IAM::Policy" or {"Ref": role} not in policy["Properties"].get(
            "Roles", []
        ):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Action"] == "sns:Publish":
                targets = statement["Resource"]
                for target in targets if isinstance(targets, list) else [targets]:
                    published.add(target["Ref"])
    assert {t.split("Alerts")[0] for t in published} == {"AlertingClient", "AlertingOps"}
