"""The local runtime's corrections of moto (local/moto_fidelity.py), each shown against moto."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.moto_fidelity import tokens_ignore_starting_executions

ROLE = "arn:aws:iam::123456789012:role/steps"


@pytest.fixture
def held_start(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Executions that stay "starting" (no environment yet) until the event is set, as a
    worker thread still parsing a long definition does on a loaded machine."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    release = threading.Event()
    parse = ExecutionWorker._get_evaluation_entrypoint

    def slow_parse(self: Any) -> Any:
        release.wait(10)
        return parse(self)

    monkeypatch.setattr(ExecutionWorker, "_get_evaluation_entrypoint", slow_parse)
    yield release
    release.set()


def test_a_token_is_answered_while_another_execution_is_still_starting(
    held_start: threading.Event,
) -> None:
    tokens_ignore_starting_executions()
    with mock_aws(
        config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    ):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine = sfn.create_state_machine(
            name="starting",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn=ROLE,
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        assert sfn.describe_execution(executionArn=execution)["status"] == "RUNNING"
        # An unknown token is refused as AWS refuses it, not with moto's internal error.
        with pytest.raises(sfn.exceptions.InvalidToken):
            sfn.send_task_success(taskToken="not-a-token", output="{}")
        held_start.set()


def test_an_execution_stopped_while_it_starts_is_aborted(held_start: threading.Event) -> None:
    tokens_ignore_starting_executions()
    with mock_aws(
        config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    ):
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine = sfn.create_state_machine(
            name="stopped",
            definition=json.dumps(
                {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 30, "End": True}}}
            ),
            roleArn=ROLE,
        )["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        threading.Timer(0.3, held_start.set).start()
        sfn.stop_execution(executionArn=execution)
        # The stop is taken at once; the execution's thread then winds down.
        deadline = time.monotonic() + 10
        while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING":
            assert time.monotonic() < deadline, "the stopped execution kept running"
            time.sleep(0.05)
        assert sfn.describe_execution(executionArn=execution)["status"] == "ABORTED"
