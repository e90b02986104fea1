"""The raw webhook archiver in the template: run hourly, alarmed, reading the table and writing
only the archive's ``raw/`` prefix (never deleting); the front door and the processor keep
their grants."""

from __future__ import annotations

from typing import Any

import pytest

from tests.stack.test_least_privilege import _listed, _render, _role_of, _statements

pytestmark = pytest.mark.stack

ARCHIVER = "functions.webhooks.handlers.archiver.handler"


def _function(template: dict[str, Any], handler: str) -> tuple[str, dict[str, Any]]:
    for lid, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function" and (
            resource["Properties"].get("Handler") == handler
        ):
            return lid, resource
    raise AssertionError(f"no function with handler {handler}")


def _grants(template: dict[str, Any], handler: str, service: str) -> dict[str, set[str]]:
    """Each action of ``service`` a function's role is allowed, with its resources."""
    role = _role_of(template, handler)
    grants: dict[str, set[str]] = {}
    for owner, statement in _statements(template):
        if owner != role:
            continue
        for action in _listed(statement["Action"]):
            if action.lower().startswith(f"{service}:"):
                resources = {_render(r) for r in _listed(statement["Resource"])}
                grants.setdefault(action, set()).update(resources)
    return grants


def test_the_archiver_runs_hourly_and_operations_hear_when_it_keeps_failing(
    template: dict[str, Any],
) -> None:
    lid, function = _function(template, ARCHIVER)
    assert set(function["Properties"]["Environment"]["Variables"]) >= {
        "TABLE_NAME",
        "ARCHIVE_BUCKET",
    }
    rules = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Events::Rule"
        and any(t["Arn"] == {"Fn::GetAtt": [lid, "Arn"]} for t in r["Properties"]["Targets"])
    ]
    (rule,) = rules
    assert rule["Properties"]["ScheduleExpression"] == "cron(12 * * * ? *)"
    (alarm,) = (
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"].get("MetricName") == "Errors"
        and r["Properties"].get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": lid}}]
    )
    assert (alarm["EvaluationPeriods"], alarm["Period"], alarm["Threshold"]) == (3, 3600, 1)
    assert alarm["AlarmActions"]


def test_the_archiver_writes_only_the_archives_raw_prefix_and_reads_the_table(
    template: dict[str, Any],
) -> None:
    s3 = _grants(template, ARCHIVER, "s3")
    (bucket,) = {r for resources in s3.values() for r in resources if not r.endswith("/*")}
    assert "RawArchive" in bucket
    # Objects under raw/ only (the bucket itself for listing), and nothing is ever deleted.
    assert {r for resources in s3.values() for r in resources} == {bucket, f"{bucket}/raw/*"}
    assert s3["s3:PutObject"] == {f"{bucket}/raw/*"}
    assert not [a for a in s3 if a.lower().startswith(("s3:delete", "s3:putbucket"))]
    dynamodb = _grants(template, ARCHIVER, "dynamodb")
    assert {"dynamodb:Query", "dynamodb:BatchGetItem"} <= set(dynamodb)
    assert not {a for a in dynamodb if a.split(":")[1].startswith(("Put", "Update", "Delete"))}


def test_the_processor_still_only_reads_the_archive(template: dict[str, Any]) -> None:
    s3 = _grants(template, "functions.webhooks.handlers.processor.handler", "s3")
    assert s3 and not [a for a in s3 if a.lower().startswith(("s3:put", "s3:delete"))]
