"""Amounts as the reconciliation shows them: the kernel's ``Money`` and its text methods.

Reports, break explanations and bank-file problems say amounts with ``Money.format`` and
``Money.decimal_text`` only. ``money`` builds the ``Money`` without its storage bound: a bank
file may carry up to 18 digits of minor units (docs/bank-files.md), more than the system
stores (15), and a hostile file's amount must still be shown in the break or problem it
causes, never crash the run. The currency is kept as the record carries it.
"""

from __future__ import annotations

from shared.money import Money


def money(amount: int, currency: str) -> Money:
    """``Money`` for showing ``amount`` (minor units) of ``currency``; no bound, no validation
    (the records are already validated)."""
    return Money.model_construct(amount=amount, currency=currency)
