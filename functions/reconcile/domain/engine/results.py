"""What the engine is told (``ReconConfig``) and what it says (``ReconResult``, its tallies and
settlements, and ``CarryResult`` for breaks carried across days)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from functions.reconcile.domain.explain import PayoutExplanation
from functions.reconcile.domain.model import Break, BreakClass


@dataclass(frozen=True, slots=True)
class ReconConfig:
    """Tenant-tunable rules of the day's reconciliation.

    ``grace_days``: a paid payout is a missing settlement only once ``day - arrival_date`` is
    more than this many days. ``date_window_days``: a bank line may be booked this many days
    before or after the payout's arrival date and still match it. ``amount_tolerance``: minor
    units by which two amounts may differ and still match (0: exact). ``settlement_patterns``:
    case-insensitive substrings of a bank line's counterparty or remittance that mark it as a
    gateway settlement (a line with a trace id is one too). ``pairing_max_difference_bp``: a
    leftover payout and a leftover credit pair as a short or excess payment only if their
    amounts differ by at most this many basis points of the payout.
    """

    grace_days: int = 2
    date_window_days: int = 3
    amount_tolerance: int = 0
    settlement_patterns: tuple[str, ...] = ("STRIPE",)
    pairing_max_difference_bp: int = 5_000


@dataclass(frozen=True, slots=True)
class Tally:
    count: int
    amount: int


@dataclass(frozen=True, slots=True)
class SettlementMatch:
    """A payout and the bank line that settled it, and by which rule they were paired."""

    payout_id: str
    line_id: str
    method: str  # "id", "amount", "short" or "excess"
    payout_amount: int
    bank_amount: int
    currency: str
    arrival_date: date
    booking_date: date


@dataclass(frozen=True, slots=True)
class ReconResult:
    """``matches`` files every record of a kind into exactly one category (category → currency
    → count and amount), so each kind's categories add up to its total: ``orders.*`` by order
    amount, ``charges.*`` (succeeded charges) by captured amount, ``payouts.*`` by payout amount,
    ``bank.*`` (bank credits) by line amount. ``totals`` gives per currency the day's sums."""

    tenant: str
    day: date
    breaks: list[Break]
    matches: dict[str, dict[str, Tally]]
    payouts: list[PayoutExplanation]
    settlements: list[SettlementMatch]
    totals: dict[str, dict[str, Tally]]

    def classes(self) -> dict[BreakClass, int]:
        counts: dict[BreakClass, int] = defaultdict(int)
        for brk in self.breaks:
            counts[brk.break_class] += 1
        return dict(counts)


@dataclass(frozen=True, slots=True)
class CarryResult:
    opened: list[Break]
    still_open: list[Break]
    closed: list[Break]


def break_order(brk: Break) -> tuple[str, str, str]:
    """How the engine lists breaks: priority, class, id."""
    return (brk.priority.value, brk.break_class.value, brk.break_id)
