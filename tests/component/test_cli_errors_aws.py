"""The CLI against an AWS account (moto's server) where the stack is not deployed: one line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from local.stack import free_port
from tests.cli_runs import ecomops


@pytest.fixture(scope="module")
def account() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_a_stack_that_is_not_deployed(account: str, tmp_path: Path) -> None:
    run = ecomops(
        "orders",
        "show",
        "--tenant",
        "demo",
        "X",
        home=tmp_path,
        AWS_ENDPOINT_URL=account,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="eu-central-1",
        ECOMOPS_STACK="EcomOpsStaging",
    )
    assert "Traceback" not in run.stderr and len(run.lines) == 1, run.lines
    assert "no stack EcomOpsStaging in eu-central-1" in run.lines[0]
    assert "--local" in run.lines[0] and run.code == 2
