"""A newcomer's first commands: what is missing, on one line, never a traceback (13.13)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local.stack import free_port
from tests.cli_runs import Run, ecomops


def one_line(run: Run) -> str:
    assert "Traceback" not in run.stdout + run.stderr, run.stderr
    assert len(run.lines) == 1, run.lines
    return run.lines[0]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def test_no_aws_configuration_says_how_to_point_the_cli_somewhere(home: Path) -> None:
    run = ecomops("orders", "show", "--tenant", "demo", "X", home=home)
    line = one_line(run)
    assert run.code == 2
    assert "no AWS region" in line
    assert "--local" in line and "ECOMOPS_LOCAL" in line
    assert "AWS_PROFILE" in line and "AWS_REGION" in line and "ECOMOPS_STACK" in line


def test_a_region_but_no_credentials(home: Path) -> None:
    run = ecomops("events", "stats", "--tenant", "demo", home=home, AWS_REGION="eu-west-1")
    assert "no AWS credentials" in one_line(run) and run.code == 2


def test_a_profile_that_does_not_exist(home: Path) -> None:
    run = ecomops("reconcile", "breaks", "--tenant", "demo", home=home, AWS_PROFILE="nope")
    assert "(nope) could not be found" in one_line(run) and run.code == 2


DEPLOYMENT_COMMANDS = [
    ("orders", "show", "--tenant", "demo", "X"),
    ("events", "stats", "--tenant", "demo"),
    ("reconcile", "breaks", "--tenant", "demo"),
    ("reconcile", "run", "--tenant", "demo", "--date", "2026-11-23"),
    ("bank", "files", "--tenant", "demo"),
    ("risk", "lists", "show", "--tenant", "demo"),
    ("tenants", "list"),
    ("returns", "list", "--tenant", "demo", "X"),
    ("reviews", "call-outcome", "--tenant", "demo", "X", "--outcome", "no-answer"),
]


@pytest.mark.parametrize("command", DEPLOYMENT_COMMANDS, ids=" ".join)
def test_a_local_stack_that_is_not_running(home: Path, command: tuple[str, ...]) -> None:
    # Every command that talks to a deployment honours ECOMOPS_LOCAL, as the message says.
    url = f"http://127.0.0.1:{free_port()}"
    run = ecomops(*command, home=home, ECOMOPS_LOCAL=url)
    line = one_line(run)
    assert f"no local stack at {url}" in line and "ecomops local up" in line
    assert run.code == 2


def test_a_bad_file(home: Path, tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    history.write_text('{"order": 1\n')
    rules = Path(__file__).parents[2] / "local" / "rules.demo.yaml"
    run = ecomops("risk", "backtest", "--rules", str(rules), "--history", str(history), home=home)
    assert "Invalid JSON" in one_line(run) and run.code == 2


def test_debug_shows_the_traceback(home: Path) -> None:
    run = ecomops("--debug", "orders", "show", "--tenant", "demo", "X", home=home)
    assert "Traceback" in run.stderr and "NoRegionError" in run.stderr
    assert run.code != 0


def test_a_bad_tenants_file_for_the_local_stack(home: Path, tmp_path: Path) -> None:
    cdk_out = tmp_path / "cdk.out"
    cdk_out.mkdir()
    (cdk_out / "manifest.json").write_text("{}")  # no synth: the file is refused before
    tenants = tmp_path / "tenants.json"
    settings: dict[str, Any] = {"id": "demo", "name": "D", "currency": "USD"}
    settings["customer_sender"] = "a@b.example"
    settings["risk"] = {"block": {"ipz": ["203.0.113.7"]}}
    tenants.write_text(json.dumps({"tenants": [{"settings": settings}]}))
    run = ecomops(
        "local", "up", "--no-synth", "--cdk-out", str(cdk_out), "--tenants", str(tenants), home=home
    )
    assert "tenants.0.settings.risk.block.ipz: Extra inputs" in one_line(run) and run.code == 2
