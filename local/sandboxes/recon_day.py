"""Synthetic reconciliation days: a tenant's orders, charges, refunds and disputes, the payouts
that sweep them with their balance transactions, and the bank lines that received the payouts,
as ``functions.reconcile.domain.engine.reconcile`` reads them.

Two levels, sharing the same conventions (charge ``ch_{key}`` of payment ``pi_{key}``, a card
fee per charge, ``DISPUTE_FEE`` per dispute, bank lines placed in a statement file):

- ``ReconDay`` builds a day record by record, for small days whose every break is chosen by
  hand (the tests, the report screenshot): ``order``, ``charge``, ``dispute``, ``settle`` (a
  payout and its balance transactions from charges), ``line`` (a bank line), ``inputs``.
- ``generate`` makes a large day (a million orders in seconds) with planted breaks of the
  classes asked for, deterministic by seed, and the bank's statements as ``Entry`` lists that
  the bank sandbox's writers turn into files (the bench); ``GeneratedDay.with_lines`` books
  them straight into bank lines instead.

``sweep`` and ``bank_line`` are the two pieces both levels use.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from functions.reconcile.domain.bank.model import BankLine, Direction, FileFormat, SourcePosition
from functions.reconcile.domain.model import (
    BalanceTxnRecord,
    Break,
    BreakClass,
    ChargeRecord,
    ChargeStatus,
    DayInputs,
    DisputeRecord,
    OrderRecord,
    OrderStatus,
    PayoutRecord,
    PayoutStatus,
    RefundInstruction,
    RefundRecord,
)
from local.sandboxes.bank import Entry, Statement

if TYPE_CHECKING:
    from functions.reconcile.domain.actions import ActionStatus, ActionTaken

Fee = Callable[[int], int]
"""The gateway's fee on a charge of the given captured amount (minor units)."""


def card_fee(fixed: int, per_mille: int) -> Fee:
    def fee(amount: int) -> int:
        return fixed + amount * per_mille // 1000

    return fee


EU_CARDS = card_fee(25, 14)  # 1.4% + 25 cents, European cards
US_CARDS = card_fee(30, 29)  # 2.9% + 30 cents, the US card rate
DISPUTE_FEE = 1_500  # what the gateway charges for each dispute, won or lost


# -- records -------------------------------------------------------------------------------------


def gateway_charge(
    key: str,
    order_id: str | None,
    amount: int,
    currency: str,
    at: datetime,
    *,
    refunded: int = 0,
    status: ChargeStatus = "succeeded",
) -> ChargeRecord:
    """Charge ``ch_{key}`` of payment ``pi_{key}``; only a succeeded charge captures money."""
    return ChargeRecord(
        payment_id=f"pi_{key}",
        charge_id=f"ch_{key}",
        order_id=order_id,
        amount=amount,
        currency=currency,
        status=status,
        captured=amount if status == "succeeded" else 0,
        refunded=refunded,
        created_at=at,
    )


@dataclass(frozen=True, slots=True)
class Movement:
    """A balance transaction no charge explains: an adjustment, a reserve released, a fee
    billed on its own."""

    txn_id: str
    category: str
    amount: int


def sweep(
    payout_id: str,
    charges: Iterable[ChargeRecord],
    into: list[BalanceTxnRecord],
    *,
    currency: str,
    fee: Fee,
    disputes: Mapping[str, DisputeRecord] | None = None,
    movements: Iterable[Movement] = (),
) -> int:
    """Append to ``into`` the balance transactions of a payout sweeping ``charges`` (each
    charge less its fee, what was refunded of it, a dispute on it with ``DISPUTE_FEE``, by
    charge id in ``disputes``) and ``movements``; return their net, which the payout pays.

    A charge's transaction names it by an equal string that is another object, as a loader
    reads it from a store: the engine must not profit from sharing the charge's id object."""
    net = 0
    add = into.append
    disputed = (disputes or {}).get
    for c in charges:
        charge_id = c.charge_id
        captured = c.captured
        cut = fee(captured)
        add(
            BalanceTxnRecord(
                f"txn_{charge_id}",
                payout_id,
                charge_id.encode().decode(),
                "charge",
                captured,
                cut,
                captured - cut,
                currency,
            )
        )
        net += captured - cut
        refunded = c.refunded
        if refunded:
            add(
                BalanceTxnRecord(
                    f"txn_re_{charge_id}",
                    payout_id,
                    f"re_{charge_id}",
                    "refund",
                    -refunded,
                    0,
                    -refunded,
                    currency,
                )
            )
            net -= refunded
        dispute = disputed(charge_id)
        if dispute is not None:
            add(
                BalanceTxnRecord(
                    f"txn_{dispute.dispute_id}",
                    payout_id,
                    dispute.dispute_id,
                    "dispute",
                    -dispute.amount,
                    DISPUTE_FEE,
                    -dispute.amount - DISPUTE_FEE,
                    currency,
                )
            )
            net -= dispute.amount + DISPUTE_FEE
    for m in movements:
        add(
            BalanceTxnRecord(m.txn_id, payout_id, None, m.category, m.amount, 0, m.amount, currency)
        )
        net += m.amount
    return net


