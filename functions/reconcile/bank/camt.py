"""ISO 20022 camt.053 (statement) and camt.054 (debit/credit notification), any version.

The message type comes from the document's namespace (``…:camt.053.001.NN``), so versions 02
to 08 and later ones read alike; where versions differ (``Sts`` as text or ``Sts/Cd``, party
names under ``Dbtr/Nm`` or ``Dbtr/Pty/Nm``, transaction amounts under ``TxDtls/Amt`` or
``AmtDtls/TxAmt/Amt``) both shapes are read.

Two ways through a file, with one set of rules for what an entry becomes (``_assemble``):

- The lean path, for UTF-8 documents (what banks and our sandbox send): the entries are cut
  out of the text and each is matched by one regular expression; lxml parses what is left
  (the document with a placeholder where each run of entries was), which checks that
  everything around the entries is well-formed and that the entries sit in a statement, and
  gives the statements' headers (account, balances, summary). An entry with anything the
  expression does not know (several transactions, structured remittance, addresses, a
  comment…) is handed to lxml on its own; a document that turns out not to be plain (broken,
  prefixed names) starts over on the tree path. Per entry this costs a few microseconds
  instead of building and walking thirty elements, which keeps a large tenant's day above
  100,000 entries a second.
- The tree path, for everything else: lxml's ``iterparse`` hands over each ``<Ntry>`` once
  complete and it is dropped after reading, so memory stays flat. A document that breaks off
  (truncated upload) lands what came before the break and quarantines the break itself.

Safety: no DTD is accepted (a camt file has none; refusing it rules out entity expansion and
external entities), entities are not resolved, nothing is fetched, huge-tree mode stays off.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from functions.reconcile.bank.common import (
    CURRENCY_PLACES,
    MAX_AMOUNT_DIGITS,
    RAW_LIMIT,
    AmountError,
    BankFileError,
    check_currency,
    count_line,
    find_trace,
    minor_units,
    settle,
    shown,
    squeeze,
    whole_number,
)
from functions.reconcile.bank.model import (
    BankLine,
    Direction,
    FileFormat,
    ParsedFile,
    QuarantinedLine,
    SourcePosition,
    StatementSummary,
)

Element = Any  # lxml ships no type information

_NAMESPACE = re.compile(
    rb"xmlns(?::[\w.-]+)?\s*=\s*[\"']"
    rb"(urn:iso:std:iso:20022:tech:xsd:camt\.(\d{3})\.001\.(\d+))[\"']"
)
_FORBIDDEN = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_CONTAINERS = {"053": ("BkToCstmrStmt", "Stmt"), "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}
_FORMATS: dict[str, FileFormat] = {"053": "camt053", "054": "camt054"}
_NOT_BOOKED = {"PDNG": "pending", "INFO": "information only", "FUTR": "future-dated"}
_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']+)["']""")
_DIRECTIONS: dict[str, Direction] = {"CRDT": "credit", "DBIT": "debit"}
_KNOWN_CURRENCIES = CURRENCY_PLACES  # every code check_currency has accepted so far
_USTRD = re.compile(r"<Ustrd>([^<]*)</Ustrd>")

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


class _Tags:
    """Namespaced tags by local name (``tags.Ntry``), made on first use."""

    def __init__(self, namespace: str) -> None:
        self._prefix = f"{{{namespace}}}"

    def __getattr__(self, name: str) -> str:
        tag = self._prefix + name
        setattr(self, name, tag)
        return tag


class _NotLean(Exception):
    """The document is not one the lean path reads; the tree path takes it from the start."""


def _safe_parser(**options: Any) -> Any:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        collect_ids=False,
        remove_comments=True,
        remove_pis=True,
        **options,
    )


@dataclass(slots=True)
class _Tx:
    """What one ``<TxDtls>`` says."""

    line_no: int
    amount: str | None = None
    currency: str | None = None
    direction: str | None = None
    end_to_end_id: str | None = None
    bank_ref: str | None = None
    instruction_id: str | None = None
    trace_id: str | None = None
    debtor: str | None = None
    creditor: str | None = None
    remittance: list[str] = field(default_factory=list)
    bank_code: str | None = None


