from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from functions.risk.domain.customers import CustomerHistory
from functions.risk.domain.signals import VOCABULARY, SignalConfig, compute, ip_country
from functions.risk.domain.velocity import VelocityCounts
from functions.risk.use_cases.screening import collect
from shared.events import Address, Card, Customer, LineItem, OrderPlaced, Source
from shared.money import Money
from shared.risk_lists import ListSet
from shared.tenants import RiskSettings, Thresholds
from tests.risk_fakes import InMemoryHistory, InMemoryVelocity

AT = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)


def order(
    order_id: str = "o1",
    *,
    email: str | None = "ann@gmail.com",
    ip: str | None = "8.8.8.8",
    billing: str | None = "US",
    shipping: str | None = "US",
    amount: int = 5000,
    at: datetime = AT,
    customer_id: str | None = "c1",
    category: str | None = None,
) -> OrderPlaced:
    money = Money(amount=amount, currency="USD")
    return OrderPlaced(
        tenant="demo",
        source=Source.SHOP,
        source_event_id=f"e-{order_id}",
        occurred_at=at,
        order_id=order_id,
        currency="USD",
        total=money,
        lines=(LineItem(line_id="1", name="x", quantity=2, unit_price=money, vendor_id="v"),),
        customer=Customer(customer_id=customer_id, email=email, ip=ip),
        billing_address=Address(line1="1 Main St", postal_code="10001", country=billing)
        if billing
        else None,
        shipping_address=Address(line1="1 Main St", postal_code="10001", country=shipping)
        if shipping
        else None,
        business_category=category,
    )


def signals(o: OrderPlaced, config: SignalConfig | None = None, **kw: Any) -> dict[str, Any]:
    return compute(o, config or SignalConfig(), VelocityCounts(), CustomerHistory(), **kw)


def test_every_attribute_present_with_its_declared_type() -> None:
    bare = order(email=None, ip=None, billing=None, shipping=None, customer_id=None)
    for attrs in (signals(order()), signals(bare)):
        assert set(attrs) == set(VOCABULARY)
        for name, (kind, _) in VOCABULARY.items():
            expected = {"string": str, "int": int, "bool": bool}[kind]
            assert type(attrs[name]) is expected, name


def test_disposable_email_domain_from_the_package_list() -> None:
    assert signals(order(email="x@mailinator.com"))["email_disposable"] is True
    assert signals(order(email="x@gmail.com"))["email_disposable"] is False
    assert signals(order(email="X@Mailinator.COM"))["email_domain"] == "mailinator.com"


def test_ip_country_offline_and_mismatches() -> None:
    assert ip_country("8.8.8.8") == "US"
    assert ip_country("10.0.0.1") == ""
    assert ip_country("not-an-ip") == ""
    attrs = signals(order(ip="8.8.8.8", billing="GB", shipping="FR"))
    assert attrs["ip_country"] == "US"
    assert attrs["ip_billing_mismatch"] is True
    assert attrs["billing_shipping_mismatch"] is True
    same = signals(order(ip="8.8.8.8", billing="US", shipping="US"))
    assert not same["ip_billing_mismatch"]
    assert not same["billing_shipping_mismatch"]
    unknown = signals(order(ip="10.0.0.1", billing="GB"))
    assert unknown["ip_billing_mismatch"] is False  # unknown is not a mismatch


def test_local_hour_in_tenant_timezone() -> None:
    assert signals(order())["local_hour"] == 22
    tokyo = SignalConfig(timezone="Asia/Tokyo")
    assert signals(order(), tokyo)["local_hour"] == 7


def test_thresholds_per_category_with_fallback() -> None:
    config = SignalConfig(
        thresholds={
            "electronics": Thresholds(review_over=1000, block_over=100_000),
            "*": Thresholds(review_over=50_000),
        }
    )
    tv = signals(order(amount=5000, category="electronics"), config)
    assert tv["amount_over_review"] is True
    assert tv["amount_over_block"] is False
    assert tv["amount_block_threshold"] == 100_000
    shirt = signals(order(amount=5000, category="apparel"), config)
    assert shirt["amount_over_review"] is False
    assert shirt["amount_review_threshold"] == 50_000


def test_lists_block_and_allow() -> None:
    config = SignalConfig(
        block=ListSet(
            email_domains=("evil.example",),
            ips=("203.0.113.0/24",),
            bins=("431940",),
            countries=("KP",),
        ),
        allow=ListSet(emails=("vip@gmail.com",), card_fingerprints=("fp_vip",)),
    )
    attrs = signals(
        order(email="a@evil.example", ip="203.0.113.9", shipping="KP"),
        config,
        card=Card(fingerprint="fp_1", bin="43194012", country="US"),
    )
    assert attrs["email_blocked"] and attrs["ip_blocked"]
    assert attrs["card_blocked"] and attrs["country_blocked"]
    vip = signals(order(email="VIP@gmail.com"), config, card=Card(fingerprint="fp_vip"))
    assert vip["email_allowed"] and vip["card_allowed"]
    assert not vip["email_blocked"]


def test_legacy_risk_settings_are_read() -> None:
    risk = RiskSettings.model_validate({"block": {"emails": ["a@b.c"]}, "review_over": 100})
    config = SignalConfig.from_tenant("Europe/Paris", "general", risk)
    assert config.block.emails == ("a@b.c",)
    assert config.thresholds["*"].review_over == 100


def test_card_signals() -> None:
    attrs = signals(
        order(billing="GB"),
        card=Card(fingerprint="fp", bin="424242", country="us", funding="debit"),
    )
    assert attrs["card_present"] and attrs["card_bin"] == "424242"
    assert attrs["card_country"] == "US" and attrs["card_billing_mismatch"]
    assert signals(order())["card_present"] is False


def test_history_and_velocity_through_ports() -> None:
    history = InMemoryHistory()
    velocity = InMemoryVelocity()
    config = SignalConfig()
    first = collect(order("o1"), config, velocity, history)
    assert first["customer_first_order"] and first["email_orders_1h"] == 0
    history.record("demo", "id:c1", AT, "order", "o0", 5000)
    history.record("demo", "id:c1", AT + timedelta(days=30), "chargeback", "dp1")  # not yet known
    second = collect(order("o2", at=AT + timedelta(minutes=5)), config, velocity, history)
    assert second["customer_first_order"] is False
    assert second["customer_orders"] == 1 and second["customer_amount"] == 5000
    assert second["customer_chargebacks"] == 0
    assert second["email_orders_1h"] == 1 and second["ip_amount_1h"] == 5000
    assert second["shipping_orders_1d"] == 1
    later = collect(order("o3", at=AT + timedelta(days=31)), config, velocity, history)
    assert later["customer_chargebacks"] == 1
    assert later["email_orders_7d"] == 0  # a new week