# -- bank lines ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatementFile:
    """The file a day's bank lines are said to come from, without writing it: entry ``n``
    starts at line ``first_line + n * lines_per_entry`` (a camt.053 entry spans many lines, a
    CSV row one)."""

    path: str
    sha256: str
    format: FileFormat = "camt053"
    statement_id: str | None = None
    first_line: int = 1
    lines_per_entry: int = 1

    def position(self, index: int) -> SourcePosition:
        line_no = self.first_line + index * self.lines_per_entry
        return SourcePosition(
            self.path, self.sha256, self.format, line_no, index, self.statement_id
        )


def bank_line(
    entry: Entry, *, tenant: str, account: str, currency: str, source: SourcePosition
) -> BankLine:
    """The bank sandbox's ``Entry`` as the parsers would have read it from ``source``."""
    return BankLine(
        tenant=tenant,
        account=account,
        currency=currency,
        amount=entry.amount,
        direction=entry.direction,
        booking_date=entry.booking_date,
        value_date=entry.value_date,
        source=source,
        end_to_end_id=entry.end_to_end_id,
        bank_ref=entry.bank_ref,
        customer_ref=entry.customer_ref,
        trace_id=entry.trace_id,
        counterparty=entry.counterparty,
        remittance=entry.remittance,
        bank_code=entry.bank_code,
    )


def statements_by_day(
    entries: Iterable[Entry], account: str, currency: str, opening_balance: int = 250_000_000
) -> list[Statement]:
    """One statement per booking day, balances running from one day into the next."""
    by_day: dict[date, list[Entry]] = {}
    for entry in entries:
        by_day.setdefault(entry.booking_date, []).append(entry)
    statements = []
    balance = opening_balance
    for sequence, day in enumerate(sorted(by_day), start=1):
        statement = Statement(
            account, currency, f"STMT-{day:%Y%m%d}", balance, by_day[day], sequence=sequence
        )
        statements.append(statement)
        balance = statement.closing_balance
    return statements


# -- a day record by record ----------------------------------------------------------------------


