"""Session-wide fixtures: one synth and one local stack per test session (both take seconds)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.toolchain import ROOT, use_project_node

pytest_plugins = ["tests.travel", "pytester"]

BUILD = ROOT / "build"
# One synthesis serves every session and xdist worker of a run (a synth costs ~15 s of CPU):
# the first to take the lock synthesizes, the others find it stamped with the digest of what
# the app is built from and read it. A changed source file means a new synthesis.
TEST_CDK_OUT = BUILD / "test-cdk.out"
_SYNTH_INPUTS = ("infra", "functions", "shared")
_SYNTH_FILES = ("pyproject.toml", "cdk.json", "package-lock.json")

# Handlers' loggers take their level when first imported, which is at collection: keep the
# functions' logs to warnings so thousands of local invocations do not flood the output.
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


@pytest.fixture(scope="session")
def synthesis():  # type: ignore[no-untyped-def]
    use_project_node()
    from infra.synth import read_synthesis, synthesize

    BUILD.mkdir(exist_ok=True)
    stamp = TEST_CDK_OUT / ".inputs"
    digest = _synthesis_inputs_digest()
    with (BUILD / ".synth.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == digest:
            return read_synthesis(TEST_CDK_OUT)
        if TEST_CDK_OUT.exists():
            shutil.rmtree(TEST_CDK_OUT)
        synthesized = synthesize(TEST_CDK_OUT)
        stamp.write_text(digest)
        return synthesized


def _synthesis_inputs_digest() -> str:
    digest = hashlib.sha256()
    paths = [ROOT / name for name in _SYNTH_FILES]
    for top in _SYNTH_INPUTS:
        paths += sorted(p for p in (ROOT / top).rglob("*") if "__pycache__" not in p.parts)
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    # The assets differ with the machine too: with the runtime's Python they carry bytecode.
    from infra.packaging import runtime_python

    digest.update(f"bytecode by {runtime_python()}".encode())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def template(synthesis) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return synthesis.template  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def local_stack(synthesis) -> Iterator[object]:  # type: ignore[no-untyped-def]
    from local.stack import LocalStack

    saved = dict(os.environ)
    # A mail folder of its own: the file mailer is idempotent per key, and another session
    # (an xdist worker) may send the same kind for the same order id.
    with tempfile.TemporaryDirectory(prefix="ecomops-mail-") as mail:
        stack = LocalStack(Path(synthesis.outdir), mail_dir=Path(mail)).start()
        try:
            yield stack
        finally:
            stack.stop()
            os.environ.clear()
            os.environ.update(saved)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest tests first: under xdist one worker takes them while the others share the
    rest, instead of a long test starting last and the run waiting for it alone."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture
def sandbox(local_stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The Stripe sandbox, wired into the local stack (its functions call it)."""
    import stripe

    from local.sandboxes.stripe_sandbox import StripeSandbox

    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(stripe.HTTPClient, "MAX_DELAY", 0.05)
    with StripeSandbox(seed=21) as running:
        assert running.base_url is not None
        local_stack.dispatcher.overrides["STRIPE_API_BASE"] = running.base_url
        monkeypatch.setenv(
            "REFUND_STATE_MACHINE", local_stack.deployment.outputs["RefundStateMachine"]
        )
        monkeypatch.setenv(
            "LIFECYCLE_STATE_MACHINE", local_stack.deployment.outputs["LifecycleStateMachine"]
        )
        monkeypatch.setenv("LIFECYCLE_SECONDS_PER_DAY", "3")
        monkeypatch.setenv("TABLE_NAME", local_stack.deployment.outputs["TableName"])
        monkeypatch.setenv("MAIL_DIR", str(local_stack.mail_dir))
        yield running
        local_stack.dispatcher.overrides.pop("STRIPE_API_BASE", None)


@pytest.fixture
def carrier(local_stack: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The carrier account's sandbox (return labels), wired into the local stack and into the
    orders ports a test builds in this process."""
    from local.sandboxes.carrier_api import CarrierSandbox

    with CarrierSandbox(seed=5) as running:
        assert running.base_url is not None
        local_stack.dispatcher.overrides["CARRIER_API_BASE"] = running.base_url
        monkeypatch.setenv("CARRIER_API_BASE", running.base_url)
        yield running
        local_stack.dispatcher.overrides.pop("CARRIER_API_BASE", None)
