"""camt's lean path, for UTF-8 documents (what banks and our sandbox send).

The entries are cut out of the text and each is matched by one regular expression; lxml parses
what is left (the document with a placeholder where each run of entries was), which checks that
everything around the entries is well-formed and that the entries sit in a statement, and gives
the statements' headers (account, balances, summary). An entry with anything the expression
does not know (several transactions, structured remittance, addresses, a comment…) is handed
to lxml on its own and read by ``CamtReader``; a document that turns out not to be plain
(broken, prefixed names) raises ``NotLean`` and starts over on the tree path. Per entry this
costs a few microseconds instead of building and walking thirty elements, which keeps a large
tenant's day above 100,000 entries a second.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from functions.reconcile.domain.bank.camt_common import (
    CamtStatement,
    Tx,
    safe_parser,
    stripped,
    tidy,
)
from functions.reconcile.domain.bank.camt_reader import CamtReader
from functions.reconcile.domain.bank.common import (
    CURRENCY_PLACES,
    MAX_AMOUNT_DIGITS,
    find_trace,
    squeeze,
)
from functions.reconcile.domain.bank.dates import iso_date
from functions.reconcile.domain.bank.model import (
    BankLine,
    Direction,
    FileFormat,
    SourcePosition,
)

_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']+)["']""")
_DIRECTIONS: dict[str, Direction] = {"CRDT": "credit", "DBIT": "debit"}
_KNOWN_CURRENCIES = CURRENCY_PLACES  # every code check_currency has accepted so far
_USTRD = re.compile(r"<Ustrd>([^<]*)</Ustrd>")


class NotLean(Exception):
    """The document is not one the lean path reads; the tree path takes it from the start."""


# One entry as banks commonly write it: optional NtryRef, amount, indicator, reversal flag,
# status (text or Cd), dates (Dt or DtTm), the bank's reference, a domain or proprietary bank
# transaction code, at most one transaction with plain references, one named party and
# unstructured remittance, and additional entry information, with XML whitespace between
# elements. Every element the expression opens it closes, and text may hold no "<", "&", "]"
# or character XML forbids, so a matched entry is well-formed XML with nothing to unescape;
# anything else makes the entry go through lxml. Possessive quantifiers: nothing consumed is
# ever given back, so a match costs one pass.
_W = r"[ \t\n\r]*+"
_C = r"[^<&\]\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"  # a character of plain text
_T = f"({_C}*+)"
_LEAN_ENTRY = re.compile(
    (
        r"~(?:<NtryRef>" + _C + r"*+</NtryRef>~)?"
        r'<Amt Ccy="([A-Z]{3})">' + _T + r"</Amt>~"  # 1 currency, 2 amount
        r"<CdtDbtInd>" + _T + r"</CdtDbtInd>~"  # 3
        r"(?:<RvslInd>" + _C + r"*+</RvslInd>~)?"
        r"<Sts>(~<Cd>)?+" + _T + r"(?(4)</Cd>~)</Sts>~"  # 4 Cd or not, 5 status
        r"(?:<BookgDt>~<(Dt|DtTm)>" + _T + r"</\6>~</BookgDt>~)?"  # 6, 7 booked
        r"(?:<ValDt>~<(Dt|DtTm)>" + _T + r"</\8>~</ValDt>~)?"  # 8, 9 valued
        r"(?:<AcctSvcrRef>" + _T + r"</AcctSvcrRef>~)?"  # 10
        r"(?:<BkTxCd>~(?:<Domn>~<Cd>" + _T + r"</Cd>~<Fmly>~<Cd>" + _T + r"</Cd>~"
        r"<SubFmlyCd>" + _T + r"</SubFmlyCd>~</Fmly>~</Domn>"  # 11, 12, 13
        r"|<Prtry>~<Cd>" + _T + r"</Cd>~</Prtry>)~</BkTxCd>~)?"  # 14
        r"(?:<NtryDtls>~<TxDtls>~"
        r"(?:<Refs>~(?:<MsgId>" + _C + r"*+</MsgId>~)?"
        r"(?:<AcctSvcrRef>" + _T + r"</AcctSvcrRef>~)?"  # 15
        r"(?:<PmtInfId>" + _C + r"*+</PmtInfId>~)?"
        r"(?:<InstrId>" + _T + r"</InstrId>~)?"  # 16
        r"(?:<EndToEndId>" + _T + r"</EndToEndId>~)?"  # 17
        r"(?:<UETR>" + _C + r"*+</UETR>~)?(?:<TxId>" + _C + r"*+</TxId>~)?"
        r"(?:<MndtId>" + _C + r"*+</MndtId>~)?(?:<ChqNb>" + _C + r"*+</ChqNb>~)?"
        r"(?:<ClrSysRef>" + _T + r"</ClrSysRef>~)?"  # 18
        r"</Refs>~)?"
        r'(?:<Amt Ccy="[A-Z]{3}">' + _C + r"*+</Amt>~<CdtDbtInd>" + _C + r"*+</CdtDbtInd>~)?"
        r"(?:<RltdPties>~<(Dbtr|Cdtr)>~"  # 19
        r"(?:<Pty>~<Nm>" + _T + r"</Nm>~</Pty>|<Nm>" + _T + r"</Nm>)~"  # 20, 21
        r"</\19>~</RltdPties>~)?"
        r"(?:<RmtInf>~<Ustrd>" + _T + r"</Ustrd>"  # 22 the first Ustrd
        r"((?:~<Ustrd>" + _C + r"*+</Ustrd>)*+)~</RmtInf>~)?"  # 23 any more
        r"</TxDtls>~</NtryDtls>~)?"
        r"(?:<AddtlNtryInf>" + _T + r"</AddtlNtryInf>~)?"  # 24
    ).replace("~", _W)
)


