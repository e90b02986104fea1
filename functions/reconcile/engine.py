"""Three-way reconciliation of one tenant's day: orders ↔ payments, payouts ↔ bank, and what
each payout is made of. Pure: no I/O, no clock; the same inputs in any order give the same
result.

A day of a large tenant is a million orders, so nothing here pairs records one against another:
every join is a dict keyed by an id, every grouping a dict of sums, every date window a bisect
over sorted ordinals. The common case (one succeeded charge paying one active order exactly)
is decided in one tight loop; only the orders that are not that case go through the careful,
slower judgement, and those are few. Matching rules and break classes are in
``docs/reconciliation.md``.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import groupby
from operator import attrgetter

from functions.reconcile.bank.model import BankLine
from functions.reconcile.explain import (
    CategorySums,
    PayoutExplanation,
    explain_payout,
    format_money,
)
from functions.reconcile.model import (
    ACTIVE_ORDER_STATUSES,
    CATEGORY_CHARGE,
    CATEGORY_PAYOUT,
    CHARGE_SUCCEEDED,
    ORDER_COMPLETED,
    ORDER_FAILED,
    ORDER_PLACED,
    PAYOUT_FAILED_AFTER_PAID,
    PAYOUT_PAID,
    PAYOUT_PENDING,
    PRIORITY,
    Break,
    BreakClass,
    BreakKeys,
    ChargeRecord,
    DayInputs,
    OrderRecord,
    PayoutRecord,
    RefundInstruction,
    SuggestedAction,
    break_id,
)

# -- configuration and result --------------------------------------------------------------------


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


# -- carrying breaks across days -----------------------------------------------------------------


def _break_order(brk: Break) -> tuple[str, str, str]:
    return (brk.priority.value, brk.break_class.value, brk.break_id)


def carry_forward(previous_open: list[Break], today: list[Break], as_of: date) -> CarryResult:
    """Today's breaks against the ones still open before today.

    A break whose id is in both stays open with the earlier ``first_seen`` and its age in days
    (today's amounts and explanation, which may have moved); one only today is opened; one only
    before is closed (resolved). ``today`` must come from a run whose inputs covered the keys of
    ``previous_open`` (the store passes only those in today's scope), or a break out of scope
    would read as resolved.
    """
    before = {brk.break_id: brk for brk in previous_open}
    seen: set[str] = set()
    opened: list[Break] = []
    still_open: list[Break] = []
    for brk in today:
        if brk.break_id in seen:
            continue
        seen.add(brk.break_id)
        earlier = before.get(brk.break_id)
        if earlier is None:
            opened.append(replace(brk, age_days=max(0, (as_of - brk.first_seen).days)))
        else:
            first = min(earlier.first_seen, brk.first_seen)
            still_open.append(replace(brk, first_seen=first, age_days=(as_of - first).days))
    closed = [brk for brk in before.values() if brk.break_id not in seen]
    return CarryResult(
        opened=sorted(opened, key=_break_order),
        still_open=sorted(still_open, key=_break_order),
        closed=sorted(closed, key=_break_order),
    )


# -- the day ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Ledger:
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


def _sum_by_currency(
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


_EXPECTED_IN_BANK = frozenset({PAYOUT_PAID, PAYOUT_FAILED_AFTER_PAID, PAYOUT_PENDING})


class _Pairing:
    """One-to-one pairing of payouts (by index) with bank lines (by index)."""

    def __init__(self, payout_days: list[int], line_days: list[int], window: int) -> None:
        self.payout_count = len(payout_days)
        self.line_count = len(line_days)
        self.payout_days = payout_days
        self.line_days = line_days
        self.window = window
        self.line_of: dict[int, int] = {}
        self.payout_of: dict[int, int] = {}
        self.method: dict[int, str] = {}

    def pair(self, i: int, j: int, method: str) -> None:
        self.line_of[i], self.payout_of[j] = j, i
        self.method[i] = method

    def free_payouts(self) -> list[int]:
        return [i for i in range(self.payout_count) if i not in self.line_of]

    def free_lines(self) -> list[int]:
        return [j for j in range(self.line_count) if j not in self.payout_of]

    def in_window(self, i: int, group: list[int] | None) -> list[tuple[int, int]]:
        """(date distance, line) for the lines of ``group`` (sorted by booking date) booked
        within the window around payout ``i``'s arrival date."""
        if not group:
            return []
        when, day_of = self.payout_days[i], self.line_days.__getitem__
        lo = bisect.bisect_left(group, when - self.window, key=day_of)
        hi = bisect.bisect_right(group, when + self.window, key=day_of)
        return [(abs(day_of(j) - when), j) for j in group[lo:hi]]

    def greedy(
        self,
        ranked: list[tuple[int, int, str, str, int, int]],
        method: Callable[[int, int], str],
    ) -> None:
        """Best-ranked pair first; a payout or a line already paired is skipped."""
        for *_, i, j in sorted(ranked):
            if i not in self.line_of and j not in self.payout_of:
                self.pair(i, j, method(i, j))


class _Day:
    def __init__(self, inputs: DayInputs, config: ReconConfig) -> None:
        self.inputs = inputs
        self.config = config
        self.tenant = inputs.tenant
        self.day = inputs.day
        self.ledger = _Ledger()
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

    # -- orders ↔ payments ---------------------------------------------------------------------

    def orders_and_payments(self) -> None:
        """Judge every order and every succeeded charge.

        Order ids are unique in the inputs (they are the store's keys): the engine does not pay
        for a million-entry check of what the store already guarantees.
        """
        orders = self.inputs.orders
        tenants = set(map(attrgetter("tenant"), orders))
        if tenants - {self.tenant}:
            raise ValueError(f"orders of other tenants in {self.tenant}'s day: {sorted(tenants)}")
        charges = self.inputs.charges
        succeeded = [c for c in charges if c.status == CHARGE_SUCCEEDED]
        for currency, (count, amount) in _sum_by_currency(
            [c for c in charges if c.status != CHARGE_SUCCEEDED],
            attrgetter("currency"),
            attrgetter("amount"),
        ).items():
            self.ledger.add("charges_not_succeeded", currency, count, amount)

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
        if None in self.pending_orders:
            pending = self.pending_refunds
            several |= {c.order_id for c in succeeded if c.payment_id in pending}
        else:
            several |= self.pending_orders

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

        ledger = self.ledger
        for name, group in (("awaiting_payment", awaiting), ("closed", closed)):
            for currency, (count, amount) in _sum_by_currency(
                group, attrgetter("currency"), attrgetter("amount")
            ).items():
                ledger.add(f"orders.{name}", currency, count, amount)
        for currency, (count, amount) in _sum_by_currency(
            returned, attrgetter("currency"), attrgetter("captured")
        ).items():
            ledger.add("charges.refunded", currency, count, amount)
        for order in unpaid:
            self.completed_not_paid(order)
        for order, charge in careful:
            self.judge(order, order.order_id, [charge, *later.get(order.order_id, ())])
        for orphan, charge in first.items():
            if orphan is None:  # payments naming no order: each on its own
                for single in (charge, *later.get(None, ())):
                    self.judge(None, None, [single])
            else:
                self.judge(None, orphan, [charge, *later.get(orphan, ())])

        # What the tight loop passed is matched: the day's totals less everything judged apart.
        self._matched_rest("orders", orders, attrgetter("amount"), _ORDER_CATEGORIES)
        self._matched_rest("charges", succeeded, attrgetter("captured"), _CHARGE_CATEGORIES)
        self.disputes()

    def _matched_rest(
        self,
        kind: str,
        records: Sequence[object],
        amount_of: attrgetter[int],
        categories: Sequence[str],
    ) -> None:
        ledger = self.ledger
        for currency, (count, amount) in _sum_by_currency(
            records, attrgetter("currency"), amount_of
        ).items():
            rest = [ledger.get(f"{kind}.{n}", currency) for n in categories]
            ledger.add(
                f"{kind}.matched",
                currency,
                count - sum(c for c, _ in rest),
                amount - sum(a for _, a in rest),
            )

    def completed_not_paid(self, order: OrderRecord) -> None:
        self.ledger.add("orders.with_break", order.currency, 1, order.amount)
        self.add_break(
            BreakClass.COMPLETED_NOT_PAID,
            (("order_id", order.order_id),),
            currency=order.currency,
            amount=order.amount,
            expected=order.amount,
            actual=0,
            explanation=(
                f"Order {order.order_id} is completed (goods have left) but no charge for it "
                f"succeeded: {_money(order.amount, order.currency)} was never collected."
            ),
        )

    def refund_action(
        self, bid_source: BreakKeys, break_class: BreakClass, owed: list[tuple[ChargeRecord, int]]
    ) -> SuggestedAction:
        bid = break_id(self.tenant, break_class, bid_source)
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
            f"{_money(r.amount, r.currency)} of charge {r.charge_id} (payment {r.payment_id})"
            for r in refunds
        )
        return SuggestedAction(kind="refund", description=f"Refund {described}.", refunds=refunds)

    def judge(
        self, order: OrderRecord | None, order_id: str | None, charges: list[ChargeRecord]
    ) -> None:
        """Everything but the usual case: one order (or none) and all its succeeded charges."""
        ledger = self.ledger
        tol = self.config.amount_tolerance
        pending = self.pending_refunds
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
            currency, held = _stake(order.currency if order else None, holding)
            why = (
                f"order {order_id} failed"
                if status == ORDER_FAILED
                else f"no order {order_id} exists"
                if order_id is not None
                else "the payment names no order"
            )
            action = (
                self.refund_action(identity, BreakClass.CHARGED_ORDER_NOT_COMPLETED, holding)
                if status == ORDER_FAILED
                else None
            )
            self.add_break(
                BreakClass.CHARGED_ORDER_NOT_COMPLETED,
                identity,
                keys=charge_keys,
                currency=currency,
                amount=held,
                expected=0,
                actual=held,
                action=action,
                explanation=(
                    f"{_money(held, currency)} was charged ({_charges(holding)}) but {why}"
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
            currency, held = _stake(order.currency, holding)
            self.add_break(
                BreakClass.CANCELLED_NOT_REFUNDED,
                identity,
                keys=charge_keys,
                currency=currency,
                amount=held,
                expected=0,
                actual=held,
                action=self.refund_action(identity, BreakClass.CANCELLED_NOT_REFUNDED, holding),
                explanation=(
                    f"Order {order_id} is {status} but {_money(held, currency)} of its "
                    f"payment is still held ({_charges(holding)})."
                ),
            )
            return

        if not holding:
            # Every succeeded charge went back (or is going back) while the order goes ahead.
            ledger.add("orders.with_break", order.currency, 1, order.amount)
            currency, returned = _stake(order.currency, [(c, c.captured) for c in charges])
            self.add_break(
                BreakClass.REFUNDED_STILL_ACTIVE,
                identity,
                keys=charge_keys,
                currency=currency,
                amount=returned,
                expected=order.amount,
                actual=0,
                action=SuggestedAction(
                    kind="cancel_order",
                    description=f"Cancel order {order_id} (stop fulfilment): its payment was "
                    "refunded.",
                ),
                explanation=(
                    f"Order {order_id} is {status} but its payment of "
                    f"{_money(returned, currency)} was refunded in full "
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
            self.add_break(
                BreakClass.DUPLICATE_PAYMENT,
                identity,
                keys=charge_keys,
                currency=order.currency,
                amount=extra,
                expected=order.amount,
                actual=paid_total,
                action=self.refund_action(identity, BreakClass.DUPLICATE_PAYMENT, extras),
                explanation=(
                    f"Order {order_id} ({_money(order.amount, order.currency)}) was paid "
                    f"{len(same)} times: kept {kept[0].charge_id}, "
                    f"{_money(extra, order.currency)} to give back ({_charges(extras)})."
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
                f"paid {_money(paid, order.currency)}"
                if same_currency
                else "paid in " + ", ".join(sorted({c.currency for c, _ in keep}))
            )
            self.add_break(
                BreakClass.AMOUNT_MISMATCH,
                identity,
                keys=tuple(("charge_id", c.charge_id) for c, _ in keep),
                currency=order.currency,
                amount=abs(paid - order.amount) if same_currency else order.amount,
                expected=order.amount,
                actual=paid,
                explanation=(
                    f"Order {order_id} is for {_money(order.amount, order.currency)} but was "
                    f"{what} ({_charges(keep)})."
                ),
            )
            broken = True
        ledger.add(
            "orders.with_break" if broken else "orders.matched", order.currency, 1, order.amount
        )

    def disputes(self) -> None:
        for dispute in sorted(self.inputs.disputes, key=attrgetter("dispute_id")):
            self.ledger.add("disputes.all", dispute.currency, 1, dispute.amount)
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
            self.add_break(
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
                    f"{_money(dispute.amount, dispute.currency)} has no chargeback case."
                ),
            )

    # -- payout composition --------------------------------------------------------------------

    def payout_composition(self) -> None:
        payouts = self.inputs.payouts
        by_id = {p.payout_id: p for p in payouts}
        if len(by_id) != len(payouts):
            raise ValueError("a payout id appears twice in the day's payouts")
        txns = self.inputs.balance_txns
        # The loader reads transactions by payout, so they come in runs of one payout: sum
        # each run at C speed, charges (most of a run) as the run less its other categories.
        # Runs of the same payout apart from each other add up all the same.
        sums: dict[str, dict[str, list[int]]] = defaultdict(dict)
        currency_of: dict[str, str] = {}
        for payout_id, run in groupby(txns, key=attrgetter("payout_id")):
            run_txns = list(run)
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
        strangers.difference_update(map(attrgetter("charge_id"), self.inputs.charges))
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
                    self.ledger.add(
                        "balance_txns.unknown_payout",
                        currency_of[payout_id],
                        orphan.count,
                        orphan.net,
                    )
        for payout in sorted(payouts, key=attrgetter("payout_id")):
            explanation = explain_payout(
                payout, per_payout.get(payout.payout_id, {}), unknown.get(payout.payout_id, ())
            )
            self.explanations.append(explanation)
            for category, settled in explanation.categories:
                self.ledger.add(f"settled.{category}", payout.currency, settled.count, settled.net)
            if payout.status not in (PAYOUT_PAID, PAYOUT_FAILED_AFTER_PAID):
                continue  # the gateway files a payout's transactions once it is paid
            if explanation.difference == 0:
                continue
            self.add_break(
                BreakClass.PAYOUT_COMPOSITION_MISMATCH,
                (("payout_id", payout.payout_id),),
                currency=payout.currency,
                amount=abs(explanation.difference),
                expected=payout.amount,
                actual=explanation.net,
                explanation=(
                    f"Payout {payout.payout_id} is {_money(payout.amount, payout.currency)} but "
                    f"its {_counted(explanation.transaction_count, 'balance transaction')} net to "
                    f"{_money(explanation.net, payout.currency)}."
                    if explanation.transaction_count
                    else f"Payout {payout.payout_id} of "
                    f"{_money(payout.amount, payout.currency)} has no balance transactions filed."
                ),
            )

    # -- payouts ↔ bank ------------------------------------------------------------------------

    def settlement_candidates(self) -> list[BankLine]:
        """Bank credits that look like a gateway settlement: a trace id, or a settlement pattern
        in the counterparty or remittance. Other credits (a customer's bank transfer, interest)
        and debits are not ours to explain: they are only counted."""
        patterns = self.config.settlement_patterns
        looks_like_settlement = (
            re.compile("|".join(map(re.escape, patterns)), re.IGNORECASE).search
            if patterns
            else None
        )
        ledger = self.ledger
        lines: list[BankLine] = []
        for line in self.inputs.bank_lines:
            if line.tenant != self.tenant:
                raise ValueError(f"bank line of tenant {line.tenant} in {self.tenant}'s day")
            if line.direction != "credit":
                ledger.add("bank_debits.all", line.currency, 1, line.amount)
            elif line.trace_id or (
                looks_like_settlement is not None
                and (
                    looks_like_settlement(line.remittance)
                    or looks_like_settlement(line.counterparty or "")
                )
            ):
                lines.append(line)
            else:
                ledger.add("bank.not_settlement", line.currency, 1, line.amount)
        return lines

    def payouts_and_bank(self) -> None:
        config = self.config
        tol = config.amount_tolerance
        candidates = self.settlement_candidates()
        # A statement loaded twice gives the same line ids: one credit, not two. Indexed in
        # line-id order, so that the file's order cannot change a tie-break.
        unique_lines = {line.line_id: line for line in candidates}
        line_ids = sorted(unique_lines)
        lines = [unique_lines[line_id] for line_id in line_ids]
        del unique_lines, candidates
        line_days = [line.booking_date.toordinal() for line in lines]
        expected = sorted(
            (p for p in self.inputs.payouts if p.status in _EXPECTED_IN_BANK and p.amount > 0),
            key=attrgetter("payout_id"),
        )
        payout_days = [p.arrival_date.toordinal() for p in expected]
        match = _Pairing(payout_days, line_days, config.date_window_days)

        # 1. By identity: the payout id, its trace id, or a descriptor no other payout shares.
        for i, j in self.identity_claims(expected, lines, line_days, payout_days, line_ids):
            diff = lines[j].amount - expected[i].amount
            match.pair(i, j, "id" if abs(diff) <= tol else "short" if diff < 0 else "excess")

        # 2. By currency and amount, one to one, nearest booking date first.
        by_amount: dict[tuple[str, int], list[int]] = defaultdict(list)
        for j in match.free_lines():
            by_amount[(lines[j].currency, lines[j].amount)].append(j)
        for group in by_amount.values():
            group.sort(key=line_days.__getitem__)
        ranked: list[tuple[int, int, str, str, int, int]] = []
        for i in match.free_payouts():
            payout = expected[i]
            for dist, j in match.in_window(i, by_amount.get((payout.currency, payout.amount))):
                ranked.append((dist, 0, payout.payout_id, line_ids[j], i, j))
        match.greedy(ranked, lambda i, j: "amount")

        # 3. Leftovers of one currency within the window pair as a short or an excess payment:
        # closest amount first, then closest date, then ids; only when the amounts differ by at
        # most ``pairing_max_difference_bp`` of the payout (else they are unrelated).
        by_currency: dict[str, list[int]] = defaultdict(list)
        for j in match.free_lines():
            by_currency[lines[j].currency].append(j)
        for group in by_currency.values():
            group.sort(key=line_days.__getitem__)
        ranked = []
        limit = config.pairing_max_difference_bp
        for i in match.free_payouts():
            payout = expected[i]
            for dist, j in match.in_window(i, by_currency.get(payout.currency)):
                diff = abs(lines[j].amount - payout.amount)
                if diff * 10_000 <= limit * payout.amount:
                    ranked.append((diff, dist, payout.payout_id, line_ids[j], i, j))

        def leftover(i: int, j: int) -> str:
            diff = lines[j].amount - expected[i].amount
            return "amount" if abs(diff) <= tol else "short" if diff < 0 else "excess"

        match.greedy(ranked, leftover)

        # 4. What each pairing and each leftover means; every payout lands in one category.
        ledger = self.ledger
        day = self.day.toordinal()
        for i, payout in enumerate(expected):
            paired = match.line_of.get(i)
            if paired is not None:
                self.settled(payout, lines[paired], line_ids[paired], match.method[i])
            if payout.status == PAYOUT_FAILED_AFTER_PAID:
                ledger.add("payouts.failed_after_paid", payout.currency, 1, payout.amount)
                self.failed_after_paid(payout, lines[paired] if paired is not None else None)
            elif paired is not None:
                continue
            elif payout.status == PAYOUT_PENDING:
                ledger.add("payouts.pending", payout.currency, 1, payout.amount)
            elif day - payout_days[i] > config.grace_days:
                ledger.add("payouts.missing", payout.currency, 1, payout.amount)
                self.missing_settlement(payout, day - payout_days[i])
            else:
                ledger.add("payouts.awaiting_settlement", payout.currency, 1, payout.amount)
        expected_ids = {p.payout_id for p in expected}
        for payout in self.inputs.payouts:
            if payout.payout_id not in expected_ids:
                ledger.add("payouts.not_expected", payout.currency, 1, payout.amount)
        for j in match.free_lines():
            self.unknown_credit(lines[j], line_ids[j])

    def identity_claims(
        self,
        expected: list[PayoutRecord],
        lines: list[BankLine],
        line_days: list[int],
        payout_days: list[int],
        line_ids: list[str],
    ) -> list[tuple[int, int]]:
        """(payout, line) pairs named by an id the bank shows. A line naming two payouts names
        none; a payout named by two lines takes the nearest by date (then line id)."""
        index: dict[str, int] = {}
        descriptors: dict[tuple[str, ...], list[int]] = defaultdict(list)
        generic = {_norm(p) for p in self.config.settlement_patterns}
        for i, payout in enumerate(expected):
            index[payout.payout_id.upper()] = i
            if payout.trace_id:
                index[payout.trace_id.upper()] = i
            if payout.statement_descriptor:
                named = tuple(_TOKEN.findall(payout.statement_descriptor.upper()))
                # "STRIPE" alone names every payout, so it names none.
                if named and " ".join(named) not in generic:
                    descriptors[named].append(i)
        unique = {named: hits[0] for named, hits in descriptors.items() if len(hits) == 1}
        lengths = sorted({len(named) for named in unique})
        claims: dict[int, list[int]] = defaultdict(list)
        for j, line in enumerate(lines):
            hit = index.get(line.trace_id.upper()) if line.trace_id else None
            if hit is None:
                refs = (
                    line.end_to_end_id,
                    line.customer_ref,
                    line.bank_ref,
                    line.counterparty,
                    line.remittance,
                )
                words = _TOKEN.findall(" ".join(filter(None, refs)).upper())
                hits = {index[w] for w in words if w in index}
                for n in lengths:
                    for k in range(len(words) - n + 1):
                        found = unique.get(tuple(words[k : k + n]))
                        if found is not None:
                            hits.add(found)
                if len(hits) == 1:
                    (hit,) = hits
            if hit is not None and expected[hit].currency == line.currency:
                claims[hit].append(j)
        return [
            (
                i,
                min(claimants, key=lambda j: (abs(line_days[j] - payout_days[i]), line_ids[j])),
            )
            for i, claimants in sorted(claims.items())
        ]

    def missing_settlement(self, payout: PayoutRecord, overdue: int) -> None:
        self.add_break(
            BreakClass.MISSING_SETTLEMENT,
            (("payout_id", payout.payout_id),),
            currency=payout.currency,
            amount=payout.amount,
            expected=payout.amount,
            actual=0,
            action=SuggestedAction(
                kind="chase_settlement",
                description=f"Ask the gateway for the trace of payout {payout.payout_id} and the "
                "bank whether it arrived.",
            ),
            explanation=(
                f"Payout {payout.payout_id} of {_money(payout.amount, payout.currency)} was due "
                f"on {payout.arrival_date.isoformat()} ({overdue} days ago, grace "
                f"{self.config.grace_days}) and no bank credit matches it."
            ),
        )

    def unknown_credit(self, line: BankLine, line_id: str) -> None:
        self.ledger.add("bank.unknown", line.currency, 1, line.amount)
        refs = tuple(
            (name, value)
            for name, value in (
                ("trace_id", line.trace_id),
                ("end_to_end_id", line.end_to_end_id),
                ("bank_ref", line.bank_ref),
            )
            if value
        )
        shown = " ".join(filter(None, ((line.counterparty or "").strip(), line.remittance.strip())))
        self.add_break(
            BreakClass.UNKNOWN_BANK_CREDIT,
            (("line_id", line_id),),
            keys=refs,
            currency=line.currency,
            amount=line.amount,
            actual=line.amount,
            explanation=(
                f"Bank credit of {_money(line.amount, line.currency)} booked "
                f"{line.booking_date.isoformat()} ({shown or 'no text'}; {line.source.file} line "
                f"{line.source.line_no}) looks like a gateway settlement but matches no payout."
            ),
        )

    def settled(self, payout: PayoutRecord, line: BankLine, line_id: str, method: str) -> None:
        ledger = self.ledger
        category = {"id": "matched_by_id", "amount": "matched_by_amount"}.get(method, method)
        if payout.status != PAYOUT_FAILED_AFTER_PAID:
            ledger.add(f"payouts.{category}", payout.currency, 1, payout.amount)
        ledger.add(f"bank.{category}", line.currency, 1, line.amount)
        self.settlements.append(
            SettlementMatch(
                payout_id=payout.payout_id,
                line_id=line_id,
                method=method,
                payout_amount=payout.amount,
                bank_amount=line.amount,
                currency=payout.currency,
                arrival_date=payout.arrival_date,
                booking_date=line.booking_date,
            )
        )
        if method not in ("short", "excess"):
            return
        diff = line.amount - payout.amount
        short = diff < 0
        self.add_break(
            BreakClass.SHORT_PAYMENT if short else BreakClass.EXCESS_PAYMENT,
            (("payout_id", payout.payout_id),),
            keys=(("line_id", line_id),),
            currency=payout.currency,
            amount=abs(diff),
            expected=payout.amount,
            actual=line.amount,
            explanation=(
                f"Payout {payout.payout_id} of {_money(payout.amount, payout.currency)} "
                f"(arriving {payout.arrival_date.isoformat()}) arrived as "
                f"{_money(line.amount, line.currency)} on {line.booking_date.isoformat()}: "
                f"{_money(abs(diff), payout.currency)} {'less' if short else 'more'} than paid "
                "out."
            ),
        )

    def failed_after_paid(self, payout: PayoutRecord, line: BankLine | None) -> None:
        seen = (
            f"the bank shows its credit on {line.booking_date.isoformat()}; expect the bank to "
            "return it (a debit) and the gateway to restore its balance"
            if line is not None
            else "no bank credit matches it"
        )
        self.add_break(
            BreakClass.PAYOUT_FAILED_AFTER_PAID,
            (("payout_id", payout.payout_id),),
            currency=payout.currency,
            amount=payout.amount,
            expected=payout.amount,
            actual=line.amount if line is not None else 0,
            action=SuggestedAction(
                kind="chase_settlement",
                description=f"Check the bank account details of payout {payout.payout_id} with "
                "the gateway and confirm the funds returned to the balance.",
            ),
            explanation=(
                f"Payout {payout.payout_id} of {_money(payout.amount, payout.currency)} failed "
                f"after the gateway reported it paid; {seen}."
            ),
        )

    # -- the result ----------------------------------------------------------------------------

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
            breaks=sorted(self.breaks, key=_break_order),
            matches=matches,
            payouts=self.explanations,
            settlements=sorted(self.settlements, key=attrgetter("payout_id")),
            totals={currency: dict(sorted(t.items())) for currency, t in sorted(totals.items())},
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
_TOKEN = re.compile(r"[A-Z0-9][A-Z0-9_\-]*")


def _norm(text: str) -> str:
    return " ".join(_TOKEN.findall(text.upper()))


def _money(amount: int, currency: str) -> str:
    return format_money(amount, currency)


def _counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _stake(preferred: str | None, owed: Sequence[tuple[ChargeRecord, int]]) -> tuple[str, int]:
    """The currency a break is told in (``preferred`` when some of the money is in it) and the
    money at stake in that currency: amounts of different currencies are never added."""
    currencies = {c.currency for c, _ in owed}
    currency = preferred if preferred in currencies else min(currencies)
    assert currency is not None
    return currency, sum(amount for c, amount in owed if c.currency == currency)


def _charges(owed: Sequence[tuple[ChargeRecord, int]]) -> str:
    return ", ".join(
        f"{c.charge_id} {_money(amount, c.currency)}"
        if amount == c.captured
        else f"{c.charge_id} {_money(amount, c.currency)} of {_money(c.captured, c.currency)}"
        for c, amount in owed
    )


def reconcile(inputs: DayInputs, *, config: ReconConfig | None = None) -> ReconResult:
    """Reconcile one tenant's day. Raises ``ValueError`` on inputs that break the contract
    (another tenant's records, an order or payout id twice)."""
    day = _Day(inputs, config or ReconConfig())
    day.orders_and_payments()
    day.payout_composition()
    day.payouts_and_bank()
    return day.result()
