"""Orders ↔ charges: every order of the day and every succeeded charge, judged once.

The usual order (active, one succeeded charge paying it exactly, nothing refunded in full or in
flight) and the usual closed order (its one charge refunded in full) are decided in one tight
loop with a dict lookup and a few comparisons; everything else goes through ``judge``, which
names the breaks (duplicate payment, charged but no completed order, completed but not paid,
amount mismatch, cancelled but not refunded, refunded but still active). Disputes without a
chargeback case are named here too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from operator import attrgetter

from functions.reconcile.domain.amounts import money
from functions.reconcile.domain.engine.day import DayRun, sum_by_currency
from functions.reconcile.domain.engine.wording import charges_text, stake
from functions.reconcile.domain.model import (
    ACTIVE_ORDER_STATUSES,
    CHARGE_SUCCEEDED,
    ORDER_COMPLETED,
    ORDER_FAILED,
    ORDER_PLACED,
    BreakClass,
    BreakKeys,
    ChargeRecord,
    OrderRecord,
    RefundInstruction,
    SuggestedAction,
    break_id,
)

_ORDER_CATEGORIES = ("awaiting_payment", "closed", "with_break", "matched")
_CHARGE_CATEGORIES = (
    "refunded",
    "order_not_completed",
    "cancelled_not_refunded",
    "duplicate",
    "mismatched",
    "matched",
)


def orders_and_payments(run: DayRun) -> None:
    """Judge every order and every succeeded charge.

    Order ids are unique in the inputs (they are the store's keys): the engine does not pay
    for a million-entry check of what the store already guarantees.
    """
    orders = run.inputs.orders
    tenants = set(map(attrgetter("tenant"), orders))
    if tenants - {run.tenant}:
        raise ValueError(f"orders of other tenants in {run.tenant}'s day: {sorted(tenants)}")
    charges = run.inputs.charges
    succeeded = [c for c in charges if c.status == CHARGE_SUCCEEDED]
    for currency, (count, amount) in sum_by_currency(
        [c for c in charges if c.status != CHARGE_SUCCEEDED],
        attrgetter("currency"),
        attrgetter("amount"),
    ).items():
        run.ledger.add("charges_not_succeeded", currency, count, amount)

    # One succeeded charge per order in one pass; any further one is set aside with its
    # order, which then needs the careful judgement.
    first: dict[str | None, ChargeRecord] = {}
    put = first.setdefault
    later: dict[str | None, list[ChargeRecord]] = defaultdict(list)
    for c in succeeded:
        if put(c.order_id, c) is not c:
            later[c.order_id].append(c)
    several: set[str | None] = set(later)
    # Orders whose charge has a refund on its way need the careful judgement too: named by
    # the refunds themselves, or else found by payment id.
    if None in run.pending_orders:
        pending = run.pending_refunds
        several |= {c.order_id for c in succeeded if c.payment_id in pending}
    else:
        several |= run.pending_orders

    # The tight loop decides the usual orders with one dict lookup and a few comparisons,
    # exactly as ``judge`` would: an active order paid once, in full (partial refunds are
    # returns, not breaks), or a closed order whose one payment went back in full. Popping
    # leaves in ``first`` exactly the charges whose order is not among the day's orders.
    take = first.pop
    unpaid: list[OrderRecord] = []
    awaiting: list[OrderRecord] = []
    closed: list[OrderRecord] = []
    returned: list[ChargeRecord] = []
    careful: list[tuple[OrderRecord, ChargeRecord]] = []
    active = ACTIVE_ORDER_STATUSES
    for order in orders:
        charge = take(order.order_id, None)
        if charge is None:
            status = order.status
            if status == ORDER_COMPLETED:
                unpaid.append(order)
            elif status == ORDER_PLACED:
                awaiting.append(order)
            else:
                closed.append(order)
        elif order.order_id in several:
            careful.append((order, charge))
        elif order.status in active:
            if (
                charge.captured != order.amount
                or charge.refunded >= charge.captured
                or charge.currency != order.currency
            ):
                careful.append((order, charge))
        elif charge.refunded >= charge.captured:
            closed.append(order)
            returned.append(charge)
        else:
            careful.append((order, charge))

    ledger = run.ledger
    for name, group in (("awaiting_payment", awaiting), ("closed", closed)):
        for currency, (count, amount) in sum_by_currency(
            group, attrgetter("currency"), attrgetter("amount")
        ).items():
            ledger.add(f"orders.{name}", currency, count, amount)
    for currency, (count, amount) in sum_by_currency(
        returned, attrgetter("currency"), attrgetter("captured")
    ).items():
        ledger.add("charges.refunded", currency, count, amount)
    for order in unpaid:
        completed_not_paid(run, order)
    for order, charge in careful:
        judge(run, order, order.order_id, [charge, *later.get(order.order_id, ())])
    for orphan, charge in first.items():
        if orphan is None:  # payments naming no order: each on its own
            for single in (charge, *later.get(None, ())):
                judge(run, None, None, [single])
        else:
            judge(run, None, orphan, [charge, *later.get(orphan, ())])

    # What the tight loop passed is matched: the day's totals less everything judged apart.
    _matched_rest(run, "orders", orders, attrgetter("amount"), _ORDER_CATEGORIES)
    _matched_rest(run, "charges", succeeded, attrgetter("captured"), _CHARGE_CATEGORIES)
    disputes(run)


def _matched_rest(
    run: DayRun,
    kind: str,
    records: Sequence[object],
    amount_of: attrgetter[int],
    categories: Sequence[str],
) -> None:
    ledger = run.ledger
    for currency, (count, amount) in sum_by_currency(
        records, attrgetter("currency"), amount_of
    ).items():
        rest = [ledger.get(f"{kind}.{n}", currency) for n in categories]
        ledger.add(
            f"{kind}.matched",
            currency,
            count - sum(c for c, _ in rest),
            amount - sum(a for _, a in rest),
        )


def completed_not_paid(run: DayRun, order: OrderRecord) -> None:
    run.ledger.add("orders.with_break", order.currency, 1, order.amount)
    run.add_break(
        BreakClass.COMPLETED_NOT_PAID,
        (("order_id", order.order_id),),
        currency=order.currency,
        amount=order.amount,
        expected=order.amount,
        actual=0,
        explanation=(
            f"Order {order.order_id} is completed (goods have left) but no charge for it "
            f"succeeded: {money(order.amount, order.currency).format(grouping=True)} was never "
            "collected."
        ),
    )


def refund_action(
    run: DayRun,
    bid_source: BreakKeys,
    break_class: BreakClass,
    owed: list[tuple[ChargeRecord, int]],
) -> SuggestedAction:
    bid = break_id(run.tenant, break_class, bid_source)
    refunds = tuple(
        RefundInstruction(
            payment_id=c.payment_id,
            charge_id=c.charge_id,
            amount=amount,
            currency=c.currency,
            idempotency_key=f"recon:{bid}:{c.charge_id}:{amount}",
        )
        for c, amount in owed
    )
    described = ", ".join(
        f"{money(r.amount, r.currency).format(grouping=True)} of charge {r.charge_id} "
        f"(payment {r.payment_id})"
        for r in refunds
    )
    return SuggestedAction(kind="refund", description=f"Refund {described}.", refunds=refunds)


def judge(
    run: DayRun, order: OrderRecord | None, order_id: str | None, charges: list[ChargeRecord]
) -> None:
    """Everything but the usual case: one order (or none) and all its succeeded charges."""
    ledger = run.ledger
    tol = run.config.amount_tolerance
    pending = run.pending_refunds
    charges = sorted(charges, key=lambda c: (c.created_at, c.charge_id))
    owed = [
        (c, c.captured - c.refunded - pending.get(c.payment_id, 0))
        for c in charges  # what we still hold of each
    ]
    holding = [(c, amount) for c, amount in owed if amount > 0]
    for c, amount in owed:
        if amount <= 0:
            ledger.add("charges.refunded", c.currency, 1, c.captured)
    status = order.status if order is not None else None
    charge_keys = tuple(("charge_id", c.charge_id) for c in charges)
    identity: BreakKeys = (("order_id", order_id),) if order_id is not None else charge_keys[:1]

    if status is None or status == ORDER_FAILED:
        if order is not None:
            ledger.add(
                "orders.with_break" if holding else "orders.closed",
                order.currency,
                1,
                order.amount,
            )
        if not holding:
            return
        for c, _ in holding:
            ledger.add("charges.order_not_completed", c.currency, 1, c.captured)
        currency, held = stake(order.currency if order else None, holding)
        why = (
            f"order {order_id} failed"
            if status == ORDER_FAILED
            else f"no order {order_id} exists"
            if order_id is not None
            else "the payment names no order"
        )
        action = (
            refund_action(run, identity, BreakClass.CHARGED_ORDER_NOT_COMPLETED, holding)
            if status == ORDER_FAILED
            else None
        )
        run.add_break(
            BreakClass.CHARGED_ORDER_NOT_COMPLETED,
            identity,
            keys=charge_keys,
            currency=currency,
            amount=held,
            expected=0,
            actual=held,
            action=action,
            explanation=(
                f"{money(held, currency).format(grouping=True)} was charged "
                f"({charges_text(holding)}) but {why}"
                + (
                    "."
                    if action is not None
                    else "; find the order in the shop, or refund if there is none."
                )
            ),
        )
        return

    assert order is not None and order_id is not None
    if status not in ACTIVE_ORDER_STATUSES:  # cancelled, or refunded by the shop
        ledger.add(
            "orders.with_break" if holding else "orders.closed", order.currency, 1, order.amount
        )
        if not holding:
            return
        for c, _ in holding:
            ledger.add("charges.cancelled_not_refunded", c.currency, 1, c.captured)
        currency, held = stake(order.currency, holding)
        run.add_break(
            BreakClass.CANCELLED_NOT_REFUNDED,
            identity,
            keys=charge_keys,
            currency=currency,
            amount=held,
            expected=0,
            actual=held,
            action=refund_action(run, identity, BreakClass.CANCELLED_NOT_REFUNDED, holding),
            explanation=(
                f"Order {order_id} is {status} but "
                f"{money(held, currency).format(grouping=True)} of its payment is still held "
                f"({charges_text(holding)})."
            ),
        )
        return

    if not holding:
        # Every succeeded charge went back (or is going back) while the order goes ahead.
        ledger.add("orders.with_break", order.currency, 1, order.amount)
        currency, returned = stake(order.currency, [(c, c.captured) for c in charges])
        run.add_break(
            BreakClass.REFUNDED_STILL_ACTIVE,
            identity,
            keys=charge_keys,
            currency=currency,
            amount=returned,
            expected=order.amount,
            actual=0,
            action=SuggestedAction(
                kind="cancel_order",
                description=f"Cancel order {order_id} (stop fulfilment): its payment was refunded.",
            ),
            explanation=(
                f"Order {order_id} is {status} but its payment of "
                f"{money(returned, currency).format(grouping=True)} was refunded in full "
                f"({', '.join(c.charge_id for c in charges)})."
            ),
        )
        return

    broken = False
    keep = holding
    # Payments in another currency cannot be added to the order's: they are never taken
    # for duplicates, and leave the order mismatched below.
    same = [x for x in holding if x[0].currency == order.currency]
    paid_total = sum(c.captured for c, _ in same)
    if len(same) >= 2 and paid_total > order.amount + tol:
        # More payments than the order needs: keep the earliest that pays it exactly (else
        # the earliest) and give the others back.
        kept = next((x for x in same if abs(x[0].captured - order.amount) <= tol), same[0])
        keep = [x for x in holding if x is kept or x not in same]
        extras = [x for x in same if x is not kept]
        extra = sum(amount for _, amount in extras)
        for c, _ in extras:
            ledger.add("charges.duplicate", c.currency, 1, c.captured)
        run.add_break(
            BreakClass.DUPLICATE_PAYMENT,
            identity,
            keys=charge_keys,
            currency=order.currency,
            amount=extra,
            expected=order.amount,
            actual=paid_total,
            action=refund_action(run, identity, BreakClass.DUPLICATE_PAYMENT, extras),
            explanation=(
                f"Order {order_id} ({money(order.amount, order.currency).format(grouping=True)}) "
                f"was paid {len(same)} times: kept {kept[0].charge_id}, "
                f"{money(extra, order.currency).format(grouping=True)} to give back "
                f"({charges_text(extras)})."
            ),
        )
        broken = True

    paid = sum(c.captured for c, _ in keep)
    net = sum(c.captured - c.refunded for c, _ in keep)
    same_currency = all(c.currency == order.currency for c, _ in keep)
    if same_currency and (abs(paid - order.amount) <= tol or abs(net - order.amount) <= tol):
        for c, _ in keep:
            ledger.add("charges.matched", c.currency, 1, c.captured)
    else:
        for c, _ in keep:
            ledger.add("charges.mismatched", c.currency, 1, c.captured)
        what = (
            f"paid {money(paid, order.currency).format(grouping=True)}"
            if same_currency
            else "paid in " + ", ".join(sorted({c.currency for c, _ in keep}))
        )
        run.add_break(
            BreakClass.AMOUNT_MISMATCH,
            identity,
            keys=tuple(("charge_id", c.charge_id) for c, _ in keep),
            currency=order.currency,
            amount=abs(paid - order.amount) if same_currency else order.amount,
            expected=order.amount,
            actual=paid,
            explanation=(
                f"Order {order_id} is for "
                f"{money(order.amount, order.currency).format(grouping=True)} but was {what} "
                f"({charges_text(keep)})."
            ),
        )
        broken = True
    ledger.add("orders.with_break" if broken else "orders.matched", order.currency, 1, order.amount)


def disputes(run: DayRun) -> None:
    for dispute in sorted(run.inputs.disputes, key=attrgetter("dispute_id")):
        run.ledger.add("disputes.all", dispute.currency, 1, dispute.amount)
        if dispute.has_case:
            continue
        keys: BreakKeys = tuple(
            (name, value)
            for name, value in (
                ("charge_id", dispute.charge_id),
                ("payment_id", dispute.payment_id),
                ("order_id", dispute.order_id),
            )
            if value is not None
        )
        run.add_break(
            BreakClass.DISPUTE_WITHOUT_CASE,
            (("dispute_id", dispute.dispute_id),),
            keys=keys,
            currency=dispute.currency,
            amount=dispute.amount,
            action=SuggestedAction(
                kind="open_dispute_case",
                description=f"Open a chargeback case for dispute {dispute.dispute_id}.",
            ),
            explanation=(
                f"Dispute {dispute.dispute_id} ({dispute.status}, "
                f"{dispute.reason or 'no reason given'}) on charge {dispute.charge_id} for "
                f"{money(dispute.amount, dispute.currency).format(grouping=True)} has no "
                "chargeback case."
            ),
        )
