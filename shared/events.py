"""Domain events: what the normalisers make of every source's payloads.

Every event names its tenant, the source it came from and the provider's own event id (our
deduplication key), and when the provider says it happened (``occurred_at``, for ordering
within an aggregate; never the time we received it). Amounts are ``Money``. Card data is only
what a token-free record may hold: fingerprint, BIN (first six), last four, brand, country.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from shared.event_parts import (
    PARCEL_EXCEPTIONS,
    PARCEL_LOSSES,
    PARCEL_NEWS,
    Address,
    Card,
    Customer,
    LineItem,
    OrderPlaced,
    ShipmentStatus,
    Source,
    _Event,
    _Model,
)
from shared.money import Money

__all__ = [
    "PARCEL_EXCEPTIONS",
    "PARCEL_LOSSES",
    "PARCEL_NEWS",
    "Address",
    "Card",
    "Customer",
    "LineItem",
    "OrderPlaced",
    "ShipmentStatus",
    "Source",
]


class OrderCancelled(_Event):
    kind: Literal["OrderCancelled"] = "OrderCancelled"
    order_id: str
    reason: str | None = None


class OrderFulfilled(_Event):
    """The shop handed (part of) the order to a carrier: the link from a tracking code to its
    order (an EasyPost tracker names no order) and the lines in that parcel, when the shop says
    (none: the parcel holds what no other parcel names)."""

    kind: Literal["OrderFulfilled"] = "OrderFulfilled"
    order_id: str
    tracking_code: str
    line_ids: tuple[str, ...] = ()
    carrier: str | None = None
    tracking_provider: str | None = None
    tracking_url: str | None = None


class _PaymentEvent(_Event):
    order_id: str | None = Field(default=None, description="from the gateway's metadata.order_id")
    payment_id: str = Field(description="the payment intent (or charge when there is none)")
    charge_id: str | None = None
    amount: Money
    customer: Customer | None = None
    card: Card | None = None


class PaymentAuthorized(_PaymentEvent):
    kind: Literal["PaymentAuthorized"] = "PaymentAuthorized"


class PaymentSucceeded(_PaymentEvent):
    kind: Literal["PaymentSucceeded"] = "PaymentSucceeded"
    amount_captured: Money | None = None
    balance_transaction_id: str | None = None


class PaymentFailed(_PaymentEvent):
    kind: Literal["PaymentFailed"] = "PaymentFailed"
    failure_code: str | None = None
    failure_message: str | None = None
    decline_code: str | None = None


class CheckoutExpired(_Event):
    kind: Literal["CheckoutExpired"] = "CheckoutExpired"
    session_id: str
    order_id: str | None = None
    payment_id: str | None = None


class Refund(_Model):
    """One refund as the gateway reports it. Stripe's statuses: ``pending``,
    ``requires_action``, ``succeeded``, ``failed``, ``canceled``; a card refund may go from
    ``succeeded`` to ``failed`` up to 30 days later, with a ``failure_reason``."""

    refund_id: str
    amount: Money
    status: str
    reason: str | None = None
    created_at: datetime | None = None
    failure_reason: str | None = None
    # Where the money went back (Stripe's ``destination_details.card``): ``refund`` (a credit
    # the card network carries, 5-10 business days), ``reversal`` (the authorisation released
    # before it settled: no credit line appears) or ``pending``; and the card network's
    # reference for the credit (the ARN) the customer's bank can trace, once the gateway has it.
    destination_type: str | None = None
    network_reference: str | None = None


class ChargeRefunded(_Event):
    kind: Literal["ChargeRefunded"] = "ChargeRefunded"
    order_id: str | None = None
    payment_id: str | None = None
    charge_id: str
    amount_refunded: Money = Field(description="cumulative, as the gateway reports it")
    refunds: tuple[Refund, ...] = ()


class RefundUpdated(_Event):
    """One refund's news on its own (``refund.created``/``updated``/``failed``,
    ``charge.refund.updated``): no cumulative amount, which the aggregate does not need since
    it adds refunds up by id."""

    kind: Literal["RefundUpdated"] = "RefundUpdated"
    order_id: str | None = None
    payment_id: str | None = None
    charge_id: str | None = None
    refund: Refund


class _DisputeEvent(_Event):
    dispute_id: str
    charge_id: str
    payment_id: str | None = None
    order_id: str | None = None
    amount: Money
    reason: str | None = None
    status: str
    evidence_due_by: datetime | None = None
    # What the chargeback desk keeps on the case; absent from older payloads.
    card_brand: str | None = Field(default=None, description="visa, mastercard, amex, …")
    network_reason_code: str | None = Field(default=None, description="e.g. Visa 10.4")
    fee: Money | None = Field(
        default=None, description="the dispute fees of its balance transactions, summed"
    )


class DisputeOpened(_DisputeEvent):
    kind: Literal["DisputeOpened"] = "DisputeOpened"


class DisputeUpdated(_DisputeEvent):
    kind: Literal["DisputeUpdated"] = "DisputeUpdated"


class DisputeClosed(_DisputeEvent):
    kind: Literal["DisputeClosed"] = "DisputeClosed"


class DisputeFundsWithdrawn(_DisputeEvent):
    kind: Literal["DisputeFundsWithdrawn"] = "DisputeFundsWithdrawn"


class DisputeFundsReinstated(_DisputeEvent):
    kind: Literal["DisputeFundsReinstated"] = "DisputeFundsReinstated"


class EarlyFraudWarningRaised(_Event):
    """The card's issuer reported the charge as fraud (Stripe's ``radar.early_fraud_warning``):
    a dispute often follows. ``actionable``: refunding now can still prevent it."""

    kind: Literal["EarlyFraudWarningRaised"] = "EarlyFraudWarningRaised"
    warning_id: str
    charge_id: str
    payment_id: str | None = None
    actionable: bool
    fraud_type: str | None = None


class _PayoutEvent(_Event):
    payout_id: str
    amount: Money
    arrival_date: datetime | None = None
    status: str
    statement_descriptor: str | None = None
    balance_transaction_id: str | None = None


class PayoutPaid(_PayoutEvent):
    kind: Literal["PayoutPaid"] = "PayoutPaid"
    reconciliation_completed: bool = False


class PayoutFailed(_PayoutEvent):
    kind: Literal["PayoutFailed"] = "PayoutFailed"
    failure_code: str | None = None
    failure_message: str | None = None


class ShipmentUpdated(_Event):
    kind: Literal["ShipmentUpdated"] = "ShipmentUpdated"
    carrier: str | None = None
    tracking_code: str
    status: ShipmentStatus
    status_detail: str | None = None
    order_id: str | None = Field(default=None, description="from the shipment's reference/metadata")
    shipment_id: str | None = None
    location: str | None = None
    estimated_delivery: datetime | None = None
    tracking_url: str | None = None


DomainEvent = Annotated[
    OrderPlaced
    | OrderCancelled
    | OrderFulfilled
    | PaymentAuthorized
    | PaymentSucceeded
    | PaymentFailed
    | CheckoutExpired
    | ChargeRefunded
    | RefundUpdated
    | DisputeOpened
    | DisputeUpdated
    | DisputeClosed
    | DisputeFundsWithdrawn
    | DisputeFundsReinstated
    | EarlyFraudWarningRaised
    | PayoutPaid
    | PayoutFailed
    | ShipmentUpdated,
    Field(discriminator="kind"),
]


class Ignored(Exception):
    """A payload we store but do not act on (an event type with no domain meaning for us)."""


class Malformed(ValueError):
    """A payload that claims a known type but lacks what that type must carry."""
