"""The lifecycle and refund state machines through Step Functions (``shared.workflows``):
executions named from their identity, started once, stopped, resumed, failed and kept alive
(heartbeat) by task token."""

from __future__ import annotations

import contextlib
from typing import Any

from shared import aws, workflows


class StepFunctionsWorkflows:
    def start(self, machine: str, identity: tuple[str, ...], document: dict[str, Any]) -> bool:
        return workflows.start_once(
            machine, workflows.execution_name(*identity), document, identity=identity
        )

    def resume(self, token: str, output: dict[str, Any]) -> bool:
        return workflows.resume(token, output)

    def fail(self, token: str, error: str, cause: str) -> bool:
        return workflows.fail(token, error, cause)

    def heartbeat(self, token: str) -> bool:
        return workflows.heartbeat(token)

    def stop(self, machine: str, identity: tuple[str, ...], error: str, cause: str) -> None:
        client = aws.client("stepfunctions")
        arn = workflows.execution_arn(machine, workflows.execution_name(*identity))
        # Already over (or never started): nothing to stop.
        with contextlib.suppress(client.exceptions.ExecutionDoesNotExist):
            client.stop_execution(executionArn=arn, error=error, cause=cause[:256])
