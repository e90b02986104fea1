"""Shop normaliser: our signed format (schema ⇔ pydantic), and Shopify order webhooks."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from pydantic import ValidationError

from functions.webhooks.domain.normalise import normalise
from functions.webhooks.domain.normalise.shop import SHOPIFY_UNKNOWN_VENDOR, parse_shop_envelope
from shared.events import (
    DomainEvent,
    Ignored,
    Malformed,
    OrderCancelled,
    OrderPlaced,
    Source,
)
from shared.money import Money
from tests.hostile import assert_only_documented_failures

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "docs" / "schemas" / "shop-order.schema.json"
TENANT = "acme"
EVENT_ID = "shop-evt-1"
RECEIVED = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def run(source: Source, payload: dict[str, Any]) -> list[DomainEvent]:
    return normalise(source, TENANT, payload, event_id=EVENT_ID, received_at=RECEIVED)


# --- our own format -------------------------------------------------------------------------------


def created_doc() -> dict[str, Any]:
    return {
        "event_id": EVENT_ID,
        "type": "order.created",
        "occurred_at": "2025-05-30T09:15:00.250+02:00",
        "order": {
            "order_id": "ord-1001",
            "currency": "USD",
            "total": "64.97",
            "lines": [
                {
                    "line_id": "l1",
                    "sku": "MUG-01",
                    "name": "Mug",
                    "quantity": 2,
                    "unit_price": "19.99",
                    "vendor_id": "vendor-a",
                    "category": "kitchen",
                },
                {
                    "line_id": "l2",
                    "sku": "TEE-M",
                    "name": "T-shirt",
                    "quantity": 1,
                    "unit_price": "20.00",
                    "vendor_id": "vendor-b",
                },
            ],
            "customer": {
                "customer_id": "cust-7",
                "email": "ana@example.com",
                "name": "Ana Lima",
                "phone": "+351 210 000 000",
                "ip": "203.0.113.7",
                "user_agent": "Mozilla/5.0",
            },
            "billing_address": {
                "name": "Ana Lima",
                "line1": "Rua 1",
                "city": "Lisboa",
                "postal_code": "1000-001",
                "country": "PT",
            },
            "shipping_address": {"name": "Ana Lima", "line1": "Rua 1", "country": "PT"},
            "business_category": "homeware",
            "shipping": "4.99",
            "tax": "0.00",
            "discount": "0.00",
        },
    }


def cancelled_doc() -> dict[str, Any]:
    return {
        "event_id": "shop-evt-2",
        "type": "order.cancelled",
        "occurred_at": "2025-05-31T10:00:00Z",
        "order": {"order_id": "ord-1001", "reason": "customer changed their mind"},
    }


DELETE = object()


def with_change(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy with ``path`` (dots, list indexes as numbers) set, or deleted for DELETE."""
    changed = copy.deepcopy(doc)
    *parents, last = path.split(".")
    target: Any = changed
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return changed


def minimal_created() -> dict[str, Any]:
    doc = created_doc()
    order = doc["order"]
    for key in ("business_category", "shipping", "tax", "discount"):
        del order[key]
    order["customer"] = {"email": "ana@example.com"}
    order["billing_address"] = {"country": "PT"}
    order["shipping_address"] = {"country": "PT"}
    order["total"] = "59.98"  # 2 x 19.99 + 20.00, nothing else
    del order["lines"][0]["category"]
    return doc


VALID: list[tuple[str, dict[str, Any]]] = [
    ("full order", created_doc()),
    ("only required fields", minimal_created()),
    ("nulls for optional fields", with_change(created_doc(), "order.shipping", None)),
    ("null ip and user agent", with_change(created_doc(), "order.customer.ip", None)),
    ("ipv6 client", with_change(created_doc(), "order.customer.ip", "2001:db8::1")),
    ("cancellation", cancelled_doc()),
    ("zero-decimal JPY", with_change(created_doc(), "order.currency", "JPY")),
    ("three decimals", with_change(created_doc(), "order.total", "1.250")),
]

