"""The risk use cases over fakes (tests/risk_fakes.py): rule and list management with its
version conflicts and audit, screening and customer history, the review queue, and a backtest
over stored orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.risk.domain.backtest import StoredOrder
from functions.risk.domain.errors import RulesetInvalid, VersionConflict
from functions.risk.domain.lists import ListChange
from functions.risk.domain.rules import compile_ruleset, parse_ruleset
from functions.risk.use_cases.customer_history import record_fraud_decision, record_outcomes
from functions.risk.use_cases.management import RiskAdmin
from functions.risk.use_cases.review_queue import review_queue
from functions.risk.use_cases.screening import screen
from functions.risk.use_cases.stored_history import (
    NoStoredOrders,
    backtest_stored,
    labeled_orders,
)
from shared.events import (
    ChargeRefunded,
    Customer,
    DisputeOpened,
    LineItem,
    OrderPlaced,
    Refund,
    Source,
)
from shared.money import Money
from shared.order_aggregate import OrderState, apply
from shared.tenants import TenantSettings
from tests.clocks import FixedClock
from tests.risk_fakes import (
    FakeLifecycle,
    FakeStoredOrders,
    InMemoryHistory,
    InMemoryRiskStore,
    InMemoryVelocity,
)

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
ACME = TenantSettings(
    id="acme",
    name="Acme",
    currency="EUR",
    customer_sender="shop@acme.example",
    business_category="electronics",
    risk={"block": {"emails": ["banned@example.com"]}, "review_over": 100_000},
)
REVIEW_MISMATCH = {
    "rules": [
        {
            "id": "review-mismatch",
            "action": "review",
            "when": "billing_shipping_mismatch",
            "reason": "billing in {billing_country}, shipping to {shipping_country}",
        }
    ]
}
DISPOSABLE = compile_ruleset(
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


def eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def placed(
    order_id: str, *, email: str = "ann@example.com", at: datetime = T0, amount: int = 2500
) -> OrderPlaced:
    return OrderPlaced(
        tenant="acme",
        source=Source.SHOP,
        source_event_id=f"evt-{order_id}",
        occurred_at=at,
        order_id=order_id,
        currency="EUR",
        total=eur(amount),
        lines=(LineItem(line_id="1", name="x", quantity=1, unit_price=eur(amount), vendor_id="v"),),
        customer=Customer(email=email),
    )


def state_of(*events: Any) -> OrderState:
    state = OrderState(tenant="acme", order_id=events[0].order_id)
    for event in events:
        state = apply(state, event)
    return state


def admin() -> tuple[RiskAdmin, InMemoryRiskStore, FixedClock]:
    clock = FixedClock(T0)
    store = InMemoryRiskStore(clock)
    return RiskAdmin(store), store, clock


# -- rules ----------------------------------------------------------------------------------------


def test_saving_rules_stores_the_next_version_and_screens_the_category_with_it() -> None:
    risk, _, _ = admin()
    first = risk.save_rules("acme", "electronics", REVIEW_MISMATCH, "alice")
    second = risk.save_rules("acme", "electronics", REVIEW_MISMATCH, "bob", expected_version=1)
    assert (first.version, second.version, second.saved_by) == (1, 2, "bob")
    assert second.body["version"] == "electronics-v2" and second.body["tenant"] == "acme"
    assert risk.ruleset_for("acme", "electronics").version == "acme/electronics-v2"
    # Other categories: the tenant's "*" ruleset, else the built-in default.
    assert risk.ruleset_for("acme", "books").version == "default/1"
    risk.save_rules("acme", "*", REVIEW_MISMATCH, "alice")
    assert risk.ruleset_for("acme", "books").version == "acme/v1"
    assert risk.rules("acme", "*") is not None and risk.rules("acme", "toys") is None


class LaggingReads(InMemoryRiskStore):
    """Reads one save behind: another operator's save lands between our read and our write."""

    def latest_rules(self, tenant: str, category: str) -> Any:
        versions = self.rules_versions(tenant, category)
        return versions[-2] if len(versions) > 1 else None


