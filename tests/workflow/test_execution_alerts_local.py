"""Operations hear of each execution that ended badly, on the local stack as on AWS: the
runtime hands Step Functions' status event for every execution that ends to the template's
rules (EventBridge's matching, moto's), and the rule's message reaches the operations topic.
A lifecycle stopped to cancel its order is not news to them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.workflow.alerts import TopicInbox
from tests.workflow.test_lifecycle_local import execution, make_tenant, place, wait_for_stage


def _messages_until(inbox: TopicInbox, name: str, timeout_s: float = 30) -> list[str]:
    """Every message on the topic, read until one names ``name``."""
    deadline = time.monotonic() + timeout_s
    seen: list[str] = []
    while time.monotonic() < deadline:
        seen += [m["message"] for m in inbox.read()]
        if any(name in message for message in seen):
            return seen
        time.sleep(0.2)
    raise AssertionError(f"nothing on the operations topic names {name}; saw {seen}")


def test_a_failed_execution_is_told_to_operations_by_name(local_stack: Any) -> None:
    inbox = TopicInbox(local_stack, topic="OpsAlerts")
    sfn = local_stack.client("stepfunctions")
    machine = local_stack.deployment.outputs["RefundStateMachine"]
    # No refund in the input: the first state cannot build its payload, the execution fails.
    arn = sfn.start_execution(stateMachineArn=machine, name="no-such-refund", input="{}")[
        "executionArn"
    ]
    (message,) = [m for m in _messages_until(inbox, arn) if arn in m]
    assert sfn.describe_execution(executionArn=arn)["status"] == "FAILED"
    text = json.loads(message)
    assert text.startswith("An execution of EcomOps OrdersRefunds StateMachine ended FAILED:")
    assert "no-such-refund" in text and f"--execution-arn {arn} " in text


def test_a_lifecycle_stopped_to_cancel_its_order_is_not_told(
    local_stack: Any, tmp_path: Path
) -> None:
    inbox = TopicInbox(local_stack, topic="OpsAlerts")
    make_tenant(local_stack, tmp_path, "alert-stop")
    place(local_stack, "alert-stop", "o-1")
    wait_for_stage(local_stack, "alert-stop", "o-1", "awaiting_payment")
    sfn = local_stack.client("stepfunctions")
    arn = execution(local_stack, "alert-stop", "o-1")
    sfn.stop_execution(executionArn=arn, error="OrderCancelled", cause="the shop cancelled")
    # A failed execution after it: once its message is in, the stop's would have been too.
    failed = sfn.start_execution(
        stateMachineArn=local_stack.deployment.outputs["RefundStateMachine"],
        name="after-the-stop",
        input="{}",
    )["executionArn"]
    told = _messages_until(inbox, failed)
    assert [m for m in told if arn in m] == []
