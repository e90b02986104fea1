"""The client's shop: orders as our signed format and as Shopify webhooks.

An ``Order`` is the ground truth (integer minor units); payload builders render it as
``order.created`` / ``order.cancelled`` / ``order.fulfilled`` in our format for
``/webhooks/{tenant}/shop`` (``X-EcomOps-Timestamp`` + ``X-EcomOps-Signature``), or as Shopify's
``orders/create`` / ``orders/cancelled`` / ``fulfillments/create`` for
``/webhooks/{tenant}/shopify`` (``X-Shopify-Hmac-Sha256`` and the other ``X-Shopify-*``
headers). Totals always add up: total = Σ lines + shipping + tax - discount, in minor units.

Customers use reserved names only: ``example.com``/``.org``/``.net`` e-mail domains and
documentation IP ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24).
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from local.sandboxes.delivery import Delivery, Signer, webhook_url
from shared.money import exponent
from shared.signing import sign_shop, sign_shopify

JSON = dict[str, Any]
SHOPIFY_API_VERSION = "2025-07"


def decimal_string(minor: int, currency: str) -> str:
    """1999 USD → ``"19.99"``; 1500 JPY → ``"1500"``; 1250 KWD → ``"1.250"``."""
    digits = exponent(currency)
    return f"{Decimal(minor).scaleb(-digits):.{digits}f}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Address:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str
    state: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Customer:
    customer_id: str
    email: str
    first_name: str
    last_name: str
    ip: str
    user_agent: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class Line:
    line_id: str
    sku: str
    name: str
    quantity: int
    unit_price: int
    vendor_id: str
    category: str

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Order:
    order_id: str
    currency: str
    lines: tuple[Line, ...]
    customer: Customer
    billing_address: Address
    shipping_address: Address
    business_category: str
    created_at: datetime
    shipping: int = 0
    tax: int = 0
    discount: int = 0
    shopify_id: int | None = None
    shopify_number: int | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def subtotal(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def total(self) -> int:
        return self.subtotal + self.shipping + self.tax - self.discount

    @property
    def vendors(self) -> tuple[str, ...]:
        return tuple(sorted({line.vendor_id for line in self.lines}))


# -- generation -------------------------------------------------------------------------------

_FIRST = ("Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances",
          "John", "Radia", "Edsger", "Hedy", "Tim", "Sophie", "Yukihiro", "Guido", "Anita",
          "Donald", "Katherine", "Claude", "Mary", "Niklaus", "Shafi")  # fmt: skip
_LAST = ("Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov",
         "Ritchie", "Allen", "McCarthy", "Perlman", "Dijkstra", "Lamarr", "Berners-Lee",
         "Wilson", "Matsumoto", "van Rossum", "Borg", "Knuth", "Johnson", "Shannon", "Keller",
         "Wirth", "Goldwasser")  # fmt: skip
_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0 Mobile Safari/537.36",
)
# (city, state, postal code, country): a handful per country the shops sell to.
PLACES: Mapping[str, tuple[tuple[str, str | None, str], ...]] = {
    "US": (("Brooklyn", "NY", "11201"), ("Austin", "TX", "78701"), ("Denver", "CO", "80202"),
           ("Seattle", "WA", "98101"), ("Chicago", "IL", "60601"), ("Miami", "FL", "33101")),
    "GB": (("London", None, "EC1A 1BB"), ("Manchester", None, "M1 1AE"),
           ("Edinburgh", None, "EH1 1YZ")),
    "DE": (("Berlin", None, "10115"), ("Hamburg", None, "20095"), ("Munich", None, "80331")),
    "FR": (("Paris", None, "75001"), ("Lyon", None, "69001")),
    "NL": (("Amsterdam", None, "1012 JS"), ("Utrecht", None, "3511 AA")),
    "CA": (("Toronto", "ON", "M5H 2N2"), ("Vancouver", "BC", "V6B 1A1")),
    "AU": (("Sydney", "NSW", "2000"), ("Melbourne", "VIC", "3000")),
    "BR": (("São Paulo", "SP", "01000-000"),),
    "NG": (("Lagos", "LA", "100001"),),
}  # fmt: skip
_COUNTRY_WEIGHTS = {"US": 50, "GB": 12, "DE": 10, "FR": 7, "NL": 5, "CA": 7, "AU": 5, "BR": 2,
                    "NG": 2}  # fmt: skip
_STREETS = ("Main St", "High Street", "Market St", "Elm Ave", "Station Rd", "Park Lane",
            "Harbour Way", "King St")  # fmt: skip
# name, category, price in major units: the shops are small marketplaces.
CATALOG: Mapping[str, tuple[tuple[str, float], ...]] = {
    "apparel": (("Merino crew sweater", 89.0), ("Linen shirt", 54.5), ("Rain jacket", 129.0),
                ("Wool socks (3 pack)", 19.99)),
    "electronics": (("Noise-cancelling headphones", 249.0), ("USB-C hub", 39.99),
                    ("Mechanical keyboard", 139.0), ("4K webcam", 119.0)),
    "home": (("Cast iron skillet", 45.0), ("Pour-over coffee set", 32.5),
             ("Linen duvet cover", 149.0)),
    "beauty": (("Vitamin C serum", 28.0), ("Bamboo brush set", 16.75)),
    "sports": (("Trail running shoes", 135.0), ("Yoga mat", 42.0), ("Climbing chalk", 9.5)),
    "gift_cards": (("Gift card 100", 100.0), ("Gift card 250", 250.0)),
}  # fmt: skip
_CATEGORY_WEIGHTS = {"apparel": 30, "electronics": 25, "home": 18, "beauty": 10, "sports": 14,
                     "gift_cards": 3}  # fmt: skip
VENDORS: tuple[str, ...] = ("ven_northwind", "ven_acme", "ven_globex", "ven_initech",
                            "ven_umbrella", "ven_hooli", "ven_stark", "ven_wayne")  # fmt: skip
_TAX_RATE = {"US": Decimal("0.0825"), "GB": Decimal("0.20"), "DE": Decimal("0.19"),
             "FR": Decimal("0.20"), "NL": Decimal("0.21"), "CA": Decimal("0.13"),
             "AU": Decimal("0.10"), "BR": Decimal("0.17"), "NG": Decimal("0.075")}  # fmt: skip


class OrderFactory:
    """Seeded orders: 1 to 4 lines from several vendors, customers, addresses, a category.

    ``risky_share`` of the orders carry a fraud-screening signal: billing and shipping in
    different countries, an unusually large quantity, or gift cards."""

    def __init__(
        self,
        seed: int | random.Random = 0,
        *,
        currency: str = "usd",
        risky_share: float = 0.08,
        id_prefix: str = "ord_",
    ) -> None:
        self.rng = seed if isinstance(seed, random.Random) else random.Random(seed)  # noqa: S311
        self.currency = currency.lower()
        self.risky_share = risky_share
        self.id_prefix = id_prefix
        self._shopify_number = 1000

    def _id(self, prefix: str, length: int = 10) -> str:
        alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
        return prefix + "".join(self.rng.choices(alphabet, k=length))

    def _pick(self, weights: Mapping[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _minor(self, major: float) -> int:
        # Prices are set in dollar-like major units and scaled exactly; yen get whole yen.
        digits = exponent(self.currency)
        if digits == 0:
            return max(1, round(major)) * 150
        return int(Decimal(str(major)).scaleb(digits))

    def customer(self, country: str) -> Customer:
        first, last = self.rng.choice(_FIRST), self.rng.choice(_LAST)
        handle = f"{first}.{last}".lower().replace(" ", "").replace("-", "")
        domain = self.rng.choice(("example.com", "example.org", "example.net"))
        net = self.rng.choice(("192.0.2", "198.51.100", "203.0.113"))
        return Customer(
            customer_id=self._id("cus_"),
            email=f"{handle}{self.rng.randrange(100)}@{domain}",
            first_name=first,
            last_name=last,
            ip=f"{net}.{self.rng.randrange(1, 255)}",
            user_agent=self.rng.choice(_AGENTS),
        )

    def address(self, name: str, country: str) -> Address:
        city, state, postal = self.rng.choice(PLACES[country])
        return Address(
            name=name,
            line1=f"{self.rng.randrange(1, 400)} {self.rng.choice(_STREETS)}",
            city=city,
            postal_code=postal,
            country=country,
            state=state,
            phone=f"+1555{self.rng.randrange(10**7):07d}",
        )

    def order(self, at: datetime, *, shopify: bool = False) -> Order:
        country = self._pick(_COUNTRY_WEIGHTS)
        category = self._pick(_CATEGORY_WEIGHTS)
        customer = self.customer(country)
        risky = self.rng.random() < self.risky_share
        billing_country = country
        if risky and self.rng.random() < 0.5:
            billing_country = self.rng.choice([c for c in PLACES if c != country])
        lines = []
        for _ in range(self.rng.randint(1, 4)):
            line_category = category if self.rng.random() < 0.7 else self._pick(_CATEGORY_WEIGHTS)
            name, major = self.rng.choice(CATALOG[line_category])
            vendor = self.rng.choice(VENDORS)
            quantity = self.rng.choices((1, 2, 3), weights=(75, 20, 5))[0]
            if risky and line_category == "gift_cards":
                quantity = self.rng.randint(3, 8)
            lines.append(
                Line(
                    line_id=self._id("li_"),
                    sku=f"{vendor[4:7].upper()}-{CATALOG_SKUS[name]}",
                    name=name,
                    quantity=quantity,
                    unit_price=self._minor(major),
                    vendor_id=vendor,
                    category=line_category,
                )
            )
        subtotal = sum(line.amount for line in lines)
        shipping = 0 if subtotal >= self._minor(100.0) else self._minor(7.5)
        discount = self._minor(10.0) if self.rng.random() < 0.15 else 0
        discount = min(discount, subtotal)
        taxable = Decimal(subtotal - discount)
        tax = int((taxable * _TAX_RATE[country]).to_integral_value())
        shopify_id = shopify_number = None
        if shopify:
            self._shopify_number += 1
            shopify_number = self._shopify_number
            shopify_id = 5_100_000_000_000 + self.rng.randrange(10**11)
        order_id = str(shopify_id) if shopify_id is not None else self._id(self.id_prefix)
        return Order(
            order_id=order_id,
            currency=self.currency,
            lines=tuple(lines),
            customer=customer,
            billing_address=self.address(customer.name, billing_country),
            shipping_address=self.address(customer.name, country),
            business_category=category,
            created_at=at,
            shipping=shipping,
            tax=tax,
            discount=discount,
            shopify_id=shopify_id,
            shopify_number=shopify_number,
        )

    def planted(self, at: datetime, pattern: str, index: int) -> Order:
        """An order of a known fraud pattern, for demos and tests of screening:

        - ``card_testing``: tiny digital orders from one IP, a new e-mail each time;
        - ``disposable``: a first order from a disposable-mail domain;
        - ``geo_ring``: IP in Nigeria, billing in the US, shipping to one drop address in GB.
        """
        order = self.order(at)
        customer = order.customer
        if pattern == "card_testing":
            line = Line(
                line_id=self._id("li_"),
                sku="GFT-0001",
                name="E-gift card $5",
                quantity=1,
                unit_price=self._minor(5.0),
                vendor_id=VENDORS[0],
                category="gift_cards",
            )
            tester = replace(customer, ip="185.220.101.7", email=f"t{index}.{customer.email}")
            return replace(
                order,
                lines=(line,),
                customer=tester,
                shipping=0,
                tax=0,
                discount=0,
                business_category="gift_cards",
            )
        if pattern == "disposable":
            handle = customer.email.split("@", 1)[0]
            return replace(order, customer=replace(customer, email=f"{handle}@guerrillamail.com"))
        if pattern == "geo_ring":
            drop = Address(
                name=customer.name,
                line1="14 Canal Wharf",
                city="London",
                postal_code="E14 5AB",
                country="GB",
            )
            return replace(
                order,
                customer=replace(customer, ip=f"105.112.{index}.{10 + index}"),
                billing_address=replace(self.address(customer.name, "US"), name=customer.name),
                shipping_address=drop,
            )
        raise ValueError(f"unknown fraud pattern {pattern!r}")


# Stable SKUs per catalog item, so the same product always has the same SKU.
CATALOG_SKUS: Mapping[str, str] = {
    name: f"{index:04d}"
    for index, name in enumerate(sorted({n for items in CATALOG.values() for n, _ in items}))
}


# -- our format ---------------------------------------------------------------------------------


def _address(address: Address) -> JSON:
    return {
        "name": address.name,
        "line1": address.line1,
        "city": address.city,
        "state": address.state,
        "postal_code": address.postal_code,
        "country": address.country,
    }


def order_document(order: Order) -> JSON:
    currency = order.currency
    return {
        "order_id": order.order_id,
        "currency": currency.upper(),
        "total": decimal_string(order.total, currency),
        "shipping": decimal_string(order.shipping, currency),
        "tax": decimal_string(order.tax, currency),
        "discount": decimal_string(order.discount, currency),
        "lines": [
            {
                "line_id": line.line_id,
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": decimal_string(line.unit_price, currency),
                "vendor_id": line.vendor_id,
                "category": line.category,
            }
            for line in order.lines
        ],
        "customer": {
            "customer_id": order.customer.customer_id,
            "email": order.customer.email,
            "name": order.customer.name,
            "ip": order.customer.ip,
            "user_agent": order.customer.user_agent,
        },
        "billing_address": _address(order.billing_address),
        "shipping_address": _address(order.shipping_address),
        "business_category": order.business_category,
    }


def order_created(order: Order, *, event_id: str) -> JSON:
    return {
        "event_id": event_id,
        "type": "order.created",
        "occurred_at": iso(order.created_at),
        "order": order_document(order),
    }


def order_cancelled(order: Order, *, event_id: str, at: datetime, reason: str) -> JSON:
    return {
        "event_id": event_id,
        "type": "order.cancelled",
        "occurred_at": iso(at),
        "order": {"order_id": order.order_id, "reason": reason},
    }


def order_fulfilled(
    order: Order, *, event_id: str, at: datetime, tracking_code: str, carrier: str, provider: str
) -> JSON:
    """Which parcel carries the order: the only link an EasyPost tracker has to an order."""
    return {
        "event_id": event_id,
        "type": "order.fulfilled",
        "occurred_at": iso(at),
        "order": {"order_id": order.order_id},
        "fulfillment": {
            "tracking_code": tracking_code,
            "carrier": carrier,
            "tracking_provider": provider,
        },
    }


def shop_signer(secret: str) -> Signer:
    def sign(body: bytes) -> dict[str, str]:
        return sign_shop(body, secret)

    return sign


def shop_delivery(payload: JSON, *, base_url: str, tenant: str, secret: str) -> Delivery:
    return Delivery(
        url=webhook_url(base_url, tenant, "shop"),
        headers={"Content-Type": "application/json", "User-Agent": "EcomOps-Shop-Sandbox/1.0"},
        body=json.dumps(payload, separators=(",", ":")).encode(),
        event_id=str(payload["event_id"]),
        sign=shop_signer(secret),
        source="shop",
    )


# -- Shopify --------------------------------------------------------------------------------


def _shopify_address(address: Address) -> JSON:
    first, _, last = address.name.partition(" ")
    return {
        "first_name": first,
        "last_name": last,
        "name": address.name,
        "company": None,
        "address1": address.line1,
        "address2": None,
        "city": address.city,
        "province": address.state,
        "province_code": address.state,
        "zip": address.postal_code,
        "country": address.country,
        "country_code": address.country,
        "phone": address.phone,
        "latitude": None,
        "longitude": None,
    }


def _money_set(minor: int, currency: str) -> JSON:
    amount = {"amount": decimal_string(minor, currency), "currency_code": currency.upper()}
    return {"shop_money": amount, "presentment_money": dict(amount)}


def shopify_order(
    order: Order,
    *,
    cancelled_at: datetime | None = None,
    cancel_reason: str | None = None,
    financial_status: str = "pending",
) -> JSON:
    """A Shopify Order as the ``orders/create`` and ``orders/cancelled`` topics send it."""
    if order.shopify_id is None or order.shopify_number is None:
        raise ValueError("this order was not generated as a Shopify order")
    currency = order.currency
    money = decimal_string
    created = order.created_at.isoformat()
    customer = order.customer
    return {
        "id": order.shopify_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order.shopify_id}",
        "name": f"#{order.shopify_number}",
        "number": order.shopify_number - 1000,
        "order_number": order.shopify_number,
        "email": customer.email,
        "contact_email": customer.email,
        "created_at": created,
        "updated_at": (cancelled_at or order.created_at).isoformat(),
        "processed_at": created,
        "closed_at": None,
        "cancelled_at": cancelled_at.isoformat() if cancelled_at else None,
        "cancel_reason": cancel_reason,
        "currency": currency.upper(),
        "presentment_currency": currency.upper(),
        "total_price": money(order.total, currency),
        "subtotal_price": money(order.subtotal - order.discount, currency),
        "total_line_items_price": money(order.subtotal, currency),
        "total_tax": money(order.tax, currency),
        "total_discounts": money(order.discount, currency),
        "taxes_included": False,
        "total_price_set": _money_set(order.total, currency),
        "total_shipping_price_set": _money_set(order.shipping, currency),
        "total_tax_set": _money_set(order.tax, currency),
        "total_discounts_set": _money_set(order.discount, currency),
        "financial_status": financial_status,
        "fulfillment_status": None,
        "confirmed": True,
        "test": True,
        "gateway": "stripe",
        "payment_gateway_names": ["stripe"],
        "source_name": "web",
        "tags": f"category:{order.business_category}",
        "note": None,
        "note_attributes": [{"name": "business_category", "value": order.business_category}],
        "buyer_accepts_marketing": False,
        "customer_locale": "en",
        "browser_ip": customer.ip,
        "client_details": {
            "accept_language": "en-US,en;q=0.9",
            "browser_height": None,
            "browser_ip": customer.ip,
            "browser_width": None,
            "session_hash": None,
            "user_agent": customer.user_agent,
        },
        "customer": {
            "id": 6_200_000_000_000 + int(customer.customer_id.encode().hex()[:10], 16) % 10**11,
            "email": customer.email,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "created_at": created,
            "updated_at": created,
            "state": "enabled",
            "verified_email": True,
            "currency": currency.upper(),
            "phone": None,
            "tags": "",
            "default_address": _shopify_address(order.shipping_address),
        },
        "billing_address": _shopify_address(order.billing_address),
        "shipping_address": _shopify_address(order.shipping_address),
        "shipping_lines": [
            {
                "id": order.shopify_id + 7,
                "title": "Standard",
                "code": "standard",
                "source": "shopify",
                "price": money(order.shipping, currency),
                "price_set": _money_set(order.shipping, currency),
                "discounted_price": money(order.shipping, currency),
            }
        ],
        "discount_codes": (
            [
                {
                    "code": "WELCOME10",
                    "amount": money(order.discount, currency),
                    "type": "fixed_amount",
                }
            ]
            if order.discount
            else []
        ),
        "line_items": [
            {
                "id": order.shopify_id + 100 + index,
                "admin_graphql_api_id": f"gid://shopify/LineItem/{order.shopify_id + 100 + index}",
                "variant_id": 4_400_000_000_000 + int(line.sku[-4:]),
                "product_id": 8_800_000_000_000 + int(line.sku[-4:]),
                "sku": line.sku,
                "title": line.name,
                "name": line.name,
                "variant_title": None,
                "quantity": line.quantity,
                "current_quantity": 0 if cancelled_at else line.quantity,
                "fulfillable_quantity": 0 if cancelled_at else line.quantity,
                "price": money(line.unit_price, currency),
                "price_set": _money_set(line.unit_price, currency),
                "total_discount": money(0, currency),
                "vendor": line.vendor_id,
                "requires_shipping": line.category != "gift_cards",
                "taxable": True,
                "gift_card": line.category == "gift_cards",
                "fulfillment_status": None,
                "grams": 500,
                "properties": [{"name": "category", "value": line.category}],
            }
            for index, line in enumerate(order.lines)
        ],
        "refunds": [],
        "fulfillments": [],
    }


def shopify_fulfillment(
    order: Order, *, fulfillment_id: int, at: datetime, tracking_code: str, carrier: str
) -> JSON:
    """A Fulfillment as the ``fulfillments/create`` topic sends it."""
    if order.shopify_id is None:
        raise ValueError("this order was not generated as a Shopify order")
    return {
        "id": fulfillment_id,
        "admin_graphql_api_id": f"gid://shopify/Fulfillment/{fulfillment_id}",
        "order_id": order.shopify_id,
        "name": f"#{order.shopify_number}.1",
        "status": "success",
        "created_at": at.isoformat(),
        "updated_at": at.isoformat(),
        "service": "manual",
        "shipment_status": None,
        "location_id": 7_700_000_000,
        "tracking_company": carrier,
        "tracking_number": tracking_code,
        "tracking_numbers": [tracking_code],
        "tracking_url": None,
        "tracking_urls": [],
        "line_items": [
            {"id": order.shopify_id + 100 + index, "sku": line.sku, "quantity": line.quantity}
            for index, line in enumerate(order.lines)
        ],
    }


def shopify_signer(secret: str) -> Signer:
    def sign(body: bytes) -> dict[str, str]:
        return {"X-Shopify-Hmac-Sha256": sign_shopify(body, secret)}

    return sign


def shopify_delivery(
    payload: JSON,
    *,
    topic: str,
    webhook_id: str,
    triggered_at: datetime,
    base_url: str,
    tenant: str,
    secret: str,
    shop_domain: str | None = None,
) -> Delivery:
    """``webhook_id`` is Shopify's delivery id: a resend of the same webhook keeps it. We
    store Shopify events under the hash of the body (the only signed part), so that is the
    delivery's event id."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Delivery(
        url=webhook_url(base_url, tenant, "shopify"),
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Shopify-Captain-Hook",
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": shop_domain or f"{tenant}.myshopify.com",
            "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-Event-Id": webhook_id,
            "X-Shopify-API-Version": SHOPIFY_API_VERSION,
            "X-Shopify-Triggered-At": triggered_at.astimezone(UTC).isoformat(),
            "X-Shopify-Test": "true",
        },
        body=body,
        event_id="sha256:" + hashlib.sha256(body).hexdigest(),
        sign=shopify_signer(secret),
        source="shopify",
    )


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def later(moment: datetime, rng: random.Random, low_s: float, high_s: float) -> datetime:
    return moment + timedelta(seconds=rng.uniform(low_s, high_s))
