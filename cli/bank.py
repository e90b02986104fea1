"""``ecomops bank``: read a bank statement file on this machine exactly as the bank-file function
will, to see what lands, what the file declares, and what would be quarantined."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.errors import MESSAGE_WIDTH as _MESSAGE_WIDTH
from cli.errors import InternalError
from cli.errors import one_line as _one_line
from cli.target import LOCAL_OPTION

if TYPE_CHECKING:
    from functions.reconcile.domain.bank import ParsedFile

FORMATS = ("auto", "csv", "mt940", "camt", "bai2")


@click.group()
def bank() -> None:
    """Bank statement files (CSV, MT940, camt.053/054, BAI2)."""


def _money(amount: int, currency: str) -> str:
    from functions.reconcile.domain.bank.common import quoted

    return quoted(amount, currency)


def _report(parsed: ParsedFile, path: Path) -> dict[str, Any]:
    from functions.reconcile.domain.bank.common import decimal_text

    return {
        "file": str(path),
        "format": parsed.format,
        "sha256": parsed.file_sha256,
        "clean": parsed.clean,
        "lines": [
            {
                "line_id": line.line_id,
                "line_no": line.source.line_no,
                "statement_id": line.source.statement_id,
                "entry_index": line.source.entry_index,
                "account": line.account,
                "booking_date": line.booking_date.isoformat(),
                "value_date": line.value_date.isoformat() if line.value_date else None,
                "direction": line.direction,
                "amount": line.amount,
                "amount_decimal": decimal_text(line.amount, line.currency),
                "currency": line.currency,
                "end_to_end_id": line.end_to_end_id,
                "bank_ref": line.bank_ref,
                "customer_ref": line.customer_ref,
                "trace_id": line.trace_id,
                "counterparty": line.counterparty,
                "remittance": line.remittance,
                "bank_code": line.bank_code,
            }
            for line in parsed.lines
        ],
        "totals": parsed.totals(),
        "statements": [
            {
                "statement_id": s.statement_id,
                "account": s.account,
                "currency": s.currency,
                "opening_balance": s.opening_balance,
                "closing_balance": s.closing_balance,
                "credit_count": s.credit_count,
                "credit_total": s.credit_total,
                "debit_count": s.debit_count,
                "debit_total": s.debit_total,
                "declared": s.declared,
                "control_ok": s.control_ok,
                "problems": s.problems,
            }
            for s in parsed.statements
        ],
        "quarantined": [
            {"line_no": q.line_no, "reason": q.reason, "raw": q.raw} for q in parsed.quarantined
        ],
        "skipped": [{"line_no": q.line_no, "reason": q.reason} for q in parsed.skipped],
    }


def _clip(text: str | None, width: int) -> str:
    value = (text or "").replace("\n", " ")
    return value if len(value) <= width else value[: width - 1] + "…"


def _print(parsed: ParsedFile, path: Path, max_lines: int) -> None:
    click.echo(
        f"{path}: {parsed.format}, {len(parsed.lines)} lines, "
        f"{len(parsed.statements)} statements, {len(parsed.quarantined)} quarantined"
    )
    if parsed.lines:
        click.echo(
            f"{'line':>6}  {'booked':10}  {'':2} {'amount':>18}  {'reference':24}  "
            f"{'counterparty':24}  remittance"
        )
    for line in parsed.lines[:max_lines]:
        reference = line.end_to_end_id or line.customer_ref or line.bank_ref or line.trace_id
        click.echo(
            f"{line.source.line_no:>6}  {line.booking_date.isoformat():10}  "
            f"{'CR' if line.direction == 'credit' else 'DR':2} "
            f"{_money(line.amount, line.currency):>18}  {_clip(reference, 24):24}  "
            f"{_clip(line.counterparty, 24):24}  {_clip(line.remittance, 60)}"
        )
    if len(parsed.lines) > max_lines:
        click.echo(f"  … {len(parsed.lines) - max_lines} more lines (--max-lines, or --json)")
    click.echo("totals:")
    for currency, row in sorted(parsed.totals().items()):
        click.echo(
            f"  {currency}  credits {row['credit_count']:>6} {_money(row['credit'], currency):>20}"
            f"  debits {row['debit_count']:>6} {_money(row['debit'], currency):>20}"
        )
    click.echo("statements:")
    for s in parsed.statements:
        verdict = {True: "ok", False: "FAILED", None: "nothing declared"}[s.control_ok]
        balances = ""
        if s.opening_balance is not None and s.closing_balance is not None and s.currency:
            balances = (
                f"  {_money(s.opening_balance, s.currency)} → "
                f"{_money(s.closing_balance, s.currency)}"
            )
        click.echo(
            f"  {_clip(s.statement_id or '(file)', 60)}  {_clip(s.account, 40)} {s.currency}  "
            f"{s.credit_count} credits, {s.debit_count} debits{balances}  check: {verdict}"
        )
        for problem in s.problems:
            click.echo(f"      {_clip(problem, _MESSAGE_WIDTH)}")
    if parsed.quarantined:
        click.echo("quarantined:")
        for q in parsed.quarantined:
            click.echo(f"  line {q.line_no}: {_clip(q.reason, _MESSAGE_WIDTH)}")
            if q.raw:
                click.echo(f"      {_clip(q.raw.splitlines()[0], 100)}")
    if parsed.skipped:
        click.echo("skipped (read, not booked):")
        for q in parsed.skipped:
            click.echo(f"  line {q.line_no}: {q.reason}")


@bank.command("parse")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "file_format",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="The file's format; auto detects it from the first bytes.",
)
@click.option("--tenant", default="local", show_default=True, help="Tenant the lines belong to.")
@click.option(
    "--csv-preset",
    default=None,
    metavar="NAME",
    help="CSV column mapping: generic (default), de_sparkasse_csv_camt, uk_paid_in_out, "
    "us_credit_debit.",
)
@click.option(
    "--account", default=None, help="The account, for CSV exports that have no account column."
)
@click.option("--json", "as_json", is_flag=True, help="Print everything as JSON.")
@click.option(
    "--max-lines", default=200, show_default=True, help="Lines shown in the table (not JSON)."
)
def bank_parse(
    file: Path,
    file_format: str,
    tenant: str,
    csv_preset: str | None,
    account: str | None,
    as_json: bool,
    max_lines: int,
) -> None:
    """Parse FILE: the normalised lines, per-currency totals, each statement's check against
    what the file declares, and quarantined lines with their line numbers and reasons.

    Exits 1 if a line was quarantined or a statement's check failed, or if the file cannot be
    read at all (one line saying why); 2 on an internal error (never a traceback)."""
    from functions.reconcile.domain.bank import BankFileError, parse, preset

    try:
        if not file.is_file():  # a FIFO or a device (/dev/zero) would never end
            raise click.ClickException(f"{file}: not a regular file")
        data = file.read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise click.ClickException(_one_line(f"{file}: cannot read the file: {reason}")) from None
    try:
        mapping = preset(csv_preset) if csv_preset else None
        if account:
            mapping = (mapping or preset("generic")).with_account(account)
        parsed = parse(data, tenant=tenant, file=str(file), format=file_format, csv_mapping=mapping)
    except BankFileError as error:
        raise click.ClickException(_one_line(f"{file}: {error}")) from None
    except Exception as error:  # a bug of ours: still one line, not a traceback
        raise InternalError(
            _one_line(f"{file}: internal error while parsing: {type(error).__name__}: {error}")
        ) from None
    try:
        if as_json:
            click.echo(json.dumps(_report(parsed, file), indent=2))
        else:
            _print(parsed, file, max_lines)
    except Exception as error:  # likewise
        raise InternalError(
            _one_line(f"{file}: internal error while reporting: {type(error).__name__}: {error}")
        ) from None
    if not parsed.clean:
        sys.exit(1)


@bank.command("files")
@click.option("--tenant", required=True)
@click.option("--json", "as_json", is_flag=True)
@LOCAL_OPTION
def bank_files(tenant: str, as_json: bool, local_url: str | None) -> None:
    """Files received for TENANT, newest first: stored, re-sent copies, rejected, quarantined."""
    from cli.target import resolve
    from functions.reconcile.adapters.bank_store import BankStore

    records = BankStore(resolve(local_url).table).files(tenant)
    if as_json:
        click.echo(json.dumps(records, indent=2, default=str))
        return
    for record in records:
        detail = record.get("reason") or (
            f"{record.get('lines', 0)} lines, {record.get('quarantined_count', 0)} quarantined"
        )
        click.echo(f"{record['received']}  {record['status']:22} {record['key']}  {detail}")
        for bad in record.get("quarantined", [])[:10]:
            click.echo(f"    line {bad['line_no']}: {bad['reason']}")
