"""BAI2 cash management balance reports (US banks): file, groups, accounts, detail records.

Records are read one by one with their line numbers, ``88`` continuations joined to the record
they continue, so a bad detail record is quarantined alone. The ``bai2`` package's table of
type codes says which codes are credits and which debits (the parser itself is ours: the
package's stops at the first bad record and keeps no line numbers).

Checks, all into ``declared`` and ``control_ok``: each account trailer (``49``) against the
account's amounts and its record count; each group trailer (``98``) against its accounts'
trailers, count and records; the file trailer (``99``) against its groups. The ``100``/``400``
summaries (total credits, total debits with item counts) against the detail records. Ledger
balances (``010``/``015``) are reported but not required to add up: US banks put float and
memo items in them that no detail record carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bai2.constants import (  # type: ignore[import-untyped]
    TypeCodes,
    TypeCodeTransaction,
)

from functions.reconcile.domain.bank.common import (
    BankFileError,
    clip_raw,
    count_line,
    find_trace,
    settle,
    shown,
    squeeze,
    whole_number,
)
from functions.reconcile.domain.bank.dates import yymmdd
from functions.reconcile.domain.bank.model import (
    BankLine,
    Direction,
    ParsedFile,
    QuarantinedLine,
    SourcePosition,
    StatementSummary,
)


@dataclass(slots=True)
class _Record:
    code: str
    line_no: int
    lines: list[str]  # physical lines, the record's first and its 88 continuations

    @property
    def raw(self) -> str:
        return "\n".join(self.lines)

    def content(self) -> str:
        """Fields of a non-text record: continuations after a ``/`` start a new field."""
        text = ""
        for n, line in enumerate(self.lines):
            body = line[3:]
            ended = body.endswith("/")
            body = body[:-1] if ended else body
            text += body + ("," if ended and n < len(self.lines) - 1 else "")
        return text


@dataclass(slots=True)
class _Account:
    record: _Record
    statement: StatementSummary
    details: list[_Record] = field(default_factory=list)
    trailer: _Record | None = None
    records: int = 1
    computed_total: int = 0


@dataclass(slots=True)
class _Group:
    record: _Record
    as_of: date | None
    currency: str
    accounts: list[_Account] = field(default_factory=list)
    trailer: _Record | None = None
    records: int = 1


def _signed(text: str, what: str = "amount") -> int:
    """An optionally signed BAI2 number (``+00000000000834000``): ASCII digits, at most
    ``MAX_AMOUNT_DIGITS`` of them leading zeros aside; blank is 0."""
    body = text.strip()
    if not body:
        return 0
    sign = -1 if body[0] == "-" else 1
    digits = body[1:] if body[0] in "+-" else body
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"{what} {shown(text)} is not a BAI2 number")
    return sign * whole_number(digits, what)


def is_type_code(text: str) -> bool:
    """BAI2 type codes are three ASCII digits."""
    return len(text) == 3 and text.isascii() and text.isdigit()


def _availability(funds: str, fields: list[str], at: int) -> tuple[date | None, int]:
    """Skip the availability fields a funds type brings; a value date (``V``) is kept."""
    if funds == "V":
        value = fields[at] if at < len(fields) else ""
        return (yymmdd(value) if value else None), at + 2
    if funds == "S":
        return None, at + 3
    if funds == "D":
        count = whole_number(fields[at] or "0", "availability count") if at < len(fields) else 0
        return None, at + 1 + 2 * count
    return None, at


def direction_of(type_code: str) -> Direction | None:
    """Credit or debit for a detail type code: the ``bai2`` package's table, then the ranges
    the BAI2 specification reserves (100-399 credits, 400-699 debits)."""
    known = TypeCodes.get(type_code)
    if known is not None and known.transaction in (
        TypeCodeTransaction.credit,
        TypeCodeTransaction.debit,
    ):
        return "credit" if known.transaction is TypeCodeTransaction.credit else "debit"
    if known is None and is_type_code(type_code):
        number = int(type_code)
        if 100 <= number <= 399:
            return "credit"
        if 400 <= number <= 699:
            return "debit"
    return None


def _is_information(type_code: str) -> bool:
    known = TypeCodes.get(type_code)
    return known is not None and known.transaction is TypeCodeTransaction.misc


class Bai2Parser:
    def __init__(self, data: bytes, *, tenant: str, file: str, sha: str) -> None:
        try:
            self.text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            self.text = data.decode("latin-1")
        self.tenant = tenant
        self.file = file
        self.sha = sha
        self.out = ParsedFile(format="bai2", file_sha256=sha)
        self.statement_ids: dict[str, int] = {}
        self.prefix = ""

    def _records(self) -> list[_Record]:
        records: list[_Record] = []
        for line_no, physical in enumerate(self.text.split("\n"), 1):
            line = physical.rstrip("\r").rstrip()
            if not line:
                continue
            code = line[:2]
            if code == "88" and records and line[2:3] == ",":
                records[-1].lines.append(line)
                continue
            records.append(_Record(code, line_no, [line]))
        return records

    def _quarantine(self, record: _Record, reason: str) -> None:
        self.out.quarantined.append(QuarantinedLine(record.line_no, reason, clip_raw(record.raw)))

    def parse(self) -> ParsedFile:
        records = self._records()
        if not records or records[0].code != "01" or records[0].lines[0][2:3] != ",":
            raise BankFileError("not a BAI2 file: it does not start with a 01 file header")
        header = records[0].content().split(",")
        if len(header) > 7 and header[7].strip() not in ("", "2"):
            raise BankFileError(f"BAI version {shown(header[7])}; only version 2 is read")
        sender = header[0] if header else ""
        created = header[2] if len(header) > 2 else ""
        file_id = header[4] if len(header) > 4 else ""
        self.prefix = f"{sender}:{created}:{file_id}"
        groups: list[_Group] = []
        group: _Group | None = None
        account: _Account | None = None
        file_trailer: _Record | None = None
        physical = len(records[0].lines)
        for record in records[1:]:
            size = len(record.lines)
            physical += size
            code = record.code
            if file_trailer is not None:
                self._quarantine(record, "record after the file trailer (99)")
                continue
            if code == "02":
                if group is not None and group.trailer is None:
                    self._quarantine(record, "group header (02) before the last group's trailer")
                group = self._group(record)
                group.records = size
                groups.append(group)
                account = None
                continue
            if code == "99":
                file_trailer = record
                continue
            if group is not None:
                group.records += size
            if code == "03":
                if group is None:
                    self._quarantine(record, "account record (03) outside a group")
                    continue
                if account is not None and account.trailer is None:
                    account.statement.problems.append(
                        "no account trailer (49) before the next account record (03)"
                    )
                account = self._account(record, group)
                account.records = size
                group.accounts.append(account)
                continue
            if account is not None:
                account.records += size
            if code == "16":
                if account is None:
                    self._quarantine(record, "detail record (16) outside an account")
                    continue
                account.details.append(record)
                self._detail(record, account, group)
            elif code == "49":
                if account is None:
                    self._quarantine(record, "account trailer (49) without an account")
                    continue
                account.trailer = record
                account = None
            elif code == "98":
                if group is None or group.trailer is not None:
                    self._quarantine(record, "group trailer (98) without a group")
                    continue
                group.trailer = record
            else:
                self._quarantine(record, f"unknown or misplaced record type {code!r}")
        if not groups:
            raise BankFileError("no group (02) in the BAI2 file")
        self._check(groups, file_trailer, physical)
        return self.out

    def _group(self, record: _Record) -> _Group:
        fields = record.content().split(",")
        as_of: date | None = None
        try:
            as_of = yymmdd(fields[3]) if len(fields) > 3 else None
        except ValueError as error:
            self._quarantine(record, f"group header (02) unreadable: {error}")
        currency = fields[5].strip() if len(fields) > 5 and fields[5].strip() else "USD"
        return _Group(record=record, as_of=as_of, currency=currency)

    def _account(self, record: _Record, group: _Group) -> _Account:
        fields = record.content().split(",")
        number = fields[0].strip()
        currency = (fields[1].strip() if len(fields) > 1 else "") or group.currency
        key = f"{self.prefix}:{group.as_of.isoformat() if group.as_of else ''}:{number}"
        seen = self.statement_ids.get(key, 0)
        self.statement_ids[key] = seen + 1
        summary = StatementSummary(
            account=number,
            currency=currency,
            statement_id=key if not seen else f"{key}#{seen + 1}",
        )
        account = _Account(record=record, statement=summary)
        at = 2
        try:
            while at < len(fields):
                code = fields[at].strip()
                if not code:  # some banks write an extra empty field before a "/"
                    at += 1
                    continue
                amount = _signed(fields[at + 1]) if at + 1 < len(fields) else 0
                count = fields[at + 2].strip() if at + 2 < len(fields) else ""
                funds = fields[at + 3].strip() if at + 3 < len(fields) else ""
                _, at = _availability(funds, fields, at + 4)
                account.computed_total += amount
                if code == "010":
                    summary.declared["opening_ledger"] = amount
                elif code == "015":
                    summary.declared["closing_ledger"] = amount
                elif code in ("100", "400"):
                    side = "credit" if code == "100" else "debit"
                    summary.declared[f"{side}_total"] = amount
                    if count:
                        summary.declared[f"{side}_count"] = whole_number(
                            count, f"item count of {code}"
                        )
        except (ValueError, IndexError) as error:
            summary.problems.append(f"account record (03) unreadable: {error}")
            self._quarantine(record, f"account record (03) unreadable: {error}")
        if group.as_of is None:
            summary.problems.append("the group header (02) has no readable as-of date")
        return account

    def _detail(self, record: _Record, account: _Account, group: _Group | None) -> None:
        statement = account.statement
        index = len(account.details) - 1
        first = record.lines[0][3:]
        ended = first.endswith("/")
        if ended:
            first = first[:-1]
        fields = first.split(",")
        try:
            type_code = fields[0].strip()
            if not is_type_code(type_code):
                raise ValueError(f"type code {shown(type_code)} is not 3 digits")
            if len(fields) < 2:
                raise ValueError("no amount")
            amount = whole_number(fields[1], "amount")
            funds = fields[2].strip() if len(fields) > 2 else ""
            value_date, at = _availability(funds, fields, 3)
        except (ValueError, IndexError) as error:
            self._quarantine(record, f"detail record (16) unreadable: {error}")
            return
        account.computed_total += amount
        bank_ref = fields[at].strip() if at < len(fields) else ""
        customer_ref = fields[at + 1].strip() if at + 1 < len(fields) else ""
        text = ",".join(fields[at + 2 :])
        for more in record.lines[1:]:
            # Each continuation may close with "/" like a record; it is not part of the text.
            text += " " + (more[3:-1] if more.endswith("/") else more[3:])
        text = squeeze(text)
        if group is None or group.as_of is None:
            self._quarantine(record, "detail record in a group without an as-of date")
            return
        direction = direction_of(type_code)
        if direction is None:
            if _is_information(type_code):
                self.out.skipped.append(
                    QuarantinedLine(record.line_no, f"type code {type_code}: information only", "")
                )
            else:
                self._quarantine(
                    record,
                    f"type code {type_code!r} says neither credit nor debit (bank-specific "
                    "codes need a mapping)",
                )
            return
        if amount == 0:
            self.out.skipped.append(QuarantinedLine(record.line_no, "zero amount", record.raw))
            return
        line = BankLine(
            tenant=self.tenant,
            account=statement.account,
            currency=statement.currency,
            amount=amount,
            direction=direction,
            booking_date=group.as_of,
            value_date=value_date,
            source=SourcePosition(
                self.file, self.sha, "bai2", record.line_no, index, statement.statement_id
            ),
            bank_ref=bank_ref or None,
            customer_ref=customer_ref or None,
            trace_id=find_trace(text),
            remittance=text,
            bank_code=type_code,
        )
        self.out.lines.append(line)
        count_line(statement, line)

    def _trailer(self, record: _Record, what: str) -> list[int] | None:
        try:
            fields = record.content().split(",")[:3]
            return [
                _signed(text, "control total" if n == 0 else "count")
                for n, text in enumerate(fields)
            ]
        except ValueError as error:
            self._quarantine(record, f"{what} unreadable: {error}")
            return None

    def _check(self, groups: list[_Group], file_trailer: _Record | None, physical: int) -> None:
        file_problems: list[str] = []
        group_totals = 0
        if file_trailer is None:
            file_problems.append("no file trailer (99): the file may be truncated")
            last = groups[-1]
            self.out.quarantined.append(
                QuarantinedLine(
                    (last.trailer or last.record).line_no,
                    "file ends without a file trailer (99); truncated file?",
                    "",
                )
            )
        for group in groups:
            group_problems: list[str] = []
            account_totals = 0
            for account in group.accounts:
                summary = account.statement
                if account.trailer is None:
                    summary.problems.append("no account trailer (49): the account breaks off")
                    if file_trailer is not None:
                        self._quarantine(account.record, "account without a trailer (49)")
                    continue
                values = self._trailer(account.trailer, "account trailer (49)")
                if values is None:
                    summary.problems.append("account trailer (49) unreadable")
                    continue
                summary.declared["control_total"] = values[0]
                account_totals += values[0]
                if len(values) > 1:
                    summary.declared["record_count"] = values[1]
            if group.trailer is None:
                group_problems.append("no group trailer (98): the group breaks off")
            else:
                values = self._trailer(group.trailer, "group trailer (98)")
                if values is None:
                    group_problems.append("group trailer (98) unreadable")
                else:
                    group_totals += values[0]
                    expected = (account_totals, len(group.accounts), group.records)
                    for what, declared, actual in zip(
                        ("control total", "number of accounts", "number of records"),
                        values,
                        expected,
                        strict=False,
                    ):
                        if declared != actual:
                            group_problems.append(
                                f"group trailer (98) {what}: the file declares {declared}, "
                                f"its accounts give {actual}"
                            )
            for account in group.accounts:
                summary = account.statement
                summary.problems.extend(group_problems)
        if file_trailer is not None:
            values = self._trailer(file_trailer, "file trailer (99)")
            if values is None:
                file_problems.append("file trailer (99) unreadable")
            else:
                expected = (group_totals, len(groups), physical)
                for what, declared, actual in zip(
                    ("control total", "number of groups", "number of records"),
                    values,
                    expected,
                    strict=False,
                ):
                    if declared != actual:
                        file_problems.append(
                            f"file trailer (99) {what}: the file declares {declared}, "
                            f"its groups give {actual}"
                        )
        for group in groups:
            for account in group.accounts:
                summary = account.statement
                summary.problems.extend(file_problems)
                settle(
                    summary,
                    {"control_total": account.computed_total, "record_count": account.records},
                )
                summary.opening_balance = summary.declared.get("opening_ledger")
                summary.closing_balance = summary.declared.get("closing_ledger")
                self.out.statements.append(summary)


def parse_bai2(data: bytes, *, tenant: str, file: str, sha: str) -> ParsedFile:
    return Bai2Parser(data, tenant=tenant, file=file, sha=sha).parse()
