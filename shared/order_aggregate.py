"""The order aggregate: every fact the sources told us about one order, merged order-free.

Gateways and carriers duplicate and reorder. Each merge here is commutative, associative and
idempotent (a join of facts): flags are OR-ed, first times take the minimum, cumulative amounts
the maximum, and changing values are last-writer-wins registers ordered by the provider's own
time, then a rank, then the event id. Refunds are kept one by one by their gateway id (a
refund's final statuses, failed and canceled, outrank any other), and what a payment has
refunded is the sum of its succeeded refunds, so a refund that fails after it succeeded gives
its amount back to the order. Applying the same events in any order, any number of
times, gives the same state, and the status is derived from that state, never stored as a
transition. (Exactly-once effects on the timeline are the repository's job.)
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared import keys
from shared.event_parts import (
    PARCEL_EXCEPTIONS,
    PARCEL_LOSSES,
    PARCEL_NEWS,
    OrderPlaced,
    ShipmentStatus,
)
from shared.money import Money

if TYPE_CHECKING:
    from shared.events import PaymentAuthorized, PaymentFailed, PaymentSucceeded, Refund

T = TypeVar("T")

# What applying one event to an order did.
Outcome = Literal["applied", "duplicate", "conflict"]


@dataclass(frozen=True)
class TimelineEntry:
    """What the order's story says about one event or act. The event itself is not copied
    here: its source and id name it, and the raw webhook, as signed, is in the archive."""

    occurred_at: datetime
    source: str
    event_id: str
    kind: str
    summary: str

    @property
    def sort_key(self) -> str:
        return keys.timeline_sk(
            self.occurred_at.astimezone(UTC).isoformat(), self.source, self.event_id
        )


class OrderStatus(StrEnum):
    """What ``OrderState.status`` derives from the facts (the status index's values)."""

    AWAITING_ORDER = "awaiting_order"
    PENDING_PAYMENT = "pending_payment"
    AUTHORIZED = "authorized"
    PAID = "paid"
    UNDERPAID = "underpaid"
    PAYMENT_FAILED = "payment_failed"
    ABANDONED = "abandoned"
    FULFILLED = "fulfilled"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    DELIVERY_EXCEPTION = "delivery_exception"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"
    DISPUTED = "disputed"
    CHARGEBACK = "chargeback"


ORDER_STATUSES: tuple[str, ...] = tuple(s.value for s in OrderStatus)


class CancelReason(StrEnum):
    """Why the lifecycle cancelled an order (its stage detail); the fraud ones feed the
    customer's history and the backtest's labels."""

    BLOCKED_BY_SCREENING = "blocked_by_screening"
    REJECTED_IN_REVIEW = "rejected_in_review"
    REVIEW_TIMED_OUT = "review_timed_out"
    PAYMENT_NOT_AUTHORIZED = "payment_not_authorized"
    # Automatic capture: the payment did not succeed within the tenant's payment timeout.
    PAYMENT_NOT_RECEIVED = "payment_not_received"


FRAUD_CANCELLATIONS = frozenset(
    {CancelReason.BLOCKED_BY_SCREENING, CancelReason.REJECTED_IN_REVIEW}
)

# When two updates carry the same provider time, the later stage of a journey wins.
SHIPMENT_RANK = {
    ShipmentStatus.UNKNOWN: 0,
    ShipmentStatus.PRE_TRANSIT: 1,
    ShipmentStatus.IN_TRANSIT: 2,
    ShipmentStatus.OUT_FOR_DELIVERY: 3,
    ShipmentStatus.AVAILABLE_FOR_PICKUP: 4,
    ShipmentStatus.DELAYED: 5,
    ShipmentStatus.ATTEMPT_FAILED: 6,
    ShipmentStatus.EXCEPTION: 7,
    ShipmentStatus.FAILURE: 7,
    ShipmentStatus.DAMAGED: 8,
    ShipmentStatus.LOST: 9,
    ShipmentStatus.RETURN_TO_SENDER: 10,
    ShipmentStatus.CANCELLED: 11,
    ShipmentStatus.DELIVERED: 12,
}
# What a carrier said about a parcel that someone should hear of (news, problems, losses),
# each kept once per distinct scan (status and time) so each is told once.
PARCEL_NOTICES = frozenset(
    {*PARCEL_NEWS, *PARCEL_EXCEPTIONS, *PARCEL_LOSSES, ShipmentStatus.RETURN_TO_SENDER}
)
# Which problem an undelivered parcel's order shows first when several parcels have one.
_PROBLEM_ORDER = (
    ShipmentStatus.LOST,
    ShipmentStatus.DAMAGED,
    ShipmentStatus.RETURN_TO_SENDER,
    ShipmentStatus.EXCEPTION,
    ShipmentStatus.FAILURE,
)
DISPUTE_RANK = {
    "warning_needs_response": 0,
    "warning_under_review": 1,
    "needs_response": 2,
    "under_review": 3,
    "warning_closed": 4,
    "charge_refunded": 5,
    "won": 6,
    "lost": 6,
}
OPEN_DISPUTE = {"warning_needs_response", "warning_under_review", "needs_response", "under_review"}


class _State(BaseModel):
    # Validators are built on first use: most functions touch a few of these shapes.
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Register(_State, Generic[T]):
    """A last-writer-wins value ordered by (provider time, rank, event id)."""

    value: T
    at: datetime
    rank: int = 0
    event_id: str

    def key(self) -> tuple[datetime, int, str]:
        return (self.at, self.rank, self.event_id)


def _lww(current: Register[T] | None, new: Register[T]) -> Register[T]:
    return new if current is None or new.key() > current.key() else current


def _min(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _least(a: str | None, b: str | None) -> str | None:
    """Of two optional values, a deterministic choice whatever the order they came in."""
    return b if a is None else a if b is None else min(a, b)


# A refund's statuses at the gateway. ``failed`` and ``canceled`` are final: Stripe never
# moves a refund out of them, so once either is known a ``succeeded`` (an older event delivered
# late, or one stamped the same second) cannot bring the refund back. Between the others the
# later provider time wins, then the later stage.
REFUND_RANK = {"unknown": 0, "pending": 1, "requires_action": 2, "succeeded": 3}
REFUND_FINAL = frozenset({"failed", "canceled"})
# The status whose amount the customer has back (refunds in flight are reconciliation's to
# hold apart, never counted as refunded).
REFUND_COUNTED = frozenset({"succeeded"})


def _refund_order(status: Register[str]) -> tuple[bool, datetime, int, str]:
    return (status.value in REFUND_FINAL, status.at, status.rank, status.event_id)


class RefundFacts(_State):
    """One refund, by its gateway id: the largest amount reported (it never changes at the
    gateway), its status, when it was created and why it failed."""

    amount: int
    status: Register[str]
    created_at: datetime | None = None
    failure_reason: Register[str] | None = None
    destination_type: Register[str] | None = None
    network_reference: Register[str] | None = None

    @property
    def failed(self) -> bool:
        return self.status.value in REFUND_FINAL

    def merge(self, amount: int, status: Register[str], created_at: datetime | None) -> None:
        self.amount = max(self.amount, amount)
        if _refund_order(status) > _refund_order(self.status):
            self.status = status
        self.created_at = _min(self.created_at, created_at)


class PaymentFacts(_State):
    payment_id: str
    currency: str
    amount: int = 0
    charge_ids: list[str] = Field(default_factory=list)
    authorized_at: datetime | None = None
    succeeded_at: datetime | None = None
    failed_at: datetime | None = None
    failure: Register[str] | None = None
    captured: int = 0
    # The gateway's cumulative ``amount_refunded``, the latest report by provider time: only
    # for a payment whose refunds were never reported one by one (old API versions).
    reported_refunded: Register[int] | None = None
    refunds: dict[str, RefundFacts] = Field(default_factory=dict)
    card: Register[dict[str, Any]] | None = None
    customer: Register[dict[str, Any]] | None = None

    @model_validator(mode="before")
    @classmethod
    def _stored_before_refunds_by_id(cls, data: Any) -> Any:
        # Aggregates stored before refunds were added up by id kept the largest cumulative
        # amount as ``refunded``: it becomes the reported amount, as old as can be.
        if isinstance(data, dict) and "refunded" in data:
            data = dict(data)
            legacy = int(data.pop("refunded") or 0)
            if legacy and data.get("reported_refunded") is None:
                data["reported_refunded"] = {
                    "value": legacy,
                    "at": datetime.min.replace(tzinfo=UTC).isoformat(),
                    "event_id": "",
                }
        return data

    @property
    def refunded(self) -> int:
        """What the customer has back: the succeeded refunds, added up by refund id (so a
        refund that failed later, or twice reported, counts exactly once or not at all). Only a
        payment whose refunds are known solely by the gateway's cumulative amount takes that."""
        if self.refunds:
            return sum(r.amount for r in self.refunds.values() if r.status.value in REFUND_COUNTED)
        return self.reported_refunded.value if self.reported_refunded else 0

    def failed_refunds(self) -> list[tuple[str, RefundFacts]]:
        return sorted((rid, r) for rid, r in self.refunds.items() if r.failed)

    @property
    def status(self) -> str:
        if self.succeeded_at is not None:
            return "succeeded"
        if self.authorized_at is not None:
            return "authorized"
        return "failed" if self.failed_at is not None else "pending"

    @property
    def settled_amount(self) -> int:
        """What the customer actually paid: captured, or the amount when success says no more."""
        return self.captured or (self.amount if self.succeeded_at else 0)


class DisputeFacts(_State):
    dispute_id: str
    charge_id: str
    currency: str
    amount: int
    reason: str | None = None
    status: Register[str]
    opened_at: datetime | None = None
    evidence_due_by: datetime | None = None
    funds_withdrawn: bool = False
    funds_reinstated: bool = False


class ParcelNotice(_State):
    """One thing a carrier said about a parcel (an attempt, a delay, a loss…)."""

    status: str
    at: datetime
    detail: str | None = None


class ShipmentFacts(_State):
    """One parcel (a tracking code) of the order.

    Delivered is a flag (the first delivered scan's time), not the latest status: a parcel
    a carrier declared lost and then delivered is delivered, whichever scan arrives first.
    """

    tracking_code: str
    carrier: str | None = None
    status: Register[str] | None = None  # None until the carrier's first scan
    fulfilled_at: datetime | None = None
    first_seen_at: datetime
    tracking_url: str | None = None
    estimated_delivery: Register[str] | None = None
    delivered_at: datetime | None = None
    line_ids: list[str] = Field(default_factory=list)
    notices: dict[str, ParcelNotice] = Field(default_factory=dict)

    @property
    def state(self) -> str:
        """``delivered`` once any scan said so; else the latest scan's status, or
        ``fulfilled`` before the carrier's first scan."""
        if self.delivered_at is not None:
            return str(ShipmentStatus.DELIVERED)
        return self.status.value if self.status else "fulfilled"


class OrderState(_State):
    tenant: str
    order_id: str
    placed: Register[dict[str, Any]] | None = None
    cancelled_at: datetime | None = None
    cancel_reason: Register[str] | None = None
    checkout_expired: bool = False
    payments: dict[str, PaymentFacts] = Field(default_factory=dict)
    disputes: dict[str, DisputeFacts] = Field(default_factory=dict)
    shipments: dict[str, ShipmentFacts] = Field(default_factory=dict)

    # -- reading ---------------------------------------------------------------------------------

    @property
    def order(self) -> OrderPlaced | None:
        return OrderPlaced.model_validate(self.placed.value) if self.placed else None

    @property
    def currency(self) -> str | None:
        if self.placed:
            return str(self.placed.value["currency"])
        return next((p.currency for p in self.payments.values()), None)

    def _in_currency(self) -> list[PaymentFacts]:
        """Payments in the order's currency: only these pay for it. A payment in another
        currency is a break for reconciliation to name, never a part of "paid"."""
        currency = self.currency
        return [p for p in self.payments.values() if p.currency == currency]

    def paid(self) -> int:
        return sum(p.settled_amount for p in self._in_currency())

    def refunded(self) -> int:
        return sum(p.refunded for p in self._in_currency())

    def foreign_payments(self) -> list[PaymentFacts]:
        currency = self.currency
        return [p for p in self.payments.values() if p.currency != currency]

    def successful_payments(self) -> list[PaymentFacts]:
        return [p for p in self.payments.values() if p.succeeded_at is not None]

    def parcels(self) -> list[ShipmentFacts]:
        """The order's outbound parcels, by tracking code. When the shop named its parcels
        (fulfilments), only those: a return parcel is tracked beside them but is not one."""
        named = [p for p in self.shipments.values() if p.fulfilled_at is not None]
        return sorted(named or self.shipments.values(), key=lambda p: p.tracking_code)

    def parcel_lines(self, parcel: ShipmentFacts) -> list[str]:
        """The order's lines in ``parcel``: those the shop named for it, or, when it named
        none, the lines no other parcel names."""
        if parcel.line_ids:
            return list(parcel.line_ids)
        order = self.order
        if order is None:
            return []
        named = {line for p in self.parcels() for line in p.line_ids}
        return [line.line_id for line in order.lines if line.line_id not in named]

    def shipment_status(self) -> str | None:
        """All the parcels in one word: ``delivered`` only when every parcel is; else the
        gravest problem of an undelivered parcel, else how far the furthest one got."""
        parcels = self.parcels()
        if not parcels:
            return None
        waiting = [p.state for p in parcels if p.state != ShipmentStatus.DELIVERED]
        if not waiting:
            return str(ShipmentStatus.DELIVERED)
        for problem in _PROBLEM_ORDER:
            if problem in waiting:
                return str(problem)
        moving = [s for s in waiting if s != "fulfilled"]
        if not moving:
            return "fulfilled"
        return max(moving, key=lambda s: (SHIPMENT_RANK.get(ShipmentStatus(s), 0), s))

    def status(self) -> OrderStatus:
        """The order's status, derived from the facts alone (so arrival order cannot matter)."""
        if self.placed is None:
            return OrderStatus.AWAITING_ORDER
        disputes = [d.status.value for d in self.disputes.values()]
        if any(s in OPEN_DISPUTE for s in disputes):
            return OrderStatus.DISPUTED
        if "lost" in disputes:
            return OrderStatus.CHARGEBACK
        paid, refunded = self.paid(), self.refunded()
        if paid and refunded >= paid:
            return OrderStatus.REFUNDED
        if self.cancelled_at is not None:
            return OrderStatus.CANCELLED
        shipment = self.shipment_status()
        if shipment == ShipmentStatus.DELIVERED:
            return OrderStatus.DELIVERED
        if shipment in _PROBLEM_ORDER:
            return OrderStatus.DELIVERY_EXCEPTION
        if shipment is not None and shipment not in (
            ShipmentStatus.UNKNOWN,
            ShipmentStatus.CANCELLED,
            "fulfilled",
        ):
            return OrderStatus.SHIPPED
        if shipment == "fulfilled":
            return OrderStatus.FULFILLED
        if refunded:
            return OrderStatus.PARTIALLY_REFUNDED
        total = int(self.placed.value["total"]["amount"])
        if paid and paid >= total:
            return OrderStatus.PAID
        if paid:
            return OrderStatus.UNDERPAID
        if any(p.status == "authorized" for p in self.payments.values()):
            return OrderStatus.AUTHORIZED
        if any(p.status == "failed" for p in self.payments.values()):
            return OrderStatus.PAYMENT_FAILED
        if self.checkout_expired:
            return OrderStatus.ABANDONED
        return OrderStatus.PENDING_PAYMENT

    def placed_at(self) -> datetime | None:
        return self.placed.at if self.placed else None


# -- applying ---------------------------------------------------------------------------------


def _payment(state: OrderState, payment_id: str, amount: Money) -> PaymentFacts:
    facts = state.payments.get(payment_id)
    if facts is None:
        facts = PaymentFacts(payment_id=payment_id, currency=amount.currency)
        state.payments[payment_id] = facts
    return facts


def _add_charge(facts: PaymentFacts, charge_id: str | None) -> None:
    if charge_id and charge_id not in facts.charge_ids:
        facts.charge_ids = sorted([*facts.charge_ids, charge_id])


def _payment_common(
    facts: PaymentFacts, event: "PaymentAuthorized | PaymentSucceeded | PaymentFailed"
) -> None:
    facts.amount = max(facts.amount, event.amount.amount)
    _add_charge(facts, event.charge_id)
    if event.card is not None:
        facts.card = _lww(
            facts.card,
            Register(
                value=event.card.model_dump(exclude_none=True),
                at=event.occurred_at,
                event_id=event.source_event_id,
            ),
        )
    if event.customer is not None:
        facts.customer = _lww(
            facts.customer,
            Register(
                value=event.customer.model_dump(exclude_none=True),
                at=event.occurred_at,
                event_id=event.source_event_id,
            ),
        )


def apply(state: OrderState, event: Any) -> OrderState:
    """Merge one domain event into a copy of ``state``."""
    # Imported here: reading an order (every lifecycle step) needs none of these classes,
    # applying an event (the processor, which has them loaded already) all of them.
    from shared.events import (
        ChargeRefunded,
        CheckoutExpired,
        DisputeClosed,
        DisputeFundsReinstated,
        DisputeFundsWithdrawn,
        DisputeOpened,
        DisputeUpdated,
        OrderCancelled,
        OrderFulfilled,
        PaymentAuthorized,
        PaymentFailed,
        PaymentSucceeded,
        RefundUpdated,
        ShipmentUpdated,
    )

    new = state.model_copy(deep=True)
    at, eid = event.occurred_at, event.source_event_id
    match event:
        case OrderPlaced():
            new.placed = _lww(
                new.placed, Register(value=event.model_dump(mode="json"), at=at, event_id=eid)
            )
        case OrderCancelled():
            new.cancelled_at = _min(new.cancelled_at, at)
            if event.reason:
                new.cancel_reason = _lww(
                    new.cancel_reason, Register(value=event.reason, at=at, event_id=eid)
                )
        case CheckoutExpired():
            new.checkout_expired = True
        case PaymentAuthorized():
            facts = _payment(new, event.payment_id, event.amount)
            _payment_common(facts, event)
            facts.authorized_at = _min(facts.authorized_at, at)
        case PaymentSucceeded():
            facts = _payment(new, event.payment_id, event.amount)
            _payment_common(facts, event)
            facts.succeeded_at = _min(facts.succeeded_at, at)
            captured = event.amount_captured or event.amount
            facts.captured = max(facts.captured, captured.amount)
        case PaymentFailed():
            facts = _payment(new, event.payment_id, event.amount)
            _payment_common(facts, event)
            facts.failed_at = max(facts.failed_at or at, at)
            facts.failure = _lww(
                facts.failure, Register(value=event.failure_code or "failed", at=at, event_id=eid)
            )
        case ChargeRefunded():
            facts = _payment(new, event.payment_id or event.charge_id, event.amount_refunded)
            _add_charge(facts, event.charge_id)
            facts.reported_refunded = _lww(
                facts.reported_refunded,
                Register(value=event.amount_refunded.amount, at=at, event_id=eid),
            )
            for refund in event.refunds:
                _apply_refund(facts, refund, at, eid)
        case RefundUpdated():
            payment_id = event.payment_id or event.charge_id
            if payment_id is None:
                raise ValueError(f"refund {event.refund.refund_id} names no payment")
            facts = _payment(new, payment_id, event.refund.amount)
            _add_charge(facts, event.charge_id)
            _apply_refund(facts, event.refund, at, eid)
        case (
            DisputeOpened()
            | DisputeUpdated()
            | DisputeClosed()
            | DisputeFundsWithdrawn()
            | DisputeFundsReinstated()
        ):
            _apply_dispute(new, event)
        case OrderFulfilled():
            fulfilled = new.shipments.get(event.tracking_code)
            if fulfilled is None:
                new.shipments[event.tracking_code] = ShipmentFacts(
                    tracking_code=event.tracking_code,
                    carrier=event.carrier,
                    fulfilled_at=at,
                    first_seen_at=at,
                    tracking_url=event.tracking_url,
                    line_ids=sorted(set(event.line_ids)),
                )
            else:
                fulfilled.fulfilled_at = _min(fulfilled.fulfilled_at, at)
                fulfilled.first_seen_at = min(fulfilled.first_seen_at, at)
                fulfilled.carrier = _least(fulfilled.carrier, event.carrier)
                fulfilled.tracking_url = _least(fulfilled.tracking_url, event.tracking_url)
                fulfilled.line_ids = sorted({*fulfilled.line_ids, *event.line_ids})
        case ShipmentUpdated():
            rank = SHIPMENT_RANK[event.status]
            status: Register[str] = Register(
                value=str(event.status), at=at, rank=rank, event_id=eid
            )
            eta: Register[str] | None = (
                Register(value=event.estimated_delivery.isoformat(), at=at, rank=rank, event_id=eid)
                if event.estimated_delivery
                else None
            )
            known = new.shipments.get(event.tracking_code)
            if known is None:
                known = new.shipments[event.tracking_code] = ShipmentFacts(
                    tracking_code=event.tracking_code,
                    carrier=event.carrier,
                    status=status,
                    first_seen_at=at,
                    tracking_url=event.tracking_url,
                    estimated_delivery=eta,
                )
            else:
                known.status = _lww(known.status, status)
                known.first_seen_at = min(known.first_seen_at, at)
                known.carrier = _least(known.carrier, event.carrier)
                known.tracking_url = _least(known.tracking_url, event.tracking_url)
                if eta is not None:
                    known.estimated_delivery = _lww(known.estimated_delivery, eta)
            if event.status is ShipmentStatus.DELIVERED:
                known.delivered_at = _min(known.delivered_at, at)
            if event.status in PARCEL_NOTICES:
                # One notice per distinct scan: the same attempt sent twice is one attempt.
                key = f"{event.status}@{at.astimezone(UTC).isoformat()}"
                noticed = known.notices.get(key)
                known.notices[key] = ParcelNotice(
                    status=str(event.status),
                    at=at,
                    detail=_least(noticed.detail if noticed else None, event.status_detail),
                )
        case _:
            raise TypeError(f"{type(event).__name__} does not apply to an order")
    return new


def _apply_refund(facts: PaymentFacts, refund: "Refund", at: datetime, eid: str) -> None:
    status: Register[str] = Register(
        value=refund.status, at=at, rank=REFUND_RANK.get(refund.status, 0), event_id=eid
    )
    known = facts.refunds.get(refund.refund_id)
    if known is None:
        known = RefundFacts(
            amount=refund.amount.amount, status=status, created_at=refund.created_at
        )
        facts.refunds[refund.refund_id] = known
    else:
        known.merge(refund.amount.amount, status, refund.created_at)
    if refund.failure_reason:
        known.failure_reason = _lww(
            known.failure_reason, Register(value=refund.failure_reason, at=at, event_id=eid)
        )
    if refund.destination_type:
        known.destination_type = _lww(
            known.destination_type, Register(value=refund.destination_type, at=at, event_id=eid)
        )
    if refund.network_reference:
        known.network_reference = _lww(
            known.network_reference,
            Register(value=refund.network_reference, at=at, event_id=eid),
        )


def _apply_dispute(state: OrderState, event: Any) -> None:
    from shared.events import DisputeFundsReinstated, DisputeFundsWithdrawn, DisputeOpened

    rank = DISPUTE_RANK.get(event.status, 0)
    status: Register[str] = Register(
        value=event.status, at=event.occurred_at, rank=rank, event_id=event.source_event_id
    )
    known = state.disputes.get(event.dispute_id)
    if known is None:
        known = DisputeFacts(
            dispute_id=event.dispute_id,
            charge_id=event.charge_id,
            currency=event.amount.currency,
            amount=event.amount.amount,
            reason=event.reason,
            status=status,
        )
        state.disputes[event.dispute_id] = known
    else:
        known.status = _lww(known.status, status)
        known.amount = max(known.amount, event.amount.amount)
        known.reason = known.reason or event.reason
    if isinstance(event, DisputeOpened):
        known.opened_at = _min(known.opened_at, event.occurred_at)
    if event.evidence_due_by is not None:
        known.evidence_due_by = max(
            known.evidence_due_by or event.evidence_due_by, event.evidence_due_by
        )
    known.funds_withdrawn |= isinstance(event, DisputeFundsWithdrawn)
    known.funds_reinstated |= isinstance(event, DisputeFundsReinstated)


def references(event: Any) -> list[str]:
    """Gateway and carrier references an event carries, by which later events find the order."""
    refs: list[str] = []
    for name in ("payment_id", "charge_id", "tracking_code", "session_id"):
        value = getattr(event, name, None)
        if value:
            refs.append(f"{name.split('_')[0]}:{value}")
    return refs