def _fields(cls: type[Any]) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


# BankLine and SourcePosition made by setting their slots directly: the same objects their
# generated __init__ makes (which goes through object.__setattr__ field by field) at about half
# the cost, for the lean path's hundreds of thousands of lines. Should the model gain a field or
# a __post_init__, the classes themselves are used instead.
_LINE_FIELDS = (
    "tenant",
    "account",
    "currency",
    "amount",
    "direction",
    "booking_date",
    "value_date",
    "source",
    "end_to_end_id",
    "bank_ref",
    "customer_ref",
    "trace_id",
    "counterparty",
    "remittance",
    "bank_code",
)
_POSITION_FIELDS = ("file", "file_sha256", "format", "line_no", "entry_index", "statement_id")
_SLOTS_AS_EXPECTED = (
    _fields(BankLine) == _LINE_FIELDS
    and _fields(SourcePosition) == _POSITION_FIELDS
    and not hasattr(BankLine, "__post_init__")
    and not hasattr(SourcePosition, "__post_init__")
)


def _line_maker() -> Callable[..., BankLine]:
    """The lean path's line maker: setters bound once as closure variables, so each of the
    twenty-one slots costs one fast call."""
    p0, p1, p2, p3, p4, p5 = (getattr(SourcePosition, name).__set__ for name in _POSITION_FIELDS)
    l0, l1, l2, l3, l4, l5, l6, l7, l8, l9, l10, l11, l12, l13, l14 = (
        getattr(BankLine, name).__set__ for name in _LINE_FIELDS
    )
    new = object.__new__

    def make(
        tenant: str,
        account: str,
        currency: str,
        amount: int,
        direction: Direction,
        booking_date: date,
        value_date: date | None,
        file: str,
        file_sha256: str,
        format: FileFormat,
        line_no: int,
        entry_index: int,
        statement_id: str | None,
        end_to_end_id: str | None,
        bank_ref: str | None,
        customer_ref: str | None,
        trace_id: str | None,
        counterparty: str | None,
        remittance: str,
        bank_code: str | None,
    ) -> BankLine:
        position = new(SourcePosition)
        p0(position, file)
        p1(position, file_sha256)
        p2(position, format)
        p3(position, line_no)
        p4(position, entry_index)
        p5(position, statement_id)
        line: BankLine = new(BankLine)
        l0(line, tenant)
        l1(line, account)
        l2(line, currency)
        l3(line, amount)
        l4(line, direction)
        l5(line, booking_date)
        l6(line, value_date)
        l7(line, position)
        l8(line, end_to_end_id)
        l9(line, bank_ref)
        l10(line, customer_ref)
        l11(line, trace_id)
        l12(line, counterparty)
        l13(line, remittance)
        l14(line, bank_code)
        return line

    return make


def _slow_line_at(
    tenant: str,
    account: str,
    currency: str,
    amount: int,
    direction: Direction,
    booking_date: date,
    value_date: date | None,
    file: str,
    file_sha256: str,
    format: FileFormat,
    line_no: int,
    entry_index: int,
    statement_id: str | None,
    *rest: Any,
) -> BankLine:
    position = SourcePosition(file, file_sha256, format, line_no, entry_index, statement_id)
    return BankLine(
        tenant, account, currency, amount, direction, booking_date, value_date, position, *rest
    )


