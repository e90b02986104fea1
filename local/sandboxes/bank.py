"""The bank: statement files as banks send them, and a day's statement for a tenant's account.

Writers turn statements (an account, a currency, an opening balance and entries) into real
files: ``write_camt053`` (camt.053.001.08 by default, .02 selectable), ``write_mt940`` (German
SEPA ``:86:`` details), ``write_bai2`` (with ``88`` continuations) and ``write_csv`` (any CSV
mapping, the ``generic`` preset by default). Balances, transaction summaries and control totals
are computed, so every file checks out unless an anomaly is planted on purpose.

``BankSandbox`` plays the tenant's bank: given the payouts the gateway sandbox paid out, it
books a day's statement with the payouts credited and ordinary noise around them (customer
transfers, supplier debits, fees), and plants the anomalies reconciliation must find: a short
or excessive credit, a missing settlement, an unknown credit, a duplicate credit, a payout
shown only as "STRIPE". Everything is deterministic for a seed. See docs/bank-files.md.

camt.053 is written as a stream of strings (no DOM): a million entries take seconds.
"""

from __future__ import annotations

import csv
import io
import random
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from typing import Any, Literal, TextIO

from functions.reconcile.domain.bank.bai2 import direction_of
from functions.reconcile.domain.bank.common import decimal_text, find_trace
from functions.reconcile.domain.bank.model import BankLine, Direction
from shared.bank_csv import CSV_PRESETS, CsvMapping

# -- statements ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One booking on a statement, as the writers take it (amount in minor units, > 0)."""

    amount: int
    direction: Direction
    booking_date: date
    value_date: date | None = None
    end_to_end_id: str | None = None
    bank_ref: str | None = None
    customer_ref: str | None = None
    trace_id: str | None = None
    counterparty: str | None = None
    remittance: str = ""
    bank_code: str | None = None
    # camt only: consecutive entries with the same batch id are booked as one entry with a
    # transaction (TxDtls) each, the way banks book a collective transfer.
    batch: str | None = None

    @classmethod
    def from_line(cls, line: BankLine) -> Entry:
        return cls(
            amount=line.amount,
            direction=line.direction,
            booking_date=line.booking_date,
            value_date=line.value_date,
            end_to_end_id=line.end_to_end_id,
            bank_ref=line.bank_ref,
            customer_ref=line.customer_ref,
            trace_id=line.trace_id,
            counterparty=line.counterparty,
            remittance=line.remittance,
            bank_code=line.bank_code,
        )


@dataclass(frozen=True, slots=True)
class Statement:
    account: str
    currency: str
    statement_id: str
    opening_balance: int  # signed minor units
    entries: Sequence[Entry]
    created: datetime | None = None
    sequence: int = 1

    @property
    def day(self) -> date:
        if self.created is not None:
            return self.created.date()
        return max((e.booking_date for e in self.entries), default=date(2000, 1, 1))

    def totals(self) -> tuple[int, int, int, int]:
        """Credit count, credit sum, debit count, debit sum."""
        credits = [e.amount for e in self.entries if e.direction == "credit"]
        debits = [e.amount for e in self.entries if e.direction == "debit"]
        return len(credits), sum(credits), len(debits), sum(debits)

    @property
    def closing_balance(self) -> int:
        _, credit, _, debit = self.totals()
        return self.opening_balance + credit - debit


def statements_from_lines(
    lines: Iterable[BankLine], *, opening_balance: int = 0
) -> list[Statement]:
    """Normalised lines back into statements (one per account, currency and statement id)."""
    grouped: dict[tuple[str, str, str], list[Entry]] = {}
    for line in lines:
        key = (line.account, line.currency, line.source.statement_id or "STATEMENT")
        grouped.setdefault(key, []).append(Entry.from_line(line))
    return [
        Statement(account, currency, statement_id, opening_balance, entries)
        for (account, currency, statement_id), entries in grouped.items()
    ]


def _check(statement: Statement) -> None:
    for entry in statement.entries:
        if entry.amount <= 0:
            raise ValueError(f"entry amounts are positive minor units, not {entry.amount}")


# -- camt.053 ------------------------------------------------------------------------------------

CAMT_DEFAULT_CODES = {"credit": "PMNT/RCDT/ESCT", "debit": "PMNT/ICDT/ESCT"}
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")


def _xml(text: str) -> str:
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _camt_code(code: str) -> str:
    parts = code.split("/")
    if len(parts) == 3 and all(parts):
        return (
            f"<BkTxCd><Domn><Cd>{_xml(parts[0])}</Cd><Fmly><Cd>{_xml(parts[1])}</Cd>"
            f"<SubFmlyCd>{_xml(parts[2])}</SubFmlyCd></Fmly></Domn></BkTxCd>"
        )
    return f"<BkTxCd><Prtry><Cd>{_xml(code)}</Cd></Prtry></BkTxCd>"


