"""The synthesized template deployed into moto and driven the way AWS would drive it."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from functions.api.handlers.selfcheck import proof_for
from local.demo import wait_for_execution

pytestmark = pytest.mark.local


def _of(template: dict[str, Any], kind: str) -> set[str]:
    return {lid for lid, r in template["Resources"].items() if r["Type"] == kind}


def test_every_table_bucket_topic_queue_function_and_state_machine_exists_in_moto(
    local_stack: Any, template: dict[str, Any]
) -> None:
    physical = local_stack.deployment.physical
    ddb, s3, sns, sqs = (local_stack.client(s) for s in ("dynamodb", "s3", "sns", "sqs"))
    lam, sfn = local_stack.client("lambda"), local_stack.client("stepfunctions")

    tables = set(ddb.list_tables()["TableNames"])
    assert {physical[lid] for lid in _of(template, "AWS::DynamoDB::Table")} <= tables
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {physical[lid] for lid in _of(template, "AWS::S3::Bucket")} <= buckets
    topics = {t["TopicArn"] for t in sns.list_topics()["Topics"]}
    assert {physical[lid] for lid in _of(template, "AWS::SNS::Topic")} <= topics
    # Queue URLs differ in host (AWS's vs the local endpoint); the name is what identifies them.
    queues = {url.rsplit("/", 1)[1] for url in sqs.list_queues().get("QueueUrls", [])}
    assert {physical[lid].rsplit("/", 1)[1] for lid in _of(template, "AWS::SQS::Queue")} <= queues
    functions = {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    expected_functions = {physical[lid] for lid in _of(template, "AWS::Lambda::Function")}
    assert expected_functions and expected_functions <= functions
    machines = {m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    expected_machines = {physical[lid] for lid in _of(template, "AWS::StepFunctions::StateMachine")}
    assert expected_machines and expected_machines <= machines


def test_table_in_moto_has_the_templates_stream_and_indexes(local_stack: Any) -> None:
    table = local_stack.client("dynamodb").describe_table(
        TableName=local_stack.deployment.outputs["TableName"]
    )["Table"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {
        "ByCustomer",
        "ByStatus",
        "ByGatewayRef",
    }


def test_only_documented_resource_types_are_left_to_the_local_runtime(local_stack: Any) -> None:
    from local.gaps import NOT_EMULATED, WIRED_BY_RUNTIME

    skipped = set(local_stack.deployment.skipped.values())
    assert skipped <= set(WIRED_BY_RUNTIME) | set(NOT_EMULATED), skipped


def test_health_round_trip_through_the_http_api(local_stack: Any) -> None:
    with urllib.request.urlopen(f"{local_stack.base_url}/health", timeout=30) as answer:
        assert answer.status == 200
        assert answer.headers["content-type"] == "application/json"
        body = json.loads(answer.read())
    assert body["status"] == "ok"
    assert (
        body["function"]
        == local_stack.deployment.physical[
            next(
                lid
                for lid in local_stack.deployment.physical
                if lid.startswith("PlatformHealth")
                and local_stack.deployment.types[lid] == "AWS::Lambda::Function"
            )
        ]
    )
    assert body["version"] != "unknown"


def test_unknown_route_is_404_and_wrong_method_is_not_routed(local_stack: Any) -> None:
    for method, path in (("GET", "/nope"), ("POST", "/health")):
        request = urllib.request.Request(f"{local_stack.base_url}{path}", method=method, data=b"")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 404


def _selfcheck_machine(local_stack: Any) -> str:
    (arn,) = [
        arn
        for lid, arn in local_stack.deployment.of_type("AWS::StepFunctions::StateMachine").items()
        if "SelfCheck" in lid
    ]
    return str(arn)


def _proof_item(local_stack: Any, run_id: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        local_stack.client("dynamodb")
        .get_item(
            TableName=local_stack.deployment.outputs["TableName"],
            Key={"PK": {"S": f"SYSTEM#selfcheck#{run_id}"}, "SK": {"S": "PROOF"}},
        )
        .get("Item")
    )
    return item


def test_state_machine_task_runs_the_real_handler(local_stack: Any) -> None:
    sfn = local_stack.client("stepfunctions")
    run_id = f"test-{uuid.uuid4().hex[:8]}"
    execution = sfn.start_execution(
        stateMachineArn=_selfcheck_machine(local_stack),
        name=run_id,
        input=json.dumps({"run_id": run_id}),
    )
    described = wait_for_execution(sfn, execution["executionArn"])
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"])["proof"] == proof_for(run_id)
    item = _proof_item(local_stack, run_id)
    # An echoing Lambda would return the input and write nothing.
    assert item is not None and item["proof"]["S"] == proof_for(run_id)


def test_handler_failure_fails_the_execution_with_the_handlers_error(local_stack: Any) -> None:
    sfn = local_stack.client("stepfunctions")
    execution = sfn.start_execution(
        stateMachineArn=_selfcheck_machine(local_stack),
        name=f"bad-{uuid.uuid4().hex[:8]}",
        input=json.dumps({"run_id": "has spaces"}),
    )
    described = wait_for_execution(sfn, execution["executionArn"])
    assert described["status"] == "FAILED"
    assert "ValidationError" in (described.get("error", "") + described.get("cause", ""))


def test_schedule_fires_on_demand_through_the_admin_route(local_stack: Any) -> None:
    request = urllib.request.Request(
        f"{local_stack.base_url}/_local/fire/{_daily_rule(local_stack)}", method="POST", data=b""
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        (execution_arn,) = json.loads(answer.read())["started"]
    described = wait_for_execution(local_stack.client("stepfunctions"), execution_arn)
    assert described["status"] == "SUCCEEDED"
    run_id = json.loads(described["input"])["run_id"]
    assert run_id in execution_arn  # the rule's input transformer put the event id there
    assert _proof_item(local_stack, run_id) is not None


def test_firing_an_unknown_rule_names_the_known_ones(local_stack: Any) -> None:
    with pytest.raises(KeyError, match="PlatformDailySelfCheck"):
        local_stack.fire("NoSuchRule")


def _daily_rule(local_stack: Any) -> str:
    (rule,) = [
        lid
        for lid in local_stack.deployment.types
        if lid.startswith("PlatformDailySelfCheck")
        and local_stack.deployment.types[lid] == "AWS::Events::Rule"
    ]
    return str(rule)


def test_another_process_reaches_moto_through_the_endpoint(local_stack: Any) -> None:
    import subprocess
    import sys

    code = (
        "import boto3; print(len(boto3.client('dynamodb', region_name='us-east-1')"
        ".list_tables()['TableNames']))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={
            "AWS_ENDPOINT_URL": local_stack.endpoint,
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "PATH": "/usr/bin:/bin",
        },
    ).stdout
    assert int(out) >= 1
    time.sleep(0)
