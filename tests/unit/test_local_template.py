"""Reading routes, schedules and mappings out of a template, and Lambda filter matching."""

from __future__ import annotations

import pytest

from local import template as tpl
from local.streams import matches


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/health", "/health", {}),
        ("/health", "/health/", {}),
        ("/health", "/healthz", None),
        ("/webhooks/{tenant}/stripe", "/webhooks/acme/stripe", {"tenant": "acme"}),
        ("/webhooks/{tenant}/stripe", "/webhooks/acme/x/stripe", None),
        ("/files/{key+}", "/files/a/b/c.csv", {"key": "a/b/c.csv"}),
    ],
)
def test_path_matching(pattern: str, path: str, expected: dict[str, str] | None) -> None:
    assert tpl.match_path(pattern, path) == expected


def _route(lid: str, key: str) -> dict[str, object]:
    return {
        f"{lid}Route": {
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": {
                "RouteKey": key,
                "AuthorizationType": "NONE",
                "Target": {"Fn::Join": ["", ["integrations/", {"Ref": f"{lid}Integration"}]]},
            },
        },
        f"{lid}Integration": {
            "Type": "AWS::ApiGatewayV2::Integration",
            "Properties": {"IntegrationUri": {"Fn::GetAtt": [f"{lid}Fn", "Arn"]}},
        },
    }


def test_routes_are_ordered_most_specific_first() -> None:
    template = {
        "Resources": {
            **_route("Greedy", "ANY /{proxy+}"),
            **_route("Param", "POST /webhooks/{tenant}/shop"),
            **_route("Literal", "POST /webhooks/demo/shop"),
        }
    }
    routes = tpl.routes(template)
    assert [r.function_logical_id for r in routes] == ["LiteralFn", "ParamFn", "GreedyFn"]
    first = next(r for r in routes if r.match("POST", "/webhooks/demo/shop") is not None)
    assert first.function_logical_id == "LiteralFn"


def test_route_without_lambda_integration_is_an_error() -> None:
    template = {
        "Resources": {
            "R": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {"RouteKey": "GET /x"}}
        }
    }
    with pytest.raises(ValueError, match="GET /x"):
        tpl.routes(template)


def test_input_transformer_renders_event_fields() -> None:
    given = {"InputPathsMap": {"id": "$.id"}, "InputTemplate": '{"run_id":<id>}'}
    assert tpl.render_target_input(given, {"id": "abc"}) == {"run_id": "abc"}
    assert tpl.render_target_input('{"a": 1}', {"id": "abc"}) == {"a": 1}
    assert tpl.render_target_input(None, {"id": "abc"}) == {"id": "abc"}


def test_a_string_template_takes_each_value_as_text_within_it() -> None:
    """``RuleTargetInput.from_text``: one JSON string, each value its text (quotes escaped)."""
    given = {
        "InputPathsMap": {"s": "$.detail.status", "n": "$.detail.name"},
        "InputTemplate": '"ended <s>: <n>"',
    }
    event = {"detail": {"status": "FAILED", "name": 'T#a#"o-1"'}}
    assert tpl.render_target_input(given, event) == 'ended FAILED: T#a#"o-1"'


def test_rules_with_a_pattern_and_their_references_resolved() -> None:
    template = {
        "Resources": {
            "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {}},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
            "Ended": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventPattern": {"detail": {"stateMachineArn": [{"Ref": "Machine"}]}},
                    "Targets": [{"Arn": {"Ref": "Topic"}, "Id": "1", "Input": '"x"'}],
                },
            },
            "Off": {
                "Type": "AWS::Events::Rule",
                "Properties": {"EventPattern": {"source": ["x"]}, "State": "DISABLED"},
            },
            "Hourly": {
                "Type": "AWS::Events::Rule",
                "Properties": {"ScheduleExpression": "rate(1 hour)"},
            },
        }
    }
    (rule,) = tpl.event_rules(template)
    assert (rule.rule_logical_id, rule.targets) == ("Ended", (("sns", "Topic", '"x"'),))
    physical = {"Machine": "arn:aws:states:us-east-1:1:stateMachine:m"}
    assert tpl.resolved(rule.pattern, physical) == {
        "detail": {"stateMachineArn": ["arn:aws:states:us-east-1:1:stateMachine:m"]}
    }


def test_stream_mapping_reads_retry_bisect_and_destination() -> None:
    template = {
        "Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
            "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Map": {
                "Type": "AWS::Lambda::EventSourceMapping",
                "Properties": {
                    "EventSourceArn": {"Fn::GetAtt": ["Table", "StreamArn"]},
                    "FunctionName": {"Ref": "Fn"},
                    "BatchSize": 25,
                    "BisectBatchOnFunctionError": True,
                    "MaximumRetryAttempts": 3,
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                    "DestinationConfig": {
                        "OnFailure": {"Destination": {"Fn::GetAtt": ["Dlq", "Arn"]}}
                    },
                    "FilterCriteria": {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]},
                    "StartingPosition": "TRIM_HORIZON",
                },
            },
        }
    }
    (mapping,) = tpl.stream_mappings(template)
    assert (mapping.source_kind, mapping.batch_size, mapping.max_retries) == ("dynamodb", 25, 3)
    assert mapping.bisect_on_error and mapping.report_batch_item_failures
    assert mapping.on_failure_queue_logical_id == "Dlq"
    assert mapping.filter_patterns == ('{"eventName": ["INSERT"]}',)


@pytest.mark.parametrize(
    ("pattern", "record", "expected"),
    [
        ({"eventName": ["INSERT"]}, {"eventName": "INSERT"}, True),
        ({"eventName": ["INSERT"]}, {"eventName": "MODIFY"}, False),
        (
            {"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "T#"}]}}}},
            {"dynamodb": {"Keys": {"PK": {"S": "T#acme#EVT"}}}},
            True,
        ),
        (
            {"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "T#"}]}}}},
            {"dynamodb": {"Keys": {"PK": {"S": "SYSTEM#x"}}}},
            False,
        ),
        (
            {"dynamodb": {"NewImage": {"kind": [{"exists": True}]}}},
            {"dynamodb": {"NewImage": {}}},
            False,
        ),
        ({"eventName": [{"anything-but": ["REMOVE"]}]}, {"eventName": "MODIFY"}, True),
        ({"eventName": [{"anything-but": ["REMOVE"]}]}, {"eventName": "REMOVE"}, False),
    ],
)
def test_filter_patterns(
    pattern: dict[str, object], record: dict[str, object], expected: bool
) -> None:
    assert matches(pattern, record) is expected