def _ustrd(text: str) -> str:
    """Remittance in ``Ustrd`` pieces of at most 140 characters, cut at spaces."""
    out: list[str] = []
    while len(text) > 140:
        cut = text.rfind(" ", 0, 141)
        if cut <= 0:
            cut = 140
            out.append(text[:cut])
            text = text[cut:]
        else:
            out.append(text[:cut])
            text = text[cut + 1 :]
    out.append(text)
    return "".join(f"<Ustrd>{_xml(piece)}</Ustrd>" for piece in out if piece)


def _camt_tx(entry: Entry, currency: str, v8: bool, amounts: bool) -> str:
    refs = ""
    if amounts and entry.bank_ref:
        refs += f"<AcctSvcrRef>{_xml(entry.bank_ref)}</AcctSvcrRef>"
    if entry.customer_ref:
        refs += f"<InstrId>{_xml(entry.customer_ref)}</InstrId>"
    if entry.end_to_end_id:
        refs += f"<EndToEndId>{_xml(entry.end_to_end_id)}</EndToEndId>"
    if entry.trace_id:
        refs += f"<ClrSysRef>{_xml(entry.trace_id)}</ClrSysRef>"
    out = f"<Refs>{refs}</Refs>" if refs else ""
    if amounts:
        value = decimal_text(entry.amount, currency)
        if v8:
            indicator = "CRDT" if entry.direction == "credit" else "DBIT"
            out += f'<Amt Ccy="{currency}">{value}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>'
        else:
            out += f'<AmtDtls><TxAmt><Amt Ccy="{currency}">{value}</Amt></TxAmt></AmtDtls>'
        out += _camt_code(entry.bank_code or CAMT_DEFAULT_CODES[entry.direction])
    if entry.counterparty:
        name = _xml(entry.counterparty)
        role = "Dbtr" if entry.direction == "credit" else "Cdtr"
        party = f"<Pty><Nm>{name}</Nm></Pty>" if v8 else f"<Nm>{name}</Nm>"
        out += f"<RltdPties><{role}>{party}</{role}></RltdPties>"
    if entry.remittance:
        out += f"<RmtInf>{_ustrd(entry.remittance)}</RmtInf>"
    return f"<TxDtls>{out}</TxDtls>"


def _camt_entry(group: Sequence[Entry], currency: str, v8: bool, status: str) -> str:
    first = group[0]
    batch = len(group) > 1 or first.batch is not None
    amount = sum(e.amount for e in group)
    booked = first.booking_date.isoformat()
    valued = f"<ValDt><Dt>{first.value_date.isoformat()}</Dt></ValDt>" if first.value_date else ""
    indicator = "CRDT" if first.direction == "credit" else "DBIT"
    ref = first.batch if batch else first.bank_ref
    code = first.bank_code if not batch else None
    details = (
        f"<Btch><NbOfTxs>{len(group)}</NbOfTxs></Btch>"
        + "".join(_camt_tx(e, currency, v8, True) for e in group)
        if batch
        else _camt_tx(first, currency, v8, False)
    )
    return (
        f'    <Ntry>\n      <Amt Ccy="{currency}">{decimal_text(amount, currency)}</Amt>'
        f"<CdtDbtInd>{indicator}</CdtDbtInd>{status}\n"
        f"      <BookgDt><Dt>{booked}</Dt></BookgDt>{valued}"
        + (f"<AcctSvcrRef>{_xml(ref)}</AcctSvcrRef>" if ref else "")
        + "\n      "
        + _camt_code(code or CAMT_DEFAULT_CODES[first.direction])
        + f"\n      <NtryDtls>{details}</NtryDtls>\n    </Ntry>\n"
    )


def _camt_groups(entries: Sequence[Entry]) -> Iterator[Sequence[Entry]]:
    """Entries, consecutive ones of one batch together."""
    at = 0
    count = len(entries)
    while at < count:
        entry = entries[at]
        if entry.batch is None:
            yield (entry,)
            at += 1
            continue
        end = at + 1
        while end < count and entries[end].batch == entry.batch:
            end += 1
        group = entries[at:end]
        for other in group:
            if (other.direction, other.booking_date, other.value_date) != (
                entry.direction,
                entry.booking_date,
                entry.value_date,
            ):
                raise ValueError(f"batch {entry.batch!r} mixes directions or dates")
        yield group
        at = end


