"""Reconciliation on the local stack: a bank file dropped in S3 reaches the intake through the
bucket's notification, and the deployed reconciliation function reports the day to S3."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from functions.reconcile.adapters.bank_store import BankStore
from local.sandboxes.bank import BankSandbox

pytestmark = pytest.mark.local

DAY = date(2026, 11, 20)


def install_tenant(stack: Any, tmp_path: Path, tenant: str) -> None:
    path = tmp_path / f"{tenant}.json"
    path.write_text(
        json.dumps(
            {
                "tenants": [
                    {
                        "settings": {
                            "id": tenant,
                            "name": "Bank Test",
                            "currency": "EUR",
                            "customer_sender": f"orders@{tenant}.example",
                            "finance_emails": [f"finance@{tenant}.example"],
                        },
                        "secrets": {},
                    }
                ]
            }
        )
    )
    stack.install_tenants(path)


@pytest.fixture(scope="module")
def reconciled(local_stack: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A camt.053 dropped in the local stack's bucket, then the day reconciled."""
    tenant = "banktest"
    install_tenant(local_stack, tmp_path_factory.mktemp("tenants"), tenant)
    outputs = local_stack.deployment.outputs
    payout = {
        "id": "po_local_1",
        "amount": 125_000,
        "currency": "eur",
        "arrival_date": int(time.mktime(DAY.timetuple())) + 43_200,
        "status": "paid",
        "statement_descriptor": "STRIPE",
    }
    statement = BankSandbox(tenant=tenant, seed=3).day(DAY, [payout], unknown_credits=1)
    s3 = local_stack.client("s3")
    s3.put_object(
        Bucket=outputs["BankStatementsBucket"],
        Key=f"bank-statements/{tenant}/{DAY}.xml",
        Body=statement.write("camt053"),
    )
    store = BankStore(outputs["TableName"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and store.file_record(tenant, _sha(statement)) is None:
        time.sleep(0.2)
    answer = local_stack.client("lambda").invoke(
        FunctionName=outputs["ReconcileFunction"],
        Payload=json.dumps({"tenant": tenant, "day": DAY.isoformat()}).encode(),
    )
    assert "FunctionError" not in answer, answer["Payload"].read()
    (summary,) = json.loads(answer["Payload"].read())["reconciled"]
    return {"statement": statement, "store": store, "summary": summary}


def test_a_dropped_statement_is_parsed_and_the_day_reported(
    local_stack: Any, reconciled: dict[str, Any]
) -> None:
    statement, summary = reconciled["statement"], reconciled["summary"]
    lines = list(reconciled["store"].lines_between("banktest", DAY, DAY))
    assert len(lines) == sum(len(s.entries) for s in statement.statements)
    assert any(line.amount == 125_000 and line.direction == "credit" for line in lines)
    # The payout is unknown to the table (no gateway events for this tenant): its credit is
    # an unknown bank credit, and nothing else is wrong.
    assert summary["by_class"] == {"unknown_bank_credit": 1}
    report = local_stack.client("s3").get_object(
        Bucket=local_stack.deployment.outputs["ReportsBucket"], Key=summary["report"]["html"]
    )
    assert b"unknown" in report["Body"].read().lower()


def _sha(statement: Any) -> str:
    import hashlib

    return hashlib.sha256(statement.write("camt053")).hexdigest()


def test_operators_list_the_files_received_and_the_open_breaks(
    local_stack: Any, reconciled: dict[str, Any]
) -> None:
    """What an operator sees from the command line after the day above."""
    from click.testing import CliRunner

    from cli.main import main

    runner = CliRunner()
    files = runner.invoke(
        main, ["bank", "files", "--tenant", "banktest", "--local", local_stack.base_url]
    )
    assert files.exit_code == 0, files.output
    assert "stored" in files.output and f"bank-statements/banktest/{DAY}.xml" in files.output
    breaks = runner.invoke(
        main, ["reconcile", "breaks", "--tenant", "banktest", "--local", local_stack.base_url]
    )
    assert breaks.exit_code == 0, breaks.output
    assert "1 open breaks for banktest" in breaks.output
    assert "unknown_bank_credit" in breaks.output
