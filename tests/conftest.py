"""Session-wide fixtures: one synth and one local stack per test session (both take seconds)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.toolchain import ROOT, use_project_node

TEST_CDK_OUT = ROOT / "build" / "test-cdk.out"

# Handlers' loggers take their level when first imported, which is at collection: keep the
# functions' logs to warnings so thousands of local invocations do not flood the output.
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


@pytest.fixture(scope="session")
def synthesis():  # type: ignore[no-untyped-def]
    use_project_node()
    from infra.synth import synthesize

    return synthesize(TEST_CDK_OUT)


@pytest.fixture(scope="session")
def template(synthesis) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return synthesis.template  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def local_stack(synthesis) -> Iterator[object]:  # type: ignore[no-untyped-def]
    from local.stack import LocalStack

    saved = dict(os.environ)
    stack = LocalStack(Path(synthesis.outdir)).start()
    try:
        yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
