"""The state one reconciliation builds up as its stages run: the ledger that files every
record into exactly one category, the breaks with their stable ids, the settlements and the
payout explanations; and the result made from them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from functions.reconcile.domain.engine.results import (
    ReconConfig,
    ReconResult,
    SettlementMatch,
    Tally,
    break_order,
)
from functions.reconcile.domain.explain import PayoutExplanation
from functions.reconcile.domain.model import (
    PRIORITY,
    Break,
    BreakClass,
    BreakKeys,
    DayInputs,
    SuggestedAction,
    break_id,
)


@dataclass(slots=True)
class Ledger:
    """Running (count, amount) per (category, currency)."""

    rows: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def add(self, category: str, currency: str, count: int, amount: int) -> None:
        row = self.rows.get((category, currency))
        if row is None:
            self.rows[(category, currency)] = [count, amount]
        else:
            row[0] += count
            row[1] += amount

    def get(self, category: str, currency: str) -> tuple[int, int]:
        row = self.rows.get((category, currency))
        return (row[0], row[1]) if row else (0, 0)

    def by_category(self) -> dict[str, dict[str, Tally]]:
        out: dict[str, dict[str, Tally]] = {}
        for (category, currency), (count, amount) in sorted(self.rows.items()):
            if count or amount:
                out.setdefault(category, {})[currency] = Tally(count, amount)
        return out


def sum_by_currency(
    records: Sequence[object], currency_of: attrgetter[str], amount_of: attrgetter[int]
) -> dict[str, tuple[int, int]]:
    """(count, amount) per currency, at C speed when the day has one currency (the usual)."""
    currencies = set(map(currency_of, records))
    if len(currencies) == 1:
        (only,) = currencies
        return {only: (len(records), sum(map(amount_of, records)))}
    out: dict[str, list[int]] = {}
    for record in records:
        row = out.setdefault(currency_of(record), [0, 0])
        row[0] += 1
        row[1] += amount_of(record)
    return {currency: (row[0], row[1]) for currency, row in out.items()}


class DayRun:
    """One day being reconciled: its inputs, and what the stages have found so far (the
    ledger of categories, the breaks, the settlements, the payout explanations)."""

    def __init__(self, inputs: DayInputs, config: ReconConfig) -> None:
        self.inputs = inputs
        self.config = config
        self.tenant = inputs.tenant
        self.day = inputs.day
        self.ledger = Ledger()
        self.breaks: list[Break] = []
        self.settlements: list[SettlementMatch] = []
        self.explanations: list[PayoutExplanation] = []
        # Refunds on their way are not money we still hold: never suggest refunding it twice.
        self.pending_refunds: dict[str, int] = defaultdict(int)
        self.pending_orders: set[str | None] = set()
        for refund in inputs.refunds:
            if refund.status == "pending":
                self.pending_refunds[refund.payment_id] += refund.amount
                self.pending_orders.add(refund.order_id)

    def add_break(
        self,
        break_class: BreakClass,
        identity: BreakKeys,
        *,
        currency: str | None,
        amount: int,
        explanation: str,
        keys: BreakKeys = (),
        expected: int | None = None,
        actual: int | None = None,
        action: SuggestedAction | None = None,
    ) -> str:
        bid = break_id(self.tenant, break_class, identity)
        involved = list(identity)
        for key in keys:
            if key not in involved:
                involved.append(key)
        self.breaks.append(
            Break(
                break_id=bid,
                tenant=self.tenant,
                break_class=break_class,
                priority=PRIORITY[break_class],
                currency=currency,
                amount=amount,
                keys=tuple(involved),
                explanation=explanation,
                first_seen=self.day,
                expected=expected,
                actual=actual,
                suggested_action=action,
            )
        )
        return bid

    def result(self) -> ReconResult:
        matches = self.ledger.by_category()
        totals: dict[str, dict[str, Tally]] = defaultdict(dict)
        for name, prefix in (
            ("orders", "orders."),
            ("charged", "charges."),
            ("payouts", "payouts."),
            ("bank_credits", "bank."),
            ("disputes", "disputes."),
        ):
            for category, per_currency in matches.items():
                if not category.startswith(prefix):
                    continue
                for currency, tally in per_currency.items():
                    have = totals[currency].get(name, Tally(0, 0))
                    totals[currency][name] = Tally(
                        have.count + tally.count, have.amount + tally.amount
                    )
        for brk in self.breaks:
            currency = brk.currency or ""
            name = f"breaks_{brk.priority.value}"
            have = totals[currency].get(name, Tally(0, 0))
            totals[currency][name] = Tally(have.count + 1, have.amount + brk.amount)
        return ReconResult(
            tenant=self.tenant,
            day=self.day,
            breaks=sorted(self.breaks, key=break_order),
            matches=matches,
            payouts=self.explanations,
            settlements=sorted(self.settlements, key=attrgetter("payout_id")),
            totals={currency: dict(sorted(t.items())) for currency, t in sorted(totals.items())},
        )
