"""Reports on the local stack: orders arrive as webhooks, the processor applies them and notes
the days they changed, and the deployed reports function sums the day up from those notes,
stores the summary in S3 and mails it."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from shared.order_store import OrderStore
from tests.workflow.test_lifecycle_local import (
    carrier_update,
    fulfil,
    make_tenant,
    place,
    place_paid,
)

pytestmark = pytest.mark.local

TENANT = "reportshop"


def wait_for_status(stack: Any, order_id: str, status: str, timeout_s: float = 60) -> None:
    store = OrderStore(stack.deployment.outputs["TableName"])
    deadline = time.monotonic() + timeout_s
    while (now := store.load(TENANT, order_id)[0].status().value) != status:
        if time.monotonic() > deadline:
            raise AssertionError(f"{order_id} is {now}, not {status}")
        time.sleep(0.2)


def test_the_day_is_summed_up_from_what_the_processor_noted(
    local_stack: Any, tmp_path: Path
) -> None:
    make_tenant(local_stack, tmp_path, TENANT, finance_emails=[f"finance@{TENANT}.example"])
    place_paid(local_stack, TENANT, "R-1")
    place(local_stack, TENANT, "R-2")
    fulfil(local_stack, TENANT, "R-1", "TRK-R1")
    carrier_update(local_stack, TENANT, "TRK-R1", "delivered", 5)
    wait_for_status(local_stack, "R-1", "delivered")
    wait_for_status(local_stack, "R-2", "pending_payment")

    outputs = local_stack.deployment.outputs
    answer = local_stack.client("lambda").invoke(
        FunctionName=outputs["ReportsFunction"],
        Payload=json.dumps({"tenant": TENANT, "kind": "daily", "day": "2026-11-23"}).encode(),
    )
    assert "FunctionError" not in answer, answer["Payload"].read()
    (published,) = json.loads(answer["Payload"].read())["published"]
    body = (
        local_stack.client("s3")
        .get_object(Bucket=outputs["ReportsBucket"], Key=published["json"])["Body"]
        .read()
    )
    summary = json.loads(body)
    usd = {f["key"]: f["current"] for f in summary["currencies"]["USD"]["figures"]}
    general = {f["key"]: f["current"] for f in summary["figures"]}
    assert (usd["orders"], usd["gross"], usd["total"]) == (1, 3000, 3000)
    assert (general["placed"], general["conversion"]) == (2, 0.5)
    assert (general["dispatched"], general["delivered"]) == (1, 1)
    assert summary["so_far"] is False
    mailed = list(Path(local_stack.mail_dir).glob("business_summary-*.eml"))
    assert any(f"finance@{TENANT}.example" in p.read_text(errors="replace") for p in mailed)

    # The same day through the HTTP API's route, behind the JWT authorizer.
    status, answer_body = operator_get(
        local_stack, f"/ops/tenants/{TENANT}/reports/summary?period=daily&day=2026-11-23"
    )
    assert status == 200 and answer_body["figures"] == summary["figures"]
    assert operator_get(local_stack, "/ops/tenants/acme/reports/summary?day=2026-11-23")[0] == 403


def operator_get(stack: Any, path: str) -> tuple[int, Any]:
    def part(document: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")

    token = f"{part({'alg': 'RS256'})}.{part({'sub': 'op', 'ecomops:tenants': TENANT})}.c2ln"
    request = urllib.request.Request(
        f"{stack.base_url}{path}", headers={"authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_the_cli_reads_the_same_day_and_mails_a_history(local_stack: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli.main import main

    make_tenant(local_stack, tmp_path, "reportcli")
    place_paid(local_stack, "reportcli", "C-1")
    store = OrderStore(local_stack.deployment.outputs["TableName"])
    deadline = time.monotonic() + 60
    while store.load("reportcli", "C-1")[0].status().value != "paid":
        assert time.monotonic() < deadline, "C-1 was never paid"
        time.sleep(0.2)
    url = ["--local", local_stack.base_url]
    runner = CliRunner()
    crm = runner.invoke(
        main, ["reports", "crm", "--tenant", "reportcli", "--day", "2026-11-23", *url]
    )
    assert crm.exit_code == 0, crm.output
    (row,) = [line for line in crm.output.splitlines() if ",C-1," in line]
    assert row.startswith("c-1@example.com,") and ",success,paid,USD,30.00," in row
    sent = runner.invoke(
        main, ["reports", "history-email", "--tenant", "reportcli", "C-1", "--by", "e2e", *url]
    )
    assert sent.exit_code == 0, sent.output
    # An order history names no single order: the mailer numbers it.
    mails = [
        p.read_text(errors="replace").lower()
        for p in Path(local_stack.mail_dir).glob("order_history-*.eml")
    ]
    assert [m for m in mails if "to: c-1@example.com" in m]
    again = runner.invoke(
        main, ["reports", "history-email", "--tenant", "reportcli", "C-1", "--by", "e2e", *url]
    )
    assert again.exit_code == 1 and "at most once" in again.output
