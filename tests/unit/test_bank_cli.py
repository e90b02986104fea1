"""``ecomops bank parse``: the table, the JSON, and the exit code operators script against."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cli.bank import bank
from cli.main import main
from tests.samples import SAMPLES

BANK = SAMPLES / "bank"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(bank, ["parse", *args])
    return result.exit_code, result.output


def test_registered_on_the_main_command() -> None:
    result = CliRunner().invoke(main, ["bank", "parse", "--help"])
    assert result.exit_code == 0
    assert "--csv-preset" in result.output


def test_clean_file_prints_lines_totals_and_checks() -> None:
    code, out = run(str(BANK / "mt940/sepa_mt9401.sta"), "--max-lines", "3")
    assert code == 0, out
    assert "mt940, 97 lines, 26 statements, 0 quarantined" in out
    assert "TFNR 40005 00005" in out  # the first line's end-to-end id
    assert "… 94 more lines" in out
    assert "EUR  credits     41" in out
    assert out.count("check: ok") == 26


def test_json_output() -> None:
    code, out = run(str(BANK / "camt053/camt053.v2.multi.statement.xml"), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["format"] == "camt053"
    assert [line["amount"] for line in report["lines"]] == [885, 700]
    assert report["lines"][0]["amount_decimal"] == "8.85"
    assert [s["control_ok"] for s in report["statements"]] == [True, True]
    assert report["totals"]["EUR"]["debit"] == 700
    assert report["clean"] is True


def test_quarantine_exits_1_with_line_numbers(tmp_path: Path) -> None:
    text = (BANK / "mt940/sepa_mt9401.sta").read_text()
    broken = tmp_path / "broken.sta"
    broken.write_text(text.replace(":61:0709040904CR335,33NTRF", ":61:0709040904CR335,3XNTRF"))
    code, out = run(str(broken))
    assert code == 1
    assert "quarantined:\n  line 8: statement line (:61:) unreadable" in out
    assert "check: FAILED" in out
    code, out = run(str(broken), "--json")
    assert code == 1
    assert json.loads(out)["quarantined"][0]["line_no"] == 8


def test_failed_control_check_exits_1() -> None:
    code, out = run(str(BANK / "mt940/triodos.sta"))
    assert code == 1
    assert "but the closing balance is 4370.79 EUR" in out


def test_csv_preset_and_account(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        "Date,Type,Description,Paid out,Paid in,Balance\n"
        "04/03/2026,BGC,STRIPE PAYMENTS UK,,1250.00,3000.00\n"
    )
    code, out = run(str(export), "--csv-preset", "uk_paid_in_out", "--account", "12345678")
    assert code == 0, out
    assert "1250.00 GBP" in out
    assert "check: nothing declared" in out
    code, out = run(str(export), "--csv-preset", "uk_paid_in_out")
    assert code == 1
    assert "no account column" in out
    code, out = run(str(export), "--csv-preset", "nope")
    assert code == 1 and "no CSV preset 'nope'" in out


def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    code, out = run(str(empty))
    assert code == 1
    assert "empty" in out
    code, out = run(str(BANK / "bai2/sample1.txt"), "--format", "mt940")
    assert code == 1
    assert "no MT940 statement" in out