def test_a_stale_expected_version_and_a_lost_race_are_conflicts() -> None:
    risk, _, _ = admin()
    risk.save_rules("acme", "*", REVIEW_MISMATCH, "alice")
    with pytest.raises(VersionConflict, match="at version 1, not 0"):
        risk.save_rules("acme", "*", REVIEW_MISMATCH, "bob", expected_version=0)

    racing = LaggingReads()
    racing.put_rules("acme", "*", 1, {"rules": []}, "alice")
    racing.put_rules("acme", "*", 2, {"rules": []}, "carol")
    with pytest.raises(VersionConflict, match="version 2"):
        RiskAdmin(racing).save_rules("acme", "*", REVIEW_MISMATCH, "dave")  # writes 2 again
    assert [v.saved_by for v in racing.rules_versions("acme", "*")] == ["alice", "carol"]


def test_invalid_rulesets_and_categories_are_refused_and_nothing_is_stored() -> None:
    risk, store, _ = admin()
    typo = {"rules": [{"id": "typo", "action": "block", "when": "amout > 1", "reason": "x"}]}
    with pytest.raises(RulesetInvalid, match="unknown attribute 'amout'"):
        risk.save_rules("acme", "*", typo, "alice")
    with pytest.raises(RulesetInvalid, match="names tenant 'globex'"):
        risk.save_rules("acme", "*", {**REVIEW_MISMATCH, "tenant": "globex"}, "alice")
    with pytest.raises(ValueError, match="business category 'Toys!'"):
        risk.save_rules("acme", "Toys!", REVIEW_MISMATCH, "alice")
    assert store.history("acme") == []


# -- lists ----------------------------------------------------------------------------------------


def test_lists_start_from_the_settings_and_change_all_or_nothing() -> None:
    risk, _, _ = admin()
    version, lists = risk.lists(ACME)
    assert (version, lists.block.emails) == (0, ("banned@example.com",))
    stored = risk.change_lists(
        ACME,
        [
            ListChange(action="add", list="block", kind="countries", values=("fr",)),
            ListChange(action="add", list="allow", kind="ips", values=("203.0.113.7",)),
        ],
        "alice",
    )
    assert stored.version == 1
    version, lists = risk.lists(ACME)
    assert lists.block.countries == ("FR",) and lists.allow.ips == ("203.0.113.7/32",)
    assert lists.block.emails == ("banned@example.com",)  # started from the settings
    with pytest.raises(ValueError, match="not an e-mail address"):
        risk.change_lists(
            ACME,
            [
                ListChange(action="add", list="block", kind="bins", values=("431940",)),
                ListChange(action="add", list="block", kind="emails", values=("nope",)),
            ],
            "alice",
        )
    with pytest.raises(ValueError, match="not on the list: DE"):
        risk.change_lists(
            ACME, [ListChange(action="remove", list="block", kind="countries", values=("DE",))], "a"
        )
    with pytest.raises(VersionConflict, match="at version 1, not 0"):
        risk.change_lists(
            ACME,
            [ListChange(action="add", list="block", kind="bins", values=("431940",))],
            "bob",
            expected_version=0,
        )
    assert risk.lists(ACME)[0] == 1 and risk.lists(ACME)[1].block.bins == ()
    config = risk.signal_config(ACME)
    assert config.block.countries == ("FR",) and config.thresholds["*"].review_over == 100_000


def test_the_audit_says_who_when_before_and_after_for_every_change() -> None:
    risk, _, clock = admin()
    risk.save_rules("acme", "*", REVIEW_MISMATCH, "alice")
    clock.set(T0 + timedelta(minutes=1))
    risk.change_lists(
        ACME, [ListChange(action="add", list="block", kind="bins", values=("431940",))], "bob"
    )
    clock.set(T0 + timedelta(minutes=2))
    risk.save_rules("acme", "*", {"rules": []}, "carol")
    entries = risk.audit("acme")
    assert [(e.subject, e.version, e.who) for e in entries] == [
        ("rules:*", 1, "alice"),
        ("lists", 1, "bob"),
        ("rules:*", 2, "carol"),
    ]
    assert entries[0].before is None and entries[2].before == entries[0].after
    assert entries[1].change == {
        "changes": [{"action": "add", "list": "block", "kind": "bins", "values": ["431940"]}]
    }
    assert entries[1].when == (T0 + timedelta(minutes=1)).isoformat(timespec="milliseconds")