INVALID: list[tuple[str, dict[str, Any]]] = [
    ("no lines", with_change(created_doc(), "order.lines", [])),
    ("lines missing", with_change(created_doc(), "order.lines", DELETE)),
    ("quantity zero", with_change(created_doc(), "order.lines.0.quantity", 0)),
    ("quantity as string", with_change(created_doc(), "order.lines.0.quantity", "2")),
    ("quantity as boolean", with_change(created_doc(), "order.lines.0.quantity", True)),
    ("price as number", with_change(created_doc(), "order.lines.0.unit_price", 19.99)),
    ("price with five decimals", with_change(created_doc(), "order.total", "1.00001")),
    ("negative total", with_change(created_doc(), "order.total", "-5.00")),
    ("lower-case currency", with_change(created_doc(), "order.currency", "usd")),
    ("alpha-3 country", with_change(created_doc(), "order.shipping_address.country", "PRT")),
    ("shipping address missing", with_change(created_doc(), "order.shipping_address", DELETE)),
    ("unknown field", with_change(created_doc(), "order.coupon", "SPRING")),
    ("unknown type", with_change(created_doc(), "type", "order.updated")),
    ("time without offset", with_change(created_doc(), "occurred_at", "2025-05-30T09:15:00")),
    ("impossible date", with_change(created_doc(), "occurred_at", "2025-13-40T09:15:00Z")),
    ("bad ip", with_change(created_doc(), "order.customer.ip", "999.1.1.1")),
    ("bad email", with_change(created_doc(), "order.customer.email", "ana-at-example")),
    ("sku missing", with_change(created_doc(), "order.lines.1.sku", DELETE)),
    ("empty vendor", with_change(created_doc(), "order.lines.1.vendor_id", "")),
    ("cancellation without reason", with_change(cancelled_doc(), "order.reason", DELETE)),
    (
        "cancellation with an order body",
        with_change(cancelled_doc(), "order", created_doc()["order"]),
    ),
    ("event id missing", with_change(cancelled_doc(), "event_id", DELETE)),
]


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def pydantic_accepts(doc: dict[str, Any]) -> bool:
    try:
        parse_shop_envelope(doc)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(("label", "doc"), VALID, ids=[label for label, _ in VALID])
def test_schema_and_model_accept_the_same_valid_documents(
    validator: Any, label: str, doc: dict[str, Any]
) -> None:
    errors = [e.message for e in validator.iter_errors(doc)]
    assert errors == [], f"schema rejects {label}: {errors}"
    assert pydantic_accepts(doc), f"model rejects {label}"


@pytest.mark.parametrize(("label", "doc"), INVALID, ids=[label for label, _ in INVALID])
def test_schema_and_model_reject_the_same_invalid_documents(
    validator: Any, label: str, doc: dict[str, Any]
) -> None:
    assert not validator.is_valid(doc), f"schema accepts {label}"
    assert not pydantic_accepts(doc), f"model accepts {label}"


def test_shop_order_created_becomes_order_placed() -> None:
    [event] = run(Source.SHOP, created_doc())
    assert isinstance(event, OrderPlaced)
    assert (event.tenant, event.source, event.source_event_id) == (TENANT, Source.SHOP, EVENT_ID)
    assert event.occurred_at == datetime(2025, 5, 30, 7, 15, 0, 250_000, tzinfo=UTC)
    assert (event.order_id, event.currency, event.total) == (
        "ord-1001",
        "USD",
        Money.of(6497, "USD"),
    )
    assert [(li.line_id, li.quantity, li.unit_price, li.vendor_id) for li in event.lines] == [
        ("l1", 2, Money.of(1999, "USD"), "vendor-a"),
        ("l2", 1, Money.of(2000, "USD"), "vendor-b"),
    ]
    assert event.lines[0].category == "kitchen" and event.lines[1].category is None
    assert (event.customer.email, event.customer.ip) == ("ana@example.com", "203.0.113.7")
    assert event.billing_address is not None and event.billing_address.city == "Lisboa"
    assert event.shipping_address is not None and event.shipping_address.country == "PT"
    assert (event.shipping, event.tax, event.discount) == (
        Money.of(499, "USD"),
        Money.of(0, "USD"),
        Money.of(0, "USD"),
    )
    assert event.business_category == "homeware"


def test_shop_order_cancelled() -> None:
    [event] = run(Source.SHOP, cancelled_doc())
    assert isinstance(event, OrderCancelled)
    assert (event.order_id, event.reason) == ("ord-1001", "customer changed their mind")
    assert event.occurred_at == datetime(2025, 5, 31, 10, 0, tzinfo=UTC)


def test_a_total_that_does_not_add_up_is_refused_with_both_figures() -> None:
    with pytest.raises(Malformed, match=r"order\.total USD 70\.00 does not match .* USD 64\.97"):
        run(Source.SHOP, with_change(created_doc(), "order.total", "70.00"))