def _balance(kind: str, amount: int, currency: str, day: date) -> str:
    indicator = "CRDT" if amount >= 0 else "DBIT"
    return (
        f"    <Bal><Tp><CdOrPrtry><Cd>{kind}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="{currency}">{decimal_text(amount, currency)}</Amt>'
        f"<CdtDbtInd>{indicator}</CdtDbtInd><Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>\n"
    )


def iter_camt053(
    statements: Sequence[Statement], *, version: int = 8, message_id: str | None = None
) -> Iterator[str]:
    """camt.053 as a stream of strings, statement after statement."""
    if version not in (2, 8):
        raise ValueError("camt.053 versions written: 2 and 8")
    v8 = version == 8
    status = "<Sts><Cd>BOOK</Cd></Sts>" if v8 else "<Sts>BOOK</Sts>"
    namespace = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version:02d}"
    created = max(
        (s.created or datetime.combine(s.day, time(18), UTC) for s in statements),
        default=datetime(2000, 1, 1, tzinfo=UTC),
    )
    message = message_id or f"MSG{created:%Y%m%d%H%M%S}"
    yield (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{namespace}">\n'
        f"<BkToCstmrStmt>\n  <GrpHdr><MsgId>{_xml(message)}</MsgId>"
        f"<CreDtTm>{created.isoformat(timespec='seconds')}</CreDtTm></GrpHdr>\n"
    )
    for statement in statements:
        _check(statement)
        currency = statement.currency
        day = statement.day
        stamp = (statement.created or datetime.combine(day, time(18), UTC)).isoformat(
            timespec="seconds"
        )
        groups = list(_camt_groups(statement.entries))
        credit_entries = debit_entries = credit_sum = debit_sum = 0
        for group in groups:
            amount = sum(e.amount for e in group)
            if group[0].direction == "credit":
                credit_entries += 1
                credit_sum += amount
            else:
                debit_entries += 1
                debit_sum += amount
        opening = statement.opening_balance
        closing = opening + credit_sum - debit_sum
        net = credit_sum - debit_sum
        net_indicator = "CRDT" if net >= 0 else "DBIT"
        net_text = decimal_text(net, currency)
        total = f"<NbOfNtries>{credit_entries + debit_entries}</NbOfNtries>" + (
            f"<Sum>{decimal_text(credit_sum + debit_sum, currency)}</Sum>"
        )
        total += (
            f"<TtlNetNtry><Amt>{net_text}</Amt><CdtDbtInd>{net_indicator}</CdtDbtInd></TtlNetNtry>"
            if v8
            else f"<TtlNetNtryAmt>{net_text}</TtlNetNtryAmt><CdtDbtInd>{net_indicator}</CdtDbtInd>"
        )
        account = _xml(statement.account)
        account_id = (
            f"<IBAN>{account}</IBAN>"
            if _IBAN.fullmatch(statement.account)
            else f"<Othr><Id>{account}</Id></Othr>"
        )
        yield (
            f"  <Stmt>\n    <Id>{_xml(statement.statement_id)}</Id>"
            f"<ElctrncSeqNb>{statement.sequence}</ElctrncSeqNb><CreDtTm>{stamp}</CreDtTm>\n"
            f"    <Acct><Id>{account_id}</Id><Ccy>{currency}</Ccy></Acct>\n"
            + _balance("OPBD", opening, currency, day)
            + _balance("CLBD", closing, currency, day)
            + f"    <TxsSummry><TtlNtries>{total}</TtlNtries>"
            f"<TtlCdtNtries><NbOfNtries>{credit_entries}</NbOfNtries>"
            f"<Sum>{decimal_text(credit_sum, currency)}</Sum></TtlCdtNtries>"
            f"<TtlDbtNtries><NbOfNtries>{debit_entries}</NbOfNtries>"
            f"<Sum>{decimal_text(debit_sum, currency)}</Sum></TtlDbtNtries></TxsSummry>\n"
        )
        chunk: list[str] = []
        for group in groups:
            chunk.append(_camt_entry(group, currency, v8, status))
            if len(chunk) >= 2000:
                yield "".join(chunk)
                chunk.clear()
        if chunk:
            yield "".join(chunk)
        yield "  </Stmt>\n"
    yield "</BkToCstmrStmt>\n</Document>\n"


def stream_camt053(
    statements: Sequence[Statement],
    out: TextIO,
    *,
    version: int = 8,
    message_id: str | None = None,
) -> None:
    """Write camt.053 to a text file opened with ``encoding="utf-8"``."""
    for piece in iter_camt053(statements, version=version, message_id=message_id):
        out.write(piece)


