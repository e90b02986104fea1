"""Where moto behaves unlike AWS in ways our code relies on, and the local runtime's fix.

DynamoDB applies each write atomically: a conditional write's condition and its effect are one
step, so two concurrent reservations of the same money cannot both pass. moto's server answers
requests on many threads and its DynamoDB backend checks a condition, then writes, with nothing
in between held: two concurrent conditional updates can both see the old item (seen here: two
refunds of 3000 both reserved on a 5000 payment). The local stack therefore runs moto's
DynamoDB writes one at a time, which is what DynamoDB guarantees per item.

A task token is valid from the moment its task is scheduled, whatever else runs. moto answers
``SendTaskSuccess`` (and heartbeat, failure) by asking every running execution for the token,
and an execution that has just started is "running" before its evaluation environment exists
(its worker thread is still parsing the definition): asking it raises, so the call fails with
an internal error for a token that is perfectly valid. Our waiting steps redeem their own token
when the fact is already there, so a lifecycle starting at that moment failed a refund workflow
(seen once in CI). An execution without an environment holds no token yet; the local runtime
leaves it out of the search. Stopping such an execution (an order cancelled as its lifecycle
starts) raised the same way; StopExecution waits for the environment, then stops it.

``SendTaskFailure`` carries an error and a cause, and the state's Catch hands both on. moto's
server reads only the error and drops the cause, so a catch that reads the cause (the delivery
wait's ``DeliveryProblem``, whose cause is the delivery's outcome) found none. The local runtime
passes the cause on.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")
_lock = threading.RLock()
# How long a stop waits for an execution to finish starting (parsing its definition takes well
# under a second even on a loaded machine).
_START_WAIT_S = 30.0


def serialize_dynamodb_writes() -> None:
    """Make moto's DynamoDB writes atomic, as DynamoDB's are (idempotent to call again)."""
    from moto.dynamodb.models import DynamoDBBackend

    for name in _WRITES:
        original = getattr(DynamoDBBackend, name)
        if getattr(original, "_atomic", False):
            continue

        @functools.wraps(original)
        def atomic(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _lock:
                return _original(self, *args, **kwargs)

        atomic._atomic = True  # type: ignore[attr-defined]
        setattr(DynamoDBBackend, name, atomic)


def tokens_ignore_starting_executions() -> None:
    """Leave executions still building their environment out of moto's task-token search, and
    let a stop wait for the environment (idempotent to call again)."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    stop = ExecutionWorker.stop
    if not getattr(stop, "_waits_for_start", False):

        @functools.wraps(stop)
        def stop_once_started(self: Any, *args: Any, **kwargs: Any) -> Any:
            deadline = time.monotonic() + _START_WAIT_S
            while self.env is None and time.monotonic() < deadline:
                time.sleep(0.01)
            return stop(self, *args, **kwargs)

        stop_once_started._waits_for_start = True  # type: ignore[attr-defined]
        ExecutionWorker.stop = stop_once_started  # type: ignore[method-assign]

    original = StepFunctionsParserBackend._get_executions
    if getattr(original, "_started_only", False):
        return

    @functools.wraps(original)
    def started(self: Any, *args: Any, **kwargs: Any) -> list[Any]:
        return [
            execution
            for execution in original(self, *args, **kwargs)
            if execution.exec_worker is not None and execution.exec_worker.env is not None
        ]

    started._started_only = True  # type: ignore[attr-defined]
    StepFunctionsParserBackend._get_executions = started  # type: ignore[method-assign]


def task_failures_keep_their_cause() -> None:
    """Pass ``SendTaskFailure``'s cause on to the failed task, as AWS does (idempotent to call
    again)."""
    from moto.core.responses import EmptyResult
    from moto.stepfunctions.responses import StepFunctionResponse

    original = StepFunctionResponse.send_task_failure
    if getattr(original, "_keeps_cause", False):
        return

    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    @functools.wraps(original)
    def with_cause(self: Any) -> Any:
        backend = self.stepfunction_backend
        if not isinstance(backend, StepFunctionsParserBackend):
            return original(self)  # executions not run: no task to hand a cause to
        backend.send_task_failure(
            self._get_param("taskToken"),
            error=self._get_param("error"),
            cause=self._get_param("cause"),
        )
        return EmptyResult()

    with_cause._keeps_cause = True  # type: ignore[attr-defined]
    StepFunctionResponse.send_task_failure = with_cause  # type: ignore[method-assign]