@dataclass(slots=True)
class ReconDay:
    """A tenant's day built record by record: orders, their charges (``ch_`` + ``key_prefix``
    + key), disputes of charges, payouts sweeping charges, lines on the bank statement.
    Records are made at ``at`` unless given another time."""

    tenant: str
    day: date
    currency: str
    at: datetime
    fee: Fee = US_CARDS
    account: str = "US00BANK0001"
    statement: StatementFile = StatementFile("bank/statement.csv", "0" * 64, "csv", first_line=2)
    key_prefix: str = ""
    orders: list[OrderRecord] = field(default_factory=list)
    charges: list[ChargeRecord] = field(default_factory=list)
    refunds: list[RefundRecord] = field(default_factory=list)
    disputes: list[DisputeRecord] = field(default_factory=list)
    payouts: list[PayoutRecord] = field(default_factory=list)
    txns: list[BalanceTxnRecord] = field(default_factory=list)
    lines: list[BankLine] = field(default_factory=list)

    def order(
        self,
        order_id: str,
        amount: int,
        status: OrderStatus = "completed",
        at: datetime | None = None,
    ) -> OrderRecord:
        record = OrderRecord(self.tenant, order_id, status, amount, self.currency, at or self.at)
        self.orders.append(record)
        return record

    def charge(
        self,
        key: str,
        order_id: str | None,
        amount: int,
        at: datetime | None = None,
        *,
        refunded: int = 0,
        status: ChargeStatus = "succeeded",
    ) -> ChargeRecord:
        record = gateway_charge(
            self.key_prefix + key,
            order_id,
            amount,
            self.currency,
            at or self.at,
            refunded=refunded,
            status=status,
        )
        self.charges.append(record)
        return record

    def charge_of(self, key: str) -> ChargeRecord:
        charge_id = f"ch_{self.key_prefix}{key}"
        return next(c for c in self.charges if c.charge_id == charge_id)

    def dispute(
        self,
        dispute_id: str,
        charge: ChargeRecord,
        *,
        has_case: bool,
        at: datetime | None = None,
        reason: str = "fraudulent",
        status: str = "needs_response",
    ) -> DisputeRecord:
        """The customer's bank disputes all that ``charge`` captured."""
        record = DisputeRecord(
            dispute_id=dispute_id,
            charge_id=charge.charge_id,
            amount=charge.captured,
            currency=charge.currency,
            status=status,
            has_case=has_case,
            opened_at=at or self.at,
            payment_id=charge.payment_id,
            order_id=charge.order_id,
            reason=reason,
        )
        self.disputes.append(record)
        return record

    def settle(
        self,
        payout_id: str,
        charges: Iterable[ChargeRecord],
        *,
        arrival: date,
        status: PayoutStatus = "paid",
        descriptor: str | None = "STRIPE",
        trace: str | None = None,
        extra: int = 0,
        movements: Iterable[Movement] = (),
        with_disputes: bool = True,
    ) -> PayoutRecord:
        """A payout sweeping ``charges`` (and the disputes on them, unless ``with_disputes`` is
        off) with its balance transactions; ``extra`` makes the payout's amount disagree with
        them. The bank line is not booked: ``line`` does that, as the bank sees fit."""
        disputed = {d.charge_id: d for d in self.disputes} if with_disputes else None
        net = sweep(
            payout_id,
            charges,
            self.txns,
            currency=self.currency,
            fee=self.fee,
            disputes=disputed,
            movements=movements,
        )
        record = PayoutRecord(
            payout_id, net + extra, self.currency, arrival, status, descriptor, trace
        )
        self.payouts.append(record)
        return record

    def line(
        self,
        amount: int,
        booked: date,
        remittance: str,
        *,
        counterparty: str = "STRIPE PAYMENTS",
        direction: Direction = "credit",
        trace_id: str | None = None,
        end_to_end_id: str | None = None,
    ) -> BankLine:
        """The next line of the statement, valued the day it is booked."""
        entry = Entry(
            amount,
            direction,
            booked,
            booked,
            end_to_end_id=end_to_end_id,
            trace_id=trace_id,
            counterparty=counterparty,
            remittance=remittance,
        )
        record = bank_line(
            entry,
            tenant=self.tenant,
            account=self.account,
            currency=self.currency,
            source=self.statement.position(len(self.lines)),
        )
        self.lines.append(record)
        return record

    def inputs(self, day: date | None = None) -> DayInputs:
        return DayInputs(
            tenant=self.tenant,
            day=day or self.day,
            orders=self.orders,
            charges=self.charges,
            refunds=self.refunds,
            disputes=self.disputes,
            payouts=self.payouts,
            balance_txns=self.txns,
            bank_lines=self.lines,
        )


def refund_outcomes(
    breaks: Iterable[Break],
    outcome: Callable[[RefundInstruction], tuple[ActionStatus, str]],
) -> list[ActionTaken]:
    """What a daily run did with each refund the breaks suggest, in their order, as
    ``outcome`` tells it (status and detail): the report's actions without a gateway."""
    from functions.reconcile.domain.actions import ActionTaken

    return [
        ActionTaken(
            brk.break_id,
            "refund",
            refund.payment_id,
            refund.charge_id,
            refund.amount,
            refund.currency,
            *outcome(refund),
        )
        for brk in breaks
        if brk.suggested_action is not None
        for refund in brk.suggested_action.refunds
    ]


# -- a large day with planted breaks -------------------------------------------------------------

ALL_BREAKS: frozenset[BreakClass] = frozenset(BreakClass)

