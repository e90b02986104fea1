"""Backtesting on a tenant's stored orders: labels come from what happened to each order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from functions.risk.adapters.stored_orders import StoredOrders
from functions.risk.domain.backtest import backtest
from functions.risk.domain.rules import compile_ruleset, default_ruleset, parse_ruleset
from functions.risk.domain.signals import SignalConfig
from functions.webhooks.use_cases.apply import route
from shared.events import DisputeOpened, Source
from shared.lifecycle_store import LifecycleStore
from shared.money import Money
from shared.order_store import OrderStore
from tests.component import orders
from tests.component.conftest import TABLE

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def place(order_id: str, email: str, at: datetime) -> None:
    orders.place(order_id, at=at, amount=3000, email=email)


def test_labels_and_a_backtest_over_stored_orders(aws_env: dict[str, Any]) -> None:
    store = OrderStore(TABLE)
    lifecycle = LifecycleStore(TABLE)
    place("o-fine", "ann@example.com", T0)
    place("o-chargeback", "eve@mailinator.com", T0 + timedelta(hours=1))
    place("o-blocked", "mallory@example.net", T0 + timedelta(hours=2))
    place("o-rejected", "trudy@example.net", T0 + timedelta(hours=3))
    route(
        DisputeOpened(
            tenant="acme",
            source=Source.STRIPE,
            source_event_id="dp",
            occurred_at=T0 + timedelta(days=20),
            order_id="o-chargeback",
            charge_id="ch_1",
            dispute_id="dp_1",
            amount=Money(amount=3000, currency="EUR"),
            reason="fraudulent",
            status="needs_response",
        ),
        store,
    )
    lifecycle.save_screening("acme", "o-blocked", {"decision": "block"})
    lifecycle.set_stage("acme", "o-blocked", "cancelled", "blocked_by_screening")
    lifecycle.save_screening("acme", "o-rejected", {"decision": "review"})
    lifecycle.set_stage("acme", "o-rejected", "cancelled", "rejected_in_review")
    lifecycle.save_screening("acme", "o-fine", {"decision": "allow"})
    lifecycle.set_stage("acme", "o-fine", "closed")

    labeled = {entry.order.order_id: entry for entry in StoredOrders(TABLE).labeled("acme")}

    assert {k: v.label for k, v in labeled.items()} == {
        "o-fine": "fine",
        "o-chargeback": "fraud_chargeback",
        "o-blocked": "refunded_fraud",
        "o-rejected": "refunded_fraud",
    }
    assert labeled["o-chargeback"].outcome_at == T0 + timedelta(days=20)
    assert labeled["o-rejected"].decision_then == "rejected"
    assert labeled["o-fine"].decision_then == "allow"

    candidate = compile_ruleset(
        parse_ruleset(
            {
                "rules": [
                    {
                        "id": "disposable",
                        "action": "block",
                        "when": "email_disposable",
                        "reason": "disposable {email_domain}",
                    }
                ]
            }
        )
    )
    report = backtest(labeled.values(), candidate, SignalConfig(), default_ruleset())
    assert report.orders == 4
    assert report.candidate.flagged_fraud == 1  # the chargeback from mailinator.com
    assert report.candidate.flagged_fine == 0
    assert [c.order_id for c in report.changes] == ["o-chargeback"]
