"""Charges ↔ payouts: what each payout is made of.

The balance transactions a payout swept are summed per category once (in runs, at C speed),
arranged into the payout's explanation (``domain.explain``), joined to our charges to find the
settled charges we hold no record of, and a paid payout whose amount is not the net of its
transactions is a composition mismatch.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import groupby
from operator import attrgetter

from functions.reconcile.domain.amounts import money
from functions.reconcile.domain.engine.day import DayRun
from functions.reconcile.domain.engine.wording import counted
from functions.reconcile.domain.explain import CategorySums, explain_payout
from functions.reconcile.domain.model import (
    CATEGORY_CHARGE,
    CATEGORY_PAYOUT,
    PAYOUT_FAILED_AFTER_PAID,
    PAYOUT_PAID,
    BreakClass,
)


def payout_composition(run: DayRun) -> None:
    payouts = run.inputs.payouts
    by_id = {p.payout_id: p for p in payouts}
    if len(by_id) != len(payouts):
        raise ValueError("a payout id appears twice in the day's payouts")
    txns = run.inputs.balance_txns
    # The loader reads transactions by payout, so they come in runs of one payout: sum
    # each run at C speed, charges (most of a run) as the run less its other categories.
    # Runs of the same payout apart from each other add up all the same.
    sums: dict[str, dict[str, list[int]]] = defaultdict(dict)
    currency_of: dict[str, str] = {}
    for payout_id, batch in groupby(txns, key=attrgetter("payout_id")):
        run_txns = list(batch)
        charge_row = [
            len(run_txns),
            sum(map(attrgetter("amount"), run_txns)),
            sum(map(attrgetter("fee"), run_txns)),
            sum(map(attrgetter("net"), run_txns)),
        ]
        rows = sums[payout_id]
        currency_of.setdefault(payout_id, run_txns[0].currency)
        for txn in [t for t in run_txns if t.reporting_category != CATEGORY_CHARGE]:
            values = (1, txn.amount, txn.fee, txn.net)
            row = rows.setdefault(txn.reporting_category, [0, 0, 0, 0])
            for k in range(4):
                row[k] += values[k]
                charge_row[k] -= values[k]
        if charge_row[0]:
            row = rows.setdefault(CATEGORY_CHARGE, [0, 0, 0, 0])
            for k in range(4):
                row[k] += charge_row[k]

    # The join to our charges: which settled charges we hold no record of.
    strangers = {t.source_id for t in txns if t.reporting_category == CATEGORY_CHARGE}
    strangers.difference_update(map(attrgetter("charge_id"), run.inputs.charges))
    unknown: dict[str, list[str]] = defaultdict(list)
    if strangers:
        for txn in txns:
            if txn.source_id in strangers and txn.reporting_category == CATEGORY_CHARGE:
                unknown[txn.payout_id].append(txn.source_id or txn.txn_id)

    per_payout = {
        payout_id: {category: CategorySums(*row) for category, row in rows.items()}
        for payout_id, rows in sums.items()
    }
    for payout_id in sorted(per_payout.keys() - by_id.keys()):
        for category, orphan in per_payout[payout_id].items():
            if category != CATEGORY_PAYOUT:
                run.ledger.add(
                    "balance_txns.unknown_payout",
                    currency_of[payout_id],
                    orphan.count,
                    orphan.net,
                )
    for payout in sorted(payouts, key=attrgetter("payout_id")):
        explanation = explain_payout(
            payout, per_payout.get(payout.payout_id, {}), unknown.get(payout.payout_id, ())
        )
        run.explanations.append(explanation)
        for category, settled in explanation.categories:
            run.ledger.add(f"settled.{category}", payout.currency, settled.count, settled.net)
        if payout.status not in (PAYOUT_PAID, PAYOUT_FAILED_AFTER_PAID):
            continue  # the gateway files a payout's transactions once it is paid
        if explanation.difference == 0:
            continue
        amount = money(payout.amount, payout.currency).format(grouping=True)
        run.add_break(
            BreakClass.PAYOUT_COMPOSITION_MISMATCH,
            (("payout_id", payout.payout_id),),
            currency=payout.currency,
            amount=abs(explanation.difference),
            expected=payout.amount,
            actual=explanation.net,
            explanation=(
                f"Payout {payout.payout_id} is {amount} but "
                f"its {counted(explanation.transaction_count, 'balance transaction')} net to "
                f"{money(explanation.net, payout.currency).format(grouping=True)}."
                if explanation.transaction_count
                else f"Payout {payout.payout_id} of {amount} has no balance transactions filed."
            ),
        )