def write_camt053(
    statements: Sequence[Statement], *, version: int = 8, message_id: str | None = None
) -> bytes:
    return "".join(iter_camt053(statements, version=version, message_id=message_id)).encode()


# -- MT940 ---------------------------------------------------------------------------------------

MT940_DEFAULT_CODES = {"credit": "NTRF/166", "debit": "NTRF/116"}
_SWIFT = re.compile(r"[A-Za-z0-9/\-?:().,'+ ]*")
_WIDTH = 27


_GERMAN = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "AE", "Ö": "OE", "Ü": "UE", "ß": "ss"}
)


def _swift(text: str, what: str, *, in_details: bool = False) -> str:
    """Text in the SWIFT/SEPA character set, as a bank writes it: umlauts spelt out, accents
    dropped, anything else (``_``, ``&``, and ``?`` inside ``:86:``) turned into a point."""
    if _SWIFT.fullmatch(text) and not (in_details and "?" in text):
        return text
    plain = unicodedata.normalize("NFKD", text.translate(_GERMAN))
    out = "".join(
        c
        if _SWIFT.fullmatch(c) and not (in_details and c == "?")
        else ("" if unicodedata.combining(c) else ".")
        for c in plain
    )
    if not out.strip():
        raise ValueError(f"{what} {text!r} has nothing a SWIFT file can carry")
    return out


def _mt940_amount(amount: int, currency: str) -> str:
    text = decimal_text(amount, currency, ",")
    return text if "," in text else f"{text},"  # SWIFT amounts always carry the comma


def _yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


def _wrap(text: str, first: int, width: int = 65) -> list[str]:
    """Physical lines of a field; none may start with ':' or '-' (SWIFT), so a break moves."""
    lines: list[str] = []
    limit = first
    while len(text) > limit:
        cut = limit
        while cut > 1 and text[cut] in ":-":
            cut -= 1
        lines.append(text[:cut])
        text = text[cut:]
        limit = width
    lines.append(text)
    return lines


def _chunks(text: str) -> list[str]:
    return [text[i : i + _WIDTH] for i in range(0, len(text), _WIDTH)] or [""]


def mt940_details(entry: Entry, gvc: str) -> str:
    """The structured ``:86:`` content (without line breaks) for an entry."""
    purpose: list[str] = []
    if entry.end_to_end_id:
        purpose += _chunks("EREF+" + _swift(entry.end_to_end_id, "EREF", in_details=True))
    if entry.customer_ref:
        purpose += _chunks("KREF+" + _swift(entry.customer_ref, "KREF", in_details=True))
    remittance = entry.remittance
    if entry.trace_id and find_trace(remittance) != entry.trace_id:
        remittance = f"{remittance} TRACE NO: {entry.trace_id}".strip()
    if remittance:
        purpose += _chunks("SVWZ+" + _swift(remittance, "remittance", in_details=True))
    keys = [f"{n}" for n in range(20, 30)] + ["60", "61", "62", "63"]
    if len(purpose) > len(keys):
        raise ValueError("references and remittance do not fit the 14 purpose sub-fields")
    posting = "GUTSCHRIFT" if entry.direction == "credit" else "UEBERWEISUNG"
    out = f"{gvc}?00{posting}" + "".join(
        f"?{key}{piece}" for key, piece in zip(keys, purpose, strict=False)
    )
    if entry.counterparty:
        names = _chunks(_swift(entry.counterparty, "counterparty", in_details=True))
        if len(names) > 2:
            raise ValueError(f"counterparty {entry.counterparty!r} is longer than 54")
        out += "".join(f"?{key}{piece}" for key, piece in zip(("32", "33"), names, strict=False))
    return out


