"""Reading a camt document's statements and entries, whichever path found them.

``CamtReader`` holds what a parse has read so far (the statement open now, the lines, the
quarantine) and decides what an entry becomes (``assemble``: lines, a skip, or a quarantine).
The lean path (``camt_lean``) hands it the entries its expression cannot read whole, the tree
path (``camt_tree``) every entry; both hand it the statements' headers, balances and summaries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from lxml import etree  # type: ignore[import-untyped]

from functions.reconcile.domain.bank.camt_common import (
    CONTAINERS,
    NOT_BOOKED,
    CamtStatement,
    Element,
    Tags,
    Tx,
    child_of,
    message_type,
    text_of,
    tidy,
)
from functions.reconcile.domain.bank.common import (
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
from functions.reconcile.domain.bank.dates import iso_date
from functions.reconcile.domain.bank.model import (
    BankLine,
    Direction,
    ParsedFile,
    QuarantinedLine,
    SourcePosition,
    StatementSummary,
)


class CamtReader:
    def __init__(self, data: bytes, *, tenant: str, file: str, sha: str) -> None:
        self.data = data
        self.tenant = tenant
        self.file = file
        self.sha = sha
        self.format, self.namespace = message_type(data)
        self.t = Tags(self.namespace)
        self.container = CONTAINERS[self.format[-3:]][1]
        self.out = ParsedFile(format=self.format, file_sha256=sha)
        self.statement: CamtStatement | None = None
        self.seen_statements = 0
        self.root_checked = False
        # Texts already read on the lean path: a day's entries share a few dates and codes.
        self.dates: dict[str | None, date | None] = {}
        self.codes: dict[tuple[str | None, ...], str] = {}

    # -- statements -----------------------------------------------------------------------------

    def open_statement(self, element: Element) -> CamtStatement:
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
                statement_id = text_of(child)
            elif tag == t.Acct:
                for part in child:
                    if part.tag == t.Id:
                        for choice in part:
                            if choice.tag == t.IBAN:
                                account = text_of(choice) or ""
                            elif choice.tag == t.Othr:
                                account = text_of(child_of(choice, t.Id)) or ""
                    elif part.tag == t.Ccy:
                        currency = text_of(part)
            elif isinstance(tag, str) and tag.endswith("Pgntn"):
                page = text_of(child_of(child, t.PgNb))
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
        self.statement = CamtStatement(element=element, summary=summary)
        return self.statement

    def finish(self, statement: CamtStatement) -> None:
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

    def read_balance(self, element: Element) -> None:
        statement = self.open_statement(element.getparent())
        t = self.t
        kind = amount = currency = sign = None
        for child in element:
            tag = child.tag
            if tag == t.Tp:
                choice = child_of(child, t.CdOrPrtry)
                if choice is not None:
                    kind = text_of(child_of(choice, t.Cd)) or text_of(child_of(choice, t.Prtry))
            elif tag == t.Amt:
                amount, currency = child.text, child.get("Ccy")
            elif tag == t.CdtDbtInd:
                sign = text_of(child)
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

    def read_summary(self, element: Element) -> None:
        statement = self.open_statement(element.getparent())
        summary = statement.summary
        t = self.t

        def read(part: Element, count_key: str, sum_key: str) -> None:
            number = text_of(child_of(part, t.NbOfNtries))
            total = text_of(child_of(part, t.Sum))
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
                net = child_of(child, t.TtlNetNtry)
                amount = text_of(child_of(net, t.Amt)) if net is not None else None
                sign_at = net if net is not None else child
                if amount is None:
                    amount = text_of(child_of(child, t.TtlNetNtryAmt))
                if amount is not None:
                    negative = text_of(child_of(sign_at, t.CdtDbtInd)) == "DBIT"
                    statement.summary_texts.append(("net_total", amount, negative))

    # -- entries --------------------------------------------------------------------------------

    def read_entry(self, ntry: Element, statement: CamtStatement, line_offset: int = 0) -> None:
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
        self.assemble(
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

    def assemble(
        self,
        statement: CamtStatement,
        line_no: int,
        amount_text: str | None,
        currency: str | None,
        direction: str | None,
        status: str | None,
        booked: str | None,
        valued: str | None,
        bank_ref: str | None,
        bank_code: str | None,
        txs: list[Tx],
        extra: str | None,
        raw: Callable[[], str],
    ) -> None:
        """What an entry becomes, however it was read: lines, a skip, or a quarantine."""
        index = statement.next_index
        statement.next_index += 1

        def quarantine(reason: str) -> None:
            self.out.quarantined.append(QuarantinedLine(line_no, reason, raw()[:RAW_LIMIT]))

        if status and status != "BOOK":
            if status in NOT_BOOKED:
                self.out.skipped.append(
                    QuarantinedLine(
                        line_no, f"entry status {status} ({NOT_BOOKED[status]}): not booked", ""
                    )
                )
            else:
                quarantine(f"unknown entry status {shown(status)}")
            return
        try:
            currency = check_currency(currency)
            amount = minor_units(amount_text, currency)
            booking_date = iso_date(booked) or iso_date(valued)
            value_date = iso_date(valued)
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
        statement: CamtStatement,
        tx: Tx,
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
        remittance = tidy(" ".join(tx.remittance) if tx.remittance else (extra or ""))
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
    def _splits(txs: list[Tx], currency: str, amount: int, direction: Direction) -> bool:
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
    def _merge(txs: list[Tx], line_no: int) -> Tx:
        """Several transactions without their own amounts under one entry: one line for the
        entry, with the references they share and all their remittance text."""

        def shared(values: list[str | None]) -> str | None:
            return values[0] if len(set(values)) == 1 else None

        merged = Tx(line_no=line_no)
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
                return text_of(child_of(child, t.Cd))
        return None

    def _party(self, element: Element) -> str | None:
        """A party's name: ``Nm`` (up to v6), ``Pty/Nm`` or ``Agt/FinInstnId/Nm`` (v7 on)."""
        t = self.t
        for child in element:
            tag = child.tag
            if tag == t.Nm:
                return squeeze(child.text) or None
            if tag == t.Pty:
                name = child_of(child, t.Nm)
                return (squeeze(name.text) or None) if name is not None else None
            if tag == t.Agt:
                institution = child_of(child, t.FinInstnId)
                return text_of(child_of(institution, t.Nm)) if institution is not None else None
        return None

    def _tx(self, element: Element, line_offset: int) -> Tx:
        t = self.t
        tx = Tx(line_no=line_offset + (element.sourceline or 0))
        for child in element:
            tag = child.tag
            if tag == t.Refs:
                for ref in child:
                    name = ref.tag
                    if name == t.EndToEndId:
                        tx.end_to_end_id = text_of(ref)
                    elif name == t.AcctSvcrRef:
                        tx.bank_ref = text_of(ref)
                    elif name == t.InstrId:
                        tx.instruction_id = text_of(ref)
                    elif name == t.ClrSysRef:
                        tx.trace_id = text_of(ref)
                    elif name == t.Prtry and tx.trace_id is None:
                        kind = text_of(child_of(ref, t.Tp)) or ""
                        if "TRACE" in kind.upper():
                            tx.trace_id = text_of(child_of(ref, t.Ref))
            elif tag == t.Amt:
                tx.amount, tx.currency = child.text, child.get("Ccy")
            elif tag == t.CdtDbtInd:
                tx.direction = text_of(child)
            elif tag == t.AmtDtls and tx.amount is None:
                tx_amount = child_of(child, t.TxAmt)
                amount = child_of(tx_amount, t.Amt) if tx_amount is not None else None
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
                ref = text_of(child_of(child, t.Ref))
                if ref:
                    into.append(ref)
            elif tag == t.RfrdDocInf:
                number = text_of(child_of(child, t.Nb))
                if number:
                    into.append(number)
            elif tag == t.AddtlRmtInf and child.text:
                into.append(child.text)
