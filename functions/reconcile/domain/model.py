"""What the reconciliation engine reads and what it says: one tenant's day as plain records.

Plain slotted frozen dataclasses rather than pydantic models: a large tenant's day is a million
orders, a million charges and a million balance transactions, and the engine must reconcile
them in one Lambda in seconds. Validation belongs to the loader that builds these records from
the stores (already-validated pydantic state), not to the engine's hot loops.

Money is an integer of minor units with its ISO 4217 currency, as everywhere in the system.
Status vocabularies are small closed sets; each record's docstring says how a loader maps the
stored aggregates (``shared.order_aggregate.OrderState``, ``shared.settlements``)
onto them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from functions.reconcile.domain.bank.model import BankLine

# -- input records ------------------------------------------------------------------------------

OrderStatus = Literal["placed", "completed", "cancelled", "failed", "refunded"]
ORDER_PLACED: OrderStatus = "placed"
ORDER_COMPLETED: OrderStatus = "completed"
ORDER_CANCELLED: OrderStatus = "cancelled"
ORDER_FAILED: OrderStatus = "failed"
ORDER_REFUNDED: OrderStatus = "refunded"
# Orders that still go ahead: money taken for them is expected, money returned for them is not.
ACTIVE_ORDER_STATUSES: frozenset[str] = frozenset({ORDER_PLACED, ORDER_COMPLETED})


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One order as the shop sees it.

    The status is the shop's side only, never derived from payments (``OrderState.status()``
    mixes payment facts in, and reconciling payments against a status made from them would be
    circular). A loader maps ``OrderState`` fields as follows, first rule that applies:

    - no ``placed`` fact: no record at all (the order is *missing*), unless
      ``checkout_expired`` is set, which gives ``failed`` with amount 0;
    - ``cancelled_at`` set: ``cancelled``;
    - ``checkout_expired`` set: ``failed`` (the checkout never completed);
    - the shop marked the order refunded (a shop-side fact; none is stored yet): ``refunded``;
    - any shipment (``shipments`` not empty: fulfilled, scanned, delivered, returned):
      ``completed`` — goods have left, so the money must be there;
    - otherwise ``placed`` (accepted, not yet fulfilled: payment may still be on its way).

    ``amount`` is ``placed.value["total"]["amount"]``, ``placed_at`` is ``OrderState.placed_at()``.
    """

    tenant: str
    order_id: str
    status: OrderStatus
    amount: int
    currency: str
    placed_at: datetime
    customer_email: str | None = None


ChargeStatus = Literal["succeeded", "failed", "pending"]
CHARGE_SUCCEEDED: ChargeStatus = "succeeded"


@dataclass(frozen=True, slots=True)
class ChargeRecord:
    """One gateway charge (Stripe: the charge of a payment intent).

    From ``OrderState.payments`` (``PaymentFacts``): one record per payment intent, with
    ``status`` = ``PaymentFacts.status`` where ``authorized`` and ``pending`` both map to
    ``pending`` (not money yet); ``charge_id`` = the charge that succeeded (the payment's last
    ``charge_ids`` entry, or the ``source`` of its balance transaction; the payment id when the
    gateway gave no charge id); ``amount`` = ``PaymentFacts.amount``; ``captured`` =
    ``PaymentFacts.settled_amount``; ``refunded`` = ``PaymentFacts.refunded`` (its succeeded
    refunds added up by refund id: one the gateway failed later no longer counts).
    ``order_id`` is the gateway's ``metadata.order_id``; ``None`` for a payment no order names.
    Failed attempts of a payment that later succeeded may be left out: only succeeded charges
    move money.
    """

    payment_id: str
    charge_id: str
    order_id: str | None
    amount: int
    currency: str
    status: ChargeStatus
    captured: int
    refunded: int
    created_at: datetime


RefundStatus = Literal["succeeded", "pending", "requires_action", "failed", "canceled"]
# A refund that will not reach the customer: failed at the gateway (possibly days after it had
# succeeded) or canceled.
REFUND_NOT_MADE: frozenset[str] = frozenset({"failed", "canceled"})