@dataclass(slots=True)
class _Statement:
    element: Element
    summary: StatementSummary
    next_index: int = 0
    # Entry-level tallies (a batch entry counts once), which is what TxsSummry declares.
    entries: dict[str, int] = field(
        default_factory=lambda: {
            "credit_count": 0,
            "credit_total": 0,
            "debit_count": 0,
            "debit_total": 0,
        }
    )
    foreign: set[str] = field(default_factory=set)
    # TxsSummry as written, read once the statement's currency is certain.
    summary_texts: list[tuple[str, str, bool]] = field(default_factory=list)


def message_type(data: bytes) -> tuple[FileFormat, str]:
    """The camt message a document is (from its namespace) and the namespace itself."""
    match = _NAMESPACE.search(data[:65536])
    if match is None:
        raise BankFileError("not an ISO 20022 camt document (no camt namespace)")
    namespace, message = match.group(1).decode(), match.group(2).decode()
    if message not in _FORMATS:
        hint = " (an intraday report, not a statement)" if message == "052" else ""
        raise BankFileError(f"camt.{message}{hint} is not read here; camt.053 and camt.054 are")
    return _FORMATS[message], namespace


def _date(text: str | None) -> date | None:
    # Both ``Dt`` (2024-01-31) and ``DtTm`` (2024-01-31T13:15:00+01:00): the bank's own date.
    return date.fromisoformat(text.strip()[:10]) if text else None


def _child(element: Element, tag: str) -> Element | None:
    """The first child with ``tag``: a plain loop, several times faster than lxml's find()."""
    for child in element:
        if child.tag == tag:
            return child
    return None


def _text(element: Element | None) -> str | None:
    if element is None:
        return None
    value = element.text
    if value is None:
        return None
    value = value.strip()
    return value or None


def _tidy(text: str) -> str:
    """``squeeze`` only when there is something to squeeze (most names have nothing)."""
    if "  " in text or not text.isprintable() or text[:1] == " " or text[-1:] == " ":
        return squeeze(text)
    return text


def _stripped(value: str | None) -> str | None:
    if not value:
        return None
    return value.strip() or None


