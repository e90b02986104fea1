"""Starting a workflow once per identity, on moto's Step Functions."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from shared.workflows import ExecutionIdentityClash, execution_name, start_once

DEFINITION = json.dumps({"StartAt": "Wait", "States": {"Wait": {"Type": "Pass", "End": True}}})


@pytest.fixture
def machine(aws_env: dict[str, Any]) -> str:
    sfn = boto3.client("stepfunctions")
    arn: str = sfn.create_state_machine(
        name="lifecycle",
        definition=DEFINITION,
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    return arn


def test_a_second_start_of_the_same_identity_starts_nothing(machine: str) -> None:
    name = execution_name("acme", "o-1")
    for _ in range(3):
        start_once(machine, name, {"order_id": "o-1"}, identity=("acme", "o-1"))
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=machine)
    assert len(executions["executions"]) == 1


def test_a_name_held_by_another_identity_is_refused_not_taken(machine: str) -> None:
    """A start never silently counts another order's execution as its own."""
    name = execution_name("acme", "o-1")
    assert start_once(machine, name, {"order_id": "o-1"}, identity=("acme", "o-1"))
    with pytest.raises(ExecutionIdentityClash, match="belongs to"):
        start_once(machine, name, {"order_id": "o-2"}, identity=("acme", "o-2"))
