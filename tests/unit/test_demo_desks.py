"""The demo's desks part (local/demo_desks.py): which disputes the operator answers, which
orders the customer questions are asked about, the answer page; and the scenario's early fraud
warning on an order paid and never shipped (local/sandboxes/scenario.py)."""

from __future__ import annotations

import json
from typing import Any

from local.demo_desks import answer_page, query_orders, representment_picks
from local.sandboxes.scenario import (
    UNREMARKABLE_TOTAL,
    Mix,
    OrderExpectation,
    ScenarioConfig,
    business_day,
)


def view(dispute: str, state: str, action: str, kind: str = "chargeback") -> dict[str, Any]:
    return {
        "dispute_id": dispute,
        "state": state,
        "kind": kind,
        "order_id": f"o-{dispute}",
        "suggestion": {"action": action, "reason": "…"},
    }


def test_submits_the_first_to_fight_and_accepts_one_to_accept() -> None:
    views = [
        view("dp_1", "collecting", "accept"),
        view("dp_2", "won", "fight"),
        view("dp_3", "collecting", "fight"),
        view("dp_4", "ready", "fight"),
        view("dp_5", "collecting", "fight", kind="inquiry"),
    ]
    assert representment_picks(views) == ("dp_3", "dp_1")


def test_with_no_suggestion_to_accept_the_next_open_case_is_accepted() -> None:
    views = [view("dp_1", "collecting", "fight"), view("dp_2", "new", "fight")]
    assert representment_picks(views) == ("dp_1", "dp_2")
    assert representment_picks([view("dp_1", "collecting", "accept")]) == ("dp_1", None)
    assert representment_picks([view("dp_1", "submitted", "fight")]) == (None, None)


def expectation(order_id: str, **facts: Any) -> OrderExpectation:
    return OrderExpectation(order_id=order_id, source="shop", currency="USD", total=1000, **facts)


def test_each_customer_question_is_asked_about_an_order_that_fits_it() -> None:
    orders = {
        o.order_id: o
        for o in (
            expectation("o-plain", captured=1000),
            expectation("o-twice", captured=2000, duplicate_payment=True),
            expectation("o-cancelled", captured=1000, refunded=1000, cancelled=True),
            expectation("o-refunded", captured=1000, refunded=400),
            expectation("o-declined", failed_payments=1),
            expectation("o-recovered", failed_payments=1, captured=1000),
        )
    }
    assert query_orders(orders) == {
        "charged_twice": "o-twice",
        "refund_not_received": "o-refunded",
        "failed_but_charged": "o-recovered",
    }
    del orders["o-recovered"], orders["o-refunded"], orders["o-twice"]
    assert query_orders(orders) == {
        "charged_twice": None,
        "refund_not_received": "o-cancelled",
        "failed_but_charged": "o-declined",
    }


def test_the_answer_page_escapes_and_sets_the_action_apart() -> None:
    page = answer_page(
        "“Charged twice”",
        "Yes: two payments <b>\n  payment pi_1 at 10:00\n  payment pi_2 at 10:02\n"
        "Suggested action: refund pi_2",
        subtitle="order o-1: charged_twice",
    )
    assert "two payments &lt;b&gt;" in page
    assert "<ul><li>payment pi_1 at 10:00</li><li>payment pi_2 at 10:02</li></ul>" in page
    assert '<p class="action">Suggested action: refund pi_2</p>' in page


def test_an_early_fraud_warning_comes_on_a_paid_order_that_never_ships() -> None:
    day = business_day(
        ScenarioConfig(
            base_url="http://127.0.0.1:8787",
            tenant="acme",
            orders=12,
            seed=3,
            mix=Mix(disputes=0, early_fraud_warnings=1),
        )
    )
    (warned,) = [o for o in day.expected.orders.values() if o.early_fraud_warning]
    assert warned.paid and warned.shipment_status is None and warned.tracking_code is None
    (order,) = [o for o in day.orders if o.order_id == warned.order_id]
    # Nothing for screening to stop: only the issuer's warning should cancel it.
    assert order.total < UNREMARKABLE_TOTAL
    assert order.billing_address.country == order.shipping_address.country
    assert warned.early_fraud_warning is not None
    warning = day.stripe.get(warned.early_fraud_warning)
    assert warning["actionable"] and warning["charge"] == warned.charges[0]
    radar = [
        json.loads(d.body)
        for d in day.deliveries
        if d.source == "stripe" and b"radar.early_fraud_warning" in d.body
    ]
    assert [e["data"]["object"]["id"] for e in radar] == [warned.early_fraud_warning]
    shop = [json.loads(d.body) for d in day.deliveries if d.source == "shop"]
    fulfilled = {e["order"]["order_id"] for e in shop if e["type"] == "order.fulfilled"}
    assert fulfilled and warned.order_id not in fulfilled