_new_line_at: Callable[..., BankLine] = _line_maker() if _SLOTS_AS_EXPECTED else _slow_line_at


def lean_text(data: bytes) -> str | None:
    """The document as text when the lean path may read it, else None."""
    declared = _DECLARED_ENCODING.match(data)
    if declared and declared.group(1).decode("ascii", "replace").lower() not in (
        "utf-8",
        "utf8",
        "us-ascii",
        "ascii",
    ):
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    text = text.removeprefix("\ufeff")
    if "\r" in text:  # what every XML parser does to line ends before reading
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def read_lean(reader: CamtReader, text: str) -> None:
    """Entries are cut out of the text and matched one by one; what is left (the document
    with one empty ``<Ntry/>`` where each run of entries was) is parsed by lxml, which
    checks that everything around the entries is well-formed and that every run of
    entries sits directly in a statement. Anything unexpected raises ``NotLean``."""
    runs: list[list[tuple[int, int, int]]] = []  # per run: (start, stop, line) of entries
    pieces: list[str] = []
    find, count = text.find, text.count
    cursor = counted = 0
    line = 1
    at = find("<Ntry>")
    while at >= 0:
        stop = find("</Ntry>", at)
        if stop < 0:
            raise NotLean
        line += count("\n", counted, at)
        counted = at
        gap = text[cursor:at]
        if runs and cursor and (not gap or gap.isspace()):
            runs[-1].append((at + 6, stop, line))
        else:
            pieces += (gap, "<Ntry/>")
            runs.append([(at + 6, stop, line)])
        cursor = stop + 7
        at = find("<Ntry>", cursor)
    pieces.append(text[cursor:])
    parser = safe_parser()
    try:
        root = etree.fromstring("".join(pieces).encode(), parser)
    except etree.XMLSyntaxError:
        raise NotLean from None
    t = reader.t
    if root.tag != t.Document:
        raise NotLean
    reader.root_checked = True
    ntry, bal, summary = t.Ntry, t.Bal, t.TxsSummry
    run = 0
    for element in root.iter(getattr(t, reader.container)):
        statement = reader.open_statement(element)
        for child in element:
            if child.tag == bal:
                reader.read_balance(child)
            elif child.tag == summary:
                reader.read_summary(child)
        for child in element:
            if child.tag != ntry:
                continue
            if run >= len(runs) or len(child):
                raise NotLean
            _lean_run(reader, text, runs[run], statement, parser)
            run += 1
        reader.finish(statement)
    if run != len(runs):
        raise NotLean  # entries outside any statement


