"""The business-day scenario: enough traffic, reproducible, consistent, and correctly signed."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe

from local.sandboxes.delivery import Deliverer, Delivery
from local.sandboxes.scenario import Scenario, ScenarioConfig, WebhookSecrets, business_day
from shared import signing
from shared.clock import SYSTEM_CLOCK
from shared.money import exponent

BASE = "http://127.0.0.1:8787"
SECRETS = WebhookSecrets()


def minor(value: str, currency: str) -> int:
    scaled = Decimal(value).scaleb(exponent(currency))
    assert scaled == scaled.to_integral_value()
    return int(scaled)


@pytest.fixture(scope="module")
def day() -> Scenario:
    return business_day(ScenarioConfig(base_url=BASE, tenant="acme", orders=200, seed=11))


def payloads(day: Scenario, source: str) -> list[tuple[Delivery, Any]]:
    return [(d, json.loads(d.body)) for d in day.deliveries if d.source == source]


def test_two_hundred_orders_make_over_two_thousand_unique_webhooks(day: Scenario) -> None:
    assert len(day.orders) == 200
    assert day.unique_deliveries() >= 2000
    assert len({d.event_id for d in day.deliveries}) == len(day.deliveries)
    counts = day.counts()
    assert set(counts) == {"aftership", "easypost", "shippo", "shop", "shopify", "stripe"}
    assert all(n > 30 for n in counts.values())
    urls = {urlsplit(d.url).path for d in day.deliveries}
    assert urls == {
        "/webhooks/acme/shop",
        "/webhooks/acme/shopify",
        "/webhooks/acme/stripe",
        "/webhooks/acme/carriers/easypost",
        "/webhooks/acme/carriers/aftership",
        "/webhooks/acme/carriers/shippo",
    }


def test_same_seed_same_day_other_seed_other_day(day: Scenario) -> None:
    def fingerprint(scenario: Scenario) -> list[tuple[str, bytes, str]]:
        return [(d.url, d.body, d.event_id) for d in scenario.deliveries]

    again = business_day(ScenarioConfig(base_url=BASE, tenant="acme", orders=200, seed=11))
    assert fingerprint(again) == fingerprint(day)
    assert again.expected.to_json() == day.expected.to_json()
    other = business_day(ScenarioConfig(base_url=BASE, tenant="acme", orders=20, seed=12))
    assert fingerprint(other)[:5] != fingerprint(day)[:5]


def test_order_totals_add_up_in_minor_units(day: Scenario) -> None:
    totals: dict[str, int] = {}
    for _, event in payloads(day, "shop"):
        if event["type"] != "order.created":
            continue
        order, currency = event["order"], event["order"]["currency"]
        lines = sum(minor(li["unit_price"], currency) * li["quantity"] for li in order["lines"])
        total = (
            lines
            + minor(order["shipping"], currency)
            + minor(order["tax"], currency)
            - minor(order["discount"], currency)
        )
        assert minor(order["total"], currency) == total
        assert len(order["lines"]) in range(1, 5)
        totals[order["order_id"]] = total
    for delivery, order in payloads(day, "shopify"):
        if delivery.headers["X-Shopify-Topic"] != "orders/create":
            continue
        currency = order["currency"]
        lines = sum(minor(li["price"], currency) * li["quantity"] for li in order["line_items"])
        assert minor(order["total_line_items_price"], currency) == lines
        shipping = sum(minor(s["price"], currency) for s in order["shipping_lines"])
        total = lines + shipping + minor(order["total_tax"], currency)
        total -= minor(order["total_discounts"], currency)
        assert minor(order["total_price"], currency) == total
        totals[str(order["id"])] = total
    assert totals == {oid: o.total for oid, o in day.expected.orders.items()}
    for expectation in day.expected.orders.values():
        for pi_id in expectation.payment_intents:
            pi = day.stripe.get(pi_id)
            assert pi["amount"] == expectation.total
            assert pi["metadata"]["order_id"] == expectation.order_id


def test_every_signature_verifies(day: Scenario) -> None:
    now = SYSTEM_CLOCK.now().timestamp()  # the deliveries are signed as they are sent
    for delivery in day.deliveries:
        headers = delivery.headers_now()
        body = delivery.body
        if delivery.source == "stripe":
            stripe.WebhookSignature.verify_header(
                body.decode(), headers["Stripe-Signature"], SECRETS.stripe, 300
            )
        elif delivery.source == "shop":
            signing.verify_shop(
                body,
                headers["X-EcomOps-Timestamp"],
                headers["X-EcomOps-Signature"],
                [SECRETS.shop],
                now=now,
            )
        elif delivery.source == "shopify":
            signing.verify_shopify(body, headers["X-Shopify-Hmac-Sha256"], [SECRETS.shopify])
            # Stored under the hash of the signed body, whatever its (unsigned) headers say.
            assert delivery.event_id == "sha256:" + hashlib.sha256(body).hexdigest()
            assert headers["X-Shopify-Webhook-Id"]
            assert headers["X-Shopify-Shop-Domain"] == "acme.myshopify.com"
        elif delivery.source == "easypost":
            signing.verify_easypost(body, headers["X-Hmac-Signature"], [SECRETS.easypost])
        elif delivery.source == "aftership":
            signing.verify_aftership(body, headers["aftership-hmac-sha256"], [SECRETS.aftership])
        else:
            token = parse_qs(urlsplit(delivery.url).query)["token"][0]
            assert SECRETS.shippo_secret is not None
            signing.verify_shippo(body, token, [SECRETS.shippo_token],
                                  headers["X-Shippo-Signature"], [SECRETS.shippo_secret],
                                  now=now)  # fmt: skip
    tampered = day.deliveries[0]
    with pytest.raises(signing.SignatureError):
        signing.verify_shop(tampered.body + b" ", *_shop_headers(tampered), [SECRETS.shop], now=now)


def _shop_headers(delivery: Delivery) -> tuple[str, str]:
    headers = delivery.headers_now()
    return headers["X-EcomOps-Timestamp"], headers["X-EcomOps-Signature"]


def test_expected_matches_what_the_gateway_holds(day: Scenario) -> None:
    expected = day.expected
    orders = list(expected.orders.values())
    assert sum(o.paid for o in orders) > 150
    assert any(o.failed_payments and o.paid for o in orders)
    assert any(o.failed_payments and not o.paid for o in orders)
    assert any(o.duplicate_payment for o in orders)
    assert any(o.cancelled for o in orders)
    assert any(0 < o.refunded < o.captured for o in orders)
    assert any(o.refunded == o.captured > 0 for o in orders)
    assert sorted(o.dispute_status or "" for o in orders if o.dispute_id) == [
        "lost",
        "needs_response",
        "won",
    ]
    assert len(expected.orphan_payments) == 3
    for order in orders:
        charges = [day.stripe.get(c) for c in order.charges]
        captured = sum(c["amount_captured"] for c in charges)
        refunds = [
            r["amount"] for c in charges for r in c["refunds"]["data"] if r["status"] == "succeeded"
        ]
        assert captured == order.captured, order.order_id
        assert sum(refunds) == order.refunded, order.order_id
        assert order.refunded <= order.captured
        if order.cancelled or not order.paid:
            assert order.shipment_status is None
    txns = day.stripe.balance_transactions(payout=expected.payout_id)
    payout_txn = [t for t in txns if t["reporting_category"] == "payout"]
    assert [t["amount"] for t in payout_txn] == [-expected.payout_amount]
    assert sum(t["net"] for t in txns if t["type"] != "payout") == expected.payout_amount
    assert len(txns) == expected.payout_balance_transactions
    assert day.stripe.balance_transactions() == txns  # the payout swept everything


def test_journeys_move_forward_and_match_the_payloads(day: Scenario) -> None:
    expected = day.expected.orders
    statuses = Counter(j.final_status for j in day.journeys)
    assert {"delivered", "in_transit", "return_to_sender"} <= set(statuses)
    for journey in day.journeys:
        times = [c.at for c in journey.checkpoints]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert expected[journey.order_id].tracking_code == journey.tracking_code
        assert expected[journey.order_id].shipment_status == journey.final_status
    last: dict[str, str] = {}
    shippo = {"DELIVERED": "delivered", "RETURNED": "return_to_sender", "FAILURE": "failure"}
    for _, payload in payloads(day, "easypost"):
        assert payload["description"] == "tracker.updated"
        last[payload["result"]["tracking_code"]] = payload["result"]["status"]
    for _, payload in payloads(day, "aftership"):
        tracking = payload["msg"]
        assert tracking["order_id"] in expected
        last[tracking["tracking_number"]] = tracking["tag"]
    for _, payload in payloads(day, "shippo"):
        data = payload["data"]
        assert data["metadata"].startswith("order_id=")
        assert data["metadata"].removeprefix("order_id=") in expected
        status = data["tracking_status"]
        last[data["tracking_number"]] = shippo.get(status["status"], status["substatus"]["code"])
    aftership_tags = {"Delivered": "delivered", "Exception": None, "InTransit": "in_transit",
                      "AvailableForPickup": "available_for_pickup"}  # fmt: skip
    for journey in day.journeys:
        seen = last[journey.tracking_code]
        if journey.provider.value == "easypost":
            assert seen == journey.final_status
        elif journey.provider.value == "aftership":
            assert aftership_tags.get(seen, seen) in (journey.final_status, None)
        elif journey.final_status in shippo.values():
            assert seen == journey.final_status
    fulfilled = {
        e["fulfillment"]["tracking_code"]: e["order"]["order_id"]
        for _, e in payloads(day, "shop")
        if e["type"] == "order.fulfilled"
    }
    fulfilled |= {
        e["tracking_number"]: str(e["order_id"])
        for d, e in payloads(day, "shopify")
        if d.headers["X-Shopify-Topic"] == "fulfillments/create"
    }
    assert fulfilled == {j.tracking_code: j.order_id for j in day.journeys}


class _Sink:
    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                sink.received[self.path.split("?")[0]] += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()


@pytest.fixture
def sink() -> Iterator[_Sink]:
    running = _Sink()
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()


def test_a_small_day_is_delivered_with_chaos(sink: _Sink) -> None:
    base = f"http://127.0.0.1:{sink.server.server_address[1]}"
    small = business_day(ScenarioConfig(base_url=base, tenant="acme", orders=15, seed=3))
    report = Deliverer(duplicate_rate=0.2, reorder="window", seed=3, concurrency=4).deliver(
        small.deliveries
    )
    assert report.all_acknowledged
    assert sum(sink.received.values()) == len(small.deliveries) + report.duplicates
    assert small.stripe.base_url is None  # the scenario never needed the HTTP front door