def write_mt940(statements: Sequence[Statement]) -> bytes:
    out: list[str] = []
    for statement in statements:
        _check(statement)
        currency = statement.currency
        reference = _swift(statement.statement_id, "statement id")
        if len(reference) > 16:
            raise ValueError(f"MT940 :20: takes 16 characters, not {reference!r}")
        day = statement.day
        opening = statement.opening_balance
        out += [
            f":20:{reference}",
            f":25:{_swift(statement.account, 'account')}",
            f":28C:{statement.sequence:05d}/001",
            f":60F:{'C' if opening >= 0 else 'D'}{_yymmdd(day)}{currency}"
            f"{_mt940_amount(opening, currency)}",
        ]
        for entry in statement.entries:
            code = entry.bank_code or MT940_DEFAULT_CODES[entry.direction]
            kind, _, gvc = code.partition("/")
            if not re.fullmatch(r"[NSF][A-Z0-9]{3}", kind) or not re.fullmatch(r"\d{3}", gvc):
                kind, _, gvc = MT940_DEFAULT_CODES[entry.direction].partition("/")
            customer = entry.customer_ref or ""
            # SWIFT: a :61: reference has at most 16 characters, neither starts nor ends with
            # "/" nor holds "//" (that marks the bank's reference). Others go in KREF only.
            short_ref = customer
            if (
                not 0 < len(customer) <= 16
                or "//" in customer
                or "/" in (customer[0], customer[-1])
            ):
                short_ref = "NONREF"
            bank_ref = entry.bank_ref or ""
            if bank_ref.startswith("/"):
                raise ValueError(f"MT940 bank reference {bank_ref!r} may not start with '/'")
            if len(bank_ref) > 16:
                raise ValueError(f"MT940 bank reference takes 16 characters, not {bank_ref!r}")
            value = entry.value_date or entry.booking_date
            line = (
                f":61:{_yymmdd(value)}{entry.booking_date:%m%d}"
                f"{'C' if entry.direction == 'credit' else 'D'}"
                f"{_mt940_amount(entry.amount, currency)}{kind}"
                f"{_swift(short_ref, 'customer reference')}"
                + (f"//{_swift(bank_ref, 'bank reference')}" if bank_ref else "")
            )
            out.append(line)
            details = _wrap(mt940_details(entry, gvc), 65)
            out.append(":86:" + details[0])
            out += details[1:]
        closing = statement.closing_balance
        out += [
            f":62F:{'C' if closing >= 0 else 'D'}{_yymmdd(day)}{currency}"
            f"{_mt940_amount(closing, currency)}",
            "-",
        ]
    return ("\r\n".join(out) + "\r\n").encode("ascii")


# -- BAI2 ----------------------------------------------------------------------------------------

BAI2_DEFAULT_CODES = {"credit": "195", "debit": "495"}


def bai2_type_code(entry: Entry) -> str:
    """The detail type code written for an entry: its own if BAI2 knows it for that
    direction, else Incoming (195) or Outgoing (495) Money Transfer."""
    code = entry.bank_code or ""
    if re.fullmatch(r"\d{3}", code) and direction_of(code) == entry.direction:
        return code
    return BAI2_DEFAULT_CODES[entry.direction]


def _bai2_field(text: str | None, what: str) -> str:
    value = text or ""
    if "," in value or "/" in value or "\n" in value:
        raise ValueError(f"BAI2 {what} {value!r} may not hold ',' or '/'")
    return value


def _bai2_text(first: str, text: str, width: int = 80) -> list[str]:
    """A detail record and its ``88`` continuations, each closed by '/', text cut at spaces."""
    lines: list[str] = []
    current = first
    empty = True  # nothing of the text on the current physical line yet
    for word in text.split(" ") if text else []:
        if empty:
            current += word
            empty = False
        elif len(current) + 1 + len(word) + 1 <= width:
            current += " " + word
        else:
            lines.append(current + "/")
            current = "88," + word
    lines.append(current + "/")
    return lines


def write_bai2(
    statements: Sequence[Statement],
    *,
    sender: str = "SANDBOXBANK",
    receiver: str = "ECOMOPS",
    file_id: str = "1",
    created: datetime | None = None,
) -> bytes:
    """One group per statement and booking date (BAI2 reports one as-of date per group)."""
    stamp = created or datetime.combine(
        max((s.day for s in statements), default=date(2000, 1, 1)), time(6), UTC
    )
    lines = [f"01,{sender},{receiver},{stamp:%y%m%d},{stamp:%H%M},{file_id},,,2/"]
    file_total = 0
    groups = 0
    for statement in statements:
        _check(statement)
        by_day: dict[date, list[Entry]] = {}
        for entry in statement.entries:
            by_day.setdefault(entry.booking_date, []).append(entry)
        balance = statement.opening_balance
        for day in sorted(by_day) or [statement.day]:
            entries = by_day.get(day, [])
            credits = [e.amount for e in entries if e.direction == "credit"]
            debits = [e.amount for e in entries if e.direction == "debit"]
            closing = balance + sum(credits) - sum(debits)
            account = [
                f"03,{_bai2_field(statement.account, 'account')},{statement.currency},"
                f"010,{balance},,,015,{closing},,,100,{sum(credits)},{len(credits)},,"
                f"400,{sum(debits)},{len(debits)},/"
            ]
            total = balance + closing + sum(credits) + sum(debits)
            for entry in entries:
                funds = f"V,{_yymmdd(entry.value_date)}," if entry.value_date else ""
                head = (
                    f"16,{bai2_type_code(entry)},{entry.amount},{funds},"
                    f"{_bai2_field(entry.bank_ref, 'bank reference')},"
                    f"{_bai2_field(entry.customer_ref, 'customer reference')},"
                )
                text = entry.remittance
                if entry.trace_id and find_trace(text) != entry.trace_id:
                    text = f"{text} TRACE NO: {entry.trace_id}".strip()
                account += _bai2_text(head, text.replace("\n", " "))
                total += entry.amount
            account.append(f"49,{total},{len(account) + 1}/")
            lines.append(f"02,{receiver},{sender},1,{_yymmdd(day)},,{statement.currency},2/")
            lines += account
            lines.append(f"98,{total},1,{len(account) + 2}/")
            file_total += total
            groups += 1
            balance = closing
    lines.append(f"99,{file_total},{groups},{len(lines) + 1}/")
    return ("\n".join(lines) + "\n").encode("ascii")


