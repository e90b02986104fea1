"""The in-process dispatcher: each invocation sees its own function's environment."""

from __future__ import annotations

import os
import sys
import types
from typing import Any

import pytest

from local.lambda_shim import Dispatcher, FunctionError, FunctionSpec


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


def test_code_outside_the_project_is_not_run() -> None:
    with pytest.raises(LookupError, match="not project code"):
        Dispatcher.resolve("index.handler")