@dataclass(frozen=True, slots=True)
class RefundRecord:
    """One refund of a payment (``PaymentFacts.refunds``: refund id → amount and status).

    Succeeded refunds are already in ``ChargeRecord.refunded``; the engine reads these records
    for refunds *in flight* (``pending``), so that it never suggests refunding money a refund
    already on its way will return, and for refunds the gateway failed or canceled (possibly
    after they had succeeded), whose money is held again. ``charge_id`` is optional because the
    aggregate files refunds by payment. ``order_id`` is the order whose aggregate holds the
    payment: when every pending refund names it, the engine finds the orders concerned without
    reading a million payment ids. ``created_at`` is when the refund was made (the gateway's
    ``created``, else its status time), ``status_at`` when it took its status,
    ``failure_reason`` the gateway's reason for a failed one.
    """

    refund_id: str
    payment_id: str
    amount: int
    currency: str
    status: RefundStatus
    created_at: datetime
    charge_id: str | None = None
    order_id: str | None = None
    status_at: datetime | None = None
    failure_reason: str | None = None


# Stripe's dispute statuses in which the merchant can still act (``OPEN_DISPUTE`` in the
# order aggregate).
OPEN_DISPUTE_STATUSES: frozenset[str] = frozenset(
    {"warning_needs_response", "warning_under_review", "needs_response", "under_review"}
)


@dataclass(frozen=True, slots=True)
class DisputeRecord:
    """One dispute (``DisputeFacts``: ``status.value`` is Stripe's status string).

    ``has_case`` is whether the chargeback desk opened a case for it (the disputes store);
    ``payment_id`` and ``order_id`` are the ones the aggregate holding the dispute knows.
    """

    dispute_id: str
    charge_id: str
    amount: int
    currency: str
    status: str
    has_case: bool
    opened_at: datetime | None = None
    payment_id: str | None = None
    order_id: str | None = None
    reason: str | None = None


PayoutStatus = Literal["paid", "failed", "failed_after_paid", "pending"]
PAYOUT_PAID: PayoutStatus = "paid"
PAYOUT_FAILED: PayoutStatus = "failed"
PAYOUT_FAILED_AFTER_PAID: PayoutStatus = "failed_after_paid"
PAYOUT_PENDING: PayoutStatus = "pending"


@dataclass(frozen=True, slots=True)
class PayoutRecord:
    """One gateway payout (settlement) to the tenant's bank account.

    From ``shared.settlements.PayoutState``: ``status`` is ``PayoutState.status``
    verbatim, ``arrival_date`` its ``arrival_date.date()`` (the day the gateway says the money
    reaches the bank), ``statement_descriptor`` verbatim. ``trace_id`` is the payout's
    ``trace_id.value`` (ACH/SEPA trace the bank may show) where the gateway gives one.
    """

    payout_id: str
    amount: int
    currency: str
    arrival_date: date
    status: PayoutStatus
    statement_descriptor: str | None = None
    trace_id: str | None = None


# Balance transaction categories the explanation names (Stripe's ``reporting_category``, or
# ``type`` when the category is missing, as ``settlements.summarise`` files them).
CATEGORY_CHARGE = "charge"
CATEGORY_REFUND = "refund"
CATEGORY_DISPUTE = "dispute"
CATEGORY_DISPUTE_REVERSAL = "dispute_reversal"
CATEGORY_FEE = "fee"
CATEGORY_PAYOUT = "payout"


@dataclass(frozen=True, slots=True)
class BalanceTxnRecord:
    """One balance transaction a payout swept (``balance_transactions?payout=po_…``).

    From ``shared.settlements.BalanceTransaction``: ``reporting_category`` is
    ``reporting_category or type``; ``source_id`` the charge, refund or dispute id; amounts are
    the ``Money.amount`` of ``amount``, ``fee`` and ``net`` (``net == amount - fee``). The
    payout's own transaction (category ``payout``) may be included; the engine leaves it out of
    the composition.
    """

    txn_id: str
    payout_id: str
    source_id: str | None
    reporting_category: str
    amount: int
    fee: int
    net: int
    currency: str


@dataclass(frozen=True, slots=True)
class DayInputs:
    """Everything one tenant's reconciliation of ``day`` reads, already loaded.

    The loader reads by key ranges (orders placed on the day, and every order, charge, refund and
    dispute those name; payouts arriving in the look-back window with their balance
    transactions; bank lines booked in that window). Records of other tenants are an error.
    """

    tenant: str
    day: date
    orders: Sequence[OrderRecord] = ()
    charges: Sequence[ChargeRecord] = ()
    refunds: Sequence[RefundRecord] = ()
    disputes: Sequence[DisputeRecord] = ()
    payouts: Sequence[PayoutRecord] = ()
    balance_txns: Sequence[BalanceTxnRecord] = ()
    bank_lines: Sequence[BankLine] = ()