# -- CSV -----------------------------------------------------------------------------------------


def write_csv(statements: Sequence[Statement], mapping: CsvMapping | None = None) -> bytes:
    """A CSV export laid out as ``mapping`` reads it (default: the ``generic`` preset)."""
    layout = mapping or CSV_PRESETS["generic"]
    columns: list[tuple[str, Callable[[Statement, Entry], str]]] = []

    def amount_text(statement: Statement, value: int) -> str:
        text = decimal_text(value, statement.currency, layout.decimal_separator)
        return f"-{text}" if value < 0 else text

    def signed(statement: Statement, entry: Entry) -> str:
        if layout.sign == "indicator":
            return amount_text(statement, entry.amount)
        negative = "debit" if layout.sign == "negative_is_debit" else "credit"
        return amount_text(
            statement, -entry.amount if entry.direction == negative else entry.amount
        )

    def dated(day: date | None) -> str:
        return day.strftime(layout.date_format) if day else ""

    def add(name: str | None, value: Callable[[Statement, Entry], str]) -> None:
        if name is not None:
            columns.append((name, value))

    add(layout.account_column, lambda s, e: s.account)
    add(layout.booking_date, lambda s, e: dated(e.booking_date))
    add(layout.value_date, lambda s, e: dated(e.value_date))
    add(layout.amount, signed)
    add(
        layout.credit,
        lambda s, e: amount_text(s, e.amount) if e.direction == "credit" else "",
    )
    add(layout.debit, lambda s, e: amount_text(s, e.amount) if e.direction == "debit" else "")
    add(
        layout.indicator,
        lambda s, e: (layout.credit_marks if e.direction == "credit" else layout.debit_marks)[0],
    )
    add(layout.currency_column, lambda s, e: s.currency)
    add(layout.end_to_end_id, lambda s, e: e.end_to_end_id or "")
    add(layout.bank_ref, lambda s, e: e.bank_ref or "")
    add(layout.customer_ref, lambda s, e: e.customer_ref or "")
    add(layout.trace_id, lambda s, e: e.trace_id or "")
    add(layout.counterparty, lambda s, e: e.counterparty or "")
    # The whole remittance goes in the first remittance column; the others stay empty.
    for n, name in enumerate(layout.remittance):
        add(name, (lambda s, e: e.remittance) if n == 0 else (lambda s, e: ""))
    add(layout.bank_code, lambda s, e: e.bank_code or "")
    out = io.StringIO(newline="")
    for _ in range(layout.header_row - 1):
        out.write(f"{layout.name} export\r\n")
    writer = csv.writer(
        out, delimiter=layout.delimiter, quotechar=layout.quotechar, lineterminator="\r\n"
    )
    writer.writerow([name for name, _ in columns])
    for statement in statements:
        _check(statement)
        if layout.currency is not None and layout.currency != statement.currency:
            raise ValueError(f"{layout.name} exports are in {layout.currency} only")
        for entry in statement.entries:
            writer.writerow([value(statement, entry) for _, value in columns])
    encoding = "utf-8" if layout.encoding == "utf-8-sig" else layout.encoding
    return out.getvalue().encode(encoding)


def write(statements: Sequence[Statement], format: str, **options: Any) -> bytes:
    """Any of the writers by format name: ``camt053``, ``mt940``, ``bai2`` or ``csv``."""
    writers: dict[str, Callable[..., bytes]] = {
        "camt053": write_camt053,
        "mt940": write_mt940,
        "bai2": write_bai2,
        "csv": write_csv,
    }
    if format not in writers:
        raise ValueError(f"no writer for {format!r} (one of {', '.join(writers)})")
    return writers[format](statements, **options)


# -- the tenant's bank ---------------------------------------------------------------------------

