"""Screening in the lifecycle on moto: the tenant's stored rules and lists, velocity counters
and the customer history the table keeps (orders, refunds, chargebacks, fraud decisions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from functions.orders import contracts as c
from functions.orders.composition import OrdersSettings, ports_for
from functions.orders.ports import Ports
from functions.orders.use_cases import lifecycle
from functions.risk.composition import build_admin, build_risk
from functions.risk.domain.lists import ListChange
from functions.webhooks.use_cases.apply import route
from shared.events import (
    ChargeRefunded,
    DisputeOpened,
    Refund,
    Source,
)
from shared.order_store import OrderStore
from shared.tenants import TenantDirectory, TenantSettings
from tests.clocks import FixedClock
from tests.component import orders
from tests.component.conftest import TABLE

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
ACME = TenantSettings(
    id="acme",
    name="Acme",
    currency="EUR",
    customer_sender="shop@acme.example",
    business_category="electronics",
    risk={"block": {"emails": ["banned@example.com"]}},
)


def place(
    order_id: str,
    *,
    email: str = "ann@example.com",
    at: datetime = T0,
    amount: int = 2500,
    ship_to: str = "GB",
) -> None:
    orders.place(order_id, at=at, amount=amount, email=email, bill_to="GB", ship_to=ship_to)


# Screening reads history and velocity at the order's own time; the clock dates what the
# lifecycle decides (a rejection, a stage), so each test says what time it is.
CLOCK = FixedClock(T0)


def ports() -> Ports:
    return ports_for(OrdersSettings(table_name=TABLE), CLOCK)


def screen(order_id: str) -> dict[str, Any]:
    step = c.ScreenInput(tenant="acme", order_id=order_id, action=c.LifecycleAction.SCREEN)
    return lifecycle.screen(ports(), step).model_dump(mode="json")


def cancel(order_id: str, reason: str) -> None:
    step = c.CancelInput(
        tenant="acme", order_id=order_id, action=c.LifecycleAction.CANCEL, reason=reason
    )
    lifecycle.cancel(ports(), step)


def setup() -> None:
    ports_for.cache_clear()
    CLOCK.set(T0)
    TenantDirectory(TABLE).save(ACME)


def test_without_stored_rules_the_default_ruleset_screens_with_the_settings_lists(
    aws_env: dict[str, Any],
) -> None:
    setup()
    place("o-1", email="banned@example.com")
    result = screen("o-1")
    assert result["decision"] == "block"
    assert result["ruleset_version"] == "default/1"
    stored = ports().records.screening("acme", "o-1")
    assert stored is not None
    assert stored["matched_rules"] == ["block-lists"]
    assert stored["signals"]["email_blocked"] is True


def test_the_categorys_stored_rules_and_managed_lists_decide(aws_env: dict[str, Any]) -> None:
    setup()
    admin = build_admin(TABLE)
    admin.save_rules(
        "acme",
        "electronics",
        {
            "rules": [
                {
                    "id": "review-mismatch",
                    "action": "review",
                    "when": "billing_shipping_mismatch",
                    "reason": "billing in {billing_country}, shipping to {shipping_country}",
                }
            ]
        },
        "alice",
    )
    admin.change_lists(
        ACME, [ListChange(action="add", list="block", kind="countries", values=("FR",))], "alice"
    )
    place("o-1", ship_to="US")
    place("o-2", email="other@example.com", ship_to="FR")

    first = screen("o-1")
    assert (first["decision"], first["ruleset_version"]) == ("review", "acme/electronics-v1")
    assert first["reasons"] == ["billing in GB, shipping to US"]
    # The stored ruleset replaces the default, but the managed lists feed its attributes.
    stored = ports().records.screening("acme", "o-2")
    assert stored is None
    screen("o-2")
    stored = ports().records.screening("acme", "o-2")
    assert stored is not None and stored["signals"]["country_blocked"] is True


def test_history_counts_earlier_orders_refunds_chargebacks_and_fraud_decisions(
    aws_env: dict[str, Any],
) -> None:
    setup()
    store = OrderStore(TABLE)
    place("o-1", at=T0)
    screen("o-1")
    route(
        ChargeRefunded(
            tenant="acme",
            source=Source.STRIPE,
            source_event_id="re-1",
            occurred_at=T0 + timedelta(hours=2),
            order_id="o-1",
            charge_id="ch_1",
            amount_refunded=orders.eur(2500),
            refunds=(
                Refund(
                    refund_id="re_1",
                    amount=orders.eur(2500),
                    status="succeeded",
                    created_at=T0 + timedelta(hours=2),
                ),
            ),
        ),
        store,
    )
    route(
        DisputeOpened(
            tenant="acme",
            source=Source.STRIPE,
            source_event_id="dp-1",
            occurred_at=T0 + timedelta(hours=3),
            order_id="o-1",
            charge_id="ch_1",
            dispute_id="dp_1",
            amount=orders.eur(2500),
            reason="fraudulent",
            status="needs_response",
        ),
        store,
    )
    state, _ = store.load("acme", "o-1")
    history = build_risk(TABLE)
    assert history.record_outcomes(state) == 2
    assert history.record_outcomes(state) == 2  # idempotent: still one of each

    place("o-2", at=T0 + timedelta(hours=1))
    place("o-3", at=T0 + timedelta(days=1))
    screen("o-2")
    # The reviewer rejects o-2 an hour after it was placed, long before o-3 is placed.
    CLOCK.set(T0 + timedelta(hours=2))
    cancel("o-2", "rejected_in_review")
    CLOCK.set(T0 + timedelta(days=1))
    screen("o-3")

    o2 = ports().records.screening("acme", "o-2")["signals"]  # type: ignore[index]
    o3 = ports().records.screening("acme", "o-3")["signals"]  # type: ignore[index]
    # o-2 was placed before the refund and the chargeback happened: it must not see them.
    assert (o2["customer_orders"], o2["customer_refunds"], o2["customer_chargebacks"]) == (1, 0, 0)
    assert o3["customer_orders"] == 2
    assert o3["customer_amount"] == 5000
    assert (o3["customer_refunds"], o3["customer_chargebacks"]) == (1, 1)
    assert o3["customer_fraud_decisions"] == 1
    assert o3["customer_first_order"] is False


def test_a_retried_screening_decides_on_the_same_counts(aws_env: dict[str, Any]) -> None:
    setup()
    place("o-1", at=T0)
    place("o-2", at=T0 + timedelta(minutes=5))
    screen("o-1")
    first = screen("o-2")
    again = screen("o-2")
    assert first == again
    stored = ports().records.screening("acme", "o-2")
    assert stored is not None
    assert stored["signals"]["email_orders_1h"] == 1
    assert stored["signals"]["customer_orders"] == 1


def test_a_fraud_decision_is_seen_only_by_orders_placed_after_it_was_taken(
    aws_env: dict[str, Any],
) -> None:
    setup()
    place("o-1", at=T0)
    place("o-2", at=T0 + timedelta(hours=3))
    place("o-3", at=T0 + timedelta(hours=5))
    screen("o-1")
    # o-1 is rejected four hours after it was placed: o-2 (placed at +3 h) was placed before
    # the decision existed, o-3 (at +5 h) after it.
    CLOCK.set(T0 + timedelta(hours=4))
    cancel("o-1", "rejected_in_review")
    CLOCK.set(T0 + timedelta(hours=6))
    screen("o-2")
    screen("o-3")
    o2 = ports().records.screening("acme", "o-2")["signals"]  # type: ignore[index]
    o3 = ports().records.screening("acme", "o-3")["signals"]  # type: ignore[index]
    assert o2["customer_fraud_decisions"] == 0
    assert o3["customer_fraud_decisions"] == 1


def test_a_decision_is_never_dated_before_the_order_it_judges(aws_env: dict[str, Any]) -> None:
    """The shop's clock may run ahead of ours: the rejection of an order stamped a minute in
    our future is dated at the order, so the next order placed after it still sees it."""
    setup()
    place("o-1", at=T0 + timedelta(minutes=1))
    place("o-2", at=T0 + timedelta(minutes=1, seconds=1))
    screen("o-1")
    CLOCK.set(T0)
    cancel("o-1", "blocked_by_screening")
    screen("o-2")
    o2 = ports().records.screening("acme", "o-2")["signals"]  # type: ignore[index]
    assert o2["customer_fraud_decisions"] == 1
