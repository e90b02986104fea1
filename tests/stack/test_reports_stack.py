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


def test_the_reports_routes_are_on_the_http_api_behind_the_jwt_authorizer(
    template: dict[str, Any],
) -> None:
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in resources(template, "AWS::ApiGatewayV2::Route").values()
    }
    wanted = [
        "GET /ops/tenants/{tenant}/reports/summary",
        "GET /ops/tenants/{tenant}/reports/customers/{email}",
        "GET /ops/tenants/{tenant}/reports/{name}",
        "POST /ops/tenants/{tenant}/orders/{order_id}/history-email",
    ]
    for key in wanted:
        assert routes[key]["AuthorizationType"] == "JWT", key
    # The same integration (the operator function) as the orders' routes.
    order_route = routes["GET /ops/tenants/{tenant}/orders/{order_id}"]
    assert all(routes[key]["Target"] == order_route["Target"] for key in wanted)
