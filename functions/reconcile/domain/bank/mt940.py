"""SWIFT MT940 customer statements, several per file, with German SEPA ``:86:`` details.

Read line by line so that every entry keeps the line it starts on and a bad ``:61:`` is
quarantined alone (its ``:86:`` with it) while the rest of the statement lands. The ``mt-940``
package was weighed and not taken: release 5.1.1 silently drops a ``:61:`` its pattern does not
match (``D1.5,70``), reads ``15,7O`` as 15.70 and a balance of ``4975X09`` as 4975, runs free
text (``MTLG:``) into EREF/KREF, and keeps no line numbers. The opening
(``:60F:``/``:60M:``) and closing (``:62F:``/``:62M:``) balances must agree with the lines.

``:61:`` marks: ``C`` and ``RD`` (reversal of a debit) are credits, ``D`` and ``RC`` debits;
German banks write ``CR``/``DR``, which is the mark followed by the funds code (the currency's
third letter), and read the same.

Structured ``:86:`` (``GVC?00…?20…?32…``, also with ``>`` as separator): ``?20`` to ``?29`` and
``?60`` to ``?63`` carry the purpose. SEPA keywords (``EREF+``, ``KREF+``, ``SVWZ+`` …) start a
segment at the start of a sub-field; a segment goes on into the next sub-field only when its
sub-field is full (27 characters), which is how banks wrap a value that did not fit. Text that
follows a short segment without a keyword (``MTLG:…``) is free text, not part of the
reference before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from functions.reconcile.domain.bank.common import (
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
from functions.reconcile.domain.bank.dates import entry_date, yymmdd
from functions.reconcile.domain.bank.model import (
    BankLine,
    Direction,
    ParsedFile,
    QuarantinedLine,
    SourcePosition,
    StatementSummary,
)

# re.ASCII: in a str pattern \d would match any Unicode digit (Arabic-Indic, fullwidth…).
_TAG = re.compile(r":(\d{2}[A-Z]?|NS):", re.ASCII)
_STATEMENT_LINE = re.compile(
    r"(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>R?[CD])(?P<funds>[A-Z])?"
    r"(?P<amount>\d[\d,]{0,14})(?P<type>[NSF][A-Z0-9]{3})(?P<rest>.*)",
    re.ASCII,
)
_BALANCE = re.compile(
    r"(?P<mark>[CD])(?P<date>\d{6})(?P<currency>[A-Z]{3})(?P<amount>\d[\d,]*)", re.ASCII
)
_STRUCTURED = re.compile(r"(\d{3})([?>])\d{2}", re.ASCII)
_KEYWORD = re.compile(
    r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC|COAM|OAMT|PURP|SQTP|ORCR|ORMR|DDAT)\+"
)
_PURPOSE_KEYS = [f"{n}" for n in range(20, 30)] + ["60", "61", "62", "63"]
_SUBFIELD_WIDTH = 27
_NO_REFERENCE = {"", "NONREF", "NOTPROVIDED", "KREF+"}


@dataclass(slots=True)
class _Field:
    tag: str
    text: str
    line_no: int


@dataclass(slots=True)
class _Message:
    fields: list[_Field] = field(default_factory=list)
    last_line: int = 0


@dataclass(slots=True)
class Details:
    """What a ``:86:`` says, structured or not."""

    gvc: str | None = None
    remittance: str = ""
    end_to_end_id: str | None = None
    customer_ref: str | None = None
    counterparty: str | None = None


def _decode(data: bytes) -> str:
    # SWIFT's character set is ASCII; German banks send Latin-1 umlauts in :86:.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _messages(text: str) -> list[_Message]:
    """Fields with their line numbers, grouped into statements by ``:20:``."""
    messages: list[_Message] = []
    current: _Message | None = None
    last: _Field | None = None
    for line_no, physical in enumerate(text.split("\n"), 1):
        line = physical.rstrip("\r")
        if "{4:" in line:  # SWIFT envelope: blocks 1-3 precede the text block on its line
            line = line.split("{4:", 1)[1]
        match = _TAG.match(line)
        if match:
            tag = match.group(1)
            if tag == "20" or current is None:
                current = _Message()
                messages.append(current)
            last = _Field(tag, line[match.end() :], line_no)
            current.fields.append(last)
            current.last_line = line_no
        elif line.strip() in ("-", "-}", "}") or line.startswith("{"):
            last = None
        elif last is not None and current is not None:
            last.text += "\n" + line
            current.last_line = line_no
    return [m for m in messages if any(f.tag == "20" for f in m.fields) or len(m.fields) > 1]


def _amount(text: str, currency: str) -> int:
    if text.count(",") != 1:
        raise AmountError(f"{shown(text)} is not an MT940 amount (one decimal comma)")
    return minor_units(text.replace(",", "."), currency)


def details(text: str) -> Details:
    """Interpret a ``:86:`` field (its lines joined by ``\\n``)."""
    match = _STRUCTURED.match(text)
    if match is None:
        return Details(remittance=squeeze(text))
    flat = text.replace("\r", "").replace("\n", "")
    separator = match.group(2)
    parts = re.split(re.escape(separator) + r"(\d{2})", flat[3:])
    subfields: list[tuple[str, str]] = list(zip(parts[1::2], parts[2::2], strict=True))
    segments: list[list[str]] = []  # [keyword or "", text]
    names: list[str] = []
    previous_full = False
    name_full = False
    for key, content in subfields:
        if key in _PURPOSE_KEYS:
            opened = _KEYWORD.match(content)
            if opened:
                segments.append([opened.group(1), content[opened.end() :]])
            elif segments and previous_full:
                segments[-1][1] += content
            else:
                segments.append(["", content])
            previous_full = len(content) >= _SUBFIELD_WIDTH
        elif key in ("32", "33"):
            if names and name_full:
                names[-1] += content
            else:
                names.append(content)
            name_full = len(content) >= _SUBFIELD_WIDTH
    found: dict[str, str] = {}
    remittance: list[str] = []
    for keyword, value in segments:
        if keyword in ("", "SVWZ"):
            remittance.append(value)
        else:
            found.setdefault(keyword, squeeze(value))
    eref = found.get("EREF")
    kref = found.get("KREF")
    return Details(
        gvc=match.group(1),
        remittance=squeeze(" ".join(remittance)),
        end_to_end_id=None if eref is None or eref in _NO_REFERENCE else eref,
        customer_ref=None if kref is None or kref in _NO_REFERENCE else kref,
        counterparty=squeeze(" ".join(names)) or None,
    )


class Mt940Parser:
    def __init__(self, data: bytes, *, tenant: str, file: str, sha: str) -> None:
        self.text = _decode(data)
        self.tenant = tenant
        self.file = file
        self.sha = sha
        self.out = ParsedFile(format="mt940", file_sha256=sha)

    def parse(self) -> ParsedFile:
        messages = _messages(self.text)
        if not messages:
            raise BankFileError("no MT940 statement (no :20: and :61:/:60F: fields) in the file")
        for number, message in enumerate(messages, 1):
            self._statement(message, number)
        return self.out

    def _quarantine(self, fields: list[_Field], reason: str) -> None:
        raw = "\n".join(f":{f.tag}:{f.text}" for f in fields)
        self.out.quarantined.append(QuarantinedLine(fields[0].line_no, reason, clip_raw(raw)))

    def _balance(self, found: _Field, summary: StatementSummary, key: str, what: str) -> str | None:
        match = _BALANCE.fullmatch(found.text.strip())
        try:
            if match is None:
                raise AmountError(f"{shown(found.text.strip())} is not a balance")
            currency = check_currency(match.group("currency"))
            value = _amount(match.group("amount"), currency)
            yymmdd(match.group("date"), month_end_february=True)
        except (AmountError, ValueError) as error:
            summary.problems.append(f"{what} (:{found.tag}:, line {found.line_no}): {error}")
            self._quarantine([found], f"{what} unreadable: {error}")
            return None
        summary.declared[key] = -value if match.group("mark") == "D" else value
        return currency

    def _statement(self, message: _Message, number: int) -> None:
        reference = sequence = None
        account = ""
        opening = closing = None
        entries: list[tuple[_Field, list[_Field]]] = []
        after_entry = False
        for found in message.fields:
            tag = found.tag
            if tag == "20":
                reference = found.text.strip()
            elif tag in {"25", "25P"}:
                account = found.text.strip().split("\n")[0]
            elif tag in ("28", "28C"):
                sequence = found.text.strip()
            elif tag in ("60F", "60M"):
                opening = opening or found
            elif tag in ("62F", "62M"):
                closing = found
                after_entry = False
            elif tag == "61":
                entries.append((found, []))
                after_entry = True
                continue
            elif tag == "86" and after_entry and entries:
                entries[-1][1].append(found)
                continue
            if tag != "86":
                after_entry = False
        statement_id = (
            f"{reference}/{sequence}" if reference and sequence else reference
        ) or f"{self.sha[:16]}#{number}"
        summary = StatementSummary(account=account, currency="", statement_id=statement_id)
        currency = None
        if opening is not None:
            currency = self._balance(opening, summary, "opening_balance", "opening balance")
        if closing is not None:
            closing_currency = self._balance(closing, summary, "closing_balance", "closing balance")
            if currency and closing_currency and closing_currency != currency:
                summary.problems.append(
                    f"closing balance is in {closing_currency}, the opening one in {currency}"
                )
            currency = currency or closing_currency
        else:
            summary.problems.append(
                "no closing balance (:62F:/:62M:): the statement breaks off, the file may be "
                "truncated"
            )
            last = message.fields[-1]
            self.out.quarantined.append(
                QuarantinedLine(
                    message.last_line,
                    "statement ends without a closing balance (:62F:); truncated file?",
                    clip_raw(f":{last.tag}:{last.text}".split("\n")[-1]),
                )
            )
        if not account:
            summary.problems.append("no account (:25:)")
        summary.currency = currency or ""
        for index, (entry, extra) in enumerate(entries):
            if currency is None:
                self._quarantine(
                    [entry, *extra], "the statement has no readable balance, so no currency"
                )
                continue
            self._entry(summary, entry, extra, index, currency)
        settle(summary)
        self.out.statements.append(summary)

    def _entry(
        self,
        summary: StatementSummary,
        entry: _Field,
        extra: list[_Field],
        index: int,
        currency: str,
    ) -> None:
        first, _, more = entry.text.partition("\n")
        match = _STATEMENT_LINE.fullmatch(first.rstrip())
        if match is None:
            self._quarantine(
                [entry, *extra],
                "statement line (:61:) unreadable: expected date, C/D mark, amount with a "
                "decimal comma and a transaction type (e.g. NTRF)",
            )
            return
        try:
            amount = _amount(match.group("amount"), currency)
            value_date = yymmdd(match.group("value"), month_end_february=True)
            booking_date = (
                entry_date(value_date, match.group("entry")) if match.group("entry") else value_date
            )
        except (AmountError, ValueError) as error:
            self._quarantine([entry, *extra], f"statement line (:61:) unreadable: {error}")
            return
        if amount == 0:
            self.out.skipped.append(QuarantinedLine(entry.line_no, "zero amount", entry.text))
            return
        mark = match.group("mark")
        direction: Direction = "credit" if mark in ("C", "RD") else "debit"
        rest = match.group("rest")
        if "//" in rest:
            customer, _, after = rest.partition("//")
            bank_ref: str | None = after[:16].strip() or None
            supplementary = after[16:].strip()
        else:
            customer, supplementary = rest[:16], rest[16:].strip()
        customer = customer.strip()
        supplementary = squeeze(f"{supplementary} {more}")
        info = details("\n".join(f.text for f in extra)) if extra else Details()
        remittance = squeeze(f"{supplementary} {info.remittance}")
        code = match.group("type")
        line = BankLine(
            tenant=self.tenant,
            account=summary.account,
            currency=currency,
            amount=amount,
            direction=direction,
            booking_date=booking_date,
            value_date=value_date,
            source=SourcePosition(
                self.file, self.sha, "mt940", entry.line_no, index, summary.statement_id
            ),
            end_to_end_id=info.end_to_end_id,
            bank_ref=bank_ref if "//" in rest else None,
            customer_ref=info.customer_ref
            or (None if customer.upper() in _NO_REFERENCE else customer),
            trace_id=find_trace(remittance),
            counterparty=info.counterparty,
            remittance=remittance,
            bank_code=f"{code}/{info.gvc}" if info.gvc else code,
        )
        self.out.lines.append(line)
        count_line(summary, line)


def parse_mt940(data: bytes, *, tenant: str, file: str, sha: str) -> ParsedFile:
    return Mt940Parser(data, tenant=tenant, file=file, sha=sha).parse()