AnomalyKind = Literal["short", "excess", "missing", "unknown_credit", "duplicate", "stripe_only"]
PAYOUT_ANOMALIES: tuple[AnomalyKind, ...] = (
    "short",
    "excess",
    "missing",
    "duplicate",
    "stripe_only",
)


@dataclass(frozen=True, slots=True)
class PlantedAnomaly:
    """What was planted, for a test to hold reconciliation's findings against."""

    kind: AnomalyKind
    payout_id: str | None
    currency: str
    expected: int  # what the payout says (0 for an unknown credit)
    booked: int  # what the statement credits for it in total (0 when missing)


@dataclass(slots=True)
class BankDay:
    day: date
    statements: list[Statement]
    anomalies: list[PlantedAnomaly] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)  # payouts credited as they should be

    def write(self, format: str = "camt053", **options: Any) -> bytes:
        return write(self.statements, format, **options)


_COMPANIES = (
    "ACME GMBH",
    "NORDWIND LOGISTIK AG",
    "BLUE HARBOUR LTD",
    "MARIPOSA SL",
    "KONTOR 21 GMBH",
    "SUNRISE TRADING BV",
)
_DEBITS = (
    ("LANDLORD PROPERTIES LTD", "RENT {month}"),
    ("PARCEL EXPRESS GMBH", "INVOICE PX-{n}"),
    ("CLOUD HOSTING INC", "SUBSCRIPTION {n}"),
    ("PACKAGING SUPPLIES BV", "ORDER {n}"),
)


def _arrival(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).date()
    if isinstance(value, date):
        return value
    return datetime.fromtimestamp(int(value), UTC).date()


def _trace(payout: Mapping[str, Any]) -> str | None:
    trace = payout.get("trace_id")
    if isinstance(trace, Mapping):
        value = trace.get("value")
        return str(value) if value else None
    return str(trace) if trace else None