def _lean_run(
    reader: CamtReader,
    text: str,
    entries: list[tuple[int, int, int]],
    statement: CamtStatement,
    parser: Any,
) -> None:
    """A run of entries, each ``(start, stop, line)`` in ``text``. The plain
    case (booked, readable, one line, in the statement's currency, nothing escaped) is
    done inline; every other entry goes to ``_lean_entry`` and from there to
    ``CamtReader.assemble``, the reference for what an entry becomes. Tests hold the lean and tree
    paths to the same lines."""
    summary = statement.summary
    tenant, file, sha, fmt = reader.tenant, reader.file, reader.sha, reader.format
    account, statement_id = summary.account, summary.statement_id
    append = reader.out.lines.append
    dates = reader.dates
    codes = reader.codes
    known = _KNOWN_CURRENCIES
    match_entry = _LEAN_ENTRY.fullmatch
    new_line = _new_line_at
    directions = _DIRECTIONS
    current = summary.currency
    credits = credit_total = debits = debit_total = 0
    for start, stop, line in entries:
        match = match_entry(text, start, stop)
        currency = match.group(1) if match else None
        if match is None or currency not in known or (current and currency != current):
            _lean_entry(reader, text[start:stop], line, statement, parser)
            current = summary.currency
            continue
        g = match.groups()
        direction = directions.get(g[2])
        booked, valued = g[6], g[8]
        whole, _, fraction = g[1].partition(".")
        if (
            direction is None
            or g[4] != "BOOK"
            or not (whole.isascii() and whole.isdigit() and fraction.isdigit())
            or len(fraction) != known[currency]
            # More digits than any amount has (a hostile 100,000): minor_units says why.
            or len(whole) + len(fraction) > MAX_AMOUNT_DIGITS
            or booked not in dates
            or valued not in dates
        ):
            # Unusual shapes, new dates, other precision: the general entry reads them
            # (and caches the dates for the next entries).
            _lean_entry(reader, text[start:stop], line, statement, parser)
            current = summary.currency
            continue
        amount = int(whole + fraction)
        booking_date = dates[booked] or dates[valued]
        if not amount or booking_date is None:
            _lean_entry(reader, text[start:stop], line, statement, parser)
            current = summary.currency
            continue
        key = g[10:14]
        bank_code = codes.get(key)
        if bank_code is None:
            bank_code = _code(reader, key)
        remittance = g[21]
        if g[22]:
            remittance = " ".join(filter(None, [remittance, *_USTRD.findall(g[22])]))
        remittance = remittance or g[23] or ""
        if (
            "  " in remittance
            or not remittance.isprintable()
            or remittance[:1] == " "
            or remittance[-1:] == " "
        ):
            remittance = squeeze(remittance)
        name = g[19] or g[20]
        if not name or g[18] != ("Dbtr" if direction == "credit" else "Cdtr"):
            name = None
        elif "  " in name or not name.isprintable() or name[:1] == " " or name[-1:] == " ":
            name = squeeze(name) or None
        e2e, tx_ref, instruction, trace, bank_ref = g[16], g[14], g[15], g[17], g[9]
        e2e = e2e.strip() or None if e2e else None
        index = statement.next_index
        statement.next_index = index + 1
        append(
            new_line(
                tenant,
                account,
                currency,
                amount,
                direction,
                booking_date,
                dates[valued],
                file,
                sha,
                fmt,
                line,
                index,
                statement_id,
                None if e2e == "NOTPROVIDED" else e2e,
                (tx_ref.strip() or None if tx_ref else None)
                or (bank_ref.strip() or None if bank_ref else None),
                instruction.strip() or None if instruction else None,
                (trace.strip() or None if trace else None)
                or (find_trace(remittance) if "RACE" in remittance.upper() else None),
                name,
                remittance,
                bank_code or None,
            )
        )
        if not current:
            summary.currency = current = currency
        if direction == "credit":
            credits += 1
            credit_total += amount
        else:
            debits += 1
            debit_total += amount
    tallies = statement.entries
    tallies["credit_count"] += credits
    tallies["credit_total"] += credit_total
    tallies["debit_count"] += debits
    tallies["debit_total"] += debit_total
    summary.credit_count += credits
    summary.credit_total += credit_total
    summary.debit_count += debits
    summary.debit_total += debit_total


def _code(reader: CamtReader, key: tuple[str | None, ...]) -> str:
    domain, family, sub, proprietary = key
    if domain is not None:
        code = "/".join(filter(None, (domain.strip(), (family or "").strip(), (sub or "").strip())))
    else:
        code = stripped(proprietary) or ""
    reader.codes[key] = code
    return code


def _lean_entry(
    reader: CamtReader, inner: str, line_no: int, statement: CamtStatement, parser: Any
) -> None:
    """One entry on the lean path, any outcome: matched fields go to ``CamtReader.assemble``; an
    entry the expression does not know, or with unusual references, goes to lxml."""
    match = _LEAN_ENTRY.fullmatch(inner)
    if match is None:
        try:
            ntry = etree.fromstring(f'<Ntry xmlns="{reader.namespace}">{inner}</Ntry>', parser)
        except etree.XMLSyntaxError:
            raise NotLean from None
        reader.read_entry(ntry, statement, line_no - 1)
        return
    g = match.groups()
    ustrd = [u for u in (g[21], *(_USTRD.findall(g[22]) if g[22] else ())) if u]
    raw_name = g[19] or g[20]
    name = (tidy(raw_name) or None) if raw_name else None
    # An empty TxDtls and none at all make the same line, so "no match groups" is enough.
    tx = Tx(
        line_no,
        None,
        None,
        None,
        stripped(g[16]),
        stripped(g[14]),
        stripped(g[15]),
        stripped(g[17]),
        name if g[18] == "Dbtr" else None,
        name if g[18] == "Cdtr" else None,
        ustrd,
    )
    status, booked, valued = g[4], g[6], g[8]
    for text_date in (booked, valued):
        if text_date not in reader.dates:
            with contextlib.suppress(ValueError):  # assemble quarantines it
                reader.dates[text_date] = iso_date(text_date)
    reader.assemble(
        statement,
        line_no,
        g[1],
        g[0],
        g[2].strip(),
        status.strip() if status else None,
        booked,
        valued,
        g[9],
        _code(reader, (g[10], g[11], g[12], g[13])) or None,
        [tx],
        g[23],
        lambda: f"<Ntry>{inner}</Ntry>",
    )
