"""The Stripe sandbox driven by the official client, as the product will drive it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import stripe

from local.sandboxes.stripe_events import stripe_deliveries
from local.sandboxes.stripe_sandbox import DAY, DISPUTE_FEE, StripeSandbox, processing_fee

API_KEY = "sk_test_sandbox_component"


@pytest.fixture
def sandbox() -> Iterator[StripeSandbox]:
    box = StripeSandbox(seed=7)
    box.start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture
def client(sandbox: StripeSandbox, monkeypatch: pytest.MonkeyPatch) -> stripe.StripeClient:
    # The client sleeps at least 0.5 s between retries; the sandbox answers in a millisecond.
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(stripe.HTTPClient, "MAX_DELAY", 0.05)
    assert sandbox.base_url is not None
    return stripe.StripeClient(
        API_KEY, base_addresses={"api": sandbox.base_url}, max_network_retries=2
    )


def pay(client: stripe.StripeClient, amount: int = 2000, **extra: Any) -> stripe.PaymentIntent:
    params: Any = {
        "amount": amount,
        "currency": "usd",
        "confirm": True,
        "payment_method": "pm_card_visa",
        "metadata": {"order_id": "ord_1"},
        **extra,
    }
    return client.v1.payment_intents.create(params=params)


def test_payment_intent_succeeds_with_a_charge_and_a_balance_transaction(
    client: stripe.StripeClient,
) -> None:
    pi = pay(client, 10_000)
    assert pi.status == "succeeded"
    assert pi.amount_received == 10_000
    assert pi.metadata["order_id"] == "ord_1"
    charge = client.v1.charges.retrieve(
        str(pi.latest_charge), params={"expand": ["balance_transaction"]}
    )
    assert charge.metadata["order_id"] == "ord_1"
    assert charge.payment_intent == pi.id
    details = charge.payment_method_details
    assert details is not None and details.card is not None
    card = details.card
    assert (card.brand, card.last4, card.country, card.funding) == ("visa", "4242", "US", "credit")
    assert card.fingerprint and card["iin"] == "424242"
    txn = charge.balance_transaction
    assert isinstance(txn, stripe.BalanceTransaction)
    assert txn.fee == processing_fee(10_000) == 320
    assert txn.net == 10_000 - 320
    assert txn.reporting_category == "charge"
    assert txn.available_on > txn.created
    listed = client.v1.charges.list(params={"payment_intent": pi.id})
    assert [c.id for c in listed.data] == [charge.id]


def test_declines_are_card_errors(client: stripe.StripeClient, sandbox: StripeSandbox) -> None:
    with pytest.raises(stripe.CardError) as declined:
        pay(client, payment_method="pm_card_chargeDeclined")
    error = declined.value
    assert error.http_status == 402
    assert error.code == "card_declined"
    assert error.error is not None and error.error.decline_code == "generic_decline"
    assert error.request_id and error.request_id.startswith("req_")
    pi = error.error.payment_intent
    assert pi is not None and pi.status == "requires_payment_method"

    with pytest.raises(stripe.CardError) as blocked:
        pay(client, payment_method="pm_card_radarBlock")
    assert blocked.value.error is not None
    charge = sandbox.get(str(blocked.value.error.charge))
    assert charge["status"] == "failed"
    assert charge["outcome"]["type"] == "blocked"
    assert charge["outcome"]["risk_level"] == "highest"
    assert blocked.value.error.decline_code == "fraudulent"

    # The same PaymentIntent succeeds with another card.
    assert pi is not None
    confirmed = client.v1.payment_intents.confirm(pi.id, params={"payment_method": "pm_card_visa"})
    assert confirmed.status == "succeeded"


def test_manual_capture_and_cancel(client: stripe.StripeClient) -> None:
    pi = pay(client, 2000, capture_method="manual")
    assert pi.status == "requires_capture"
    assert pi.amount_capturable == 2000
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 2500})
    assert too_much.value.code == "amount_too_large"
    captured = client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 1500})
    assert (captured.status, captured.amount_received) == ("succeeded", 1500)
    charge = client.v1.charges.retrieve(str(captured.latest_charge))
    assert charge.captured and charge.amount_captured == 1500
    with pytest.raises(stripe.InvalidRequestError) as twice:
        client.v1.payment_intents.capture(pi.id)
    assert twice.value.code == "payment_intent_unexpected_state"

    held = pay(client, 900, capture_method="manual")
    canceled = client.v1.payment_intents.cancel(
        held.id, params={"cancellation_reason": "requested_by_customer"}
    )
    assert canceled.status == "canceled"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.cancel(pi.id)


def test_refunds_never_exceed_what_was_captured(client: stripe.StripeClient) -> None:
    pi = pay(client, 5000)
    first = client.v1.refunds.create(
        params={"payment_intent": pi.id, "amount": 1200, "reason": "requested_by_customer"}
    )
    assert (first.status, first.amount, first.charge) == ("succeeded", 1200, pi.latest_charge)
    with pytest.raises(stripe.InvalidRequestError) as over:
        client.v1.refunds.create(params={"charge": str(pi.latest_charge), "amount": 3801})
    assert over.value.code == "amount_too_large"
    assert over.value.param == "amount"
    assert over.value.http_status == 400
    rest = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert rest.amount == 3800
    with pytest.raises(stripe.InvalidRequestError) as done:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert done.value.code == "charge_already_refunded"
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    assert (charge.amount_refunded, charge.refunded) == (5000, True)
    refunds = client.v1.refunds.list(params={"charge": charge.id})
    assert sorted(r.amount for r in refunds.data) == [1200, 3800]
    txn = client.v1.balance_transactions.retrieve(str(first.balance_transaction))
    assert (txn.amount, txn.fee, txn.reporting_category) == (-1200, 0, "refund")


def test_idempotency_replays_and_refuses_other_parameters(
    client: stripe.StripeClient, sandbox: StripeSandbox
) -> None:
    pi = pay(client, 3000)
    options: Any = {"idempotency_key": "refund-ord_1-1"}
    first = client.v1.refunds.create(
        params={"payment_intent": pi.id, "amount": 700}, options=options
    )
    again = client.v1.refunds.create(
        params={"payment_intent": pi.id, "amount": 700}, options=options
    )
    assert again.id == first.id
    assert again.last_response is not None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError) as mismatch:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 800}, options=options)
    assert mismatch.value.http_status == 400
    assert len(client.v1.refunds.list(params={"payment_intent": pi.id}).data) == 1

    # A decline ran the payment, so it is saved and replayed too: one failure, not two.
    decline_options: Any = {"idempotency_key": "pay-ord_2"}
    for _ in range(2):
        with pytest.raises(stripe.CardError):
            client.v1.payment_intents.create(
                params={"amount": 100, "currency": "usd", "confirm": True,
                        "payment_method": "pm_card_chargeDeclinedInsufficientFunds"},
                options=decline_options,
            )  # fmt: skip
    failures = [e for e in sandbox.events() if e["type"] == "payment_intent.payment_failed"]
    assert len(failures) == 1


def test_injected_500s_with_client_retries_make_exactly_one_refund(
    client: stripe.StripeClient, sandbox: StripeSandbox
) -> None:
    pi = pay(client, 4000)
    sandbox.fail_next("/v1/refunds", status=500, times=2, method="POST")
    refund = client.v1.refunds.create(
        params={"payment_intent": pi.id, "amount": 1000},
        options={"idempotency_key": "refund-once"},
    )
    posts = [r for r in sandbox.requests() if r.path == "/v1/refunds" and r.method == "POST"]
    assert [(r.status, r.injected) for r in posts] == [(500, True), (500, True), (200, False)]
    assert {r.idempotency_key for r in posts} == {"refund-once"}
    assert [r.id for r in client.v1.refunds.list(params={"payment_intent": pi.id}).data] == [
        refund.id
    ]

    # The answer is lost after the refund happened: the retry gets it replayed.
    sandbox.fail_next("/v1/refunds", status=503, times=1, take_effect=True)
    second = client.v1.refunds.create(
        params={"payment_intent": pi.id, "amount": 500},
        options={"idempotency_key": "refund-lost-answer"},
    )
    assert second.last_response is not None
    assert second.last_response.headers.get("Idempotent-Replayed") == "true"
    amounts = sorted(r.amount for r in client.v1.refunds.list(params={"payment_intent": pi.id}))
    assert amounts == [500, 1000]


def test_rate_limit_is_a_429(client: stripe.StripeClient, sandbox: StripeSandbox) -> None:
    sandbox.fail_next("/v1/payment_intents", status=429, times=1)
    with pytest.raises(stripe.RateLimitError) as limited:
        pay(client)
    assert limited.value.http_status == 429
    body = limited.value.json_body
    assert isinstance(body, dict)
    assert body["error"]["type"] == "rate_limit_error"
    assert not [e for e in sandbox.events() if e["type"] == "payment_intent.created"]
    assert pay(client).status == "succeeded"

    # Rate-limit mode: a token bucket of 2 requests, refilled at one a minute.
    sandbox.rate_limit(1 / 60, burst=2)
    client.v1.balance.retrieve()
    client.v1.balance.retrieve()
    with pytest.raises(stripe.RateLimitError):
        client.v1.balance.retrieve()
    sandbox.rate_limit(None)
    assert client.v1.balance.retrieve().pending[0].amount > 0


def test_balance_transactions_by_payout_auto_paginate(
    client: stripe.StripeClient, sandbox: StripeSandbox
) -> None:
    payments = [pay(client, 1000 + i) for i in range(24)]
    client.v1.refunds.create(params={"payment_intent": payments[0].id, "amount": 300})
    payout = sandbox.pay_out("usd", as_of=sandbox.now() + 10 * 86_400)
    assert payout is not None
    page = client.v1.balance_transactions.list(params={"payout": payout["id"], "limit": 10})
    assert page.has_more and len(page.data) == 10
    txns = list(page.auto_paging_iter())
    assert len(txns) == 24 + 1 + 1  # charges, the refund, the payout itself
    assert len({t.id for t in txns}) == len(txns)
    gets = [r for r in sandbox.requests() if r.path == "/v1/balance_transactions"]
    assert len(gets) == 3
    by_category: dict[str, int] = {}
    for txn in txns:
        by_category[txn.reporting_category] = by_category.get(txn.reporting_category, 0) + 1
    assert by_category == {"charge": 24, "refund": 1, "payout": 1}
    swept = sum(t.net for t in txns if t.reporting_category != "payout")
    assert swept == payout["amount"]
    assert next(t for t in txns if t.reporting_category == "payout").amount == -payout["amount"]
    assert client.v1.payouts.retrieve(payout["id"]).status == "paid"
    types = [e["type"] for e in sandbox.events() if e["type"].startswith("payout.")]
    assert types == ["payout.created", "payout.paid", "payout.reconciliation_completed"]


def test_dispute_flow(client: stripe.StripeClient, sandbox: StripeSandbox) -> None:
    pi = pay(client, 8000)
    opened = sandbox.open_dispute(str(pi.latest_charge), reason="product_not_received")
    dispute = client.v1.disputes.retrieve(opened["id"])
    assert dispute.id.startswith("dp_")
    assert (dispute.status, dispute.amount, dispute.reason) == (
        "needs_response",
        8000,
        "product_not_received",
    )
    (withdrawal,) = dispute.balance_transactions
    assert (withdrawal.amount, withdrawal.fee, withdrawal.net) == (-8000, DISPUTE_FEE, -9500)
    assert withdrawal.reporting_category == "dispute"
    with pytest.raises(stripe.InvalidRequestError) as disputed:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert disputed.value.code == "charge_disputed"

    updated = client.v1.disputes.update(
        dispute.id,
        params={
            "evidence": {"shipping_tracking_number": "1Z999", "customer_email_address": "a@b.c"},
            "metadata": {"case": "42"},
            "submit": True,
        },
    )
    assert updated.status == "under_review"
    assert updated.evidence.shipping_tracking_number == "1Z999"
    assert updated.evidence_details.submission_count == 1
    closed = sandbox.close_dispute(dispute.id, won=True)
    assert closed["status"] == "won"
    reinstated = closed["balance_transactions"][1]
    assert (reinstated["amount"], reinstated["net"]) == (8000, 9500)
    assert reinstated["reporting_category"] == "dispute_reversal"
    kinds = [e["type"] for e in sandbox.events() if e["type"].startswith("charge.dispute.")]
    assert kinds == [
        "charge.dispute.created",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.updated",
        "charge.dispute.funds_reinstated",
        "charge.dispute.closed",
    ]
    lost = pay(client, 1000)
    second = sandbox.open_dispute(str(lost.latest_charge))
    accepted = client.v1.disputes.close(second["id"])
    assert accepted.status == "lost"


def test_every_event_is_unique_and_shaped_like_stripe(
    client: stripe.StripeClient, sandbox: StripeSandbox
) -> None:
    pi = pay(client, 2500, capture_method="manual")
    client.v1.payment_intents.capture(pi.id)
    client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 500},
                             options={"idempotency_key": "k-1"})  # fmt: skip
    events = sandbox.events()
    assert len({e["id"] for e in events}) == len(events)
    assert [e["type"] for e in events] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.amount_capturable_updated",
        "charge.captured",
        "payment_intent.succeeded",
        "refund.created",
        "charge.refunded",
    ]
    for event in events:
        assert event["object"] == "event" and event["livemode"] is False
        assert event["api_version"] and event["pending_webhooks"] == 1
        assert event["request"]["id"].startswith("req_")
        obj = event["data"]["object"]
        if obj["object"] in ("charge", "payment_intent"):
            assert obj["metadata"]["order_id"] == "ord_1"
    refunded = events[-1]["data"]
    assert refunded["object"]["amount_refunded"] == 500
    assert refunded["previous_attributes"] == {"amount_refunded": 0, "refunded": False}
    assert [r["amount"] for r in refunded["object"]["refunds"]["data"]] == [500]
    assert events[-1]["request"]["idempotency_key"] == "k-1"
    listed = client.v1.events.list(params={"type": "charge.*", "limit": 100})
    assert {e.type for e in listed.data} == {"charge.succeeded", "charge.captured",
                                            "charge.refunded"}  # fmt: skip

    (delivery,) = stripe_deliveries(
        events[-1:], base_url="http://127.0.0.1:8787", tenant="acme", secret="whsec_x"
    )
    header = delivery.headers_now()["Stripe-Signature"]
    stripe.WebhookSignature.verify_header(delivery.body.decode(), header, "whsec_x", 300)
    assert delivery.url == "http://127.0.0.1:8787/webhooks/acme/stripe"


def test_requests_need_a_test_secret_key(
    client: stripe.StripeClient, sandbox: StripeSandbox
) -> None:
    assert sandbox.base_url is not None
    bad = stripe.StripeClient("sk_live_nope", base_addresses={"api": sandbox.base_url})
    with pytest.raises(stripe.AuthenticationError):
        bad.v1.payment_intents.list()
    request = urllib.request.Request(f"{sandbox.base_url}/v1/charges")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        opener.open(request, timeout=5)
    assert anonymous.value.code == 401
    assert anonymous.value.headers["Request-Id"].startswith("req_")
    body = json.loads(anonymous.value.read())
    assert body["error"]["type"] == "invalid_request_error"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.retrieve("pi_missing")
    assert missing.value.http_status == 404
    assert missing.value.code == "resource_missing"


def test_manual_payouts_cannot_filter_balance_transactions(
    client: stripe.StripeClient, sandbox: StripeSandbox
) -> None:
    pay(client, 10_000)
    with pytest.raises(stripe.InvalidRequestError) as pending:
        client.v1.payouts.create(params={"amount": 100, "currency": "usd"})
    assert pending.value.code == "balance_insufficient"
    sandbox.advance(3 * 86_400)
    payout = client.v1.payouts.create(params={"amount": 5000, "currency": "usd"})
    assert (payout.status, payout.automatic) == ("pending", False)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.balance_transactions.list(params={"payout": payout.id})
    failed = sandbox.settle_payout(payout.id, fail="account_closed")
    assert failed["status"] == "failed" and failed["failure_code"] == "account_closed"
    assert sandbox.events()[-1]["type"] == "payout.failed"


def test_same_seed_same_ids() -> None:
    def run() -> list[str]:
        box = StripeSandbox(seed=99, clock=lambda: 1_772_438_400.0)
        answer = box.request(
            "POST",
            "/v1/payment_intents",
            {"amount": 700, "currency": "eur", "confirm": True, "payment_method": "pm_card_visa"},
        )
        assert answer.status == 200
        return [e["id"] for e in box.events()] + [answer.json()["id"]]

    assert run() == run()


def test_concurrent_clients_see_a_consistent_account(
    client: stripe.StripeClient, sandbox: StripeSandbox
) -> None:
    def work(n: int) -> str:
        pi = pay(client, 1000 + n)
        client.v1.refunds.create(
            params={"payment_intent": pi.id, "amount": 100},
            options={"idempotency_key": f"refund-{n}"},
        )
        # The same refund again, racing the others: replayed, not repeated.
        client.v1.refunds.create(
            params={"payment_intent": pi.id, "amount": 100},
            options={"idempotency_key": f"refund-{n}"},
        )
        return pi.id

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(work, range(40)))
    assert len(set(ids)) == 40
    events = sandbox.events()
    assert len({e["id"] for e in events}) == len(events) == 40 * 5
    refunds = [t for t in sandbox.balance_transactions() if t["reporting_category"] == "refund"]
    assert len(refunds) == 40


def test_a_refund_can_fail_days_after_it_succeeded(
    client: stripe.StripeClient, sandbox: StripeSandbox
) -> None:
    """As Stripe: the refund turns failed with its reason, the money is back on the balance
    (a refund_failure transaction), the charge counts it no more, and the events say so."""
    intent = pay(client, 3000)
    refund = client.v1.refunds.create(params={"payment_intent": intent.id})
    assert refund.status == "succeeded"
    sandbox.drain_events()
    sandbox.advance(3 * DAY)
    failed = sandbox.fail_refund(refund.id, reason="lost_or_stolen_card")
    assert (failed["status"], failed["failure_reason"]) == ("failed", "lost_or_stolen_card")
    back = client.v1.balance_transactions.retrieve(failed["failure_balance_transaction"])
    assert (back.amount, back.reporting_category) == (3000, "refund_failure")
    charge = client.v1.charges.retrieve(str(refund.charge))
    assert (charge.amount_refunded, charge.refunded) == (0, False)
    events = sandbox.drain_events()
    assert [e["type"] for e in events] == [
        "charge.refund.updated",
        "refund.updated",
        "refund.failed",
    ]
    assert events[1]["data"]["previous_attributes"]["status"] == "succeeded"
    assert all(e["created"] >= refund.created + 3 * DAY for e in events)
    with pytest.raises(ValueError, match="already failed"):
        sandbox.fail_refund(refund.id)


def test_live_push_sends_each_new_event_moments_after_it_happens_signed_and_once(
    client: stripe.StripeClient, sandbox: StripeSandbox
) -> None:
    """A refund asked of the gateway is told back while the asker still waits, not when a
    batch is drained later; nothing the push took is left unsent when it stops."""
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from local.sandboxes.stripe_events import LivePush

    arrivals: list[tuple[float, str]] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            event = stripe.Webhook.construct_event(
                body, self.headers["Stripe-Signature"], "whsec_live"
            )
            with lock:
                arrivals.append((time.monotonic(), event["type"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    intent = pay(client, 3000)
    sandbox.drain_events()  # the payment was someone else's business
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with LivePush(
            sandbox, base_url=base, tenant="acme", secret="whsec_live", every_s=0.05
        ) as push:
            asked = time.monotonic()
            client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000})
            deadline = asked + 5
            while not arrivals and time.monotonic() < deadline:
                time.sleep(0.01)
            assert arrivals, "nothing was pushed while the push ran"
            assert arrivals[0][0] - asked < 2  # within a refund's local confirmation wait
            client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000})
        sent = [kind for _, kind in arrivals]
    finally:
        server.shutdown()
        server.server_close()
    assert push.failed == []
    assert push.delivered == len(sent)
    assert sent.count("refund.created") == 2  # the second, asked at the end, sent on the way out