# The orders ↔ payments breaks, each planted at its position among every ``plant_every`` orders.
_ORDER_SLOTS: dict[int, BreakClass] = {
    1: BreakClass.COMPLETED_NOT_PAID,
    2: BreakClass.AMOUNT_MISMATCH,
    3: BreakClass.CANCELLED_NOT_REFUNDED,
    4: BreakClass.REFUNDED_STILL_ACTIVE,
    5: BreakClass.CHARGED_ORDER_NOT_COMPLETED,  # the checkout failed after the charge
    6: BreakClass.DUPLICATE_PAYMENT,
    7: BreakClass.CHARGED_ORDER_NOT_COMPLETED,  # a charge for an order the shop never sent
    8: BreakClass.DISPUTE_WITHOUT_CASE,
    11: BreakClass.REFUND_FAILED,  # a return's refund the card's bank sent back
}
# The payouts ↔ bank breaks, each planted on one payout spread over the day's payouts.
_PAYOUT_SLOTS: tuple[BreakClass, ...] = (
    BreakClass.PAYOUT_COMPOSITION_MISMATCH,
    BreakClass.SHORT_PAYMENT,
    BreakClass.EXCESS_PAYMENT,
    BreakClass.MISSING_SETTLEMENT,
    BreakClass.PAYOUT_FAILED_AFTER_PAID,
)


@dataclass(slots=True)
class GeneratedDay:
    """A generated day: its records without bank lines, the breaks planted in it (each by its
    class and identifying key: order, dispute, payout, charge or bank line reference) and the
    bank's statements of the payouts and the account's other traffic."""

    inputs: DayInputs
    planted: set[tuple[BreakClass, str]] = field(default_factory=set)
    statements: list[Statement] = field(default_factory=list)

    def with_lines(self) -> DayInputs:
        """The inputs with the statements booked straight into bank lines (no files)."""
        lines: list[BankLine] = []
        for statement in self.statements:
            file = StatementFile(
                f"bank/{statement.statement_id}.xml", "0" * 64, statement_id=statement.statement_id
            )
            lines.extend(
                bank_line(
                    entry,
                    tenant=self.inputs.tenant,
                    account=statement.account,
                    currency=statement.currency,
                    source=file.position(index),
                )
                for index, entry in enumerate(statement.entries)
            )
        return replace(self.inputs, bank_lines=lines)


def named_as_planted(breaks: Iterable[Break]) -> set[tuple[BreakClass, str]]:
    """Breaks found, named the way ``GeneratedDay.planted`` names the planted ones."""
    keys = ("order_id", "dispute_id", "payout_id", "end_to_end_id", "charge_id")
    return {(b.break_class, next(v for k, v in b.keys if k in keys)) for b in breaks}


