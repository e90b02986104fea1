"""The normalised bank line: one booked entry of a statement, whatever the file format.

Plain slotted dataclasses rather than pydantic models: a day's camt.053 for a large tenant has
hundreds of thousands of entries and the parser must keep above 100,000 entries per second.
Amounts are positive integers of minor units; the sign lives in ``direction``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Direction = Literal["credit", "debit"]
FileFormat = Literal["csv", "mt940", "camt053", "camt054", "bai2"]


@dataclass(frozen=True, slots=True)
class SourcePosition:
    """Where a line came from, so an operator can open the file at the right place."""

    file: str  # S3 key or local path
    file_sha256: str
    format: FileFormat
    line_no: int  # 1-based line of the file where the entry starts (XML: the <Ntry> line)
    entry_index: int  # 0-based position of the entry in its statement
    statement_id: str | None = None


@dataclass(frozen=True, slots=True)
class BankLine:
    tenant: str
    account: str  # IBAN or the bank's account number, as the file shows it
    currency: str
    amount: int  # minor units, > 0
    direction: Direction
    booking_date: date
    value_date: date | None
    source: SourcePosition
    end_to_end_id: str | None = None
    bank_ref: str | None = None  # the bank's own reference (MT940 bank ref, camt AcctSvcrRef)
    customer_ref: str | None = None  # MT940 customer ref / KREF, camt InstrId, BAI2 customer ref
    trace_id: str | None = None  # ACH trace / Stripe payout trace where the bank shows it
    counterparty: str | None = None
    remittance: str = ""
    bank_code: str | None = None  # the format's transaction type code (BAI2 type, camt domain)

    @property
    def signed_amount(self) -> int:
        return self.amount if self.direction == "credit" else -self.amount

    @property
    def line_id(self) -> str:
        """Stable identity: the same file dropped twice gives the same ids; two genuine,
        identical payments differ by their position in the statement."""
        key = "|".join(
            (
                self.tenant,
                self.account,
                self.source.statement_id or self.source.file_sha256,
                str(self.source.entry_index),
            )
        )
        return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class QuarantinedLine:
    line_no: int
    reason: str
    raw: str


@dataclass(slots=True)
class StatementSummary:
    """One statement (MT940 message, camt Stmt/Ntfctn, BAI2 account record) and its checks."""

    account: str
    currency: str
    statement_id: str | None
    opening_balance: int | None = None  # signed minor units
    closing_balance: int | None = None
    credit_count: int = 0
    credit_total: int = 0
    debit_count: int = 0
    debit_total: int = 0
    # What the file itself declares (BAI2 control totals, camt TxsSummry, balances), and whether
    # our parsed lines agree with it. None where the file declares nothing to check against.
    declared: dict[str, int] = field(default_factory=dict)
    control_ok: bool | None = None
    # Why control_ok is False, in words an operator can act on (one item per failed check).
    problems: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ParsedFile:
    format: FileFormat
    file_sha256: str
    lines: list[BankLine] = field(default_factory=list)
    quarantined: list[QuarantinedLine] = field(default_factory=list)
    statements: list[StatementSummary] = field(default_factory=list)
    # Entries read correctly but not landed on purpose (not booked yet, zero amount): listed so
    # that nothing leaves the file unaccounted for, yet not errors like the quarantine.
    skipped: list[QuarantinedLine] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Nothing quarantined and no statement failed a check the file declared."""
        return not self.quarantined and all(s.control_ok is not False for s in self.statements)

    def totals(self) -> dict[str, dict[str, int]]:
        """Per currency: credit and debit counts and sums of the lines that landed."""
        out: dict[str, dict[str, int]] = {}
        for line in self.lines:
            row = out.setdefault(
                line.currency, {"credit_count": 0, "credit": 0, "debit_count": 0, "debit": 0}
            )
            row[f"{line.direction}_count"] += 1
            row[line.direction] += line.amount
        return out
