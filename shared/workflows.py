"""The Step Functions adapter: start a lifecycle once, resume a waiting task."""

from __future__ import annotations

import json
import re
from typing import Any

from shared import aws


def execution_name(tenant: str, order_id: str) -> str:
    """Deterministic per order, so a second start is refused by Step Functions itself."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", f"{tenant}--{order_id}")
    return safe[:80]


def start_once(state_machine_arn: str, name: str, document: dict[str, Any]) -> bool:
    client = aws.client("stepfunctions")
    try:
        client.start_execution(
            stateMachineArn=state_machine_arn, name=name, input=json.dumps(document, default=str)
        )
    except client.exceptions.ExecutionAlreadyExists:
        return False
    return True


def resume(token: str, output: dict[str, Any]) -> bool:
    """Complete a waiting task; False if the task is gone (timed out, already resumed)."""
    client = aws.client("stepfunctions")
    try:
        client.send_task_success(taskToken=token, output=json.dumps(output))
    except (
        client.exceptions.TaskTimedOut,
        client.exceptions.InvalidToken,
        client.exceptions.TaskDoesNotExist,
    ):
        return False
    return True
