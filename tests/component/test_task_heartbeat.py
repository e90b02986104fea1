"""A waiting task kept alive by heartbeats (issue 17: the delivery wait without its polling
loop), on moto's Step Functions interpreter, which the local stack runs: what the lifecycle's
delivery wait relies on (``HeartbeatSecondsPath``, ``SendTaskHeartbeat``, the heartbeat's
timeout caught as ``States.Timeout``), and the adapters that send and find the token."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.moto_fidelity import task_failures_keep_their_cause
from shared import aws
from shared.lifecycle_store import LifecycleStore
from shared.workflows import fail, heartbeat
from tests.component.conftest import TABLE

ROLE = "arn:aws:iam::123456789012:role/steps"
# One task waiting for its token (sent to a queue, where the test reads it), its heartbeat
# limit read from the input as the lifecycle's is; a heartbeat timeout goes to ``Stalled``.
DEFINITION = {
    "StartAt": "Wait",
    "States": {
        "Wait": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl.$": "$.queue", "MessageBody": {"token.$": "$$.Task.Token"}},
            "HeartbeatSecondsPath": "$.waits.no_movement_s",
            "TimeoutSeconds": 60,
            "ResultPath": "$.delivery",
            "Catch": [
                {"ErrorEquals": ["DeliveryProblem"], "ResultPath": "$.delivery", "Next": "Problem"},
                {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "Stalled"},
            ],
            "Next": "Delivered",
        },
        "Problem": {"Type": "Pass", "End": True},
        "Stalled": {"Type": "Pass", "End": True},
        "Delivered": {"Type": "Pass", "End": True},
    },
}
LIMIT_S = 2


@pytest.fixture
def sfn(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    aws.reset()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield boto3.client("stepfunctions")
    aws.reset()


def start_waiting(sfn: Any) -> tuple[str, str]:
    """An execution parked in ``Wait``: its ARN and the task's token."""
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="tokens")["QueueUrl"]
    machine = sfn.create_state_machine(
        name="delivery", definition=json.dumps(DEFINITION), roleArn=ROLE
    )["stateMachineArn"]
    execution = sfn.start_execution(
        stateMachineArn=machine,
        input=json.dumps({"queue": queue, "waits": {"no_movement_s": LIMIT_S}}),
    )["executionArn"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages")
        if messages:
            return execution, str(json.loads(messages[0]["Body"])["token"])
    raise AssertionError("the task never sent its token")


def ended(sfn: Any, execution: str) -> list[str]:
    """The states the execution entered, once it is over."""
    deadline = time.monotonic() + 30
    while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution never ended"
        time.sleep(0.05)
    events = sfn.get_execution_history(executionArn=execution)["events"]
    return [
        e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")
    ]


def test_heartbeats_keep_the_wait_past_its_limit_and_silence_ends_it(sfn: Any) -> None:
    execution, token = start_waiting(sfn)
    began = time.monotonic()
    # Three limits' worth of heartbeats, each well within the limit.
    while time.monotonic() - began < 3 * LIMIT_S:
        assert heartbeat(token) is True
        last = time.monotonic()
        time.sleep(LIMIT_S / 4)
    assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
    assert ended(sfn, execution) == ["Wait", "Stalled"]
    # Over no sooner than a whole limit after the last heartbeat.
    assert time.monotonic() - last >= LIMIT_S
    history = sfn.get_execution_history(executionArn=execution)["events"]
    assert [e["type"] for e in history if e["type"] == "TaskTimedOut"] == ["TaskTimedOut"]
    # The wait is over: a late heartbeat is told so, it does not raise.
    assert heartbeat(token) is False


def test_a_resumed_wait_takes_its_output_and_a_heartbeat_after_it_is_refused(sfn: Any) -> None:
    execution, token = start_waiting(sfn)
    assert heartbeat(token) is True
    sfn.send_task_success(taskToken=token, output=json.dumps({"outcome": "delivered"}))
    assert ended(sfn, execution) == ["Wait", "Delivered"]
    assert heartbeat(token) is False
    assert heartbeat("never-a-token") is False


def test_a_failed_wait_hands_its_error_and_cause_to_the_catch(sfn: Any) -> None:
    """The delivery wait's ``DeliveryProblem``: the catch takes the error, and the cause (the
    outcome as JSON) reaches the next state (moto's server drops the cause unless the local
    runtime's correction is in)."""
    task_failures_keep_their_cause()
    execution, token = start_waiting(sfn)
    cause = json.dumps({"outcome": "problem", "shipment": "return_to_sender"})
    assert fail(token, "DeliveryProblem", cause) is True
    assert ended(sfn, execution) == ["Wait", "Problem"]
    output = json.loads(sfn.describe_execution(executionArn=execution)["output"])
    assert output["delivery"] == {"Error": "DeliveryProblem", "Cause": cause}


def test_a_parked_token_keeps_how_it_wants_its_answer(aws_env: dict[str, Any]) -> None:
    """The new definition's waits say how they want their answer; a token parked without
    saying (by an older definition, or before the store kept answers) reads back as None."""
    store = LifecycleStore(TABLE)
    store.put_wait("acme", "o-1", "payment", "tok-p", "screening")
    store.put_wait("acme", "o-1", "delivery", "tok-d")
    assert store.parked("acme", "o-1") == {"payment": "tok-p", "delivery": "tok-d"}
    assert store.take_parked("acme", "o-1", "payment") == ("tok-p", "screening")
    assert store.take_parked("acme", "o-1", "delivery") == ("tok-d", None)
    assert store.take_parked("acme", "o-1", "delivery") is None
    # Parked again without an answer, the earlier answer is gone with the earlier item.
    store.put_wait("acme", "o-1", "payment", "tok-1", "screening")
    store.put_wait("acme", "o-1", "payment", "tok-2")
    assert store.take_parked("acme", "o-1", "payment") == ("tok-2", None)


def test_the_parked_tokens_are_read_by_wait_and_left_parked(aws_env: dict[str, Any]) -> None:
    store = LifecycleStore(TABLE)
    store.put_wait("acme", "o-1", "delivery", "tok-d")
    store.put_wait("acme", "o-1", "shipment", "tok-s")
    store.put_wait("acme", "o-2", "delivery", "tok-other")
    assert store.parked("acme", "o-1") == {"delivery": "tok-d", "shipment": "tok-s"}
    assert store.waiting("acme", "o-1") == {"delivery", "shipment"}
    assert store.take_wait("acme", "o-1", "delivery") == "tok-d"
    assert store.parked("acme", "o-1") == {"shipment": "tok-s"}
