"""Reading the synthesized template for what moto's CloudFormation leaves unwired.

Everything here resolves logical ids against the deployed stack's physical ids, so the local
runtime routes, schedules and notifies exactly what the template says, nothing hand-listed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

Template = dict[str, Any]


@dataclass(frozen=True)
class Route:
    method: str  # "GET", … or "ANY"
    path: str  # "/webhooks/{tenant}/stripe"
    function_logical_id: str
    authorization: str  # "NONE", "AWS_IAM", "JWT", "CUSTOM"

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if self.method not in ("ANY", method):
            return None
        return match_path(self.path, path)


@dataclass(frozen=True)
class Schedule:
    rule_logical_id: str
    expression: str
    enabled: bool
    targets: tuple[tuple[str, str, Any], ...]  # (kind "lambda"|"states", logical id, input)


@dataclass(frozen=True)
class EventRule:
    """A rule matching events by pattern (not a schedule): the pattern as the template has it
    (references to resources left in) and its targets."""

    rule_logical_id: str
    pattern: dict[str, Any]
    targets: tuple[tuple[str, str, Any], ...]  # (kind "sns"|"lambda"|"states", logical id, input)


@dataclass(frozen=True)
class StreamMapping:
    logical_id: str
    function_logical_id: str
    source_logical_id: str  # the table (its stream) or the queue
    source_kind: str  # "dynamodb" | "sqs"
    batch_size: int
    starting_position: str
    bisect_on_error: bool
    max_retries: int
    report_batch_item_failures: bool
    on_failure_queue_logical_id: str | None
    filter_patterns: tuple[str, ...]


@dataclass(frozen=True)
class BucketNotification:
    bucket_logical_id: str
    function_logical_id: str
    events: tuple[str, ...]
    prefix: str | None
    suffix: str | None


def _resources(template: Template, kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [(lid, res) for lid, res in template.get("Resources", {}).items() if res["Type"] == kind]


def logical_id_of(value: Any) -> str | None:
    """The logical id a ``Ref``/``Fn::GetAtt`` points at, looking through ``Fn::Join`` parts."""
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return str(target[0] if isinstance(target, list) else target.split(".")[0])
        if "Fn::Join" in value:
            for part in value["Fn::Join"][1]:
                found = logical_id_of(part)
                if found:
                    return found
    return None


def match_path(pattern: str, path: str) -> dict[str, str] | None:
    """API Gateway path matching: ``{name}`` is one segment, ``{name+}`` the rest (greedy)."""
    regex = "^"
    for segment in pattern.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            regex += f"/(?P<{segment[1:-2]}>.+)"
        elif segment.startswith("{") and segment.endswith("}"):
            regex += f"/(?P<{segment[1:-1]}>[^/]+)"
        elif segment:
            regex += "/" + re.escape(segment)
    found = re.match(regex + "/?$", path)
    return dict(found.groupdict()) if found else None


def routes(template: Template) -> list[Route]:
    integrations = {
        lid: logical_id_of(res["Properties"].get("IntegrationUri"))
        for lid, res in _resources(template, "AWS::ApiGatewayV2::Integration")
    }
    found: list[Route] = []
    for _lid, res in _resources(template, "AWS::ApiGatewayV2::Route"):
        props = res["Properties"]
        method, _, path = props["RouteKey"].partition(" ")
        target = props.get("Target")
        integration_id = None
        if isinstance(target, dict) and "Fn::Join" in target:
            integration_id = logical_id_of(target)
        function = integrations.get(integration_id or "")
        if function is None:
            raise ValueError(f"route {props['RouteKey']} has no Lambda integration in the template")
        found.append(Route(method, path, function, props.get("AuthorizationType", "NONE")))

    # Most specific first, as API Gateway does: literal segments beat parameters beat greedy.
    def rank(route: Route) -> tuple[int, int, int]:
        segments = route.path.strip("/").split("/")
        greedy = sum(s.endswith("+}") for s in segments)
        params = sum(s.startswith("{") for s in segments)
        return (greedy, params, -len(segments))

    return sorted(found, key=rank)


_TARGET_KINDS = {
    "AWS::Lambda::Function": "lambda",
    "AWS::StepFunctions::StateMachine": "states",
    "AWS::SNS::Topic": "sns",
}


def _rule_targets(template: Template, props: dict[str, Any]) -> tuple[tuple[str, str, Any], ...]:
    targets = []
    for target in props.get("Targets", []):
        ref = logical_id_of(target["Arn"])
        if ref is None:
            continue
        kind = _TARGET_KINDS.get(template["Resources"][ref]["Type"])
        if kind is not None:
            targets.append((kind, ref, target.get("Input") or target.get("InputTransformer")))
    return tuple(targets)


def schedules(template: Template) -> list[Schedule]:
    found = []
    for lid, res in _resources(template, "AWS::Events::Rule"):
        props = res["Properties"]
        if "ScheduleExpression" not in props:
            continue
        found.append(
            Schedule(
                lid,
                props["ScheduleExpression"],
                props.get("State", "ENABLED") == "ENABLED",
                _rule_targets(template, props),
            )
        )
    return found


def event_rules(template: Template) -> list[EventRule]:
    """The enabled rules that match events by pattern (Step Functions' status changes)."""
    return [
        EventRule(
            lid, res["Properties"]["EventPattern"], _rule_targets(template, res["Properties"])
        )
        for lid, res in _resources(template, "AWS::Events::Rule")
        if "EventPattern" in res["Properties"]
        and res["Properties"].get("State", "ENABLED") == "ENABLED"
    ]


def stream_mappings(template: Template) -> list[StreamMapping]:
    found = []
    for lid, res in _resources(template, "AWS::Lambda::EventSourceMapping"):
        props = res["Properties"]
        source = logical_id_of(props["EventSourceArn"])
        if source is None:
            continue
        source_kind = (
            "sqs" if template["Resources"][source]["Type"] == "AWS::SQS::Queue" else "dynamodb"
        )
        on_failure = (props.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
        patterns = tuple(
            f["Pattern"] for f in (props.get("FilterCriteria") or {}).get("Filters", [])
        )
        found.append(
            StreamMapping(
                logical_id=lid,
                function_logical_id=logical_id_of(props["FunctionName"]) or "",
                source_logical_id=source,
                source_kind=source_kind,
                batch_size=int(props.get("BatchSize", 100 if source_kind == "dynamodb" else 10)),
                starting_position=props.get("StartingPosition", "TRIM_HORIZON"),
                bisect_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
                max_retries=int(props.get("MaximumRetryAttempts", -1)),
                report_batch_item_failures="ReportBatchItemFailures"
                in props.get("FunctionResponseTypes", []),
                on_failure_queue_logical_id=logical_id_of(on_failure) if on_failure else None,
                filter_patterns=patterns,
            )
        )
    return found


def bucket_notifications(template: Template) -> list[BucketNotification]:
    found = []
    for _lid, res in _resources(template, "Custom::S3BucketNotifications"):
        props = res["Properties"]
        bucket = logical_id_of(props["BucketName"])
        config = props.get("NotificationConfiguration", {})
        for item in config.get("LambdaFunctionConfigurations", []):
            prefix = suffix = None
            for rule in item.get("Filter", {}).get("Key", {}).get("FilterRules", []):
                if rule["Name"].lower() == "prefix":
                    prefix = rule["Value"]
                elif rule["Name"].lower() == "suffix":
                    suffix = rule["Value"]
            function = logical_id_of(item["LambdaFunctionArn"])
            if bucket and function:
                found.append(
                    BucketNotification(bucket, function, tuple(item["Events"]), prefix, suffix)
                )
    return found


def _json_path(document: Any, path: str) -> Any:
    value = document
    for part in path.removeprefix("$").strip(".").split("."):
        if not part:
            continue
        value = value.get(part) if isinstance(value, dict) else None
    return value


def resolved(value: Any, physical: dict[str, str]) -> Any:
    """``value`` with each ``{"Ref": logical id}`` replaced by what the deployment made of it."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in physical:
            return physical[value["Ref"]]
        return {key: resolved(item, physical) for key, item in value.items()}
    if isinstance(value, list):
        return [resolved(item, physical) for item in value]
    return value


def render_target_input(target_input: Any, event: dict[str, Any]) -> Any:
    """What EventBridge hands a target: the event, a constant Input, or an InputTransformer."""
    if target_input is None:
        return event
    if isinstance(target_input, str):
        return json.loads(target_input)
    if isinstance(target_input, dict) and "InputTemplate" in target_input:
        text = target_input["InputTemplate"]
        # A template that is one JSON string takes each value as its text, within the string;
        # elsewhere a value goes in as JSON.
        within_string = text.lstrip().startswith('"')
        for name, path in (target_input.get("InputPathsMap") or {}).items():
            value = _json_path(event, path)
            filled = json.dumps(value if not within_string else str(value))
            text = text.replace(f"<{name}>", filled[1:-1] if within_string else filled)
        return json.loads(text)
    raise ValueError(f"unsupported target input {target_input!r}")
