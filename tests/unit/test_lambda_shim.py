"""The in-process dispatcher: each invocation sees its own function's environment."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import types
from typing import Any

import pytest

from local.lambda_shim import Dispatcher, FunctionError, FunctionSpec, SnapshotEnviron, install


@pytest.fixture
def fake_module() -> Any:
    module = types.ModuleType("functions._shim_probe")

    def handler(event: Any, context: Any) -> Any:
        if event.get("boom"):
            raise ValueError("bad input")
        return {
            "table": os.environ.get("TABLE_NAME"),
            "name": context.function_name,
            "remaining": context.get_remaining_time_in_millis() > 0,
        }

    module.handler = handler  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


def spec(env: dict[str, str]) -> FunctionSpec:
    return FunctionSpec(
        name="fn",
        arn="arn:aws:lambda:us-east-1:1:function:fn",
        handler="functions._shim_probe.handler",
        environment=env,
        memory_mb=128,
        timeout_s=3,
    )


def test_handler_runs_with_its_functions_environment_then_it_is_restored(fake_module: Any) -> None:
    os.environ.pop("TABLE_NAME", None)
    result = Dispatcher().invoke(spec({"TABLE_NAME": "orders"}), {})
    assert result == {"table": "orders", "name": "fn", "remaining": True}
    assert "TABLE_NAME" not in os.environ


def test_overrides_win_over_the_template(fake_module: Any) -> None:
    result = Dispatcher({"TABLE_NAME": "local"}).invoke(spec({"TABLE_NAME": "orders"}), {})
    assert result["table"] == "local"


def test_exception_becomes_lambdas_error_payload(fake_module: Any) -> None:
    dispatcher = Dispatcher()
    with pytest.raises(FunctionError) as failed:
        dispatcher.invoke(spec({}), {"boom": True})
    assert failed.value.payload["errorType"] == "ValueError"
    assert failed.value.payload["errorMessage"] == "bad input"
    assert dispatcher.invocations[-1].error == "ValueError"


def test_a_closed_dispatcher_refuses_what_comes_after_and_waits_for_what_runs(
    fake_module: Any,
) -> None:
    import threading
    import time

    started, release = threading.Event(), threading.Event()

    def slow(event: Any, context: Any) -> Any:
        started.set()
        release.wait(5)
        return {"done": True}

    fake_module.handler = slow
    dispatcher = Dispatcher()
    results: list[Any] = []
    running = threading.Thread(target=lambda: results.append(dispatcher.invoke(spec({}), {})))
    running.start()
    assert started.wait(5)
    threading.Timer(0.2, release.set).start()
    began = time.monotonic()
    dispatcher.close(timeout_s=5)
    # close() returned only once the running handler had: it was let finish, not cut off.
    assert time.monotonic() - began >= 0.15
    running.join(5)
    assert results == [{"done": True}]
    with pytest.raises(FunctionError) as refused:
        dispatcher.invoke(spec({}), {})
    assert refused.value.payload["errorType"] == "StackStopped"
    assert len(dispatcher.invocations) == 1


def test_code_outside_the_project_is_not_run() -> None:
    with pytest.raises(LookupError, match="not project code"):
        Dispatcher.resolve("index.handler")


def _environ_losing(kind: type, key: str) -> Any:
    """An environment from which ``key`` disappears the moment the first value is read — what
    another thread's invocation ending (its variables removed) does to a reader in between."""
    data = {"AWS_REGION": "us-east-1", "TABLE_NAME": "t", key: "/ecomops/dev/tenants/"}

    def decode(value: str) -> str:
        data.pop(key, None)
        return value

    return kind(data, str, str, str, decode)


def test_the_stock_environment_read_whole_fails_when_a_variable_goes_meanwhile() -> None:
    # The defect the snapshot mends: read key by key, a removed key raises in the reader.
    with pytest.raises(KeyError, match="TENANT_SECRET_PREFIX"):
        _environ_losing(os._Environ, "TENANT_SECRET_PREFIX").copy()


@pytest.mark.parametrize("read", ["copy", "items", "keys", "values"])
def test_whole_environment_reads_take_one_snapshot(read: str) -> None:
    environ = _environ_losing(SnapshotEnviron, "TENANT_SECRET_PREFIX")
    seen = dict(environ.copy()) if read == "copy" else list(getattr(environ, read)())
    assert len(seen) == 3


def test_installing_the_runtime_makes_the_process_environment_a_snapshot_reader() -> None:
    # What was there before, not the plain class: this worker's session stack may be up.
    before = type(os.environ)
    uninstall = install(Dispatcher())
    try:
        assert type(os.environ) is SnapshotEnviron
        assert os.environ.copy() == dict(os.environ.items())
    finally:
        uninstall()
    assert type(os.environ) is before


def test_an_inner_install_leaves_the_outer_one_in_place_when_it_is_removed() -> None:
    # A test of the runtime may run in a worker whose session stack is up: removing the inner
    # install must give the stack back its own dispatcher and environment, not moto's.
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda_simple.models import LambdaSimpleBackend

    before = type(os.environ), LambdaSimpleBackend.invoke, LambdaBackend.send_dynamodb_items
    outer = install(Dispatcher())
    try:
        outer_invoke = LambdaSimpleBackend.invoke
        outer_stream = LambdaBackend.send_dynamodb_items
        inner = install(Dispatcher())
        assert LambdaSimpleBackend.invoke is not outer_invoke
        inner()
        assert type(os.environ) is SnapshotEnviron
        assert LambdaSimpleBackend.invoke is outer_invoke
        assert LambdaBackend.send_dynamodb_items is outer_stream
    finally:
        outer()
    after = type(os.environ), LambdaSimpleBackend.invoke, LambdaBackend.send_dynamodb_items
    assert after == before


def test_the_running_invocation_is_known_on_its_thread_only() -> None:
    import threading

    from local.lambda_shim import running_invocation

    seen: dict[str, Any] = {}
    module = types.ModuleType("functions._shim_running")

    def handler(event: Any, context: Any) -> None:
        seen["inside"] = running_invocation()
        other = threading.Thread(target=lambda: seen.update(other=running_invocation()))
        other.start()
        other.join()

    module.handler = handler  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    try:
        dispatcher = Dispatcher()
        dispatcher.invoke(
            FunctionSpec("fn", "arn", "functions._shim_running.handler", {}, 256, 3), {}
        )
    finally:
        del sys.modules[module.__name__]
    assert seen["inside"] is dispatcher.invocations[-1]
    assert seen["inside"].memory_mb == 256
    assert seen["other"] is None
    assert running_invocation() is None


def test_children_started_while_functions_run_start_every_time(fake_module: Any) -> None:
    """A child process started without ``env`` execs with the C library's environment. An
    invocation sets its function's variables in Python's view of the environment only, so
    invocations on another thread never move that array under a starting child (when they did,
    about a third of these children failed with EFAULT, "Bad address")."""
    dispatcher = Dispatcher()
    function = spec({f"ECOMOPS_PROBE_{n}": "x" * 50 for n in range(20)})
    stop = threading.Event()

    def invoke_again_and_again() -> None:
        while not stop.is_set():
            dispatcher.invoke(function, {})
            time.sleep(0)  # let the spawning thread in

    invoker = threading.Thread(target=invoke_again_and_again, daemon=True)
    invoker.start()
    failures = []
    try:
        for _ in range(300):
            try:
                subprocess.run(["/bin/true"], check=True)
            except (OSError, subprocess.CalledProcessError) as failure:
                failures.append(failure)
    finally:
        stop.set()
        invoker.join(timeout=5)
    assert failures == []
