"""``ecomops reports`` over the fakes: what an operator types, and what it prints."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import cli.reports
from cli.main import main
from tests.reports_fakes import reports_ports
from tests.unit.test_reports_summary import AFTER_WEEK, TENANT, planted


@pytest.fixture
def ports(monkeypatch: pytest.MonkeyPatch) -> Any:
    made = reports_ports(TENANT, planted(), AFTER_WEEK)
    monkeypatch.setattr(cli.reports, "_ports", lambda local_url: made)
    return made


def run(*args: str) -> Any:
    return CliRunner().invoke(main, ["reports", *args])


def test_summary_prints_each_currency_apart(ports: Any) -> None:
    result = run("summary", "--tenant", "multi-shop", "--period", "weekly", "--day", "2026-10-21")
    assert result.exit_code == 0, result.output
    assert "Weekly summary 2026-W43" in result.output
    assert "EUR 66.00" in result.output and "USD 33.00" in result.output


def test_summary_publishes_when_asked(ports: Any) -> None:
    result = run(
        "summary",
        "--tenant",
        "multi-shop",
        "--period",
        "weekly",
        "--day",
        "2026-10-21",
        "--publish",
        "--retally",
    )
    assert result.exit_code == 0, result.output
    assert "reports/multi-shop/summary/weekly/2026-W43/summary.html" in ports.reports.objects
    assert len(ports.mailer.sent) == 1
    # The week's days were tallied again, and October (ended) added up again from them.
    assert (TENANT.id, date(2026, 10, 1)) in ports.tallies.saved_months


def test_a_table_to_a_file(ports: Any, tmp_path: Path) -> None:
    out = tmp_path / "crm.csv"
    result = run(
        "crm",
        "--tenant",
        "multi-shop",
        "--period",
        "weekly",
        "--day",
        "2026-10-21",
        "--csv",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().count("\n") == 6  # the header and A, B, D, E, F


def test_a_bad_day_is_named(ports: Any) -> None:
    result = run("refunds", "--tenant", "multi-shop", "--day", "21/10")
    assert result.exit_code == 2 and "'21/10' is not a date" in result.output


def test_nothing_found_for_an_unknown_customer(ports: Any) -> None:
    result = run("customer", "--tenant", "multi-shop", "nobody@example.com")
    assert result.exit_code == 1 and "nothing found" in result.output


def test_history_email(ports: Any) -> None:
    result = run("history-email", "--tenant", "multi-shop", "A", "--by", "op")
    assert result.exit_code == 0 and "sent to the address on the order" in result.output
    again = run("history-email", "--tenant", "multi-shop", "A", "--by", "op")
    assert again.exit_code == 1 and "at most once" in again.output
