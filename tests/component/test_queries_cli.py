"""``ecomops queries`` on moto (the deployment's table through ``cli.target``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from cli import queries as cli_queries
from cli.main import main
from cli.target import Target
from shared.tenants import TenantDirectory, TenantSettings
from tests.component.conftest import PREFIX, TABLE
from tests.component.queries_orders import failed, placed

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@pytest.fixture
def deployed(aws_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    target = Target(outputs={"TableName": TABLE}, tenant_secret_prefix=PREFIX)
    monkeypatch.setattr(cli_queries, "resolve", lambda local_url: target)
    TenantDirectory(TABLE).save(
        TenantSettings(id="acme", name="Acme", currency="EUR", customer_sender="s@acme.example")
    )
    placed("1001", T0)
    failed("1001", "pi_a", 2500, T0 + timedelta(minutes=1), code="card_declined")


def run(*args: str) -> Any:
    return CliRunner().invoke(main, ["queries", *args], catch_exceptions=False)


def test_find_then_ask(deployed: None) -> None:
    found = run("find", "--tenant", "acme", "--phone", "+44 20 7946 0958")
    assert found.exit_code == 0 and "order 1001" in found.output
    asked = run("ask", "--tenant", "acme", "--order", "1001", "failed-but-charged")
    assert asked.exit_code == 0
    assert "No: nothing was taken for order 1001" in asked.output
    assert "Suggested action: Tell the customer nothing was charged" in asked.output


def test_nothing_found_and_bad_input(deployed: None) -> None:
    nothing = run("find", "--tenant", "acme", "--tracking", "NOPE1")
    assert "Nothing found: no order with tracking number NOPE1" in nothing.output
    both = run("find", "--tenant", "acme", "--email", "a@b.c", "--card", "4242")
    assert both.exit_code == 2 and "give exactly one of" in both.output
    missing = run("payout", "--tenant", "acme", "po_nope")
    assert missing.exit_code == 1 and "nothing found" in missing.output


def test_a_case_opened_listed_and_closed(deployed: None) -> None:
    opened = run(
        "open-case",
        "--tenant",
        "acme",
        "--question",
        "Where is po_9?",
        "--asked-by",
        "fin@acme",
        "--payout",
        "po_9",
    )
    assert opened.exit_code == 0 and "Where is po_9?" in opened.output
    case_id = opened.output.split()[1]
    assert case_id in run("cases", "--tenant", "acme").output
    closed = run(
        "close-case", "--tenant", "acme", case_id, "--by", "ops", "--resolution", "arrived"
    )
    assert closed.exit_code == 0 and "closed" in closed.output
    assert "no open query cases for acme" in run("cases", "--tenant", "acme").output
