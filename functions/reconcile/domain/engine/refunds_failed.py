"""Refunds that did not reach the customer: the gateway failed them (a card refund may fail up
to 30 days after it succeeded) or canceled them. The money is held again, and the break says
how much the customer did not get back.

What a failed refund leaves outstanding is its amount less the refunds made on the same payment
after it (a second refund is how the money usually goes back), never more than the payment
still holds. Refunds are walked in the order they were made, so the same records in any order
give the same breaks.
"""

from __future__ import annotations

from collections import defaultdict
from operator import attrgetter

from functions.reconcile.domain.amounts import money
from functions.reconcile.domain.engine.day import DayRun
from functions.reconcile.domain.model import (
    REFUND_NOT_MADE,
    BreakClass,
    BreakKeys,
    ChargeRecord,
    RefundRecord,
    SuggestedAction,
)


def failed_refunds(run: DayRun) -> None:
    by_payment: dict[str, list[RefundRecord]] = defaultdict(list)
    for refund in run.inputs.refunds:
        by_payment[refund.payment_id].append(refund)
    charges = {c.payment_id: c for c in run.inputs.charges}
    for payment_id in sorted(by_payment):
        refunds = sorted(by_payment[payment_id], key=attrgetter("created_at", "refund_id"))
        if not any(r.status in REFUND_NOT_MADE for r in refunds):
            continue
        charge = charges.get(payment_id)
        for refund, outstanding in _outstanding(refunds, charge, run):
            _refund_failed(run, refund, charge, outstanding)


def _outstanding(
    refunds: list[RefundRecord], charge: ChargeRecord | None, run: DayRun
) -> list[tuple[RefundRecord, int]]:
    failed: list[RefundRecord] = []
    left: list[int] = []
    for refund in refunds:
        if refund.status in REFUND_NOT_MADE:
            failed.append(refund)
            left.append(refund.amount)
            continue
        # A later refund that went (or is going) through pays back the earliest failure first.
        paid_back = refund.amount
        for index, owed in enumerate(left):
            take = min(paid_back, owed)
            left[index] -= take
            paid_back -= take
    held = None
    if charge is not None:
        held = charge.captured - charge.refunded - run.pending_refunds.get(charge.payment_id, 0)
    found: list[tuple[RefundRecord, int]] = []
    for refund, owed in zip(failed, left, strict=True):
        outstanding = owed if held is None else min(owed, max(held, 0))
        if held is not None:
            held -= outstanding
        if outstanding > 0:
            found.append((refund, outstanding))
    return found


def _refund_failed(
    run: DayRun, refund: RefundRecord, charge: ChargeRecord | None, outstanding: int
) -> None:
    order_id = refund.order_id or (charge.order_id if charge else None)
    keys: BreakKeys = tuple(
        (name, value)
        for name, value in (
            ("order_id", order_id),
            ("payment_id", refund.payment_id),
            ("charge_id", refund.charge_id or (charge.charge_id if charge else None)),
        )
        if value is not None
    )
    amount = money(outstanding, refund.currency).format(grouping=True)
    when = f" on {refund.status_at.date().isoformat()}" if refund.status_at else ""
    why = f" ({refund.failure_reason})" if refund.failure_reason else ""
    of_order = f" of order {order_id}" if order_id else ""
    run.add_break(
        BreakClass.REFUND_FAILED,
        (("refund_id", refund.refund_id),),
        keys=keys,
        currency=refund.currency,
        amount=outstanding,
        expected=0,
        actual=outstanding,
        action=SuggestedAction(
            kind="pay_back_customer",
            description=(
                f"Pay the customer back {amount} another way (a bank transfer): the card "
                f"refund {refund.refund_id} did not go through."
            ),
        ),
        explanation=(
            f"Refund {refund.refund_id}{of_order} (payment {refund.payment_id}) was "
            f"{refund.status} at the gateway{when}{why}: the customer did not get {amount} "
            "back, and the money is held again."
        ),
    )
