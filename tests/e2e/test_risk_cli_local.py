"""The risk commands an operator runs against a deployment (here the local stack)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import main

pytestmark = pytest.mark.local

RULES = Path(__file__).parents[2] / "local" / "rules.demo.yaml"


def test_lists_and_rules_change_through_the_cli_and_are_audited(local_stack: Any) -> None:
    runner = CliRunner()
    url = ["--local", local_stack.base_url]

    def run(*args: str) -> str:
        answer = runner.invoke(main, [*args, *url])
        assert answer.exit_code == 0, answer.output
        return answer.output

    base = ["--tenant", "demo", "--list", "block", "--kind", "bins"]
    assert "431940" in run("risk", "lists", "add", *base, "431940")
    assert "431940" not in run("risk", "lists", "remove", *base, "431940")
    refused = runner.invoke(main, ["risk", "lists", "add", *base, "42", *url])
    assert refused.exit_code != 0 and "not a card BIN" in refused.output

    assert "version" in run(
        "risk", "rules", "save", "--tenant", "demo", "--category", "toys", str(RULES)
    )
    shown = run("risk", "rules", "show", "--tenant", "demo", "--category", "toys")
    assert "block-card-testing" in shown and "toys-v1" in shown

    audit = run("risk", "audit", "--tenant", "demo")
    assert "rules:toys" in audit
    assert audit.count("lists") >= 2
