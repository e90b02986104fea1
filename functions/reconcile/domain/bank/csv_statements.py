"""CSV statement exports: every bank has its own columns, so a mapping says which is which.

A ``CsvMapping`` belongs to a tenant's bank account (the tenant config names a preset or gives
a full mapping). It fixes the delimiter and encoding, the header row, which columns hold the
dates, the amount (one signed column, a column plus a credit/debit indicator, or separate
credit and debit columns), the currency and account (a column or a fixed value), and the
references, counterparty and remittance columns. See ``docs/bank-files.md``.

CSV exports declare no balances or control totals, so their statements have nothing to check
(``control_ok`` None) unless the mapping names opening/closing balance columns.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator

from functions.reconcile.domain.bank.common import (
    MAX_NUMBER_CHARS,
    AmountError,
    BankFileError,
    check_currency,
    clip_raw,
    count_line,
    find_trace,
    minor_units,
    settle,
    shown,
    squeeze,
)
from functions.reconcile.domain.bank.dates import formatted_date
from functions.reconcile.domain.bank.model import (
    BankLine,
    Direction,
    ParsedFile,
    QuarantinedLine,
    SourcePosition,
    StatementSummary,
)
from shared.bank_csv import CSV_PRESETS, CsvMapping


def preset(name: str) -> CsvMapping:
    try:
        return CSV_PRESETS[name]
    except KeyError:
        known = ", ".join(sorted(CSV_PRESETS))
        raise BankFileError(f"no CSV preset {name!r} (known: {known})") from None


_SIGNED = re.compile(r"([+-]?)\s*(\(?)\s*([0-9.,' ]*[0-9][0-9.,' ]*)\s*(\)?)\s*([+-]?)")


def parse_amount(text: str, mapping: CsvMapping, currency: str) -> int:
    """A CSV amount to signed minor units: ``-1.234,50`` with a decimal comma is -123450;
    ``(12.50)`` and ``12.50-`` are negative too. Longer than ``MAX_NUMBER_CHARS`` is no amount
    (and would cost the pattern quadratic time: a 130,000-digit cell took minutes)."""
    body = text.strip()
    if len(body) > MAX_NUMBER_CHARS:
        raise AmountError(f"{shown(text)} is not an amount (over {MAX_NUMBER_CHARS} characters)")
    match = _SIGNED.fullmatch(body)
    if match is None or (match.group(1) and match.group(5)):
        raise AmountError(f"{shown(text)} is not an amount")
    lead, opening, digits, closing, trail = match.groups()
    if bool(opening) != bool(closing):
        raise AmountError(f"{shown(text)} is not an amount")
    body = digits.replace(" ", "")
    if mapping.thousands_separator:
        body = body.replace(mapping.thousands_separator, "")
    if mapping.decimal_separator == ",":
        if "." in body:
            raise AmountError(f"{shown(text)}: a point in an amount with a decimal comma")
        body = body.replace(",", ".")
    elif "," in body:
        raise AmountError(f"{shown(text)}: a comma in an amount with a decimal point")
    if body.count(".") > 1:
        raise AmountError(f"{shown(text)} is not an amount")
    value = minor_units(body, currency)
    negative = "-" in (lead, trail) or bool(opening)
    return -value if negative else value


class CsvParser:
    def __init__(
        self, data: bytes, mapping: CsvMapping, *, tenant: str, file: str, sha: str
    ) -> None:
        self.data = data
        self.mapping = mapping
        self.tenant = tenant
        self.file = file
        self.sha = sha
        self.out = ParsedFile(format="csv", file_sha256=sha)

    def _text(self) -> str:
        try:
            return self.data.decode(self.mapping.encoding)
        except UnicodeDecodeError as error:
            raise BankFileError(
                f"not {self.mapping.encoding} text at byte {error.start}; the CSV mapping "
                f"{self.mapping.name!r} may have the wrong encoding"
            ) from None
        except LookupError:
            raise BankFileError(f"unknown encoding {self.mapping.encoding!r}") from None

    def _rows(self, text: str) -> Iterator[tuple[int, int, list[str]]]:
        """(first line, last line, cells) per record; quoted cells may span lines."""
        reader = csv.reader(
            io.StringIO(text, newline=""),
            delimiter=self.mapping.delimiter,
            quotechar=self.mapping.quotechar,
        )
        last = 0
        try:
            for cells in reader:
                first, last = last + 1, reader.line_num
                yield first, last, cells
        except csv.Error as error:
            raise BankFileError(f"CSV unreadable: {error}", line_no=reader.line_num) from None

    def parse(self) -> ParsedFile:
        mapping = self.mapping
        text = self._text()
        columns: dict[str, int] | None = None
        raw_lines = io.StringIO(text, newline="").readlines()
        statements: dict[tuple[str, str], StatementSummary] = {}
        positions: dict[str, int] = {}
        for first, last, cells in self._rows(text):
            if last < mapping.header_row:
                continue
            if columns is None:
                columns = self._header(cells, first)
                continue
            if not any(cell.strip() for cell in cells):
                continue
            raw = "".join(raw_lines[first - 1 : last]).rstrip("\r\n")
            self._row(cells, columns, first, raw, statements, positions)
        if columns is None:
            raise BankFileError(f"no header row (line {mapping.header_row}) in the CSV file")
        for summary in statements.values():
            settle(summary)
            self.out.statements.append(summary)
        return self.out

    def _header(self, cells: list[str], line_no: int) -> dict[str, int]:
        mapping = self.mapping
        found = {cell.strip().lower(): n for n, cell in enumerate(cells)}
        wanted = [
            mapping.booking_date,
            mapping.value_date,
            mapping.amount,
            mapping.credit,
            mapping.debit,
            mapping.indicator,
            mapping.currency_column,
            mapping.account_column,
            mapping.end_to_end_id,
            mapping.bank_ref,
            mapping.customer_ref,
            mapping.trace_id,
            mapping.counterparty,
            mapping.bank_code,
            *mapping.remittance,
        ]
        missing = [w for w in wanted if w is not None and w.strip().lower() not in found]
        if missing:
            raise BankFileError(
                f"the CSV header lacks {', '.join(repr(m) for m in missing)} required by the "
                f"mapping {mapping.name!r}",
                line_no=line_no,
            )
        if mapping.account_column is None and mapping.account is None:
            raise BankFileError(
                f"the mapping {mapping.name!r} has no account column: give the account "
                "(CsvMapping.with_account / --account)"
            )
        return found

    def _row(
        self,
        cells: list[str],
        columns: dict[str, int],
        line_no: int,
        raw: str,
        statements: dict[tuple[str, str], StatementSummary],
        positions: dict[str, int],
    ) -> None:
        mapping = self.mapping

        def cell(name: str | None) -> str:
            if name is None:
                return ""
            at = columns[name.strip().lower()]
            return cells[at].strip() if at < len(cells) else ""

        account = cell(mapping.account_column) or mapping.account or ""
        # Position per account, counting bad rows too, so a corrected file keeps the others'
        # positions.
        index = positions.get(account, 0)
        positions[account] = index + 1
        try:
            currency = check_currency(
                (cell(mapping.currency_column) or mapping.currency or "").upper()
            )
            amount, direction = self._amount(cell, currency)
            booking_date = formatted_date(
                cell(mapping.booking_date), mapping.date_format, "booking date"
            )
            value_text = cell(mapping.value_date)
            value_date = (
                formatted_date(value_text, mapping.date_format, "value date")
                if value_text
                else None
            )
        except (AmountError, ValueError) as error:
            self.out.quarantined.append(QuarantinedLine(line_no, str(error), clip_raw(raw)))
            return
        if len(cells) < len(columns) and any(c.strip() for c in cells):
            self.out.quarantined.append(
                QuarantinedLine(
                    line_no,
                    f"{len(cells)} cells where the header has {len(columns)}: a cut-off row?",
                    clip_raw(raw),
                )
            )
            return
        if not account:
            self.out.quarantined.append(QuarantinedLine(line_no, "no account", clip_raw(raw)))
            return
        if amount == 0:
            self.out.skipped.append(QuarantinedLine(line_no, "zero amount", raw))
            return
        summary = statements.get((account, currency))
        if summary is None:
            summary = statements[(account, currency)] = StatementSummary(
                account=account, currency=currency, statement_id=None
            )
        remittance = squeeze(" ".join(cell(c) for c in mapping.remittance))
        trace = cell(mapping.trace_id) or find_trace(remittance)
        line = BankLine(
            tenant=self.tenant,
            account=account,
            currency=currency,
            amount=amount,
            direction=direction,
            booking_date=booking_date,
            value_date=value_date,
            source=SourcePosition(self.file, self.sha, "csv", line_no, index, None),
            end_to_end_id=cell(mapping.end_to_end_id) or None,
            bank_ref=cell(mapping.bank_ref) or None,
            customer_ref=cell(mapping.customer_ref) or None,
            trace_id=trace or None,
            counterparty=squeeze(cell(mapping.counterparty)) or None,
            remittance=remittance,
            bank_code=cell(mapping.bank_code) or None,
        )
        self.out.lines.append(line)
        count_line(summary, line)

    def _amount(self, cell: Callable[[str | None], str], currency: str) -> tuple[int, Direction]:
        mapping = self.mapping
        if mapping.amount is None:
            credit, debit = cell(mapping.credit), cell(mapping.debit)
            credit_value = parse_amount(credit, mapping, currency) if credit else 0
            debit_value = parse_amount(debit, mapping, currency) if debit else 0
            if credit_value and debit_value:
                raise AmountError(f"both credit {shown(credit)} and debit {shown(debit)} are given")
            if credit_value < 0:
                raise AmountError(f"negative amount {shown(credit)} in the credit column")
            if not credit and not debit:
                raise AmountError("neither a credit nor a debit amount")
            if credit_value:
                return credit_value, "credit"
            return abs(debit_value), "debit"
        text = cell(mapping.amount)
        if not text:
            raise AmountError("no amount")
        value = parse_amount(text, mapping, currency)
        if mapping.sign == "indicator":
            mark = cell(mapping.indicator).upper()
            if mark in (m.upper() for m in mapping.credit_marks):
                if value < 0:
                    raise AmountError(f"negative amount {shown(text)} marked as a credit")
                return value, "credit"
            if mark in (m.upper() for m in mapping.debit_marks):
                # Some exports also sign their debits; the mark says which way it went.
                return abs(value), "debit"
            raise AmountError(f"credit/debit indicator {shown(mark)} is neither")
        negative_direction: Direction = "debit" if mapping.sign == "negative_is_debit" else "credit"
        positive_direction: Direction = "credit" if negative_direction == "debit" else "debit"
        return abs(value), negative_direction if value < 0 else positive_direction


def parse_csv(data: bytes, mapping: CsvMapping, *, tenant: str, file: str, sha: str) -> ParsedFile:
    return CsvParser(data, mapping, tenant=tenant, file=file, sha=sha).parse()