class CamtParser:
    def __init__(self, data: bytes, *, tenant: str, file: str, sha: str) -> None:
        self.data = data
        self.tenant = tenant
        self.file = file
        self.sha = sha
        self.format, self.namespace = message_type(data)
        self.t = _Tags(self.namespace)
        self.container = _CONTAINERS[self.format[-3:]][1]
        self.out = ParsedFile(format=self.format, file_sha256=sha)
        self.statement: _Statement | None = None
        self.seen_statements = 0
        self.root_checked = False
        # Texts already read on the lean path: a day's entries share a few dates and codes.
        self.dates: dict[str | None, date | None] = {}
        self.codes: dict[tuple[str | None, ...], str] = {}

    def parse(self, *, lean: bool = True) -> ParsedFile:
        """``lean=False`` forces the tree path (tests hold the two paths to the same result)."""
        root_at = self.data.find(b"<Document")
        head = self.data[: root_at if root_at >= 0 else 65536]
        if _FORBIDDEN.search(head):
            raise BankFileError("XML with a DTD or entity declarations is refused")
        text = self._lean_text() if lean else None
        if text is not None:
            try:
                self._parse_lean(text)
            except _NotLean:
                # Not what the lean path reads after all: start over on the tree path, which
                # also says where a broken document breaks.
                self.out = ParsedFile(format=self.format, file_sha256=self.sha)
                self.statement, self.seen_statements, self.root_checked = None, 0, False
                text = None
        if text is None:
            self._parse_tree()
        if not self.seen_statements:
            raise BankFileError(f"no statement ({self.container}) in the file")
        return self.out

    # -- the tree path --------------------------------------------------------------------------

    def _parse_tree(self) -> None:
        t = self.t
        container = getattr(t, self.container)
        events = etree.iterparse(
            io.BytesIO(self.data),
            events=("end",),
            tag=(t.Ntry, t.Bal, t.TxsSummry, container),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
            collect_ids=False,
            remove_comments=True,
            remove_pis=True,
        )
        ntry, bal, summary = t.Ntry, t.Bal, t.TxsSummry
        try:
            for _, element in events:
                tag = element.tag
                if tag == ntry:
                    self._entry(element, self._open(element.getparent()))
                    element.clear()
                    parent = element.getparent()
                    while element.getprevious() is not None:
                        del parent[0]
                elif tag == bal:
                    self._balance(element)
                elif tag == summary:
                    self._summary(element)
                else:
                    self._finish(self._open(element))
                    element.clear()
                    parent = element.getparent()
                    if parent is not None:
                        parent.remove(element)
        except etree.XMLSyntaxError as error:
            self._broken(error)

    def _broken(self, error: Any) -> None:
        line_no = int(getattr(error, "lineno", 0) or 0)
        if not self.seen_statements and self.statement is None:
            raise BankFileError(f"not well-formed XML: {error.msg}", line_no=line_no) from None
        lines = self.data.decode("utf-8", "replace").splitlines()
        raw = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
        self.out.quarantined.append(
            QuarantinedLine(
                line_no=line_no,
                reason=f"XML breaks off here ({error.msg}); nothing after it was read",
                raw=raw[:RAW_LIMIT],
            )
        )
        if self.statement is not None:
            self.statement.summary.problems.append(
                f"statement incomplete: the file breaks off at line {line_no}"
            )
            self._finish(self.statement)

    # -- the lean path --------------------------------------------------------------------------

    def _lean_text(self) -> str | None:
        """The document as text when the lean path may read it, else None."""
        declared = _DECLARED_ENCODING.match(self.data)
        if declared and declared.group(1).decode("ascii", "replace").lower() not in (
            "utf-8",
            "utf8",
            "us-ascii",
            "ascii",
        ):
            return None
        try:
            text = self.data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        text = text.removeprefix("\ufeff")
        if "\r" in text:  # what every XML parser does to line ends before reading
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return text

    def _parse_lean(self, text: str) -> None:
        """Entries are cut out of the text and matched one by one; what is left (the document
        with one empty ``<Ntry/>`` where each run of entries was) is parsed by lxml, which
        checks that everything around the entries is well-formed and that every run of
        entries sits directly in a statement. Anything unexpected raises ``_NotLean``."""
        runs: list[list[tuple[int, int, int]]] = []  # per run: (start, stop, line) of entries
        pieces: list[str] = []
        find, count = text.find, text.count
        cursor = counted = 0
        line = 1
        at = find("<Ntry>")
        while at >= 0:
            stop = find("</Ntry>", at)
            if stop < 0:
                raise _NotLean
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
        parser = _safe_parser()
        try:
            root = etree.fromstring("".join(pieces).encode(), parser)
        except etree.XMLSyntaxError:
            raise _NotLean from None
        t = self.t
        if root.tag != t.Document:
            raise _NotLean
        self.root_checked = True
        ntry, bal, summary = t.Ntry, t.Bal, t.TxsSummry
        run = 0
        for element in root.iter(getattr(t, self.container)):
            statement = self._open(element)
            for child in element:
                if child.tag == bal:
                    self._balance(child)
                elif child.tag == summary:
                    self._summary(child)
            for child in element:
                if child.tag != ntry:
                    continue
                if run >= len(runs) or len(child):
                    raise _NotLean
                self._lean_run(text, runs[run], statement, parser)
                run += 1
            self._finish(statement)
        if run != len(runs):
            raise _NotLean  # entries outside any statement

    def _lean_run(
        self, text: str, entries: list[tuple[int, int, int]], statement: _Statement, parser: Any
    ) -> None:
        """A run of entries, each ``(start, stop, line)`` in ``text``. The plain
        case (booked, readable, one line, in the statement's currency, nothing escaped) is
        done inline; every other entry goes to ``_lean_entry`` and from there to
        ``_assemble``, the reference for what an entry becomes. Tests hold the lean and tree
        paths to the same lines."""
        summary = statement.summary
        tenant, file, sha, fmt = self.tenant, self.file, self.sha, self.format
        account, statement_id = summary.account, summary.statement_id
        append = self.out.lines.append
        dates = self.dates
        codes = self.codes
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
                self._lean_entry(text[start:stop], line, statement, parser)
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
                self._lean_entry(text[start:stop], line, statement, parser)
                current = summary.currency
                continue
            amount = int(whole + fraction)
            booking_date = dates[booked] or dates[valued]
            if not amount or booking_date is None:
                self._lean_entry(text[start:stop], line, statement, parser)
                current = summary.currency
                continue
            key = g[10:14]
            bank_code = codes.get(key)
            if bank_code is None:
                bank_code = self._code(key)
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

    def _code(self, key: tuple[str | None, ...]) -> str:
        domain, family, sub, proprietary = key
        if domain is not None:
            code = "/".join(
                filter(None, (domain.strip(), (family or "").strip(), (sub or "").strip()))
            )
        else:
            code = _stripped(proprietary) or ""
        self.codes[key] = code
        return code

    def _lean_entry(self, inner: str, line_no: int, statement: _Statement, parser: Any) -> None:
        """One entry on the lean path, any outcome: matched fields go to ``_assemble``; an
        entry the expression does not know, or with unusual references, goes to lxml."""
        match = _LEAN_ENTRY.fullmatch(inner)
        if match is None:
            try:
                ntry = etree.fromstring(f'<Ntry xmlns="{self.namespace}">{inner}</Ntry>', parser)
            except etree.XMLSyntaxError:
                raise _NotLean from None
            self._entry(ntry, statement, line_no - 1)
            return
        g = match.groups()
        ustrd = [u for u in (g[21], *(_USTRD.findall(g[22]) if g[22] else ())) if u]
        raw_name = g[19] or g[20]
        name = (_tidy(raw_name) or None) if raw_name else None
        # An empty TxDtls and none at all make the same line, so "no match groups" is enough.
        tx = _Tx(
            line_no,
            None,
            None,
            None,
            _stripped(g[16]),
            _stripped(g[14]),
            _stripped(g[15]),
            _stripped(g[17]),
            name if g[18] == "Dbtr" else None,
            name if g[18] == "Cdtr" else None,
            ustrd,
        )
        status, booked, valued = g[4], g[6], g[8]
        for text_date in (booked, valued):
            if text_date not in self.dates:
                with contextlib.suppress(ValueError):  # _assemble quarantines it
                    self.dates[text_date] = _date(text_date)
        self._assemble(
            statement,
            line_no,
            g[1],
            g[0],
            g[2].strip(),
            status.strip() if status else None,
            booked,
            valued,
            g[9],
            self._code((g[10], g[11], g[12], g[13])) or None,
            [tx],
            g[23],
            lambda: f"<Ntry>{inner}</Ntry>",
        )

    # -- statements -----------------------------------------------------------------------------

    def _open(self, element: Element) -> _Statement:
        """The statement an entry or balance belongs to; started on its first child we see."""
        current = self.statement
        if current is not None and current.element is element:
            return current
        if not self.root_checked:
            root = element.getroottree().getroot()
            if root.tag != self.t.Document:
                raise BankFileError(
                    f"root element is {shown(str(root.tag), 80)}, not the camt Document"
                )
            self.root_checked = True
        self.seen_statements += 1
        t = self.t
        statement_id: str | None = None
        page: str | None = None
        account = ""
        currency: str | None = None
        for child in element:
            tag = child.tag
            if tag == t.Id:
                statement_id = _text(child)
            elif tag == t.Acct:
                for part in child:
                    if part.tag == t.Id:
                        for choice in part:
                            if choice.tag == t.IBAN:
                                account = _text(choice) or ""
                            elif choice.tag == t.Othr:
                                account = _text(_child(choice, t.Id)) or ""
                    elif part.tag == t.Ccy:
                        currency = _text(part)
            elif isinstance(tag, str) and tag.endswith("Pgntn"):
                page = _text(_child(child, t.PgNb))
        if statement_id is None:
            statement_id = f"{self.sha[:16]}#{self.seen_statements}"
        elif page is not None:
            # Pages of one statement share its Id; the page keeps their line ids apart.
            statement_id = f"{statement_id}/{page}"
        summary = StatementSummary(
            account=account, currency=currency or "", statement_id=statement_id
        )
        if not account:
            summary.problems.append("the statement names no account (Acct/Id)")
        self.statement = _Statement(element=element, summary=summary)
        return self.statement

    def _finish(self, statement: _Statement) -> None:
        self.statement = None
        summary = statement.summary
        if not summary.currency:
            summary.currency = min(statement.foreign, default="")
            statement.foreign.discard(summary.currency)
        if statement.foreign:
            summary.problems.append(
                "entries in " + ", ".join(sorted(statement.foreign)) + " are left out of the "
                f"{summary.currency} totals"
            )
        for key, value, negative in statement.summary_texts:
            try:
                amount = minor_units(value, summary.currency or "XXX")
            except AmountError as error:
                summary.problems.append(f"transaction summary unreadable: {error}")
                continue
            summary.declared[key] = -amount if negative else amount
        entries = statement.entries
        computed = dict(entries)
        computed["entry_count"] = entries["credit_count"] + entries["debit_count"]
        computed["net_total"] = entries["credit_total"] - entries["debit_total"]
        computed["entries_total"] = entries["credit_total"] + entries["debit_total"]
        settle(summary, computed)
        self.out.statements.append(summary)

    def _balance(self, element: Element) -> None:
        statement = self._open(element.getparent())
        t = self.t
        kind = amount = currency = sign = None
        for child in element:
            tag = child.tag
            if tag == t.Tp:
                choice = _child(child, t.CdOrPrtry)
                if choice is not None:
                    kind = _text(_child(choice, t.Cd)) or _text(_child(choice, t.Prtry))
            elif tag == t.Amt:
                amount, currency = child.text, child.get("Ccy")
            elif tag == t.CdtDbtInd:
                sign = _text(child)
        key = {"OPBD": "opening_balance", "PRCD": "opening_balance", "CLBD": "closing_balance"}
        target = key.get(kind or "")
        if target is None:
            return
        summary = statement.summary
        if target in summary.declared:  # OPBD wins over PRCD; a second one is not a statement's
            return
        try:
            value = minor_units(amount, check_currency(currency))
        except AmountError as error:
            summary.problems.append(f"{kind} balance unreadable: {error}")
            return
        if not summary.currency:
            summary.currency = currency or ""
        if currency != summary.currency:
            summary.problems.append(
                f"{kind} balance is in {currency}, the statement in {summary.currency}"
            )
            return
        summary.declared[target] = -value if sign == "DBIT" else value

    def _summary(self, element: Element) -> None:
        statement = self._open(element.getparent())
        summary = statement.summary
        t = self.t

        def read(part: Element, count_key: str, sum_key: str) -> None:
            number = _text(_child(part, t.NbOfNtries))
            total = _text(_child(part, t.Sum))
            if number is not None:
                try:
                    summary.declared[count_key] = whole_number(number, "number of entries")
                except ValueError as error:
                    summary.problems.append(f"transaction summary: {error}")
            if total is not None:
                statement.summary_texts.append((sum_key, total, False))

        for child in element:
            tag = child.tag
            if tag == t.TtlCdtNtries:
                read(child, "credit_count", "credit_total")
            elif tag == t.TtlDbtNtries:
                read(child, "debit_count", "debit_total")
            elif tag == t.TtlNtries:
                read(child, "entry_count", "entries_total")
                net = _child(child, t.TtlNetNtry)
                amount = _text(_child(net, t.Amt)) if net is not None else None
                sign_at = net if net is not None else child
                if amount is None:
                    amount = _text(_child(child, t.TtlNetNtryAmt))
                if amount is not None:
                    negative = _text(_child(sign_at, t.CdtDbtInd)) == "DBIT"
                    statement.summary_texts.append(("net_total", amount, negative))

    # -- entries --------------------------------------------------------------------------------

    def _entry(self, ntry: Element, statement: _Statement, line_offset: int = 0) -> None:
        """Read an ``<Ntry>`` element (the tree path, and entries the lean path hands over)."""
        t = self.t
        amount_text = currency = direction = status = booked = valued = None
        bank_ref = bank_code = extra = None
        details: list[Element] = []
        for child in ntry:
            tag = child.tag
            if tag == t.Amt:
                amount_text = child.text
                currency = child.get("Ccy")
            elif tag == t.CdtDbtInd:
                direction = child.text
            elif tag == t.Sts:
                status = child.text if len(child) == 0 else child[0].text
            elif tag == t.BookgDt:
                booked = child[0].text if len(child) else None
            elif tag == t.ValDt:
                valued = child[0].text if len(child) else None
            elif tag == t.AcctSvcrRef:
                bank_ref = child.text
            elif tag == t.BkTxCd:
                bank_code = self._bank_code(child)
            elif tag == t.NtryDtls:
                for tx in child:
                    if tx.tag == t.TxDtls:
                        details.append(tx)
            elif tag == t.AddtlNtryInf:
                extra = child.text
        self._assemble(
            statement,
            line_offset + (ntry.sourceline or 0),
            amount_text,
            currency,
            direction.strip() if direction else None,
            status.strip() if status else None,
            booked,
            valued,
            bank_ref,
            bank_code,
            [self._tx(tx, line_offset) for tx in details],
            extra,
            lambda: etree.tostring(ntry, encoding="unicode", with_tail=False),
        )

    def _assemble(
        self,
        statement: _Statement,
        line_no: int,
        amount_text: str | None,
        currency: str | None,
        direction: str | None,
        status: str | None,
        booked: str | None,
        valued: str | None,
        bank_ref: str | None,
        bank_code: str | None,
        txs: list[_Tx],
        extra: str | None,
        raw: Callable[[], str],
    ) -> None:
        """What an entry becomes, however it was read: lines, a skip, or a quarantine."""
        index = statement.next_index
        statement.next_index += 1

        def quarantine(reason: str) -> None:
            self.out.quarantined.append(QuarantinedLine(line_no, reason, raw()[:RAW_LIMIT]))

        if status and status != "BOOK":
            if status in _NOT_BOOKED:
                self.out.skipped.append(
                    QuarantinedLine(
                        line_no, f"entry status {status} ({_NOT_BOOKED[status]}): not booked", ""
                    )
                )
            else:
                quarantine(f"unknown entry status {shown(status)}")
            return
        try:
            currency = check_currency(currency)
            amount = minor_units(amount_text, currency)
            booking_date = _date(booked) or _date(valued)
            value_date = _date(valued)
        except (AmountError, ValueError) as error:
            quarantine(f"entry unreadable: {error}")
            return
        if direction not in ("CRDT", "DBIT"):
            quarantine(f"credit/debit indicator is {shown(direction)}, not CRDT or DBIT")
            return
        if booking_date is None:
            quarantine("entry has neither a booking date nor a value date")
            return
        if amount == 0:
            self.out.skipped.append(QuarantinedLine(line_no, "zero amount", ""))
            return
        entry_direction: Direction = "credit" if direction == "CRDT" else "debit"
        summary = statement.summary
        if not summary.currency:
            summary.currency = currency
        if currency == summary.currency:
            tallies = statement.entries
            tallies[f"{entry_direction}_count"] += 1
            tallies[f"{entry_direction}_total"] += amount
        else:
            statement.foreign.add(currency)
        bank_ref = bank_ref.strip() or None if bank_ref else None
        if len(txs) > 1 and self._splits(txs, currency, amount, entry_direction):
            # A batch booking whose transactions carry their own amounts: one line each, so a
            # payout inside a batch can be matched on its own.
            statement.next_index += len(txs) - 1
            for offset, tx in enumerate(txs):
                tx_direction: Direction = (
                    entry_direction
                    if tx.direction is None
                    else ("credit" if tx.direction == "CRDT" else "debit")
                )
                self._land(
                    statement,
                    tx,
                    index + offset,
                    tx.line_no,
                    minor_units(tx.amount, currency),
                    tx_direction,
                    currency,
                    booking_date,
                    value_date,
                    bank_ref,
                    bank_code,
                    extra,
                )
            return
        self._land(
            statement,
            txs[0] if len(txs) == 1 else self._merge(txs, line_no),
            index,
            line_no,
            amount,
            entry_direction,
            currency,
            booking_date,
            value_date,
            bank_ref,
            bank_code,
            extra,
        )

    def _land(
        self,
        statement: _Statement,
        tx: _Tx,
        index: int,
        line_no: int,
        amount: int,
        direction: Direction,
        currency: str,
        booking_date: date,
        value_date: date | None,
        bank_ref: str | None,
        bank_code: str | None,
        extra: str | None,
    ) -> None:
        summary = statement.summary
        remittance = _tidy(" ".join(tx.remittance) if tx.remittance else (extra or ""))
        e2e = tx.end_to_end_id
        line = BankLine(
            self.tenant,
            summary.account,
            currency,
            amount,
            direction,
            booking_date,
            value_date,
            SourcePosition(self.file, self.sha, self.format, line_no, index, summary.statement_id),
            None if e2e is None or e2e == "NOTPROVIDED" else e2e,
            tx.bank_ref or bank_ref,
            tx.instruction_id,
            tx.trace_id or (find_trace(remittance) if "RACE" in remittance.upper() else None),
            tx.debtor if direction == "credit" else tx.creditor,
            remittance,
            tx.bank_code or bank_code,
        )
        self.out.lines.append(line)
        if currency == summary.currency:
            count_line(summary, line)

    @staticmethod
    def _splits(txs: list[_Tx], currency: str, amount: int, direction: Direction) -> bool:
        """True when every transaction has an amount in the entry's currency and, signed, they
        add up to the entry: only then do its transactions stand for the entry's money."""
        total = 0
        for tx in txs:
            if tx.amount is None or (tx.currency is not None and tx.currency != currency):
                return False
            try:
                value = minor_units(tx.amount, currency)
            except AmountError:
                return False
            if value == 0:
                return False
            tx_direction = tx.direction or ("CRDT" if direction == "credit" else "DBIT")
            total += value if tx_direction == "CRDT" else -value
        return total == (amount if direction == "credit" else -amount)

    @staticmethod
    def _merge(txs: list[_Tx], line_no: int) -> _Tx:
        """Several transactions without their own amounts under one entry: one line for the
        entry, with the references they share and all their remittance text."""

        def shared(values: list[str | None]) -> str | None:
            return values[0] if len(set(values)) == 1 else None

        merged = _Tx(line_no=line_no)
        if txs:
            merged.end_to_end_id = shared([tx.end_to_end_id for tx in txs])
            merged.bank_ref = shared([tx.bank_ref for tx in txs])
            merged.instruction_id = shared([tx.instruction_id for tx in txs])
            merged.trace_id = shared([tx.trace_id for tx in txs])
            merged.debtor = shared([tx.debtor for tx in txs])
            merged.creditor = shared([tx.creditor for tx in txs])
            merged.bank_code = shared([tx.bank_code for tx in txs])
            for tx in txs:
                merged.remittance.extend(tx.remittance)
        return merged

    def _bank_code(self, element: Element) -> str | None:
        t = self.t
        for child in element:
            if child.tag == t.Domn:
                # Domain code, family code, sub-family code: the only texts under Domn, in
                # schema order, so one C-level walk reads them.
                return "/".join(filter(None, (s.strip() for s in child.itertext()))) or None
            if child.tag == t.Prtry:
                return _text(_child(child, t.Cd))
        return None

    def _party(self, element: Element) -> str | None:
        """A party's name: ``Nm`` (up to v6), ``Pty/Nm`` or ``Agt/FinInstnId/Nm`` (v7 on)."""
        t = self.t
        for child in element:
            tag = child.tag
            if tag == t.Nm:
                return squeeze(child.text) or None
            if tag == t.Pty:
                name = _child(child, t.Nm)
                return (squeeze(name.text) or None) if name is not None else None
            if tag == t.Agt:
                institution = _child(child, t.FinInstnId)
                return _text(_child(institution, t.Nm)) if institution is not None else None
        return None

    def _tx(self, element: Element, line_offset: int) -> _Tx:
        t = self.t
        tx = _Tx(line_no=line_offset + (element.sourceline or 0))
        for child in element:
            tag = child.tag
            if tag == t.Refs:
                for ref in child:
                    name = ref.tag
                    if name == t.EndToEndId:
                        tx.end_to_end_id = _text(ref)
                    elif name == t.AcctSvcrRef:
                        tx.bank_ref = _text(ref)
                    elif name == t.InstrId:
                        tx.instruction_id = _text(ref)
                    elif name == t.ClrSysRef:
                        tx.trace_id = _text(ref)
                    elif name == t.Prtry and tx.trace_id is None:
                        kind = _text(_child(ref, t.Tp)) or ""
                        if "TRACE" in kind.upper():
                            tx.trace_id = _text(_child(ref, t.Ref))
            elif tag == t.Amt:
                tx.amount, tx.currency = child.text, child.get("Ccy")
            elif tag == t.CdtDbtInd:
                tx.direction = _text(child)
            elif tag == t.AmtDtls and tx.amount is None:
                tx_amount = _child(child, t.TxAmt)
                amount = _child(tx_amount, t.Amt) if tx_amount is not None else None
                if amount is not None:
                    tx.amount, tx.currency = amount.text, amount.get("Ccy")
            elif tag == t.RltdPties:
                for party in child:
                    name = party.tag
                    if name == t.Dbtr:
                        tx.debtor = self._party(party) or tx.debtor
                    elif name == t.Cdtr:
                        tx.creditor = self._party(party) or tx.creditor
                    elif name == t.UltmtDbtr and tx.debtor is None:
                        tx.debtor = self._party(party)
                    elif name == t.UltmtCdtr and tx.creditor is None:
                        tx.creditor = self._party(party)
            elif tag == t.RmtInf:
                for part in child:
                    if part.tag == t.Ustrd:
                        if part.text:
                            tx.remittance.append(part.text)
                    elif part.tag == t.Strd:
                        self._structured(part, tx.remittance)
            elif tag == t.BkTxCd:
                tx.bank_code = self._bank_code(child)
            elif tag == t.AddtlTxInf and not tx.remittance and child.text:
                tx.remittance.append(child.text)
        return tx

    def _structured(self, element: Element, into: list[str]) -> None:
        t = self.t
        for child in element:
            tag = child.tag
            if tag == t.CdtrRefInf:
                ref = _text(_child(child, t.Ref))
                if ref:
                    into.append(ref)
            elif tag == t.RfrdDocInf:
                number = _text(_child(child, t.Nb))
                if number:
                    into.append(number)
            elif tag == t.AddtlRmtInf and child.text:
                into.append(child.text)


def parse_camt(data: bytes, *, tenant: str, file: str, sha: str, lean: bool = True) -> ParsedFile:
    return CamtParser(data, tenant=tenant, file=file, sha=sha).parse(lean=lean)
