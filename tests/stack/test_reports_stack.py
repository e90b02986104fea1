"""The reports function in the synthesized template: its hourly tick and what it may do."""

from __future__ import annotations

from typing import Any

from tests.stack.test_template import _function_role, _policies_of_role, _referenced, resources

HANDLER = "functions.reports.handlers.tick.handler"


def test_summaries_tick_hourly_and_may_store_and_mail(template: dict[str, Any]) -> None:
    (function_id,) = [
        lid
        for lid, fn in resources(template, "AWS::Lambda::Function").items()
        if fn["Properties"].get("Handler") == HANDLER
    ]
    props = resources(template, "AWS::Lambda::Function")[function_id]["Properties"]
    assert {"TABLE_NAME", "REPORTS_BUCKET", "OPS_SENDER"} <= set(props["Environment"]["Variables"])
    rules = [
        r
        for r in resources(template, "AWS::Events::Rule").values()
        if function_id in _referenced(r["Properties"].get("Targets", []))
    ]
    assert [r["Properties"]["ScheduleExpression"] for r in rules] == ["cron(20 * * * ? *)"]
    actions: set[str] = set()
    for policy in _policies_of_role(template, _function_role(template, HANDLER)):
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            acts = statement["Action"]
            actions |= set(acts if isinstance(acts, list) else [acts])
    assert {"ses:SendEmail", "s3:PutObject", "dynamodb:Query"} <= actions
