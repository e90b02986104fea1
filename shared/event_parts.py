"""The parts every domain event shares (its source, the parcel vocabulary, the base model) and
the placed order with its parts: what an order's state needs to read itself.

Apart from ``shared.events`` (which re-exports all of it) so that reading an order does not
create the classes of the other eighteen events: a lifecycle step reads the placed order on
every call and applies no event, and each class costs its import ~2 M instructions
(docs/architecture.md, "Cold starts").
"""

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.money import Currency, Money


class Source(StrEnum):
    STRIPE = "stripe"
    EASYPOST = "easypost"
    AFTERSHIP = "aftership"
    SHIPPO = "shippo"
    SHOP = "shop"
    SHOPIFY = "shopify"


class ShipmentStatus(StrEnum):
    """One carrier-neutral vocabulary for every tracking provider.

    What a status asks of us differs, so the vocabulary keeps them apart: an attempt that
    failed (the carrier tries again) and a delay are news for the customer while the parcel
    keeps going; an exception (refused, bad address, held at customs) needs someone to act;
    ``lost`` and ``damaged`` are a loss the carrier owes us for (a claim); a parcel returning
    to the sender will not reach the customer. ``failure`` is a carrier's failure with no
    reason given, read as an exception.
    """

    PRE_TRANSIT = "pre_transit"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    ATTEMPT_FAILED = "attempt_failed"
    DELAYED = "delayed"
    EXCEPTION = "exception"
    FAILURE = "failure"
    LOST = "lost"
    DAMAGED = "damaged"
    RETURN_TO_SENDER = "return_to_sender"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"


# The customer hears of these and the parcel keeps going.
PARCEL_NEWS = frozenset({ShipmentStatus.ATTEMPT_FAILED, ShipmentStatus.DELAYED})
# The carrier lost or broke the parcel: a claim.
PARCEL_LOSSES = frozenset({ShipmentStatus.LOST, ShipmentStatus.DAMAGED})
# Someone must act, the parcel may still arrive.
PARCEL_EXCEPTIONS = frozenset({ShipmentStatus.EXCEPTION, ShipmentStatus.FAILURE})


class _Model(BaseModel):
    # Validators are built on first use: a function meets a few of these event types.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Address(_Model):
    name: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2, upper case")
    # Who to call at this address (a review's call task asks the customer to confirm).
    phone: str | None = None


class Customer(_Model):
    customer_id: str | None = None
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    ip: str | None = None
    user_agent: str | None = None


class Card(_Model):
    fingerprint: str | None = None
    bin: str | None = Field(default=None, pattern=r"^[0-9]{6,8}$")
    last4: str | None = Field(default=None, pattern=r"^[0-9]{4}$")
    brand: str | None = None
    country: str | None = None
    funding: str | None = None
    wallet: str | None = None


class LineItem(_Model):
    line_id: str
    sku: str | None = None
    name: str
    quantity: int = Field(ge=1)
    unit_price: Money
    vendor_id: str
    category: str | None = None


class _Event(_Model):
    tenant: str
    source: Source
    source_event_id: str
    occurred_at: datetime


class OrderPlaced(_Event):
    kind: Literal["OrderPlaced"] = "OrderPlaced"
    order_id: str
    # What the customer sees on the receipt when it is not the order id (Shopify's ``name``,
    # "#1001"): support finds the order by it (``shared.order_lookup``).
    order_number: str | None = None
    currency: Currency
    total: Money
    lines: tuple[LineItem, ...]
    customer: Customer
    billing_address: Address | None = None
    shipping_address: Address | None = None
    business_category: str | None = None
    shipping: Money | None = None
    tax: Money | None = None
    discount: Money | None = None