# -- what the engine says ----------------------------------------------------------------------


class BreakClass(StrEnum):
    # orders ↔ payments
    DUPLICATE_PAYMENT = "duplicate_payment"
    CHARGED_ORDER_NOT_COMPLETED = "charged_order_not_completed"
    COMPLETED_NOT_PAID = "completed_not_paid"
    AMOUNT_MISMATCH = "amount_mismatch"
    CANCELLED_NOT_REFUNDED = "cancelled_not_refunded"
    REFUNDED_STILL_ACTIVE = "refunded_still_active"
    DISPUTE_WITHOUT_CASE = "dispute_without_case"
    REFUND_FAILED = "refund_failed"
    # payouts ↔ bank
    SHORT_PAYMENT = "short_payment"
    EXCESS_PAYMENT = "excess_payment"
    MISSING_SETTLEMENT = "missing_settlement"
    UNKNOWN_BANK_CREDIT = "unknown_bank_credit"
    PAYOUT_FAILED_AFTER_PAID = "payout_failed_after_paid"
    # payout composition
    PAYOUT_COMPOSITION_MISMATCH = "payout_composition_mismatch"


class Priority(StrEnum):
    P1 = "P1"  # money lost or at risk: act today
    P2 = "P2"  # money unexplained: explain this week
    P3 = "P3"  # bookkeeping


PRIORITY: dict[BreakClass, Priority] = {
    BreakClass.DUPLICATE_PAYMENT: Priority.P1,
    BreakClass.CHARGED_ORDER_NOT_COMPLETED: Priority.P1,
    BreakClass.COMPLETED_NOT_PAID: Priority.P1,
    BreakClass.AMOUNT_MISMATCH: Priority.P2,
    BreakClass.CANCELLED_NOT_REFUNDED: Priority.P1,
    BreakClass.REFUNDED_STILL_ACTIVE: Priority.P1,
    BreakClass.DISPUTE_WITHOUT_CASE: Priority.P1,
    BreakClass.REFUND_FAILED: Priority.P1,
    BreakClass.SHORT_PAYMENT: Priority.P1,
    BreakClass.EXCESS_PAYMENT: Priority.P2,
    BreakClass.MISSING_SETTLEMENT: Priority.P1,
    BreakClass.UNKNOWN_BANK_CREDIT: Priority.P2,
    BreakClass.PAYOUT_FAILED_AFTER_PAID: Priority.P1,
    BreakClass.PAYOUT_COMPOSITION_MISMATCH: Priority.P2,
}

ActionKind = Literal[
    "refund", "cancel_order", "open_dispute_case", "chase_settlement", "pay_back_customer"
]


@dataclass(frozen=True, slots=True)
class RefundInstruction:
    """One refund to make. The idempotency key comes from our own ids and the amount, so
    re-running the same day suggests the same refund under the same key, and a changed amount
    (a partial refund happened meanwhile) a new one."""

    payment_id: str
    charge_id: str
    amount: int
    currency: str
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class SuggestedAction:
    kind: ActionKind
    description: str
    refunds: tuple[RefundInstruction, ...] = ()


BreakKeys = tuple[tuple[str, str], ...]


def break_id(tenant: str, break_class: BreakClass, identity: BreakKeys) -> str:
    """Deterministic from tenant, class and the keys that name the problem (not its amounts),
    so that today's run and tomorrow's give the same id to the same problem."""
    text = "|".join((tenant, break_class.value, *(f"{k}={v}" for k, v in identity)))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Break:
    """One named difference.

    ``amount`` is the money at stake (minor units, never negative); ``expected``/``actual`` are
    the two sides compared where a comparison was made. ``keys`` are every key involved (an
    order, its charges, a payout, a bank line), in a stable order; ``break_id`` is made from the
    identifying subset of them only. ``first_seen``/``age_days`` are today and 0 when the engine
    makes the break, and carried from earlier days by ``carry_forward``.
    """

    break_id: str
    tenant: str
    break_class: BreakClass
    priority: Priority
    currency: str | None
    amount: int
    keys: BreakKeys
    explanation: str
    first_seen: date
    expected: int | None = None
    actual: int | None = None
    suggested_action: SuggestedAction | None = None
    age_days: int = 0

    def key(self, name: str) -> str | None:
        return next((v for k, v in self.keys if k == name), None)