# -- screening and customer history ---------------------------------------------------------------


def test_screening_uses_the_managed_lists_and_files_the_order_in_the_customers_history() -> None:
    risk, _, _ = admin()
    velocity, history = InMemoryVelocity(), InMemoryHistory()
    blocked = screen(risk, velocity, history, ACME, placed("o-1", email="banned@example.com"), None)
    assert (blocked["decision"], blocked["matched_rules"]) == ("block", ["block-lists"])
    assert blocked["ruleset_version"] == "default/1" and blocked["rule_errors"] == []
    assert (
        history.history("acme", "email:banned@example.com", T0 + timedelta(seconds=1)).orders == 1
    )

    later = placed("o-2", email="banned@example.com", at=T0 + timedelta(minutes=5))
    again = screen(risk, velocity, history, ACME, later, None)
    assert again["signals"]["customer_orders"] == 1 and again["signals"]["email_orders_1h"] == 1
    retried = screen(risk, velocity, history, ACME, later, None)
    assert retried["signals"] == again["signals"]  # a retry decides on the same attributes


def test_fraud_decisions_refunds_and_chargebacks_reach_later_screenings() -> None:
    history = InMemoryHistory()
    order = placed("o-1")
    refund = ChargeRefunded(
        tenant="acme",
        source=Source.STRIPE,
        source_event_id="re",
        occurred_at=T0 + timedelta(hours=2),
        order_id="o-1",
        charge_id="ch_1",
        amount_refunded=eur(2500),
        refunds=(
            Refund(
                refund_id="re_1",
                amount=eur(2500),
                status="succeeded",
                created_at=T0 + timedelta(hours=2),
            ),
        ),
    )
    dispute = DisputeOpened(
        tenant="acme",
        source=Source.STRIPE,
        source_event_id="dp",
        occurred_at=T0 + timedelta(days=3),
        order_id="o-1",
        charge_id="ch_1",
        dispute_id="dp_1",
        amount=eur(2500),
        reason="fraudulent",
        status="needs_response",
    )
    state = state_of(order, refund, dispute)
    assert record_outcomes(history, state) == 2
    assert record_outcomes(history, state) == 2  # idempotent: still one of each
    record_fraud_decision(history, order, T0 + timedelta(hours=1))
    who = "email:ann@example.com"
    assert history.history("acme", who, T0 + timedelta(hours=1)).fraud_decisions == 0
    day_after = history.history("acme", who, T0 + timedelta(days=1))
    assert (day_after.fraud_decisions, day_after.refunds, day_after.chargebacks) == (1, 1, 0)
    assert history.history("acme", who, T0 + timedelta(days=4)).chargebacks == 1


# -- review queue ---------------------------------------------------------------------------------


def test_the_review_queue_lists_held_orders_oldest_first_with_reasons_and_age() -> None:
    lifecycle = FakeLifecycle()
    for order_id, held_at in (("o-new", T0 + timedelta(hours=2)), ("o-old", T0)):
        lifecycle.stages["acme", order_id] = {
            "stage": "potential_fraud",
            "updated_at": held_at.isoformat(),
        }
        lifecycle.states["acme", order_id] = state_of(placed(order_id))
    lifecycle.stages["acme", "o-fine"] = {
        "stage": "awaiting_shipment",
        "updated_at": T0.isoformat(),
    }
    lifecycle.stages["globex", "o-other"] = {
        "stage": "potential_fraud",
        "updated_at": T0.isoformat(),
    }
    lifecycle.screenings["acme", "o-old"] = {
        "score": 75,
        "reasons": ["IP in NG, billing in US, shipping to GB"],
        "matched_rules": ["review-geo-mismatch"],
        "ruleset_version": "acme/v1",
        "signals": {"ip_country": "NG", "billing_country": "US", "shipping_country": "GB"},
    }

    queue = review_queue(lifecycle, lifecycle, "acme", T0 + timedelta(hours=3))

    assert [entry["order_id"] for entry in queue] == ["o-old", "o-new"]
    old, new = queue
    assert (old["age_hours"], new["age_hours"]) == (3.0, 1.0)
    assert old["rules"] == ["review-geo-mismatch"] and old["score"] == 75
    assert (old["amount"], old["currency"], old["customer_email"]) == (
        2500,
        "EUR",
        "ann@example.com",
    )
    assert (old["ip_country"], old["billing_country"]) == ("NG", "US")
    assert new["reasons"] == [] and new["score"] is None