def generate(
    orders_wanted: int,
    seed: int = 7,
    *,
    breaks: Collection[BreakClass] = ALL_BREAKS,
    plant_every: int = 20_000,
    charges_per_payout: int = 500,
    tenant: str = "bench-shop",
    day: date = date(2026, 3, 16),
    currency: str = "EUR",
    account: str = "DE89370400440532013000",
    fee: Fee = EU_CARDS,
) -> GeneratedDay:
    """A large day of ``orders_wanted`` orders with their charges, refunds and disputes, the
    payouts sweeping them ``charges_per_payout`` at a time, and the bank statements.

    Of ``breaks``, each orders ↔ payments class is planted once among every ``plant_every``
    orders (at least 40 times a day), each payouts ↔ bank class once, plus a payment naming no
    order and a settlement-looking credit no payout explains. The rest is clean the way real
    days are: partial refunds, cancelled and refunded orders, declined first attempts, failed
    checkouts, disputes with a case, a refund on its way, a payout too recent for the bank,
    adjustments, and the account's unrelated traffic."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
    planted: set[tuple[BreakClass, str]] = set()
    # Shared objects: a million orders need not carry a million equal datetimes or amounts.
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    moments = [start + timedelta(seconds=s) for s in range(0, 86_400, 7)]
    amounts = list(range(500, 60_000, 7))
    completed: OrderStatus = "completed"
    placed: OrderStatus = "placed"

    orders: list[OrderRecord] = []
    charges: list[ChargeRecord] = []
    refunds: list[RefundRecord] = []
    disputes: list[DisputeRecord] = []
    every = max(1, min(plant_every, orders_wanted // 40))
    # Each order's slot; a break not asked for leaves its slot clean.
    slots = [0 if s in _ORDER_SLOTS and _ORDER_SLOTS[s] not in breaks else s for s in range(every)]
    choice = rng.random
    for n in range(orders_wanted):
        oid = f"ord_{n:08d}"
        # The gateway's copy of the order id: another string, as a loader would read it.
        ref = f"ord_{n:08d}"
        amount = amounts[int(choice() * len(amounts))]
        at = moments[int(choice() * len(moments))]
        plant = slots[n % every]
        roll = choice()
        status: OrderStatus = completed if roll < 0.62 else placed if roll < 0.95 else "cancelled"
        refunded = 0
        if status == "cancelled":
            refunded = amount  # cancelled and refunded: clean
        elif roll < 0.05:
            refunded = amount // 4  # a partial refund for a returned item: clean
        if roll > 0.985:
            status = "failed"  # checkout failed, nothing charged: clean
            orders.append(OrderRecord(tenant, oid, status, amount, currency, at))
            continue
        captured = amount
        if plant == 1:
            status = completed
            planted.add((BreakClass.COMPLETED_NOT_PAID, oid))
            orders.append(OrderRecord(tenant, oid, status, amount, currency, at))
            continue
        if plant == 2:
            captured = amount - 100
            status = completed
            refunded = 0
            planted.add((BreakClass.AMOUNT_MISMATCH, oid))
        elif plant == 3:
            status, refunded = "cancelled", 0
            planted.add((BreakClass.CANCELLED_NOT_REFUNDED, oid))
        elif plant == 4:
            status, refunded = completed, amount
            planted.add((BreakClass.REFUNDED_STILL_ACTIVE, oid))
        elif plant == 11:
            status, refunded = completed, 0
        elif plant == 5:
            status, refunded = "failed", 0
            planted.add((BreakClass.CHARGED_ORDER_NOT_COMPLETED, oid))
        elif plant == 6:
            status, refunded = completed, 0
            planted.add((BreakClass.DUPLICATE_PAYMENT, oid))
            charges.append(
                ChargeRecord(
                    f"pi_{n:08d}b",
                    f"ch_{n:08d}b",
                    ref,
                    amount,
                    currency,
                    "succeeded",
                    amount,
                    0,
                    at + timedelta(seconds=40),
                )
            )
        if plant == 7:  # a charge for an order the shop never sent
            refunded = 0
            planted.add((BreakClass.CHARGED_ORDER_NOT_COMPLETED, oid))
        else:
            orders.append(OrderRecord(tenant, oid, status, amount, currency, at))
        if roll < 0.03:  # a declined first attempt before the payment that went through
            charges.append(
                ChargeRecord(
                    f"pi_{n:08d}f", f"ch_{n:08d}f", ref, amount, currency, "failed", 0, 0, at
                )
            )
        charges.append(
            ChargeRecord(
                f"pi_{n:08d}",
                f"ch_{n:08d}",
                ref,
                amount,
                currency,
                "succeeded",
                captured,
                refunded,
                at,
            )
        )
        if plant == 8 or n % (every * 2) == 9:
            has_case = plant != 8
            disputes.append(
                DisputeRecord(
                    f"dp_{n:08d}",
                    f"ch_{n:08d}",
                    amount,
                    currency,
                    "needs_response",
                    has_case,
                    at,
                    f"pi_{n:08d}",
                    oid,
                    "fraudulent",
                )
            )
            if not has_case:
                planted.add((BreakClass.DISPUTE_WITHOUT_CASE, f"dp_{n:08d}"))
        if plant == 10:  # a refund on its way: the order stays matched, no refund suggested
            refunds.append(
                RefundRecord(
                    f"re_{n:08d}",
                    f"pi_{n:08d}",
                    amount // 2,
                    currency,
                    "pending",
                    at,
                    order_id=f"ord_{n:08d}",
                )
            )
        if plant == 11:  # refunded a quarter for a return, then the gateway failed the refund
            refunds.append(
                RefundRecord(
                    f"re_{n:08d}f",
                    f"pi_{n:08d}",
                    amount // 4,
                    currency,
                    "failed",
                    at,
                    order_id=oid,
                    failure_reason="expired_or_canceled_card",
                )
            )
            planted.add((BreakClass.REFUND_FAILED, oid))
    if BreakClass.CHARGED_ORDER_NOT_COMPLETED in breaks:  # a payment naming no order at all
        charges.append(
            ChargeRecord(
                "pi_orphan", "ch_orphan", None, 4_200, currency, "succeeded", 4_200, 0, moments[5]
            )
        )
        planted.add((BreakClass.CHARGED_ORDER_NOT_COMPLETED, "ch_orphan"))

    payouts, txns, entries = _payouts(
        charges, disputes, rng, planted, breaks, charges_per_payout, day, currency, fee
    )
    inputs = DayInputs(
        tenant=tenant,
        day=day,
        orders=orders,
        charges=charges,
        refunds=refunds,
        disputes=disputes,
        payouts=payouts,
        balance_txns=txns,
    )
    return GeneratedDay(inputs, planted, statements_by_day(entries, account, currency))


def _payouts(
    charges: list[ChargeRecord],
    disputes: list[DisputeRecord],
    rng: random.Random,
    planted: set[tuple[BreakClass, str]],
    breaks: Collection[BreakClass],
    per_payout: int,
    day: date,
    currency: str,
    fee: Fee,
) -> tuple[list[PayoutRecord], list[BalanceTxnRecord], list[Entry]]:
    """Payouts of ``per_payout`` succeeded charges each, their balance transactions, and the
    bank credits (plus unrelated bank traffic)."""
    succeeded = [c for c in charges if c.status == "succeeded"]
    disputed = {d.charge_id: d for d in disputes}
    payouts: list[PayoutRecord] = []
    txns: list[BalanceTxnRecord] = []
    lines: list[Entry] = []
    paid: PayoutStatus = "paid"
    count = (len(succeeded) + per_payout - 1) // per_payout
    plant_at = {k: (count * (k + 1)) // 9 for k in range(6)}
    for k, cls in enumerate(_PAYOUT_SLOTS):
        if cls not in breaks:
            plant_at[k] = -1
    for k in range(count):
        payout_id = f"po_{k:06d}"
        net = sweep(
            payout_id,
            succeeded[k * per_payout : (k + 1) * per_payout],
            txns,
            currency=currency,
            fee=fee,
            disputes=disputed,
            movements=[Movement(f"txn_adj_{k}", "adjustment", -250)] if k % 50 == 3 else (),
        )
        arrival = day - timedelta(days=k % 5)
        status: PayoutStatus = paid
        amount = net
        trace = f"TRC{k:08d}" if k % 3 == 0 else None
        descriptor = "STRIPE" if k % 3 else f"STRIPE PAYOUT {k:06d}"
        booked = arrival + timedelta(days=k % 2)
        credit = net
        shown = True
        if k == plant_at[0]:
            amount = net + 1  # the gateway's payout disagrees with its own transactions
            credit = amount
            planted.add((BreakClass.PAYOUT_COMPOSITION_MISMATCH, payout_id))
        elif k == plant_at[1]:
            credit = net - 1_500  # the receiving bank took a fee
            planted.add((BreakClass.SHORT_PAYMENT, payout_id))
        elif k == plant_at[2]:
            credit = net + 900
            planted.add((BreakClass.EXCESS_PAYMENT, payout_id))
        elif k == plant_at[3]:
            arrival = day - timedelta(days=4)
            shown = False
            planted.add((BreakClass.MISSING_SETTLEMENT, payout_id))
        elif k == plant_at[4]:
            status = "failed_after_paid"
            planted.add((BreakClass.PAYOUT_FAILED_AFTER_PAID, payout_id))
        elif k == plant_at[5]:
            arrival = day  # paid today, the bank has not booked it yet: within grace, no break
            shown = False
        payouts.append(
            PayoutRecord(payout_id, amount, currency, arrival, status, descriptor, trace)
        )
        if shown:
            lines.append(
                Entry(
                    amount=credit,
                    direction="credit",
                    booking_date=booked if k != plant_at[3] else arrival,
                    value_date=booked,
                    end_to_end_id=payout_id if k % 3 == 1 else None,
                    trace_id=trace,
                    counterparty="STRIPE PAYMENTS EUROPE LTD",
                    remittance=descriptor,
                )
            )
    if BreakClass.UNKNOWN_BANK_CREDIT in breaks:  # settlement-looking, no payout explains it
        lines.append(
            Entry(
                amount=777_777,
                direction="credit",
                booking_date=day - timedelta(days=1),
                value_date=None,
                counterparty="STRIPE PAYMENTS EUROPE LTD",
                remittance="STRIPE",
                end_to_end_id="UNEXPLAINED-1",
            )
        )
        planted.add((BreakClass.UNKNOWN_BANK_CREDIT, "UNEXPLAINED-1"))
    # Everything else an account sees: customers' transfers, rent, card fees. Not gateway money.
    for n in range(max(10, len(succeeded) // 40)):
        credit_line = n % 3 != 0
        lines.append(
            Entry(
                amount=rng.randrange(100, 5_000_000),
                direction="credit" if credit_line else "debit",
                booking_date=day - timedelta(days=n % 6),
                value_date=None,
                end_to_end_id=f"E2E{n:09d}",
                counterparty=f"CUSTOMER {n % 997}" if credit_line else "LANDLORD GMBH",
                remittance=f"INVOICE {n}" if credit_line else "RENT",
            )
        )
    return payouts, txns, lines
