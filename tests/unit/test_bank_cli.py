"""``ecomops bank parse``: the table, the JSON, and the exit code operators script against."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

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


# -- hostile files: one line and an exit code, never a traceback ---------------------------------


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(bank, ["parse", *args])
    # CliRunner catches what escapes the command: anything but click's own exit is a traceback
    # the operator would have seen.
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    return result


def hostile_type_code(tmp_path: Path) -> Path:
    text = (BANK / "bai2/sample1.txt").read_text()
    path = tmp_path / "type.bai2"
    path.write_text(
        text.replace(
            "16,409,000000000090000,V,060316,,,,RTN",
            f"16,{'1' * 100_000},000000000090000,V,060316,,,,RTN",
        )
    )
    return path


@pytest.mark.parametrize(
    ("name", "content", "code", "message"),
    [
        ("missing.txt", None, 2, "does not exist"),
        ("folder", "dir", 2, "is a directory"),
        ("binary.bin", bytes(range(256)) * 40, 1, "not utf-8-sig text at byte 128"),
        ("empty.txt", b"", 1, "the file is empty"),
        (
            "latin1.csv",
            "booking_date,amount\n2026-03-02,1.00 \u00fc\n".encode("latin-1"),
            1,
            "not utf-8-sig text",
        ),
        ("line.txt", b"x" * 10_000_000, 1, "field larger than field limit"),
        ("line.bai2", b"01," + b"1" * 10_000_000, 1, "no group (02) in the BAI2 file"),
    ],
)
def test_unreadable_files_give_one_line_and_an_exit_code(
    tmp_path: Path, name: str, content: bytes | str | None, code: int, message: str
) -> None:
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    result = invoke(str(path))
    assert result.exit_code == code, result.output
    assert message in result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1 and len(error_lines[0]) < 400


def test_a_device_is_not_read() -> None:
    result = invoke("/dev/null")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: /dev/null: not a regular file"


def test_type_code_of_100000_digits_is_a_quarantined_line_not_a_traceback(tmp_path: Path) -> None:
    path = hostile_type_code(tmp_path)
    result = invoke(str(path))
    assert result.exit_code == 1
    assert "bai2, 16 lines, 2 statements, 1 quarantined" in result.output
    assert "line 6: detail record (16) unreadable: type code '1111" in result.output
    assert "(100,000 characters) is not 3 digits" in result.output
    assert max(len(line) for line in result.output.splitlines()) < 300
    result = invoke(str(path), "--json")
    assert result.exit_code == 1
    (bad,) = json.loads(result.output)["quarantined"]
    assert bad["line_no"] == 6 and len(bad["raw"]) <= 4001


def test_type_code_of_100000_digits_in_a_real_process(tmp_path: Path) -> None:
    """What an operator sees in a terminal: no traceback on stderr."""
    path = hostile_type_code(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", "from cli.main import main; main()", "bank", "parse", str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stderr == ""
    assert "type code" in done.stdout


def test_internal_error_is_one_line_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import functions.reconcile.domain.bank as bank_module

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug\nacross lines " + "x" * 10_000)

    monkeypatch.setattr(bank_module, "parse", broken)
    result = invoke(str(BANK / "bai2/sample1.txt"))
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert (
        line.startswith("Error: ") and "internal error while parsing: RuntimeError: a bug" in line
    )
    assert len(line) < 400