def test_amounts_no_payment_reaches_are_refused() -> None:
    huge = with_change(created_doc(), "order.lines.1.unit_price", "9999999999999999")
    with pytest.raises(Malformed, match="larger than any amount"):
        run(Source.SHOP, huge)


def test_shop_minimal_order_has_no_optional_amounts() -> None:
    [event] = run(Source.SHOP, minimal_created())
    assert isinstance(event, OrderPlaced)
    assert (event.shipping, event.tax, event.discount, event.business_category) == (
        None,
        None,
        None,
        None,
    )


def test_shop_zero_and_three_decimal_currencies() -> None:
    jpy = with_change(created_doc(), "order.currency", "JPY")
    jpy = with_change(jpy, "order.total", "4500")
    jpy = with_change(jpy, "order.shipping", "500")
    jpy = with_change(jpy, "order.tax", "0")
    jpy = with_change(jpy, "order.discount", "0")
    jpy = with_change(jpy, "order.lines.0.unit_price", "1500")
    jpy = with_change(jpy, "order.lines.1.unit_price", "1000")
    [event] = run(Source.SHOP, jpy)
    assert isinstance(event, OrderPlaced)
    assert event.total == Money.of(4500, "JPY")
    kwd = with_change(created_doc(), "order.currency", "KWD")
    kwd = with_change(kwd, "order.total", "64.970")
    [event] = run(Source.SHOP, kwd)
    assert isinstance(event, OrderPlaced)
    assert event.total == Money.of(64970, "KWD")
    assert event.lines[0].unit_price == Money.of(19990, "KWD")


@pytest.mark.parametrize(
    ("path", "value", "currency", "reason"),
    [
        ("order.total", "19.999", "USD", r"order\.total: 19\.999 has more decimals than USD"),
        ("order.lines.1.unit_price", "1000.5", "JPY", r"lines\[1\]\.unit_price: .* than JPY"),
        ("order.shipping", "1.2345", "KWD", r"order\.shipping: .* than KWD"),
    ],
)
def test_shop_amounts_with_more_decimals_than_the_currency_are_refused(
    path: str, value: str, currency: str, reason: str
) -> None:
    doc = with_change(with_change(created_doc(), "order.currency", currency), path, value)
    if currency == "JPY":
        doc = with_change(doc, "order.total", "5000")
        doc = with_change(doc, "order.shipping", "0")
        doc = with_change(doc, "order.tax", "0")
        doc = with_change(doc, "order.discount", "0")
        doc = with_change(doc, "order.lines.0.unit_price", "2000")
    with pytest.raises(Malformed, match=reason):
        run(Source.SHOP, doc)


def test_shop_invalid_documents_name_the_field() -> None:
    doc = with_change(created_doc(), "order.lines.0.quantity", 0)
    with pytest.raises(Malformed, match=r"order\.lines\.0\.quantity"):
        run(Source.SHOP, doc)
    with pytest.raises(Malformed, match=r"shop-order\.schema\.json"):
        run(Source.SHOP, {"event_id": "x"})


def test_shop_types_beyond_the_schema_are_ignored() -> None:
    with pytest.raises(Ignored, match=r"'order\.updated'"):
        run(Source.SHOP, with_change(created_doc(), "type", "order.updated"))


# --- Shopify --------------------------------------------------------------------------------------


