"""A cycle's outputs: summary and detailed reports (CSV, JSON, HTML e-mail), the instruction to
finance with a schema-validated pain.001 for EUR bank payouts and a CSV for the rest, and the
vendors' statements."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from functions.payouts.domain.reports import SUMMARY_COLUMNS
from functions.payouts.use_cases.cycles import run_cycle, show
from functions.payouts.use_cases.flows import order_released, order_sold, refund_completed
from functions.payouts.use_cases.outputs import send_outputs
from functions.payouts.use_cases.vendors import save_vendor
from shared.tenants import PayoutSettings
from tests.orders_fakes import FakeMailer
from tests.payouts_fakes import InMemoryFiles, payouts_ports
from tests.unit.test_payouts_cycles import SOLD_AT, TENANT
from tests.unit.test_payouts_flows import order, vendor

PAIN = "{urn:iso:std:iso:20022:tech:xsd:pain.001.001.03}"
FINANCE = TENANT.model_copy(
    update={
        "finance_emails": ("finance@acme.example",),
        "payouts": PayoutSettings(
            enabled=True,
            schedule="weekly",
            cutoff_hour=6,
            debtor_name="Acme Marketplace GmbH",
            debtor_iban="DE89370400440532013000",
            debtor_bic="COBADEFFXXX",
        ),
    }
)


def _cycle(tenant: Any = FINANCE) -> tuple[Any, InMemoryFiles, FakeMailer, Any]:
    ports, _, _, _ = payouts_ports(SOLD_AT)
    files, mailer = InMemoryFiles(), FakeMailer()
    ports = replace(ports, files=files, mailer=mailer, sender="ops@ecomops.example")
    save_vendor(ports, "acme", vendor("v-a"), "ops")
    connect = {"method": "stripe_connect", "account_id": "acct_1Vendorb", "currency": "EUR"}
    save_vendor(ports, "acme", {**vendor("v-b", "20"), "payout": connect}, "ops")
    state = order()
    order_sold(ports, tenant, state)
    ports.clock.set(datetime(2026, 10, 28, 12, tzinfo=UTC))  # type: ignore[attr-defined]
    order_released(ports, tenant, state, ["l1", "l2"])
    refund_completed(ports, tenant, state, "re_1", 500, "EUR")
    ports.clock.set(datetime(2026, 11, 2, 7, tzinfo=UTC))  # type: ignore[attr-defined]
    cycle = run_cycle(ports, tenant, send=lambda c, lines: send_outputs(ports, tenant, c, lines))
    return ports, files, mailer, cycle


def test_the_reports_are_stored_as_csv_and_json_and_agree_with_the_cycle() -> None:
    _ports, files, _, cycle = _cycle()
    prefix = "reports/acme/payouts/2026-11-02/"
    assert sorted(files.files) == [
        prefix + p
        for p in ("detail.csv", "other-payouts.csv", "pain001.xml", "report.json", "summary.csv")
    ]
    rows = list(csv.DictReader(io.StringIO(files.files[prefix + "summary.csv"][0].decode())))
    assert tuple(rows[0]) == SUMMARY_COLUMNS
    payable = sum(Decimal(r["net_payable"]) for r in rows)
    assert payable == Decimal(cycle.payable["EUR"]) / 100
    by_vendor = {r["vendor_id"]: r for r in rows}
    assert Decimal(by_vendor["v-a"]["gross"]) == Decimal("30.00")
    assert Decimal(by_vendor["v-a"]["refunds"]) > 0
    report = json.loads(files.files[prefix + "report.json"][0])
    assert report["cycle"]["cycle_id"] == "2026-11-02"
    assert {r["vendor_id"] for r in report["summary"]} == {"v-a", "v-b"}
    details = list(csv.DictReader(io.StringIO(files.files[prefix + "detail.csv"][0].decode())))
    assert {d["kind"] for d in details} >= {"sale", "release", "refund", "payout"}
    assert all((d["entry"] and d["order_id"]) or d["kind"] == "payout" for d in details)
    releases = [d for d in details if d["kind"] == "release"]
    assert releases and all(d["release_date"] == "2026-10-28" for d in releases)


def test_the_sepa_file_carries_the_eur_bank_payouts_and_the_csv_the_rest() -> None:
    ports, files, _, cycle = _cycle()
    _, lines = show(ports, "acme", cycle.cycle_id)
    bank = next(line for line in lines if line.vendor_id == "v-a")
    xml = etree.fromstring(files.files["reports/acme/payouts/2026-11-02/pain001.xml"][0])
    assert xml.findtext(f".//{PAIN}GrpHdr/{PAIN}NbOfTxs") == "1"
    assert (
        Decimal(xml.findtext(f".//{PAIN}GrpHdr/{PAIN}CtrlSum") or "") == Decimal(bank.amount) / 100
    )
    assert xml.findtext(f".//{PAIN}CdtrAcct/{PAIN}Id/{PAIN}IBAN") == bank.iban
    assert xml.findtext(f".//{PAIN}EndToEndId") == "2026-11-02-v-a"
    other = files.files["reports/acme/payouts/2026-11-02/other-payouts.csv"][0].decode()
    (row,) = csv.DictReader(io.StringIO(other))
    assert (row["vendor_id"], row["method"], row["account_id"]) == (
        "v-b",
        "stripe_connect",
        "acct_1Vendorb",
    )


def test_finance_the_vendors_and_the_report_are_mailed_once_each() -> None:
    ports, _, mailer, _ = _cycle()
    kinds = sorted(str(e.kind) for e in mailer.sent)
    assert kinds == ["payout_instruction", "payout_report", "vendor_statement", "vendor_statement"]
    report = next(e for e in mailer.sent if e.kind == "payout_report")
    assert report.to == ("finance@acme.example",)
    assert "cycle 2026-11-02" in report.subject and "<table" in report.html
    instruction = next(e for e in mailer.sent if e.kind == "payout_instruction")
    assert "ecomops payouts confirm --tenant acme 2026-11-02" in instruction.text
    statement = next(e for e in mailer.sent if e.to == ("v-a@example.com",))
    assert "Paid to you in this cycle" in statement.text
    run_cycle(ports, FINANCE, send=lambda c, lines: send_outputs(ports, FINANCE, c, lines))
    assert len(mailer.sent) == 4  # the cycle was sent: nothing again


def test_without_a_debtor_account_every_payout_goes_in_the_csv() -> None:
    _, files, _, _ = _cycle(
        FINANCE.model_copy(update={"payouts": PayoutSettings(enabled=True, cutoff_hour=6)})
    )
    assert "reports/acme/payouts/2026-11-02/pain001.xml" not in files.files
    other = files.files["reports/acme/payouts/2026-11-02/other-payouts.csv"][0].decode()
    assert sorted(r["vendor_id"] for r in csv.DictReader(io.StringIO(other))) == ["v-a", "v-b"]
