"""ISO 20022 camt.053 (statement) and camt.054 (debit/credit notification), any version.

The message type comes from the document's namespace (``…:camt.053.001.NN``), so versions 02
to 08 and later ones read alike; where versions differ (``Sts`` as text or ``Sts/Cd``, party
names under ``Dbtr/Nm`` or ``Dbtr/Pty/Nm``, transaction amounts under ``TxDtls/Amt`` or
``AmtDtls/TxAmt/Amt``) both shapes are read.

Speed: a large tenant's day is hundreds of thousands of entries. lxml's ``iterparse`` hands us
each ``<Ntry>`` once it is complete; we read its children in one pass (no XPath, no
ElementPath) and drop it from the tree, so memory stays flat however long the statement is.

Safety: no DTD is accepted (a camt file has none; refusing it rules out entity expansion and
external entities), entities are not resolved, nothing is fetched, huge-tree mode stays off.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from functions.reconcile.bank.common import (
    AmountError,
    BankFileError,
    check_currency,
    count_line,
    find_trace,
    minor_units,
    settle,
    squeeze,
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
    rb"""xmlns(?::[\w.-]+)?\s*=\s*["'](urn:iso:std:iso:20022:tech:xsd:camt\.(\d{3})\.001\.(\d+))["']"""
)
_FORBIDDEN = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_CONTAINERS = {"053": ("BkToCstmrStmt", "Stmt"), "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}
_FORMATS: dict[str, FileFormat] = {"053": "camt053", "054": "camt054"}
_NOT_BOOKED = {"PDNG": "pending", "INFO": "information only", "FUTR": "future-dated"}
_RAW_LIMIT = 4000

# Local names of every element the parser looks at; each becomes "{namespace}Name" once per
# file so that the hot loop compares ready-made strings.
_NAMES = (
    "Document",
    "Stmt",
    "Ntfctn",
    "Id",
    "Acct",
    "IBAN",
    "Othr",
    "Ccy",
    "Bal",
    "Tp",
    "CdOrPrtry",
    "Cd",
    "Prtry",
    "Amt",
    "CdtDbtInd",
    "Dt",
    "DtTm",
    "TxsSummry",
    "TtlNtries",
    "TtlCdtNtries",
    "TtlDbtNtries",
    "NbOfNtries",
    "Sum",
    "TtlNetNtry",
    "TtlNetNtryAmt",
    "Ntry",
    "Sts",
    "BookgDt",
    "ValDt",
    "AcctSvcrRef",
    "BkTxCd",
    "Domn",
    "Fmly",
    "SubFmlyCd",
    "NtryDtls",
    "TxDtls",
    "AddtlNtryInf",
    "Refs",
    "EndToEndId",
    "InstrId",
    "TxId",
    "PmtInfId",
    "ClrSysRef",
    "AmtDtls",
    "TxAmt",
    "RltdPties",
    "Dbtr",
    "Cdtr",
    "UltmtDbtr",
    "UltmtCdtr",
    "Nm",
    "Pty",
    "Agt",
    "FinInstnId",
    "RmtInf",
    "Ustrd",
    "Strd",
    "CdtrRefInf",
    "Ref",
    "AddtlRmtInf",
    "RfrdDocInf",
    "Nb",
    "AddtlTxInf",
    "RvslInd",
)


class _Tags:
    """The namespaced tag of each name, as attributes (``tags.Ntry``)."""

    def __init__(self, namespace: str) -> None:
        for name in _NAMES:
            setattr(self, name, f"{{{namespace}}}{name}")

    def __getattr__(self, name: str) -> str:  # only for the type checker; all are set above
        raise AttributeError(name)


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


def _text(element: Element | None) -> str | None:
    if element is None:
        return None
    value = element.text
    if value is None:
        return None
    value = value.strip()
    return value or None


class CamtParser:
    def __init__(self, data: bytes, *, tenant: str, file: str, sha: str) -> None:
        self.data = data
        self.tenant = tenant
        self.file = file
        self.sha = sha
        self.format, namespace = message_type(data)
        self.t = _Tags(namespace)
        self.out = ParsedFile(format=self.format, file_sha256=sha)
        self.statement: _Statement | None = None
        self.seen_statements = 0

    # -- the document ---------------------------------------------------------------------------

    def parse(self) -> ParsedFile:
        root_at = self.data.find(b"<Document")
        head = self.data[: root_at if root_at >= 0 else 65536]
        if _FORBIDDEN.search(head):
            raise BankFileError("XML with a DTD or entity declarations is refused")
        t = self.t
        container = getattr(t, _CONTAINERS[self.format[-3:]][1])
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
                    self._entry(element)
                    element.clear()
                    parent = element.getparent()
                    while element.getprevious() is not None:
                        del parent[0]
                elif tag == bal:
                    self._balance(element)
                elif tag == summary:
                    self._summary(element)
                else:
                    self._close(element)
        except etree.XMLSyntaxError as error:
            self._broken(error)
        if not self.seen_statements:
            what = _CONTAINERS[self.format[-3:]][1]
            raise BankFileError(f"no statement ({what}) in the file")
        return self.out

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
                raw=raw[:_RAW_LIMIT],
            )
        )
        if self.statement is not None:
            self.statement.summary.problems.append(
                f"statement incomplete: the file breaks off at line {line_no}"
            )
            self._finish(self.statement)
            self.statement = None

    # -- statements -----------------------------------------------------------------------------

    def _open(self, element: Element) -> _Statement:
        """The statement an entry or balance belongs to; started on its first child we see."""
        current = self.statement
        if current is not None and current.element is element:
            return current
        if current is not None:  # pragma: no cover - a statement always ends before the next
            self._finish(current)
        if self.seen_statements == 0:
            root = element.getroottree().getroot()
            if root.tag != self.t.Document:
                raise BankFileError(f"root element is {root.tag}, not the camt Document")
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
                                account = _text(choice.find(t.Id)) or ""
                    elif part.tag == t.Ccy:
                        currency = _text(part)
            elif isinstance(tag, str) and tag.endswith("Pgntn"):
                page = _text(child.find(f"{tag[: tag.index('}') + 1]}PgNb"))
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

    def _close(self, element: Element) -> None:
        statement = self._open(element)
        self._finish(statement)
        self.statement = None
        element.clear()
        parent = element.getparent()
        if parent is not None:
            parent.remove(element)

    def _finish(self, statement: _Statement) -> None:
        summary = statement.summary
        if not summary.currency:
            summary.currency = next(iter(statement.foreign), "")
            statement.foreign.discard(summary.currency)
        if statement.foreign:
            summary.problems.append(
                "entries in " + ", ".join(sorted(statement.foreign)) + " are left out of the "
                f"{summary.currency} totals"
            )
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
                choice = child.find(t.CdOrPrtry)
                if choice is not None:
                    kind = _text(choice.find(t.Cd)) or _text(choice.find(t.Prtry))
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
        currency = summary.currency or "EUR"

        def read(part: Element, count_key: str, sum_key: str) -> None:
            number = _text(part.find(t.NbOfNtries))
            total = _text(part.find(t.Sum))
            try:
                if number is not None:
                    summary.declared[count_key] = int(number)
                if total is not None:
                    summary.declared[sum_key] = minor_units(total, currency)
            except (AmountError, ValueError) as error:
                summary.problems.append(f"transaction summary unreadable: {error}")

        for child in element:
            tag = child.tag
            if tag == t.TtlCdtNtries:
                read(child, "credit_count", "credit_total")
            elif tag == t.TtlDbtNtries:
                read(child, "debit_count", "debit_total")
            elif tag == t.TtlNtries:
                read(child, "entry_count", "entries_total")
                net = child.find(t.TtlNetNtry)
                amount = _text(net.find(t.Amt)) if net is not None else None
                sign_at = net if net is not None else child
                if amount is None:
                    amount = _text(child.find(t.TtlNetNtryAmt))
                if amount is not None:
                    try:
                        value = minor_units(amount, currency)
                    except AmountError as error:
                        summary.problems.append(f"transaction summary unreadable: {error}")
                        continue
                    negative = _text(sign_at.find(t.CdtDbtInd)) == "DBIT"
                    summary.declared["net_total"] = -value if negative else value

    # -- entries --------------------------------------------------------------------------------

    def _quarantine(self, element: Element, reason: str, line_no: int | None = None) -> None:
        raw = etree.tostring(element, encoding="unicode", with_tail=False)
        self.out.quarantined.append(
            QuarantinedLine(
                line_no=line_no or element.sourceline or 0, reason=reason, raw=raw[:_RAW_LIMIT]
            )
        )

    def _entry(self, ntry: Element) -> None:
        statement = self._open(ntry.getparent())
        index = statement.next_index
        statement.next_index += 1
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
        status = status.strip() if status else None
        if status and status != "BOOK":
            if status in _NOT_BOOKED:
                self.out.skipped.append(
                    QuarantinedLine(
                        line_no=ntry.sourceline or 0,
                        reason=f"entry status {status} ({_NOT_BOOKED[status]}): not booked",
                        raw="",
                    )
                )
                return
            self._quarantine(ntry, f"unknown entry status {status!r}")
            return
        try:
            currency = check_currency(currency)
            amount = minor_units(amount_text, currency)
            booking_date = _date(booked) or _date(valued)
            value_date = _date(valued)
        except (AmountError, ValueError) as error:
            self._quarantine(ntry, f"entry unreadable: {error}")
            return
        if direction not in ("CRDT", "DBIT"):
            self._quarantine(ntry, f"credit/debit indicator is {direction!r}, not CRDT or DBIT")
            return
        if booking_date is None:
            self._quarantine(ntry, "entry has neither a booking date nor a value date")
            return
        if amount == 0:
            self.out.skipped.append(
                QuarantinedLine(line_no=ntry.sourceline or 0, reason="zero amount", raw="")
            )
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
        txs = [self._tx(tx) for tx in details]
        split = len(txs) > 1 and self._splits(txs, currency, amount, entry_direction)
        if split:
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
            txs[0] if len(txs) == 1 else self._merge(txs, ntry.sourceline or 0),
            index,
            ntry.sourceline or 0,
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
        remittance = " ".join(tx.remittance) if tx.remittance else (extra or "")
        if (
            "  " in remittance
            or not remittance.isprintable()
            or remittance[:1] == " "
            or remittance[-1:] == " "
        ):
            remittance = squeeze(remittance)
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
            tx.bank_ref or (bank_ref.strip() if bank_ref else None),
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
            distinct = set(values)
            return values[0] if len(distinct) == 1 else None

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
                parts = [_text(child.find(t.Cd))]
                family = child.find(t.Fmly)
                if family is not None:
                    parts += [_text(family.find(t.Cd)), _text(family.find(t.SubFmlyCd))]
                return "/".join(p for p in parts if p) or None
            if child.tag == t.Prtry:
                return _text(child.find(t.Cd))
        return None

    def _party(self, element: Element) -> str | None:
        """A party's name: ``Nm`` (up to v6), ``Pty/Nm`` or ``Agt/FinInstnId/Nm`` (v7 on)."""
        t = self.t
        for child in element:
            tag = child.tag
            if tag == t.Nm:
                return squeeze(child.text) or None
            if tag == t.Pty:
                name = child.find(t.Nm)
                return squeeze(name.text) or None if name is not None else None
            if tag == t.Agt:
                institution = child.find(t.FinInstnId)
                return _text(institution.find(t.Nm)) if institution is not None else None
        return None

    def _tx(self, element: Element) -> _Tx:
        t = self.t
        tx = _Tx(line_no=element.sourceline or 0)
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
                        kind = _text(ref.find(t.Tp)) or ""
                        if "TRACE" in kind.upper():
                            tx.trace_id = _text(ref.find(t.Ref))
            elif tag == t.Amt:
                tx.amount, tx.currency = child.text, child.get("Ccy")
            elif tag == t.CdtDbtInd:
                tx.direction = _text(child)
            elif tag == t.AmtDtls and tx.amount is None:
                tx_amount = child.find(t.TxAmt)
                if tx_amount is not None:
                    amount = tx_amount.find(t.Amt)
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
                ref = _text(child.find(t.Ref))
                if ref:
                    into.append(ref)
            elif tag == t.RfrdDocInf:
                number = _text(child.find(t.Nb))
                if number:
                    into.append(number)
            elif tag == t.AddtlRmtInf and child.text:
                into.append(child.text)


def parse_camt(data: bytes, *, tenant: str, file: str, sha: str) -> ParsedFile:
    return CamtParser(data, tenant=tenant, file=file, sha=sha).parse()