def shopify_order() -> dict[str, Any]:
    """An orders/create body in Shopify's REST shape (fields we read, plus typical noise)."""
    address = {
        "first_name": "Bob",
        "last_name": "Norman",
        "name": "Bob Norman",
        "address1": "Chestnut Street 92",
        "address2": "",
        "city": "Louisville",
        "province": "Kentucky",
        "province_code": "KY",
        "zip": "40202",
        "country": "United States",
        "country_code": "US",
        "phone": "+1(502)-459-2181",
        "company": None,
    }
    return {
        "id": 820982911946154508,
        "admin_graphql_api_id": "gid://shopify/Order/820982911946154508",
        "name": "#9999",
        "email": "jon@example.com",
        "contact_email": "jon@example.com",
        "phone": None,
        "created_at": "2025-05-30T16:15:47-04:00",
        "processed_at": "2025-05-30T16:15:47-04:00",
        "updated_at": "2025-05-30T16:15:47-04:00",
        "cancelled_at": None,
        "cancel_reason": None,
        "currency": "USD",
        "presentment_currency": "USD",
        "financial_status": "paid",
        "total_price": "403.00",
        "subtotal_price": "398.00",
        "total_tax": "0.00",
        "total_discounts": "20.00",
        "total_shipping_price_set": {
            "shop_money": {"amount": "25.00", "currency_code": "USD"},
            "presentment_money": {"amount": "25.00", "currency_code": "USD"},
        },
        "shipping_lines": [{"id": 1, "title": "Generic Shipping", "price": "25.00"}],
        "browser_ip": "198.51.100.4",
        "client_details": {
            "accept_language": "en-US",
            "browser_ip": "198.51.100.99",
            "user_agent": "Mozilla/5.0 (Macintosh)",
        },
        "customer": {
            "id": 115310627314723954,
            "email": "john@example.com",
            "first_name": "John",
            "last_name": "Smith",
            "phone": "+16135551111",
        },
        "billing_address": address,
        "shipping_address": dict(address, name="Steve Shipper", address1="123 Shipping Street"),
        "line_items": [
            {
                "id": 866550311766439020,
                "product_id": 632910392,
                "variant_id": 808950810,
                "title": "IPod Nano - 8GB",
                "name": "IPod Nano - 8GB - Pink",
                "sku": "IPOD2008PINK",
                "vendor": "Apple",
                "quantity": 1,
                "price": "199.00",
                "price_set": {"shop_money": {"amount": "199.00", "currency_code": "USD"}},
            },
            {
                "id": 141249953214522974,
                "title": "IPod Nano - 8GB",
                "name": "IPod Nano - 8GB - Black",
                "sku": "",
                "vendor": None,
                "quantity": 1,
                "price": "199.00",
            },
        ],
    }


def test_shopify_orders_create() -> None:
    payload = shopify_order()
    [event] = run(Source.SHOPIFY, payload)
    assert isinstance(event, OrderPlaced)
    assert event.source is Source.SHOPIFY and event.source_event_id == EVENT_ID
    assert event.order_id == "820982911946154508"
    assert event.order_number == "#9999"  # what the customer sees: support finds it by this
    assert event.occurred_at == datetime(2025, 5, 30, 20, 15, 47, tzinfo=UTC)
    assert event.total == Money.of(40300, "USD")
    first, second = event.lines
    assert (first.line_id, first.sku, first.name, first.vendor_id) == (
        "866550311766439020",
        "IPOD2008PINK",
        "IPod Nano - 8GB - Pink",
        "Apple",
    )
    assert first.unit_price == Money.of(19900, "USD")
    # No vendor on the line: filed under the documented fallback, not dropped.
    assert (second.vendor_id, second.sku) == (SHOPIFY_UNKNOWN_VENDOR, None)
    customer = event.customer
    assert (customer.customer_id, customer.email, customer.name) == (
        "115310627314723954",
        "jon@example.com",
        "John Smith",
    )
    assert (customer.phone, customer.ip, customer.user_agent) == (
        "+16135551111",
        "198.51.100.4",
        "Mozilla/5.0 (Macintosh)",
    )
    assert event.billing_address is not None and event.shipping_address is not None
    assert (event.billing_address.name, event.billing_address.line2) == ("Bob Norman", None)
    assert (event.billing_address.state, event.billing_address.country) == ("KY", "US")
    assert event.shipping_address.line1 == "123 Shipping Street"
    assert (event.shipping, event.tax, event.discount) == (
        Money.of(2500, "USD"),
        Money.of(0, "USD"),
        Money.of(2000, "USD"),
    )


def test_addresses_keep_their_phone_for_the_reviews_call() -> None:
    document = created_doc()
    document["order"]["billing_address"]["phone"] = "+351 910 000 000"
    [ours] = run(Source.SHOP, document)
    [shopify] = run(Source.SHOPIFY, shopify_order())
    assert isinstance(ours, OrderPlaced) and isinstance(shopify, OrderPlaced)
    assert ours.billing_address is not None and shopify.billing_address is not None
    assert ours.billing_address.phone == "+351 910 000 000"
    assert shopify.billing_address.phone == "+1(502)-459-2181"


def test_shopify_fallbacks_for_ip_email_and_shipping() -> None:
    payload = shopify_order()
    del payload["browser_ip"], payload["total_shipping_price_set"]
    payload["email"] = ""
    payload["contact_email"] = None
    payload["customer"] = None
    payload["shipping_lines"] = [{"price": "10.00"}, {"price": "2.50"}]
    [event] = run(Source.SHOPIFY, payload)
    assert isinstance(event, OrderPlaced)
    assert (event.customer.ip, event.customer.email, event.customer.customer_id) == (
        "198.51.100.99",
        None,
        None,
    )
    assert event.customer.name == "Bob Norman"  # from the billing address
    assert event.shipping == Money.of(1250, "USD")


