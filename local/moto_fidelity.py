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

Step Functions tells EventBridge of each execution that ends ("Step Functions Execution Status
Change"); moto's does not, and a stopped execution of moto's ends only when what it was waiting
for ends, as failed. The runtime hands each execution that ends to its listeners, aborted as
it is stopped (``executions_report_their_end``).

``SendTaskFailure`` carries an error and a cause, and the state's Catch hands both on. moto's
server reads only the error and drops the cause, so a catch that reads the cause (the delivery
wait's ``DeliveryProblem``, whose cause is the delivery's outcome) found none. The local runtime
passes the cause on.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

LOG = logging.getLogger(__name__)

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


# Whoever wants to know of each execution that ended: called with (execution ARN, state
# machine ARN, name, status, start, stop) on the execution's worker thread.
EndedListener = Callable[[str, str, str, str, datetime, datetime], None]
_ended_listeners: list[EndedListener] = []
_ended_lock = threading.Lock()


def executions_report_their_end(listener: EndedListener) -> Callable[[], None]:
    """Hand every execution that ends to ``listener``, once, with its status as AWS reports it;
    returns what removes the listener again. A stopped execution is reported ``ABORTED`` when
    it is stopped: moto's carries on waiting for whatever its state waits for (a task token,
    a timeout) before its thread ends, and then calls it failed."""
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    stop = ExecutionWorker.stop
    if not getattr(stop, "_reports_stop", False):

        @functools.wraps(stop)
        def reporting_stop(self: Any, *args: Any, **kwargs: Any) -> Any:
            result = stop(self, *args, **kwargs)
            stopped = kwargs.get("stop_date") or (args[0] if args else None)
            _report_end(self, "ABORTED", stopped or datetime.now(UTC))
            return result

        reporting_stop._reports_stop = True  # type: ignore[attr-defined]
        ExecutionWorker.stop = reporting_stop  # type: ignore[method-assign]

    terminated = BaseExecutionWorkerCommunication.terminated
    if not getattr(terminated, "_reports_end", False):

        @functools.wraps(terminated)
        def reporting_end(self: Any) -> None:
            terminated(self)
            execution = self.execution
            status = str(getattr(execution.exec_status, "value", execution.exec_status))
            _report_end(execution.exec_worker, status, execution.stop_date or datetime.now(UTC))

        reporting_end._reports_end = True  # type: ignore[attr-defined]
        BaseExecutionWorkerCommunication.terminated = reporting_end  # type: ignore[method-assign]

    _ended_listeners.append(listener)
    return lambda: _ended_listeners.remove(listener) if listener in _ended_listeners else None


def _report_end(worker: Any, status: str, stopped: datetime) -> None:
    with _ended_lock:
        if worker is None or getattr(worker, "_end_reported", False):
            return
        worker._end_reported = True
    execution = worker._execution_communication.execution
    for each in list(_ended_listeners):
        try:
            each(
                execution.exec_arn,
                execution.state_machine.arn,
                execution.name,
                status,
                execution.start_date,
                stopped,
            )
        except Exception:  # a listener's trouble must not undo the execution's end
            LOG.exception("a listener of ended executions failed")


# How often a Wait state looks whether its execution is still running.
_WAIT_SLICE_S = 0.2


def waits_hear_their_stop() -> None:
    """A Wait state ends as soon as its execution is stopped, as on AWS (idempotent to call
    again). moto wakes a waiting state with a pulse of the execution's state event (set, then
    cleared at once): a Wait that had not begun to wait when the stop came misses it and
    sleeps its whole time, so a stopped execution stayed running for as long as its Wait was.
    Here it waits in slices and looks between them."""
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import (
        WaitFunction,
    )

    original = WaitFunction._wait_interval
    if getattr(original, "_sliced", False):
        return

    @functools.wraps(original)
    def sliced(self: Any, env: Any, wait_seconds: int) -> None:
        # Durations, not the clock: a test that moves the clock does not move monotonic time.
        deadline = time.monotonic() + max(0, wait_seconds)
        while env.is_running():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            env.program_state_event.wait(min(left, _WAIT_SLICE_S))

    sliced._sliced = True  # type: ignore[attr-defined]
    WaitFunction._wait_interval = sliced  # type: ignore[method-assign]


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


def transactions_copy_what_they_write() -> None:
    """Let a transaction keep a copy of the items it writes, not of the whole table
    (idempotent to call again).

    To roll a failed transaction back, moto (5.x) deep-copies every table it names before it
    starts and puts the copies back on failure: each ``TransactWriteItems`` costs time in
    proportion to the table, and a local stack's table only grows (on a long test session a
    fifth of the stack's CPU went to those copies). DynamoDB's transaction touches only its
    items, and so does this rollback: each named item as it was, and the table's stream as long
    as it was, put back if moto's transaction fails. moto's own code still checks and applies
    every operation; what a failed transaction leaves is what moto's rollback left. A stream
    read waits for a transaction under way, so no reader sees records that are rolled back.
    """
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.transact_write_items
    if getattr(original, "_copies_what_it_writes", False):
        return
    models.copy = _TablesKept()  # type: ignore[attr-defined,assignment]

    @functools.wraps(original)
    def transact(self: Any, transact_items: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        with _lock:  # the snapshot, the writes and a rollback as one step among the writes
            saved = _snapshot(self, transact_items)
            try:
                return original(self, transact_items, *args, **kwargs)
            except BaseException:
                _roll_back(saved)
                raise

    transact._copies_what_it_writes = True  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]

    # moto writes a transaction's items (and their stream records) one by one before it knows
    # whether the transaction holds: a stream read in between would hand a reader records that
    # are then rolled back, and the sequence numbers they took go to the next writes. DynamoDB
    # streams only what was committed, so a read waits for a transaction under way.
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    read = DynamoDBStreamsBackend.get_records

    @functools.wraps(read)
    def committed(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _lock:
            return read(self, *args, **kwargs)

    DynamoDBStreamsBackend.get_records = committed  # type: ignore[method-assign]


class _TablesKept:
    """``copy`` as ``moto.dynamodb.models`` sees it once ``transactions_copy_what_they_write``
    is installed: a table "copied" for a rollback is the table itself (the rollback is ours)."""

    def __getattr__(self, name: str) -> Any:
        import copy

        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        import copy

        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


# (table, hash key, range key or None, the item as it was or None) per item, and the length of
# each table's stream.
_Saved = tuple[list[tuple[Any, Any, Any, Any]], list[tuple[Any, int]]]


def _snapshot(backend: Any, transact_items: list[dict[str, Any]]) -> _Saved:
    import copy

    items: list[tuple[Any, Any, Any, Any]] = []
    tables: dict[int, Any] = {}
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            if table is None:
                continue  # moto refuses it before it writes anything
            tables[id(table)] = table
            named = _named_key(table, op.get("Item" if op_type == "Put" else "Key"))
            if named is None:
                continue  # a malformed key: moto refuses the operation itself
            hash_key, range_key = named
            current = table.get_item(hash_key, range_key)
            items.append((table, hash_key, range_key, copy.deepcopy(current)))
    streams = [
        (table.stream_shard, len(table.stream_shard.items))
        for table in tables.values()
        if table.stream_shard is not None
    ]
    return items, streams


def _named_key(table: Any, key: Any) -> tuple[Any, Any] | None:
    """The hash and range key an operation names, as moto keeps them; None if malformed."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    if not isinstance(key, dict) or not isinstance(key.get(table.hash_key_attr), dict):
        return None
    if not table.range_key_attr:
        return DynamoType(key[table.hash_key_attr]), None
    if not isinstance(key.get(table.range_key_attr), dict):
        return None
    return DynamoType(key[table.hash_key_attr]), DynamoType(key[table.range_key_attr])


def _roll_back(saved: _Saved) -> None:
    items, streams = saved
    # Backwards, so that an item named twice (which moto refuses) ends as it was before both.
    for table, hash_key, range_key, before in reversed(items):
        if table.range_key_attr:
            partition = table.items[hash_key]
            if before is None:
                partition.pop(range_key, None)
            else:
                partition[range_key] = before
        elif before is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = before
    for shard, length in streams:
        del shard.items[length:]  # a failed transaction's writes were never streamed