# -- backtest over stored orders ------------------------------------------------------------------


def stored_orders() -> FakeStoredOrders:
    chargeback = DisputeOpened(
        tenant="acme",
        source=Source.STRIPE,
        source_event_id="dp",
        occurred_at=T0 + timedelta(days=20),
        order_id="o-chargeback",
        charge_id="ch_1",
        dispute_id="dp_1",
        amount=eur(3000),
        reason="fraudulent",
        status="needs_response",
    )
    cancelled = (T0 + timedelta(hours=5)).isoformat()
    return FakeStoredOrders(
        StoredOrder(
            state_of(placed("o-fine")),
            {"stage": "closed", "updated_at": T0.isoformat()},
            {"decision": "allow"},
        ),
        StoredOrder(
            state_of(
                placed("o-chargeback", email="eve@mailinator.com", at=T0 + timedelta(hours=1)),
                chargeback,
            ),
        ),
        StoredOrder(
            state_of(placed("o-blocked", email="mallory@example.net", at=T0 + timedelta(hours=2))),
            {"stage": "cancelled", "detail": "blocked_by_screening", "updated_at": cancelled},
            {"decision": "block"},
        ),
        StoredOrder(
            state_of(placed("o-rejected", email="trudy@example.net", at=T0 + timedelta(hours=3))),
            {"stage": "cancelled", "detail": "rejected_in_review", "updated_at": cancelled},
            {"decision": "review"},
        ),
        StoredOrder(OrderState(tenant="acme", order_id="o-payment-only")),  # no order: left out
    )


def test_stored_orders_are_labelled_by_what_happened_to_them() -> None:
    labeled = {entry.order.order_id: entry for entry in labeled_orders(stored_orders(), "acme")}
    assert {k: v.label for k, v in labeled.items()} == {
        "o-fine": "fine",
        "o-chargeback": "fraud_chargeback",
        "o-blocked": "refunded_fraud",
        "o-rejected": "refunded_fraud",
    }
    assert labeled["o-chargeback"].outcome_at == T0 + timedelta(days=20)
    assert labeled["o-blocked"].outcome_at == T0 + timedelta(hours=5)
    assert labeled["o-rejected"].decision_then == "rejected"
    assert labeled["o-fine"].decision_then == "allow"


def test_a_backtest_over_stored_orders_compares_with_the_ruleset_in_force() -> None:
    risk, _, _ = admin()
    risk.save_rules("acme", "electronics", REVIEW_MISMATCH, "alice")

    report = backtest_stored(stored_orders(), risk, ACME, DISPOSABLE)

    assert report.orders == 4
    assert report.baseline_version == "acme/electronics-v1"  # what screens the category now
    assert report.candidate.flagged_fraud == 1 and report.candidate.flagged_fine == 0
    assert [c.order_id for c in report.changes] == ["o-chargeback"]
    since = backtest_stored(stored_orders(), risk, ACME, DISPOSABLE, since=T0 + timedelta(hours=2))
    assert since.orders == 2  # earlier orders still replayed, not scored
    with pytest.raises(NoStoredOrders, match="'globex' has no stored orders"):
        backtest_stored(stored_orders(), risk, ACME.model_copy(update={"id": "globex"}), DISPOSABLE)
