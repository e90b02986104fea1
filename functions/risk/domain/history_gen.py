"""A seeded history of labelled orders with planted fraud patterns, for backtests and tests.

Background: returning and new customers from a handful of countries, IPs drawn from each
country's real address space (per the same offline database screening uses), a few honest
refunds and a thin layer of fraud that no rule can see. Planted on top:

- a card-testing burst: one card and one IP, dozens of small orders within minutes;
- a geo-mismatch ring: several accounts whose IP, billing and shipping countries all differ;
- orders from disposable e-mail domains (mostly fraud, some honest);
- a blocklisted BIN (``PLANTED_BIN``), every order with it fraud.

Same seed, same history.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from disposable_email_domains import blocklist as _disposable
from iptocc import country_code

from functions.risk.domain.backtest import Label, LabeledOrder
from shared.event_parts import Address, Card, Customer, LineItem, OrderPlaced, Source
from shared.money import Money

TENANT = "demo"
PLANTED_BIN = "431940"
CARD_TESTING_FINGERPRINT = "fp_cardtest_0001"
_COUNTRIES = ("US", "GB", "DE", "FR", "CA", "NL")
_RING_IP_COUNTRIES = ("NG", "RU")
_HONEST_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com")


@cache
def _ip_pool(country: str, size: int = 40, seed: int = 1) -> tuple[str, ...]:
    """Addresses the offline database places in ``country``, found by seeded sampling."""
    rng = random.Random(f"{seed}:{country}")  # noqa: S311 - reproducible data
    found: list[str] = []
    for _ in range(2_000_000):
        ip = ".".join(str(rng.randint(1, 223) if i == 0 else rng.randint(0, 255)) for i in range(4))
        if country_code(ip) == country:
            found.append(ip)
            if len(found) == size:
                break
    return tuple(found)


@dataclass(frozen=True)
class _Person:
    customer_id: str
    email: str
    country: str
    ip: str
    address: Address
    fingerprint: str
    bin: str


def _address(rng: random.Random, country: str, n: int) -> Address:
    return Address(
        name=f"Customer {n}",
        line1=f"{rng.randint(1, 999)} Market Street {n}",
        city="City",
        postal_code=f"{rng.randint(10000, 99999)}",
        country=country,
    )


def _order(
    order_id: str,
    at: datetime,
    amount: int,
    customer: Customer,
    billing: Address,
    shipping: Address,
    category: str = "general",
) -> OrderPlaced:
    money = Money(amount=amount, currency="USD")
    return OrderPlaced(
        tenant=TENANT,
        source=Source.SHOP,
        source_event_id=f"evt_{order_id}",
        occurred_at=at,
        order_id=order_id,
        currency="USD",
        total=money,
        lines=(
            LineItem(
                line_id="1",
                name="Item",
                quantity=1,
                unit_price=money,
                vendor_id="v1",
                category=category,
            ),
        ),
        customer=customer,
        billing_address=billing,
        shipping_address=shipping,
        business_category=category,
    )


def generate(
    n: int = 50_000, seed: int = 7, start: datetime | None = None, days: int = 90
) -> list[LabeledOrder]:
    """``n`` orders over ``days`` days, in time order; about 3 % of them planted fraud."""
    rng = random.Random(seed)  # noqa: S311 - reproducible data, not secrets
    start = start or datetime(2026, 8, 1, tzinfo=UTC)
    span = days * 86_400
    out: list[LabeledOrder] = []
    counter = iter(range(10**9))

    def next_id() -> str:
        return f"ord_{next(counter):07d}"

    def labeled(
        order: OrderPlaced, card: Card, label: Label, refunded: bool = False
    ) -> LabeledOrder:
        outcome = (
            order.occurred_at + timedelta(days=rng.randint(10, 40))
            if label != "fine"
            else (order.occurred_at + timedelta(days=rng.randint(1, 20)) if refunded else None)
        )
        return LabeledOrder(
            order=order, card=card, label=label, outcome_at=outcome, refunded=refunded
        )

    people: list[_Person] = []
    for i in range(max(50, n // 4)):
        country = rng.choice(_COUNTRIES)
        people.append(
            _Person(
                customer_id=f"cus_{i:06d}",
                email=f"user{i}@{rng.choice(_HONEST_DOMAINS)}",
                country=country,
                ip=rng.choice(_ip_pool(country)),
                address=_address(rng, country, i),
                fingerprint=f"fp_{i:06d}",
                bin=f"{rng.randint(400000, 429999)}",
            )
        )

    planted = _planted(rng, start, span, n, next_id)
    background = n - len(planted)
    for _ in range(background):
        # A skew towards returning customers, as real shops have.
        regulars = people[: max(1, len(people) // 20)]
        person = rng.choice(regulars) if rng.random() < 0.3 else rng.choice(people)
        at = start + timedelta(seconds=rng.randrange(span))
        order = _order(
            next_id(),
            at,
            rng.randint(1500, 25000),
            Customer(customer_id=person.customer_id, email=person.email, ip=person.ip),
            person.address,
            person.address,
        )
        card = Card(
            fingerprint=person.fingerprint, bin=person.bin, last4="4242", country=person.country
        )
        roll = rng.random()
        label: Label = "fraud_chargeback" if roll < 0.003 else "fine"
        if label != "fine":
            # Unseeable fraud: a stolen identity that looks like any new customer.
            order = order.model_copy(
                update={"customer": Customer(customer_id=f"cus_x{order.order_id}", ip=person.ip)}
            )
        out.append(labeled(order, card, label, refunded=0.003 <= roll < 0.03))
    for order, card, label in planted:
        out.append(labeled(order, card, label))
    out.sort(key=lambda o: (o.order.occurred_at, o.order.order_id))
    return out


def _planted(
    rng: random.Random,
    start: datetime,
    span: int,
    n: int,
    make_id: Callable[[], str],
) -> list[tuple[OrderPlaced, Card, Label]]:
    scale = max(1, n // 10_000)
    planted: list[tuple[OrderPlaced, Card, Label]] = []

    # Card testing: one card, one IP, small amounts, seconds apart, fresh e-mails.
    burst_at = start + timedelta(seconds=rng.randrange(span // 2, span - 3600))
    burst_ip = _ip_pool("US")[0]
    burst_address = _address(rng, "US", 900_001)
    for i in range(30 * scale):
        at = burst_at + timedelta(seconds=i * rng.randint(3, 20))
        customer = Customer(email=f"t{i}x{rng.randint(0, 9999)}@gmail.com", ip=burst_ip)
        order = _order(make_id(), at, rng.randint(100, 400), customer, burst_address, burst_address)
        card = Card(fingerprint=CARD_TESTING_FINGERPRINT, bin="545454", last4="0001", country="US")
        planted.append((order, card, "fraud_chargeback"))

    # Geo-mismatch ring: IP in NG/RU, billing US, shipping GB; several accounts over weeks.
    for account in range(6):
        ip_country = _RING_IP_COUNTRIES[account % 2]
        ip = _ip_pool(ip_country)[account]
        billing = _address(rng, "US", 910_000 + account)
        shipping = _address(rng, "GB", 920_000 + account)
        for k in range(5 * scale):
            at = start + timedelta(seconds=rng.randrange(span))
            customer = Customer(
                customer_id=f"cus_ring_{account}_{k}", email=f"ring{account}.{k}@outlook.com", ip=ip
            )
            order = _order(make_id(), at, rng.randint(30000, 90000), customer, billing, shipping)
            card = Card(
                fingerprint=f"fp_ring_{account}_{k}", bin="411111", last4="1111", country="US"
            )
            planted.append((order, card, "fraud_chargeback"))

    # Disposable e-mail domains: mostly fraud, a few honest people who like privacy.
    domains = sorted(_disposable)[:200]
    for i in range(40 * scale):
        country = rng.choice(_COUNTRIES)
        address = _address(rng, country, 930_000 + i)
        at = start + timedelta(seconds=rng.randrange(span))
        customer = Customer(
            customer_id=f"cus_disp_{i}",
            email=f"x{i}@{rng.choice(domains)}",
            ip=rng.choice(_ip_pool(country)),
        )
        order = _order(make_id(), at, rng.randint(5000, 40000), customer, address, address)
        card = Card(fingerprint=f"fp_disp_{i}", bin="422222", last4="2222", country=country)
        label: Label = "refunded_fraud" if rng.random() < 0.75 else "fine"
        planted.append((order, card, label))

    # A BIN that the tenant has learnt to block: every order with it is fraud.
    for i in range(25 * scale):
        country = rng.choice(_COUNTRIES)
        address = _address(rng, country, 940_000 + i)
        at = start + timedelta(seconds=rng.randrange(span))
        customer = Customer(
            customer_id=f"cus_bin_{i}", email=f"b{i}@gmail.com", ip=rng.choice(_ip_pool(country))
        )
        order = _order(make_id(), at, rng.randint(5000, 20000), customer, address, address)
        card = Card(fingerprint=f"fp_bin_{i}", bin=PLANTED_BIN, last4="3333", country=country)
        planted.append((order, card, "fraud_chargeback"))
    return planted


def planted_ids(orders: list[LabeledOrder]) -> Iterator[tuple[str, str]]:
    """(pattern, order id) for every planted order, recognised by its markers."""
    for labeled in orders:
        customer = labeled.order.customer
        card = labeled.card
        if card and card.fingerprint == CARD_TESTING_FINGERPRINT:
            yield "card_testing", labeled.order.order_id
        elif (customer.customer_id or "").startswith("cus_ring_"):
            yield "geo_ring", labeled.order.order_id
        elif (customer.customer_id or "").startswith("cus_disp_"):
            yield "disposable", labeled.order.order_id
        elif card and card.bin == PLANTED_BIN:
            yield "blocked_bin", labeled.order.order_id
