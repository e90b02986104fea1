"""Run project Lambda handlers in-process whenever moto invokes a function.

moto (``lambda.use_docker = False``) routes every Invoke API call through
``LambdaSimpleBackend.invoke``; Step Functions ``lambda:invoke`` tasks reach it too. Replacing
that one method with a dispatcher that imports the module named by the function's ``Handler``
runs the real code with the function's own environment. This module is the only place that
touches moto's Lambda internals.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

# Handlers of these packages are ours to run; anything else (CDK's inline custom-resource code)
# has no local implementation and is answered with an error the caller can see.
RUNNABLE_PACKAGES = ("functions.",)

# Lambda runs one invocation per environment at a time; one process shares os.environ, so
# invocations are serialised to give each the environment its function was deployed with.
_INVOKE_LOCK = threading.RLock()


class SnapshotEnviron(os._Environ):  # type: ignore[type-arg]
    """``os.environ`` whose whole-environment reads (``copy``, ``items``, ``keys``, ``values``)
    take one snapshot.

    The dispatcher sets a function's variables for its invocation and removes them after, while
    other threads of the process go on: moto's Step Functions executions build boto3 clients
    (botocore copies the environment; urllib reads its proxies from ``items()``), the test
    thread runs. The stock mapping reads key by key, so a variable removed between listing and
    reading raised ``KeyError`` in that thread — once in CI, a refund's Lambda step failed with
    ``Exception: 'TENANT_SECRET_PREFIX'`` before its function ran. Copying the underlying dict is
    one step under the GIL."""

    def _snapshot(self) -> dict[str, str]:
        raw = self._data.copy()  # type: ignore[attr-defined]
        return {self.decodekey(k): self.decodevalue(v) for k, v in raw.items()}

    def copy(self) -> dict[str, str]:
        return self._snapshot()

    def keys(self) -> Any:
        return self._snapshot().keys()

    def items(self) -> Any:
        return self._snapshot().items()

    def values(self) -> Any:
        return self._snapshot().values()


def _set_for_python(key: str, value: str | None) -> None:
    """Set ``key`` (remove it, for None) in Python's view of the environment only.

    The functions read their variables through ``os.environ``. Setting them through it would
    also change the C library's environment, whose array moves as variables come and go; a
    child process that another thread starts meanwhile without ``env`` execs with that array,
    and its exec failed with EFAULT ("Bad address"): twice in the race tests (once through
    multiprocessing's resource tracker). Left alone, the C environment stays what the process
    had before any invocation."""
    environ: Any = os.environ
    name = environ.encodekey(key)
    if value is None:
        environ._data.pop(name, None)
    else:
        environ._data[name] = environ.encodevalue(value)


@dataclass
class LambdaContext:
    """What the Lambda runtime hands a handler as ``context``."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_s: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_s
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    arn: str
    handler: str
    environment: Mapping[str, str]
    memory_mb: int
    timeout_s: int


class FunctionError(Exception):
    """A handler raised: carries the payload Lambda would return with ``FunctionError``."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload.get("errorMessage", "function error"))
        self.payload = payload


@dataclass
class Invocation:
    function: str
    duration_ms: float
    error: str | None
    memory_mb: int = 0
    # The thread's CPU time over the invocation: below ``duration_ms`` by what it spent waiting
    # (on moto and the sandboxes, which serve from other threads, or on the GIL).
    cpu_ms: float = 0.0
    # Calls out (AWS requests, the sandboxes' HTTP), filled in while the invocation runs by
    # whoever times them (the cost meter): attempts per (service, operation) and the wall time
    # spent inside them.
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    call_ms: float = 0.0


# The invocations running, innermost last, per thread: what a call out made on this thread is
# made for.
_running = threading.local()


def running_invocation() -> Invocation | None:
    """The invocation this thread is running now, if any."""
    stack: list[Invocation] = getattr(_running, "stack", [])
    return stack[-1] if stack else None


class Dispatcher:
    """Calls handlers in-process; ``overrides`` are set after the function's own environment."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self.overrides = dict(overrides or {})
        self.invocations: list[Invocation] = []
        self.listeners: list[Callable[[Invocation], None]] = []
        self._closed = False

    def close(self, timeout_s: float = 30.0) -> None:
        """Refuse invocations from now on and wait (at most ``timeout_s``) for the one running.

        A stopping stack shuts its server and puts the environment back; a request the server
        had already taken (a Step Functions task's Invoke) would otherwise run its handler after
        that, against a server that is gone and without its region."""
        self._closed = True
        if _INVOKE_LOCK.acquire(timeout=timeout_s):
            _INVOKE_LOCK.release()

    @staticmethod
    def resolve(handler: str) -> Callable[[Any, Any], Any]:
        if not handler.startswith(RUNNABLE_PACKAGES):
            raise LookupError(f"handler {handler!r} is not project code; it cannot run locally")
        module_name, _, attribute = handler.rpartition(".")
        module = importlib.import_module(module_name)
        fn: Callable[[Any, Any], Any] = getattr(module, attribute)
        return fn

    @contextmanager
    def _environment(self, spec: FunctionSpec) -> Iterator[None]:
        wanted = {
            **spec.environment,
            **self.overrides,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        }
        # Only the keys this function sets are touched (never a clear()): other threads of the
        # process (moto's Step Functions executor) read the environment meanwhile.
        saved = {key: os.environ.get(key) for key in wanted}
        for key, value in wanted.items():
            _set_for_python(key, value)
        try:
            yield
        finally:
            for key, old in saved.items():
                _set_for_python(key, old)

    def invoke(self, spec: FunctionSpec, event: Any) -> Any:
        """Run the handler; return its result or raise ``FunctionError`` with Lambda's payload."""
        record = Invocation(spec.name, 0.0, None, memory_mb=spec.memory_mb)
        with _INVOKE_LOCK, self._environment(spec):
            if self._closed:
                raise FunctionError(
                    {"errorMessage": "the local stack has stopped", "errorType": "StackStopped"}
                )
            # Timed from the moment it runs: waiting for the lock is not Lambda's duration.
            started, started_cpu = time.perf_counter(), time.thread_time()
            stack = _running.__dict__.setdefault("stack", [])
            stack.append(record)
            context = LambdaContext(spec.name, spec.arn, spec.memory_mb, spec.timeout_s)
            try:
                return self.resolve(spec.handler)(event, context)
            except Exception as exc:
                record.error = type(exc).__name__
                raise FunctionError(
                    {
                        "errorMessage": str(exc),
                        "errorType": type(exc).__name__,
                        "requestId": context.aws_request_id,
                        "stackTrace": traceback.format_exception(exc)[-8:],
                    }
                ) from exc
            finally:
                record.duration_ms = (time.perf_counter() - started) * 1000
                record.cpu_ms = (time.thread_time() - started_cpu) * 1000
                stack.pop()
                self.invocations.append(record)
                for listener in self.listeners:
                    listener(record)


def spec_of(function: Any) -> FunctionSpec:
    """A moto ``LambdaFunction`` as the dispatcher needs it."""
    return FunctionSpec(
        name=function.function_name,
        arn=function.function_arn,
        handler=function.handler,
        environment=dict(function.environment_vars or {}),
        memory_mb=int(function.memory_size or 128),
        timeout_s=int(function.timeout or 3),
    )


def install(dispatcher: Dispatcher) -> Callable[[], None]:
    """Patch moto so Lambda invocations run through ``dispatcher``; returns an uninstaller."""
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda_simple.models import LambdaSimpleBackend

    original_invoke = LambdaSimpleBackend.invoke
    original_stream = LambdaBackend.send_dynamodb_items

    def invoke(
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> bytes:
        spec = spec_of(self.get_function(function_name, qualifier))
        event = json.loads(body) if body else {}
        try:
            result = dispatcher.invoke(spec, event)
        except FunctionError as failure:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(failure.payload).encode()
        except LookupError as missing:
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(
                {"errorMessage": str(missing), "errorType": "NotRunnableLocally"}
            ).encode()
        return json.dumps(result).encode()

    def no_stream_trigger(self: Any, function_arn: str, items: Any, source: str) -> None:
        # The local runtime reads the stream itself with Lambda's semantics (batches, retries,
        # bisection, on-failure destination); moto's trigger would call synchronously inside
        # the writer's PutItem and drop the records.
        return None

    # Uninstalling puts back what was there when this was installed, not moto's originals: a
    # process may install twice (a test of the runtime while a session's stack is running),
    # and the outer one must keep its dispatcher and its snapshot-reading environment.
    original_environ = type(os.environ)
    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
    LambdaBackend.send_dynamodb_items = no_stream_trigger  # type: ignore[method-assign,assignment]
    os.environ.__class__ = SnapshotEnviron

    def uninstall() -> None:
        os.environ.__class__ = original_environ
        LambdaSimpleBackend.invoke = original_invoke  # type: ignore[method-assign]
        LambdaBackend.send_dynamodb_items = original_stream  # type: ignore[method-assign]

    return uninstall
