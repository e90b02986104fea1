"""Three-way reconciliation of one tenant's day: orders ↔ payments, payouts ↔ bank, and what
each payout is made of. Pure: no I/O, no clock; the same inputs in any order give the same
result.

A day of a large tenant is a million orders, so nothing here pairs records one against another:
every join is a dict keyed by an id, every grouping a dict of sums, every date window a bisect
over sorted ordinals. The common case (one succeeded charge paying one active order exactly)
is decided in one tight loop; only the orders that are not that case go through the careful,
slower judgement, and those are few. Matching rules and break classes are in
``docs/reconciliation.md``.

The stages, one module each, fill one ``DayRun`` (``day``): ``orders_charges`` (orders ↔
charges, disputes), ``refunds_failed`` (refunds the gateway failed or canceled, whose money is
held again), ``charges_payouts`` (what each payout is made of), ``payouts_bank``
(payouts ↔ bank lines); ``wording`` words the breaks; ``carry`` carries breaks across days.
"""

from __future__ import annotations

from functions.reconcile.domain.engine.carry import carry_forward, split_by_scope
from functions.reconcile.domain.engine.charges_payouts import payout_composition
from functions.reconcile.domain.engine.day import DayRun
from functions.reconcile.domain.engine.orders_charges import orders_and_payments
from functions.reconcile.domain.engine.payouts_bank import payouts_and_bank
from functions.reconcile.domain.engine.refunds_failed import failed_refunds
from functions.reconcile.domain.engine.results import (
    CarryResult,
    ReconConfig,
    ReconResult,
    SettlementMatch,
    Tally,
)
from functions.reconcile.domain.model import DayInputs

__all__ = [
    "CarryResult",
    "ReconConfig",
    "ReconResult",
    "SettlementMatch",
    "Tally",
    "carry_forward",
    "reconcile",
    "split_by_scope",
]


def reconcile(inputs: DayInputs, *, config: ReconConfig | None = None) -> ReconResult:
    """Reconcile one tenant's day. Raises ``ValueError`` on inputs that break the contract
    (another tenant's records, an order or payout id twice)."""
    run = DayRun(inputs, config or ReconConfig())
    orders_and_payments(run)
    failed_refunds(run)
    payout_composition(run)
    payouts_and_bank(run)
    return run.result()
