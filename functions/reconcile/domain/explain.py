"""How the bank arrived at a payout's amount: its balance transactions, filed by component.

Every component is the signed contribution to the payout (fees and refunds are negative), so
that, for balance transactions whose ``net == amount - fee`` (the gateway's invariant), the
components add up to the net exactly. The engine sums transactions per payout and category once;
this module only arranges those sums, so it does no per-transaction work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from functions.reconcile.domain.amounts import money
from functions.reconcile.domain.model import (
    CATEGORY_CHARGE,
    CATEGORY_DISPUTE,
    CATEGORY_DISPUTE_REVERSAL,
    CATEGORY_FEE,
    CATEGORY_PAYOUT,
    CATEGORY_REFUND,
    PayoutRecord,
)

# Categories that reverse a charge or a refund belong with them: an ACH charge failing takes the
# gross back, a refund failing gives the refund back.
_CHARGE_LIKE = frozenset({CATEGORY_CHARGE, "charge_failure", "payment", "payment_failure"})
_REFUND_LIKE = frozenset({CATEGORY_REFUND, "refund_failure", "payment_refund"})
_DISPUTE_LIKE = frozenset({CATEGORY_DISPUTE, CATEGORY_DISPUTE_REVERSAL})

# Unknown charge ids listed by name in an explanation; the count says how many there were.
UNKNOWN_LISTED = 10


@dataclass(frozen=True, slots=True)
class CategorySums:
    count: int
    amount: int
    fee: int
    net: int


@dataclass(frozen=True, slots=True)
class PayoutExplanation:
    """One payout, component by component (minor units of ``currency``, signed)."""

    payout_id: str
    currency: str
    status: str
    arrival_date: date
    payout_amount: int
    transaction_count: int
    charge_count: int
    gross_charges: int
    fees: int  # processing fees on charges and refunds, and the gateway's own fee items
    refund_count: int
    refunds: int
    dispute_count: int
    disputes: int
    dispute_reversal_count: int
    dispute_reversals: int
    dispute_fees: int
    adjustment_count: int
    adjustments: int  # every other category (adjustments, reserves, transfers, tax, …)
    net: int  # the sum of the transactions' own ``net``
    categories: tuple[tuple[str, CategorySums], ...]
    unknown_charge_count: int = 0  # charge transactions naming a charge we hold no record of
    unknown_charge_ids: tuple[str, ...] = ()

    @property
    def components(self) -> tuple[tuple[str, int | None, int], ...]:
        """(label, count or None, signed amount), in the order a statement reads."""
        return (
            ("gross charges", self.charge_count, self.gross_charges),
            ("fees", None, self.fees),
            ("refunds", self.refund_count, self.refunds),
            ("disputes", self.dispute_count, self.disputes),
            ("dispute reversals", self.dispute_reversal_count, self.dispute_reversals),
            ("dispute fees", None, self.dispute_fees),
            ("adjustments", self.adjustment_count, self.adjustments),
        )

    @property
    def components_total(self) -> int:
        return sum(amount for _, _, amount in self.components)

    @property
    def consistent(self) -> bool:
        """Whether every transaction kept ``net == amount - fee`` (the components add up)."""
        return self.components_total == self.net

    @property
    def difference(self) -> int:
        """Payout minus the transactions' net: zero when the payout is fully explained."""
        return self.payout_amount - self.net

    def text(self) -> str:
        currency = self.currency

        def signed(amount: int) -> str:
            return money(amount, currency).format(grouping=True, signed=True)

        lines = [
            f"Payout {self.payout_id} of "
            f"{money(self.payout_amount, currency).format(grouping=True)}, "
            f"arriving {self.arrival_date.isoformat()} ({self.status}), "
            f"{self.transaction_count} balance transactions:"
        ]
        for label, count, amount in self.components:
            if not count and amount == 0:
                continue
            counted = f"{count:>9,} x" if count is not None else " " * 11
            lines.append(f"  {label:<18}{counted} {signed(amount):>22}")
        lines.append(f"  {'= net':<29} {signed(self.net):>22}")
        if not self.consistent:
            lines.append(
                "  the transactions' nets differ from amount minus fee by "
                f"{signed(self.net - self.components_total)}"
            )
        if self.difference == 0:
            lines.append("  the payout equals the net of its transactions")
        else:
            lines.append(
                f"  the payout differs from the net of its transactions by "
                f"{signed(self.difference)}"
            )
        if self.unknown_charge_count:
            listed = ", ".join(self.unknown_charge_ids)
            more = self.unknown_charge_count - len(self.unknown_charge_ids)
            lines.append(
                f"  {self.unknown_charge_count} settled charges are unknown to us: {listed}"
                + (f" and {more} more" if more > 0 else "")
            )
        return "\n".join(lines)


def explain_payout(
    payout: PayoutRecord,
    sums: Mapping[str, CategorySums],
    unknown_charge_ids: Sequence[str] = (),
) -> PayoutExplanation:
    """Arrange a payout's per-category sums into components (``sums`` leaves out nothing; the
    payout's own ``payout`` transaction is skipped here)."""
    charge_count = gross = fees = 0
    refund_count = refunds = 0
    dispute_count = disputes = reversal_count = reversals = dispute_fees = 0
    adjustment_count = adjustments = 0
    net = count = 0
    kept: list[tuple[str, CategorySums]] = []
    for category in sorted(sums):
        if category == CATEGORY_PAYOUT:
            continue
        row = sums[category]
        kept.append((category, row))
        count += row.count
        net += row.net
        if category in _DISPUTE_LIKE:
            dispute_fees -= row.fee
            if category == CATEGORY_DISPUTE:
                dispute_count += row.count
                disputes += row.amount
            else:
                reversal_count += row.count
                reversals += row.amount
            continue
        fees -= row.fee
        if category in _CHARGE_LIKE:
            charge_count += row.count
            gross += row.amount
        elif category in _REFUND_LIKE:
            refund_count += row.count
            refunds += row.amount
        elif category == CATEGORY_FEE:
            fees += row.amount
        else:
            adjustment_count += row.count
            adjustments += row.amount
    unknown = sorted(unknown_charge_ids)
    return PayoutExplanation(
        payout_id=payout.payout_id,
        currency=payout.currency,
        status=payout.status,
        arrival_date=payout.arrival_date,
        payout_amount=payout.amount,
        transaction_count=count,
        charge_count=charge_count,
        gross_charges=gross,
        fees=fees,
        refund_count=refund_count,
        refunds=refunds,
        dispute_count=dispute_count,
        disputes=disputes,
        dispute_reversal_count=reversal_count,
        dispute_reversals=reversals,
        dispute_fees=dispute_fees,
        adjustment_count=adjustment_count,
        adjustments=adjustments,
        net=net,
        categories=tuple(kept),
        unknown_charge_count=len(unknown),
        unknown_charge_ids=tuple(unknown[:UNKNOWN_LISTED]),
    )
