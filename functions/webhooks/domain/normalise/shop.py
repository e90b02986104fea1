"""Shop orders → ``OrderPlaced`` / ``OrderCancelled``.

Two formats arrive at ``/webhooks/{tenant}/shop``:

1. Our own signed format, specified by ``docs/schemas/shop-order.schema.json`` (draft 2020-12)
   and mirrored by the pydantic models below (a unit test keeps the two in agreement). Amounts
   are decimal strings; one with more decimals than its currency has is ``Malformed``, never
   rounded.
2. Shopify's order and fulfilment webhooks. Shopify signs the body only, so the body alone
   decides what an event does: an order body places the order (and cancels it when the body
   carries ``cancelled_at``), a fulfilment body ships its parcels, anything else is
   ``Ignored``. The ``X-Shopify-Topic`` header is unsigned: a captured ``orders/create`` body
   re-sent as ``orders/cancelled`` is still just the order as created.

Shopify specifics:

* the order id is Shopify's numeric ``id`` as a string, without prefix (not the ``#1001`` name,
  which shops can renumber);
* amounts are in the shop currency (``currency``, ``total_price``, line ``price``);
  ``shipping`` is ``total_shipping_price_set.shop_money`` or else the sum of ``shipping_lines``;
* the vendor of a line is Shopify's ``vendor``; a line without one is filed under the vendor
  ``"unknown"`` so the order is still taken and screened, and the vendor ledger shows the line
  as unassigned instead of silently dropping it;
* an ``orders/create`` for an order that is already cancelled (orders imported or created by
  apps) yields ``OrderPlaced`` then ``OrderCancelled``, so the lifecycle sees both.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from functions.webhooks.domain.normalise import (
    Context,
    as_list,
    as_obj,
    decimal_money,
    iso_time,
    need_currency,
    need_int,
    need_iso_time,
    need_obj,
    need_text,
    text,
)
from functions.webhooks.domain.sources import shopify_body_kind
from shared.events import (
    Address,
    Customer,
    DomainEvent,
    Ignored,
    LineItem,
    Malformed,
    OrderCancelled,
    OrderFulfilled,
    OrderPlaced,
)
from shared.money import Money

__all__ = [
    "SHOPIFY_UNKNOWN_VENDOR",
    "ShopEnvelope",
    "ShopOrderCancelled",
    "ShopOrderCreated",
    "normalise_shop",
    "normalise_shopify",
    "parse_shop_envelope",
]

SHOPIFY_UNKNOWN_VENDOR = "unknown"

# --- our own format: pydantic mirror of docs/schemas/shop-order.schema.json --------------------

_DECIMAL = r"^(0|[1-9][0-9]{0,15})(\.[0-9]{1,4})?$"
_TIMESTAMP = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"
)


def _real_instant(value: str) -> str:
    # The pattern admits 2024-13-45; the schema's date-time format does not.
    datetime.fromisoformat(value)
    return value


def _ip(value: str) -> str:
    ipaddress.ip_address(value)
    return value


NonEmpty = Annotated[str, StringConstraints(min_length=1, max_length=200)]
OptionalText = NonEmpty | None
Decimal = Annotated[str, StringConstraints(pattern=_DECIMAL)]
Timestamp = Annotated[str, StringConstraints(pattern=_TIMESTAMP), AfterValidator(_real_instant)]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class ShopAddress(_Strict):
    name: OptionalText = None
    line1: OptionalText = None
    line2: OptionalText = None
    city: OptionalText = None
    state: OptionalText = None
    postal_code: OptionalText = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    phone: OptionalText = None


class ShopCustomer(_Strict):
    customer_id: OptionalText = None
    email: Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    name: OptionalText = None
    phone: OptionalText = None
    ip: Annotated[str, AfterValidator(_ip)] | None = None
    user_agent: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = None


class ShopLine(_Strict):
    line_id: NonEmpty
    sku: NonEmpty
    name: NonEmpty
    quantity: int = Field(ge=1, le=100_000)
    unit_price: Decimal
    vendor_id: NonEmpty
    category: OptionalText = None


class ShopOrder(_Strict):
    order_id: NonEmpty
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    total: Decimal
    lines: list[ShopLine] = Field(min_length=1, max_length=500)
    customer: ShopCustomer
    billing_address: ShopAddress
    shipping_address: ShopAddress
    business_category: OptionalText = None
    shipping: Decimal | None = None
    tax: Decimal | None = None
    discount: Decimal | None = None


class ShopCancellation(_Strict):
    order_id: NonEmpty
    reason: NonEmpty


class ShopFulfilmentRef(_Strict):
    order_id: NonEmpty


class ShopFulfilment(_Strict):
    tracking_code: NonEmpty
    carrier: OptionalText = None
    tracking_provider: OptionalText = None
    tracking_url: OptionalText = None
    line_ids: list[NonEmpty] = Field(default_factory=list)


class ShopOrderFulfilled(_Strict):
    event_id: NonEmpty
    type: Literal["order.fulfilled"]
    occurred_at: Timestamp
    order: ShopFulfilmentRef
    fulfillment: ShopFulfilment


class ShopOrderCreated(_Strict):
    event_id: NonEmpty
    type: Literal["order.created"]
    occurred_at: Timestamp
    order: ShopOrder


class ShopOrderCancelled(_Strict):
    event_id: NonEmpty
    type: Literal["order.cancelled"]
    occurred_at: Timestamp
    order: ShopCancellation


ShopEnvelopes = ShopOrderCreated | ShopOrderCancelled | ShopOrderFulfilled
ShopEnvelope = Annotated[ShopEnvelopes, Field(discriminator="type")]
_ENVELOPE: TypeAdapter[ShopEnvelopes] = TypeAdapter(ShopEnvelope)
_SHOP_TYPES = {"order.created", "order.cancelled", "order.fulfilled"}


def parse_shop_envelope(payload: Any) -> ShopEnvelopes:
    """Validate against the pydantic mirror of the schema; raises ``ValidationError``."""
    return _ENVELOPE.validate_python(payload)


def normalise_shop(payload: dict[str, Any], ctx: Context) -> list[DomainEvent]:
    kind = payload.get("type")
    if isinstance(kind, str) and kind not in _SHOP_TYPES:
        # A newer shop plugin may send more types than this schema knows; keep, don't fail.
        raise Ignored(f"shop event type {kind!r} is stored but not acted on")
    try:
        envelope = parse_shop_envelope(payload)
    except ValidationError as exc:
        raise Malformed(
            f"shop order does not match shop-order.schema.json: {_errors(exc)}"
        ) from None
    occurred_at = need_iso_time(envelope.occurred_at, "shop occurred_at")
    if isinstance(envelope, ShopOrderFulfilled):
        return [
            OrderFulfilled(
                **ctx.common(occurred_at),
                order_id=envelope.order.order_id,
                tracking_code=envelope.fulfillment.tracking_code,
                carrier=envelope.fulfillment.carrier,
                tracking_provider=envelope.fulfillment.tracking_provider,
                tracking_url=envelope.fulfillment.tracking_url,
                line_ids=tuple(envelope.fulfillment.line_ids),
            )
        ]
    if isinstance(envelope, ShopOrderCancelled):
        return [
            OrderCancelled(
                **ctx.common(occurred_at),
                order_id=envelope.order.order_id,
                reason=envelope.order.reason,
            )
        ]
    order = envelope.order
    currency = order.currency

    def money(value: str | None, what: str) -> Money | None:
        return None if value is None else decimal_money(value, currency, f"order.{what}")

    lines = tuple(
        LineItem(
            line_id=line.line_id,
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            unit_price=decimal_money(line.unit_price, currency, f"order.lines[{index}].unit_price"),
            vendor_id=line.vendor_id,
            category=line.category,
        )
        for index, line in enumerate(order.lines)
    )
    total = decimal_money(order.total, currency, "order.total")
    shipping, tax, discount = (
        money(order.shipping, "shipping"),
        money(order.tax, "tax"),
        money(order.discount, "discount"),
    )
    _check_total(total, lines, shipping, tax, discount)
    return [
        OrderPlaced(
            **ctx.common(occurred_at),
            order_id=order.order_id,
            currency=currency,
            total=total,
            lines=lines,
            customer=Customer(**order.customer.model_dump()),
            billing_address=Address(**order.billing_address.model_dump()),
            shipping_address=Address(**order.shipping_address.model_dump()),
            business_category=order.business_category,
            shipping=shipping,
            tax=tax,
            discount=discount,
        )
    ]


def _check_total(
    total: Money,
    lines: tuple[LineItem, ...],
    shipping: Money | None,
    tax: Money | None,
    discount: Money | None,
) -> None:
    """Our format's promise: total = Σ quantity * unit price + shipping + tax - discount.
    An order whose total says otherwise would charge, refund and pay vendors by numbers that
    contradict each other, so it is refused with both figures."""
    lines_sum = sum(line.unit_price.amount * line.quantity for line in lines)
    expected = (
        lines_sum
        + (shipping.amount if shipping else 0)
        + (tax.amount if tax else 0)
        - (discount.amount if discount else 0)
    )
    if expected != total.amount:
        computed = Money.of(expected, total.currency) if abs(expected) < 10**15 else expected
        raise Malformed(
            f"order.total {total} does not match its lines: Σ lines + shipping + tax - "
            f"discount = {computed}"
        )


def _errors(exc: ValidationError) -> str:
    parts = [
        f"{'.'.join(str(p) for p in error['loc']) or '(root)'}: {error['msg']}"
        for error in exc.errors()[:3]
    ]
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


# --- Shopify ------------------------------------------------------------------------------------

_COUNTRY = re.compile(r"^[A-Z]{2}$")


def normalise_shopify(payload: dict[str, Any], ctx: Context) -> list[DomainEvent]:
    kind = shopify_body_kind(payload)
    where = f"shopify {kind}"
    if kind == "fulfillment":
        return _shopify_fulfilled(payload, ctx, where)
    if kind == "other":
        raise Ignored("shopify body is neither an order nor a fulfilment: stored, not acted on")
    order_id = need_text(payload.get("id"), f"{where}: id")
    placed = _shopify_placed(payload, ctx, order_id, where)
    if kind == "order":
        return [placed]
    return [placed, _shopify_cancelled(payload, ctx, order_id, where)]


def _shopify_fulfilled(payload: dict[str, Any], ctx: Context, where: str) -> list[DomainEvent]:
    order_id = need_text(payload.get("order_id"), f"{where}: order_id")
    occurred_at = iso_time(payload.get("created_at")) or need_iso_time(
        payload.get("updated_at"), f"{where}: created_at"
    )
    codes = [text(c) for c in as_list(payload.get("tracking_numbers"))] or [
        text(payload.get("tracking_number"))
    ]
    urls = [text(u) for u in as_list(payload.get("tracking_urls"))]
    carrier = text(payload.get("tracking_company"))
    # Shopify's fulfilment lists its line items; with several tracking numbers it does not
    # say which parcel holds which, so the lines go with a single parcel only.
    line_ids = tuple(
        line_id
        for item in as_list(payload.get("line_items"))
        if (line_id := text((as_obj(item) or {}).get("id")))
    )
    events: list[DomainEvent] = [
        OrderFulfilled(
            **ctx.common(occurred_at),
            order_id=order_id,
            tracking_code=code,
            carrier=carrier,
            tracking_url=urls[index] if index < len(urls) else text(payload.get("tracking_url")),
            line_ids=line_ids if len(codes) == 1 else (),
        )
        for index, code in enumerate(codes)
        if code
    ]
    if not events:
        raise Ignored(f"{where}: a fulfilment without a tracking number links no parcel")
    return events


def _shopify_cancelled(
    payload: dict[str, Any], ctx: Context, order_id: str, where: str
) -> OrderCancelled:
    # Only a body that says when it was cancelled cancels: updated_at moves with every edit,
    # so it proves nothing about a cancellation.
    occurred_at = need_iso_time(payload.get("cancelled_at"), f"{where}: cancelled_at")
    return OrderCancelled(
        **ctx.common(occurred_at), order_id=order_id, reason=text(payload.get("cancel_reason"))
    )


def _shopify_placed(
    payload: dict[str, Any], ctx: Context, order_id: str, where: str
) -> OrderPlaced:
    occurred_at = iso_time(payload.get("created_at")) or need_iso_time(
        payload.get("processed_at"), f"{where}: created_at"
    )
    currency = need_currency(payload.get("currency"), f"{where}: currency")
    raw_lines = as_list(payload.get("line_items"))
    if not raw_lines:
        raise Malformed(f"{where}: line_items is missing or empty")
    lines = tuple(
        _shopify_line(item, currency, f"{where}: line_items[{index}]")
        for index, item in enumerate(raw_lines)
    )
    customer = as_obj(payload.get("customer")) or {}
    client = as_obj(payload.get("client_details")) or {}
    billing = _shopify_address(as_obj(payload.get("billing_address")))
    return OrderPlaced(
        **ctx.common(occurred_at),
        order_id=order_id,
        order_number=text(payload.get("name")) or text(payload.get("order_number")),
        currency=currency,
        total=decimal_money(payload.get("total_price"), currency, f"{where}: total_price"),
        lines=lines,
        customer=Customer(
            customer_id=text(customer.get("id")),
            email=text(payload.get("email"))
            or text(payload.get("contact_email"))
            or text(customer.get("email")),
            name=_person(customer) or (billing.name if billing else None),
            phone=text(payload.get("phone")) or text(customer.get("phone")),
            ip=text(payload.get("browser_ip")) or text(client.get("browser_ip")),
            user_agent=text(client.get("user_agent")),
        ),
        billing_address=billing,
        shipping_address=_shopify_address(as_obj(payload.get("shipping_address"))),
        shipping=_shopify_shipping(payload, currency, where),
        tax=_optional_money(payload.get("total_tax"), currency, f"{where}: total_tax"),
        discount=_optional_money(
            payload.get("total_discounts"), currency, f"{where}: total_discounts"
        ),
    )


def _shopify_line(item: Any, currency: str, where: str) -> LineItem:
    line = need_obj(item, where)
    quantity = need_int(line.get("quantity"), f"{where}.quantity")
    if quantity < 1:
        raise Malformed(f"{where}.quantity is {quantity}; an ordered line has at least one")
    return LineItem(
        line_id=need_text(line.get("id"), f"{where}.id"),
        sku=text(line.get("sku")),
        name=text(line.get("name")) or need_text(line.get("title"), f"{where}.name"),
        quantity=quantity,
        unit_price=decimal_money(line.get("price"), currency, f"{where}.price"),
        vendor_id=text(line.get("vendor")) or SHOPIFY_UNKNOWN_VENDOR,
        category=text(line.get("product_type")),
    )


def _shopify_shipping(payload: dict[str, Any], currency: str, where: str) -> Money | None:
    price_set = as_obj(payload.get("total_shipping_price_set")) or {}
    shop_money = as_obj(price_set.get("shop_money")) or {}
    if shop_money.get("amount") is not None:
        return decimal_money(
            shop_money.get("amount"), currency, f"{where}: total_shipping_price_set"
        )
    lines = [line for line in as_list(payload.get("shipping_lines")) if isinstance(line, dict)]
    if not lines:
        return None
    total = Money.zero(currency)
    for index, line in enumerate(lines):
        total += decimal_money(line.get("price"), currency, f"{where}: shipping_lines[{index}]")
    return total


def _optional_money(value: Any, currency: str, what: str) -> Money | None:
    return None if value is None else decimal_money(value, currency, what)


def _person(record: dict[str, Any]) -> str | None:
    parts = [value for key in ("first_name", "last_name") if (value := text(record.get(key)))]
    return " ".join(parts) or None


def _shopify_address(address: dict[str, Any] | None) -> Address | None:
    if not address:
        return None
    country = (text(address.get("country_code")) or "").upper()
    return Address(
        name=text(address.get("name")) or _person(address),
        line1=text(address.get("address1")),
        line2=text(address.get("address2")),
        city=text(address.get("city")),
        state=text(address.get("province_code")) or text(address.get("province")),
        postal_code=text(address.get("zip")),
        country=country if _COUNTRY.match(country) else None,
        phone=text(address.get("phone")),
    )