def test_shopify_zero_decimal_shop_currency() -> None:
    payload = shopify_order()
    payload.update(currency="JPY", total_price="3000", total_tax="0", total_discounts="0")
    payload["total_shipping_price_set"]["shop_money"]["amount"] = "0"
    for line in payload["line_items"]:
        line["price"] = "1500"
    [event] = run(Source.SHOPIFY, payload)
    assert isinstance(event, OrderPlaced)
    assert event.total == Money.of(3000, "JPY")
    payload["line_items"][0]["price"] = "1500.50"
    with pytest.raises(Malformed, match=r"line_items\[0\]\.price: .* than JPY"):
        run(Source.SHOPIFY, payload)


def test_shopify_orders_cancelled() -> None:
    payload = shopify_order()
    payload.update(cancelled_at="2025-05-31T08:00:00-04:00", cancel_reason="fraud")
    placed, event = run(Source.SHOPIFY, payload)
    assert isinstance(placed, OrderPlaced)
    assert isinstance(event, OrderCancelled)
    assert (event.order_id, event.reason) == ("820982911946154508", "fraud")
    assert event.occurred_at == datetime(2025, 5, 31, 12, 0, tzinfo=UTC)


def test_shopify_created_already_cancelled_yields_two_suffixed_events() -> None:
    payload = shopify_order()
    payload.update(cancelled_at="2025-05-30T16:20:00-04:00", cancel_reason="inventory")
    events = run(Source.SHOPIFY, payload)
    assert [type(e).__name__ for e in events] == ["OrderPlaced", "OrderCancelled"]
    assert [e.source_event_id for e in events] == [f"{EVENT_ID}#1", f"{EVENT_ID}#2"]
    assert events == run(Source.SHOPIFY, payload)  # deterministic


def test_only_the_signed_body_decides_what_a_shopify_event_does() -> None:
    """The defect: an ``orders/create`` body re-sent under ``X-Shopify-Topic:
    orders/cancelled`` cancelled and refunded a paid order. The topic never reaches the
    normaliser now, and a body cancels only if it says when it was cancelled."""
    payload = shopify_order()
    assert payload.get("cancelled_at") is None and payload.get("updated_at")
    assert [type(e).__name__ for e in run(Source.SHOPIFY, payload)] == ["OrderPlaced"]
    # Only updated_at, no cancelled_at: still just the order as placed.
    payload["cancel_reason"] = "customer"
    assert [type(e).__name__ for e in run(Source.SHOPIFY, payload)] == ["OrderPlaced"]
    with pytest.raises(Ignored, match="neither an order nor a fulfilment"):
        run(Source.SHOPIFY, {"id": 1, "note": "a refund or anything else"})


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("id", None, "id is missing"),
        ("total_price", None, "total_price is missing"),
        ("total_price", 403.0, "total_price is missing or not a decimal string"),
        ("currency", "", "currency is missing"),
        ("line_items", [], "line_items is missing or empty"),
        ("created_at", None, "created_at is missing"),
    ],
)
def test_shopify_malformed(field: str, value: Any, reason: str) -> None:
    payload = shopify_order()
    payload[field] = value
    if field == "created_at":
        payload["processed_at"] = None
    with pytest.raises(Malformed, match=reason):
        run(Source.SHOPIFY, payload)


def test_shopify_line_without_quantity_or_name() -> None:
    payload = shopify_order()
    payload["line_items"][0]["quantity"] = 0
    with pytest.raises(Malformed, match=r"line_items\[0\]\.quantity is 0"):
        run(Source.SHOPIFY, payload)
    payload = shopify_order()
    payload["line_items"][1].update(name="", title=None)
    with pytest.raises(Malformed, match=r"line_items\[1\]\.name is missing"):
        run(Source.SHOPIFY, payload)


# --- hostile input --------------------------------------------------------------------------------


def test_hostile_mutations_fail_cleanly() -> None:
    assert_only_documented_failures("shop created", created_doc(), lambda d: run(Source.SHOP, d))
    assert_only_documented_failures(
        "shop cancelled", cancelled_doc(), lambda d: run(Source.SHOP, d)
    )
    assert_only_documented_failures(
        "shopify order", shopify_order(), lambda d: run(Source.SHOPIFY, d)
    )
    cancelled = shopify_order()
    cancelled.update(cancelled_at="2025-05-31T08:00:00-04:00")
    assert_only_documented_failures(
        "shopify cancelled order", cancelled, lambda d: run(Source.SHOPIFY, d)
    )
