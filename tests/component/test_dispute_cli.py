"""``ecomops disputes`` on moto (issue 15, item 7): list, show, edit, draft, packet, accept,
ratios and the register, on the table the deployment's outputs name."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from cli.main import main
from cli.target import Target
from functions.disputes.adapters.case_store import DynamoCaseStore, StoredOrders
from functions.disputes.use_cases.cases import record_dispute_event
from shared.tenants import TenantDirectory
from tests.component import orders
from tests.component.conftest import PREFIX, TABLE
from tests.disputes_fakes import OPENED_AT, dispute_event, ports, tenant


@pytest.fixture
def desk(aws_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import cli.disputes

    monkeypatch.setattr(
        cli.disputes, "resolve", lambda local_url: Target({"TableName": TABLE}, PREFIX)
    )
    TenantDirectory(TABLE).save(tenant())
    orders.place("o-1", at=OPENED_AT - timedelta(days=5))
    p = ports()
    p.cases = DynamoCaseStore(TABLE)
    p.orders = StoredOrders(TABLE)
    for dispute_id, days in (("dp_b", 8), ("dp_a", 2)):
        record_dispute_event(
            p,
            dispute_event(
                dispute_id=dispute_id,
                event_id=f"evt_{dispute_id}",
                due_by=OPENED_AT + timedelta(days=days),
                charge_id="ch_pi_1",
            ),
            "o-1",
        )


def run(*args: str) -> str:
    result = CliRunner().invoke(main, ["disputes", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.usefixtures("desk")
def test_list_show_edit_draft_and_packet(tmp_path: Path) -> None:
    listed = run("list", "--tenant", "acme").splitlines()
    assert [line.split()[0] for line in listed[:2]] == ["dp_a", "dp_b"]
    assert listed[-1] == "2 case(s)"
    shown = run("draft", "--tenant", "acme", "dp_a")
    assert "collecting" in shown.splitlines()[0]
    assert "customer_email_address" in shown and "o-1@example.com" in shown
    edited = run("edit", "--tenant", "acme", "dp_a", "--set", "uncategorized_text=Called twice",
                 "--assign", "sam")  # fmt: skip
    assert "Called twice" in edited and "evidence edited" in edited
    out = tmp_path / "packet.pdf"
    run("packet", "--tenant", "acme", "dp_a", "--out", str(out))
    text = PdfReader(out).pages[0].extract_text()
    assert "Evidence packet: order o-1" in text
    refused = CliRunner().invoke(
        main, ["disputes", "edit", "--tenant", "acme", "dp_a", "--set", "colour=red"]
    )
    assert refused.exit_code == 1
    assert "colour: not one of Stripe's text evidence fields" in refused.output


@pytest.mark.usefixtures("desk")
def test_register_and_ratios(tmp_path: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(run("register", "--tenant", "acme"))))
    assert [(r["dispute_id"], r["amount"], r["state"]) for r in rows] == [
        ("dp_a", "25.00", "new"),
        ("dp_b", "25.00", "new"),
    ]
    report = run("ratios", "--tenant", "acme", "--month", "2026-11")
    assert "Visa Acquirer Monitoring Program (merchant) (visa): 2 of 0" in report
    assert "thresholds from 2026-04-01" in report