class BankSandbox:
    """A tenant's bank account that payouts land in, one statement a day per currency.

    ``accounts`` names the account per currency (default: an IBAN for everything but USD, a US
    account number for USD). Balances carry over from one day to the next."""

    def __init__(
        self,
        *,
        tenant: str,
        seed: int = 0,
        accounts: Mapping[str, str] | None = None,
        opening_balance: int = 2_500_000,
        noise: int = 6,
    ) -> None:
        self.tenant = tenant
        self.seed = seed
        self.accounts = {"USD": "000123456789", **(accounts or {})}
        self.default_account = self.accounts.get("*", "DE89370400440532013000")
        self.opening_balance = opening_balance
        self.noise = noise
        self.balances: dict[str, int] = {}
        self.sequence = 0
        self._refs = 0

    def account(self, currency: str) -> str:
        return self.accounts.get(currency, self.default_account)

    def _ref(self, rng: random.Random) -> str:
        self._refs += 1
        return f"SBX{rng.randrange(10**9):09d}{self._refs % 1000:03d}"

    def day(
        self,
        day: date,
        payouts: Iterable[Mapping[str, Any]],
        *,
        anomalies: Mapping[str, AnomalyKind] | None = None,
        anomaly_rate: float = 0.0,
        unknown_credits: int = 0,
        currencies: Iterable[str] = (),
    ) -> BankDay:
        """The statement(s) for ``day``: every paid payout arriving that day is credited,
        except where ``anomalies`` (payout id → kind) or ``anomaly_rate`` (a share of the
        other payouts, kinds drawn at random) say otherwise; ``unknown_credits`` credits that
        belong to no payout; plus ``noise`` ordinary entries per statement."""
        rng = random.Random(f"{self.seed}:{self.tenant}:{day.isoformat()}")  # noqa: S311
        planned = dict(anomalies or {})
        due: dict[str, list[Mapping[str, Any]]] = {}
        for payout in payouts:
            if (
                payout.get("status", "paid") != "paid"
                or _arrival(payout.get("arrival_date")) != day
            ):
                continue
            due.setdefault(str(payout["currency"]).upper(), []).append(payout)
        found = BankDay(day=day, statements=[])
        wanted = sorted(set(due) | {c.upper() for c in currencies})
        if unknown_credits and not wanted:
            wanted = ["EUR"]
        for number, currency in enumerate(wanted):
            entries: list[Entry] = []
            for payout in sorted(due.get(currency, []), key=lambda p: str(p["id"])):
                payout_id = str(payout["id"])
                kind = planned.get(payout_id)
                if kind is None and anomaly_rate and rng.random() < anomaly_rate:
                    kind = rng.choice(PAYOUT_ANOMALIES)
                entries += self._payout_entries(rng, day, payout, currency, kind, found)
            for _ in range(unknown_credits if number == 0 else 0):
                amount = rng.randrange(5_000, 500_000)
                entries.append(
                    Entry(
                        amount=amount,
                        direction="credit",
                        booking_date=day,
                        value_date=day,
                        bank_ref=self._ref(rng),
                        counterparty=rng.choice(_COMPANIES),
                        remittance=f"PAYMENT REF {rng.randrange(10**6):06d}",
                    )
                )
                found.anomalies.append(PlantedAnomaly("unknown_credit", None, currency, 0, amount))
            entries += self._noise(rng, day)
            rng.shuffle(entries)
            self.sequence += 1
            opening = self.balances.get(currency, self.opening_balance)
            statement = Statement(
                account=self.account(currency),
                currency=currency,
                statement_id=f"ST{day:%y%m%d}{currency}{self.sequence % 100:02d}",
                opening_balance=opening,
                entries=entries,
                created=datetime.combine(day, time(20), UTC),
                sequence=self.sequence,
            )
            self.balances[currency] = statement.closing_balance
            found.statements.append(statement)
        return found

    def _payout_entries(
        self,
        rng: random.Random,
        day: date,
        payout: Mapping[str, Any],
        currency: str,
        kind: AnomalyKind | None,
        found: BankDay,
    ) -> list[Entry]:
        payout_id = str(payout["id"])
        amount = int(payout["amount"])
        descriptor = str(payout.get("statement_descriptor") or "STRIPE PAYOUT")
        credit = Entry(
            amount=amount,
            direction="credit",
            booking_date=day,
            value_date=day,
            end_to_end_id=payout_id,
            bank_ref=self._ref(rng),
            trace_id=_trace(payout),
            counterparty="STRIPE" if currency == "USD" else "STRIPE PAYMENTS EUROPE LTD",
            remittance=f"{descriptor} {payout_id}",
        )
        if kind is None:
            found.settled.append(payout_id)
            return [credit]
        if kind == "missing":
            found.anomalies.append(PlantedAnomaly(kind, payout_id, currency, amount, 0))
            return []
        if kind in ("short", "excess"):
            # A fee the bank kept, or someone else's money mixed in: up to a tenth of the payout.
            delta = rng.randrange(1, max(2, amount // 10))
            booked = amount - delta if kind == "short" else amount + delta
            found.anomalies.append(PlantedAnomaly(kind, payout_id, currency, amount, booked))
            return [replace(credit, amount=booked)]
        if kind == "duplicate":
            found.anomalies.append(PlantedAnomaly(kind, payout_id, currency, amount, 2 * amount))
            return [credit, replace(credit, bank_ref=self._ref(rng))]
        # "stripe_only": the bank shows who paid and nothing that names the payout.
        found.anomalies.append(PlantedAnomaly("stripe_only", payout_id, currency, amount, amount))
        return [
            replace(
                credit,
                end_to_end_id=None,
                trace_id=None,
                counterparty="STRIPE",
                remittance="STRIPE",
            )
        ]

    def _noise(self, rng: random.Random, day: date) -> list[Entry]:
        out: list[Entry] = []
        for n in range(self.noise):
            pick = rng.random()
            if pick < 0.4:
                out.append(
                    Entry(
                        amount=rng.randrange(1_000, 250_000),
                        direction="credit",
                        booking_date=day,
                        value_date=day,
                        end_to_end_id=f"E2E{rng.randrange(10**8):08d}",
                        bank_ref=self._ref(rng),
                        counterparty=rng.choice(_COMPANIES),
                        remittance=f"INVOICE {day.year}-{rng.randrange(10**4):04d}",
                    )
                )
            elif pick < 0.8:
                name, text = rng.choice(_DEBITS)
                out.append(
                    Entry(
                        amount=rng.randrange(5_000, 400_000),
                        direction="debit",
                        booking_date=day,
                        value_date=day,
                        end_to_end_id=f"E2E{rng.randrange(10**8):08d}",
                        bank_ref=self._ref(rng),
                        customer_ref=f"PAY{day:%y%m%d}{n:03d}",
                        counterparty=name,
                        remittance=text.format(month=f"{day:%m/%Y}", n=rng.randrange(10**5)),
                    )
                )
            else:
                out.append(
                    Entry(
                        amount=rng.choice((250, 500, 1_250, 2_990)),
                        direction="debit",
                        booking_date=day,
                        value_date=day,
                        bank_ref=self._ref(rng),
                        remittance=rng.choice(("ACCOUNT FEE", "TRANSFER FEE", "CARD FEE")),
                        bank_code="ACMT/MDOP/CHRG",
                    )
                )
        return out
