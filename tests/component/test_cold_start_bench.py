"""The cold-start bench's parts run: its times are not judged here, what it measures is."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import cold_start  # noqa: E402
from _harness import run_ms  # noqa: E402


def test_every_lambda_handler_is_found() -> None:
    found = cold_start.handler_modules()
    assert "functions.api.handlers.operator" in found
    assert "functions.webhooks.handlers.ingress" in found
    assert all(module.startswith("functions.") for module in found)


def test_the_botocore_column_tells_the_handlers_apart() -> None:
    assert cold_start.loads_botocore("functions.webhooks.handlers.ingress")
    assert not cold_start.loads_botocore("functions.api.handlers.health")


def test_the_first_call_probes_answer_from_the_seeded_server() -> None:
    # Each probe asserts its answer (the operator API's 200 for the order the bench placed; the
    # lifecycle's screening decision for the seeded tenant and order), read by a fresh
    # interpreter through the server: a failure there fails the subprocess.
    with cold_start.moto_server() as env:
        assert run_ms(cold_start.operator_probe(), env) > 0
        assert run_ms(cold_start.lifecycle_probe(), env) > 0


def test_the_probes_run_in_the_interpreter_they_are_pointed_at(tmp_path: Path) -> None:
    # ``--python``: the functions' runtime is a newer Python than the project's; every probe
    # (the handlers' and the baseline's) must then run in that one, never in this one.
    import _harness

    stand_in = tmp_path / "python"
    stand_in.write_text("#!/bin/sh\necho 42.5\n")
    stand_in.chmod(0o755)
    before = dict(_harness.PROBES)
    try:
        assert _harness.use_interpreter(str(stand_in)) == "42.5"
        assert run_ms("import boto3") == 42.5
    finally:
        _harness.PROBES.update(before)
    assert run_ms("print(1.0)") == 1.0


def test_without_bytecode_only_the_runtimes_own_modules_keep_theirs() -> None:
    # As Lambda starts a build made without the runtime's Python: the standard library and the
    # runtime's boto3 come compiled, the code asset and the layer's packages are compiled anew.
    import subprocess

    code = cold_start.source_only_probe("shared.clock").replace(
        "print((time.perf_counter() - t) * 1000)",
        "import json, boto3, pydantic, shared.clock\n"
        "for m in (json, boto3, pydantic, shared.clock): print(m.__name__, m.__cached__)",
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    cached = dict(line.split(" ", 1) for line in out.splitlines())
    assert not cached["json"].startswith("/nonexistent-bytecode")
    assert not cached["boto3"].startswith("/nonexistent-bytecode")
    assert cached["pydantic"].startswith("/nonexistent-bytecode")
    assert cached["shared.clock"].startswith("/nonexistent-bytecode")
