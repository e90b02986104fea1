"""Stripe normaliser: every sample under shared/samples/stripe/events, plus hand-written edges."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest

from functions.webhooks.domain.normalise import normalise
from functions.webhooks.domain.normalise.stripe import (
    BalanceTransaction,
    balance_transaction_from_stripe,
)
from shared.events import (
    ChargeRefunded,
    CheckoutExpired,
    DisputeClosed,
    DisputeFundsReinstated,
    DisputeFundsWithdrawn,
    DisputeOpened,
    DisputeUpdated,
    DomainEvent,
    Ignored,
    Malformed,
    PaymentAuthorized,
    PaymentFailed,
    PaymentSucceeded,
    PayoutFailed,
    PayoutPaid,
    RefundUpdated,
    Source,
)
from shared.money import Money
from tests.hostile import assert_only_documented_failures
from tests.samples import SAMPLES, load_sample, sample_names

STRIPE_EVENTS = SAMPLES / "stripe" / "events"
TENANT = "acme"
EVENT_ID = "evt_test_1"
RECEIVED = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)

E = TypeVar("E")


SAMPLE_NAMES = sample_names(STRIPE_EVENTS, "Stripe")


def load(name: str) -> dict[str, Any]:
    return load_sample(STRIPE_EVENTS, name)


def run(payload: dict[str, Any]) -> list[DomainEvent]:
    return normalise(Source.STRIPE, TENANT, payload, event_id=EVENT_ID, received_at=RECEIVED)


def only(events: list[DomainEvent], kind: type[E]) -> E:
    assert len(events) == 1, events
    event = events[0]
    assert isinstance(event, kind), f"{type(event).__name__} is not {kind.__name__}"
    return event


def created(doc: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(doc["created"], tz=UTC)


def money(amount: int, currency: str) -> Money:
    return Money.of(amount, currency)


def assert_common(event: DomainEvent, doc: dict[str, Any]) -> None:
    assert event.tenant == TENANT
    assert event.source is Source.STRIPE
    assert event.source_event_id == EVENT_ID
    assert event.occurred_at == created(doc)


# --- every sample file ----------------------------------------------------------------------------

CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {}


def check(name: str) -> Callable[[Callable[[dict[str, Any]], None]], Callable[..., None]]:
    def register(fn: Callable[[dict[str, Any]], None]) -> Callable[..., None]:
        CHECKS[name] = fn
        return fn

    return register


@check("payment_intent.succeeded.json")
def _pi_succeeded(doc: dict[str, Any]) -> None:
    intent = doc["data"]["object"]
    charge = intent["charges"]["data"][0]
    event = only(run(doc), PaymentSucceeded)
    assert_common(event, doc)
    assert event.payment_id == intent["id"]
    assert event.charge_id == charge["id"]
    assert event.amount == money(intent["amount"], intent["currency"])
    assert event.amount_captured == money(intent["amount_received"], intent["currency"])
    assert event.balance_transaction_id == charge["balance_transaction"]
    assert event.order_id is None  # metadata is empty
    card = charge["payment_method_details"]["card"]
    assert event.card is not None
    assert (event.card.fingerprint, event.card.last4, event.card.brand) == (
        card["fingerprint"],
        card["last4"],
        card["brand"],
    )
    assert (event.card.country, event.card.funding, event.card.wallet) == ("US", "credit", None)


@check("payment_intent.payment_failed.json")
def _pi_failed(doc: dict[str, Any]) -> None:
    intent = doc["data"]["object"]
    error = intent["last_payment_error"]
    event = only(run(doc), PaymentFailed)
    assert_common(event, doc)
    assert event.payment_id == intent["id"]
    assert event.charge_id == error["charge"]
    assert event.amount == money(intent["amount"], intent["currency"])
    assert (event.failure_code, event.failure_message, event.decline_code) == (
        error["code"],
        error["message"],
        error["decline_code"],
    )
    assert event.card is not None and event.card.last4 == "0002"


@check("charge.succeeded.json")
def _charge_succeeded(doc: dict[str, Any]) -> None:
    charge = doc["data"]["object"]
    event = only(run(doc), PaymentSucceeded)
    assert_common(event, doc)
    assert event.payment_id == charge["payment_intent"]
    assert event.charge_id == charge["id"]
    assert event.amount == money(charge["amount"], charge["currency"])
    assert event.amount_captured == money(charge["amount_captured"], charge["currency"])
    assert event.balance_transaction_id == charge["balance_transaction"]
    assert event.card is not None
    assert event.card.fingerprint == charge["payment_method_details"]["card"]["fingerprint"]


@check("charge.refunded.json")
def _charge_refunded(doc: dict[str, Any]) -> None:
    charge = doc["data"]["object"]
    event = only(run(doc), ChargeRefunded)
    assert_common(event, doc)
    assert event.charge_id == charge["id"]
    assert event.payment_id is None  # the sample's charge has no payment intent
    assert event.amount_refunded == money(charge["amount_refunded"], charge["currency"])
    refunds = charge["refunds"]["data"]
    assert [r.refund_id for r in event.refunds] == [r["id"] for r in refunds]
    assert [r.amount for r in event.refunds] == [money(r["amount"], r["currency"]) for r in refunds]
    assert event.refunds[0].status == refunds[0]["status"]
    assert event.refunds[0].created_at == datetime.fromtimestamp(refunds[0]["created"], tz=UTC)


@check("charge.dispute.created.json")
def _dispute_created(doc: dict[str, Any]) -> None:
    dispute = doc["data"]["object"]
    event = only(run(doc), DisputeOpened)
    assert_common(event, doc)
    assert (event.dispute_id, event.charge_id) == (dispute["id"], dispute["charge"])
    assert event.amount == money(dispute["amount"], dispute["currency"])
    assert (event.status, event.reason) == (dispute["status"], dispute["reason"])
    assert event.evidence_due_by == datetime.fromtimestamp(
        dispute["evidence_details"]["due_by"], tz=UTC
    )
    assert event.payment_id is None and event.order_id is None


@check("charge.dispute.closed.json")
def _dispute_closed_legacy(doc: dict[str, Any]) -> None:
    dispute = doc["data"]["object"]
    assert "id" not in dispute  # the pre-2014 shape this test is about
    event = only(run(doc), DisputeClosed)
    assert_common(event, doc)
    # One dispute per charge back then: the charge identifies it.
    assert event.dispute_id == dispute["charge"] == event.charge_id
    assert event.status == "won"
    assert event.amount == money(dispute["amount"], dispute["currency"])
    assert event.evidence_due_by == datetime.fromtimestamp(dispute["evidence_due_by"], tz=UTC)


@check("charge.dispute.funds_withdrawn.json")
def _dispute_withdrawn(doc: dict[str, Any]) -> None:
    dispute = doc["data"]["object"]
    event = only(run(doc), DisputeFundsWithdrawn)
    assert_common(event, doc)
    assert (event.dispute_id, event.charge_id) == (dispute["id"], dispute["charge"])
    assert event.amount == money(dispute["amount"], dispute["currency"])
    assert event.status == dispute["status"]


def _checkout_completed(doc: dict[str, Any]) -> None:
    session = doc["data"]["object"]
    event = only(run(doc), PaymentSucceeded)
    assert_common(event, doc)
    assert event.payment_id == session["payment_intent"]
    assert event.amount == money(session["amount_total"], session["currency"])
    assert event.customer is not None
    assert event.customer.email == session["customer_details"]["email"]
    assert event.customer.customer_id == session["customer"]
    assert event.order_id is None  # neither metadata.order_id nor client_reference_id


check("checkout.session.completed.json")(_checkout_completed)
check("checkout.session.completed.payment_mode.json")(_checkout_completed)


@check("payout.paid.json")
def _payout_paid(doc: dict[str, Any]) -> None:
    payout = doc["data"]["object"]
    event = only(run(doc), PayoutPaid)
    assert_common(event, doc)
    assert event.payout_id == payout["id"]
    assert event.amount == money(payout["amount"], payout["currency"])
    assert event.arrival_date == datetime.fromtimestamp(payout["arrival_date"], tz=UTC)
    assert (event.status, event.balance_transaction_id) == ("paid", payout["balance_transaction"])
    assert event.reconciliation_completed is False


@check("legacy/payout.failed.json")
def _legacy_payout_failed(doc: dict[str, Any]) -> None:
    assert doc["data"]["object"]["object"] == "transfer"
    with pytest.raises(Malformed, match=r"'transfer' object \(tr_00000000000000\), not a payout"):
        run(doc)


def _bare_balance_transaction(doc: dict[str, Any]) -> None:
    with pytest.raises(Malformed, match="'balance_transaction' object, not an event"):
        run(doc)
    txn = balance_transaction_from_stripe(doc)
    assert isinstance(txn, BalanceTransaction)
    assert txn.id == doc["id"]
    assert txn.amount == money(doc["amount"], doc["currency"])
    assert txn.fee == money(doc["fee"], doc["currency"])
    assert txn.net == money(doc["net"], doc["currency"])
    assert txn.amount - txn.fee == txn.net
    assert (txn.type, txn.reporting_category) == (doc["type"], doc["reporting_category"])
    assert txn.source_id == doc["source"]
    assert txn.created == datetime.fromtimestamp(doc["created"], tz=UTC)
    assert txn.available_on == datetime.fromtimestamp(doc["available_on"], tz=UTC)
    assert txn.payout_id is None


check("balance_transaction_txn_fake_ch_fakefakefakefakefake0001.json")(_bare_balance_transaction)
check("dispute_txn_fakefakefakefake01.json")(_bare_balance_transaction)


def test_every_sample_has_expectations() -> None:
    assert sorted(CHECKS) == SAMPLE_NAMES


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_sample(name: str) -> None:
    if name not in CHECKS:
        pytest.fail(f"sample {name} has no expectations in this test")
    CHECKS[name](load(name))


def test_dispute_balance_transaction_files_under_dispute() -> None:
    txn = balance_transaction_from_stripe(load("dispute_txn_fakefakefakefake01.json"))
    assert txn.reporting_category == "dispute"
    assert txn.amount == Money.of(-1000, "USD") and txn.net == Money.of(-2500, "USD")


# --- hand-written payloads ------------------------------------------------------------------------


def envelope(
    event_type: str, obj: dict[str, Any], created_at: int = 1_700_000_000
) -> dict[str, Any]:
    return {
        "id": EVENT_ID,
        "object": "event",
        "api_version": "2024-06-20",
        "created": created_at,
        "type": event_type,
        "data": {"object": obj},
    }


def modern_charge(**overrides: Any) -> dict[str, Any]:
    charge: dict[str, Any] = {
        "id": "ch_1",
        "object": "charge",
        "amount": 1500,
        "amount_captured": 1500,
        "amount_refunded": 0,
        "captured": True,
        "currency": "jpy",
        "payment_intent": "pi_1",
        "balance_transaction": "txn_1",
        "metadata": {"order_id": "ord-42"},
        "billing_details": {
            "email": "kenji@example.jp",
            "name": "Kenji Sato",
            "phone": "+81 3 0000 0000",
            "address": {"country": "JP"},
        },
        "receipt_email": "receipts@example.jp",
        "payment_method_details": {
            "type": "card",
            "card": {
                "brand": "jcb",
                "country": "JP",
                "fingerprint": "fp_1",
                "funding": "credit",
                "last4": "0005",
                "iin": "356999",
                "wallet": {"type": "apple_pay"},
                "exp_month": 1,
                "exp_year": 2030,
            },
        },
        "outcome": {"reason": None, "type": "authorized"},
        "status": "succeeded",
    }
    charge.update(overrides)
    return charge


def modern_intent(**overrides: Any) -> dict[str, Any]:
    intent: dict[str, Any] = {
        "id": "pi_1",
        "object": "payment_intent",
        "amount": 1500,
        "amount_capturable": 0,
        "amount_received": 1500,
        "currency": "jpy",
        "customer": "cus_1",
        "latest_charge": modern_charge(),
        "metadata": {"order_id": "ord-42"},
        "status": "succeeded",
    }
    intent.update(overrides)
    return intent


def test_zero_decimal_jpy_intent_with_expanded_latest_charge() -> None:
    event = only(run(envelope("payment_intent.succeeded", modern_intent())), PaymentSucceeded)
    assert event.amount == Money.of(1500, "JPY")
    assert event.amount.format() == "JPY 1500"
    assert (event.order_id, event.payment_id, event.charge_id) == ("ord-42", "pi_1", "ch_1")
    assert event.occurred_at == datetime.fromtimestamp(1_700_000_000, tz=UTC)
    assert event.customer is not None
    assert (event.customer.customer_id, event.customer.email, event.customer.name) == (
        "cus_1",
        "kenji@example.jp",
        "Kenji Sato",
    )
    assert event.card is not None
    assert (event.card.bin, event.card.wallet, event.card.brand) == ("356999", "apple_pay", "jcb")


def test_three_decimal_kwd_amounts_stay_minor_units() -> None:
    intent = modern_intent(
        currency="kwd",
        amount=1250,
        amount_received=1250,
        latest_charge=modern_charge(currency="kwd", amount=1250, amount_captured=1250),
    )
    event = only(run(envelope("payment_intent.succeeded", intent)), PaymentSucceeded)
    assert event.amount == Money.of(1250, "KWD")
    assert event.amount.format() == "KWD 1.250"


def test_latest_charge_as_plain_id_and_missing_metadata() -> None:
    intent = modern_intent(latest_charge="ch_9")
    del intent["metadata"]
    event = only(run(envelope("payment_intent.succeeded", intent)), PaymentSucceeded)
    assert (event.charge_id, event.order_id, event.card, event.balance_transaction_id) == (
        "ch_9",
        None,
        None,
        None,
    )


def test_amount_capturable_updated_is_an_authorization_of_the_capturable_amount() -> None:
    intent = modern_intent(amount=2000, amount_capturable=1800, amount_received=0, currency="usd")
    intent["latest_charge"] = modern_charge(currency="usd", captured=False, amount_captured=0)
    event = only(
        run(envelope("payment_intent.amount_capturable_updated", intent)), PaymentAuthorized
    )
    assert event.amount == Money.of(1800, "USD")


def test_canceled_intent_is_a_failed_payment_with_the_cancellation_reason() -> None:
    intent = modern_intent(status="canceled", cancellation_reason="abandoned", latest_charge=None)
    event = only(run(envelope("payment_intent.canceled", intent)), PaymentFailed)
    assert (event.failure_code, event.failure_message) == ("canceled", "abandoned")
    assert event.order_id == "ord-42"


def test_uncaptured_charge_succeeded_is_an_authorization_then_captured_succeeds() -> None:
    uncaptured = modern_charge(captured=False, amount_captured=0)
    authorized = only(run(envelope("charge.succeeded", uncaptured)), PaymentAuthorized)
    assert authorized.amount == Money.of(1500, "JPY")
    captured = only(run(envelope("charge.captured", modern_charge())), PaymentSucceeded)
    assert captured.amount_captured == Money.of(1500, "JPY")


def test_charge_without_payment_intent_is_keyed_by_the_charge() -> None:
    event = only(
        run(envelope("charge.succeeded", modern_charge(payment_intent=None))), PaymentSucceeded
    )
    assert event.payment_id == "ch_1"


def test_charge_failed_carries_codes() -> None:
    charge = modern_charge(
        status="failed",
        captured=False,
        failure_code="card_declined",
        failure_message="Your card was declined.",
        outcome={"reason": "insufficient_funds", "type": "issuer_declined"},
    )
    event = only(run(envelope("charge.failed", charge)), PaymentFailed)
    assert (event.failure_code, event.decline_code) == ("card_declined", "insufficient_funds")


def test_legacy_source_card_brand_wallet_and_no_card_number() -> None:
    charge = modern_charge(currency="usd", amount=999)
    del charge["payment_method_details"], charge["amount_captured"]
    charge["source"] = {
        "id": "card_1",
        "object": "card",
        "brand": "American Express",
        "country": "US",
        "fingerprint": "fp_amex",
        "funding": "credit",
        "last4": "0005",
        "tokenization_method": "apple_pay",
        "name": "Legacy Holder",
        "number": "378282246310005",  # never sent by Stripe; proves nothing is copied wholesale
    }
    charge["billing_details"] = None
    event = only(run(envelope("charge.succeeded", charge)), PaymentSucceeded)
    assert event.card is not None
    assert (event.card.brand, event.card.wallet, event.card.last4) == ("amex", "apple_pay", "0005")
    assert event.amount_captured == Money.of(999, "USD")  # pre-2019: captured means in full
    assert event.customer is not None and event.customer.name == "Legacy Holder"
    assert event.customer.email == "receipts@example.jp"
    assert "378282246310005" not in event.model_dump_json()


def test_oldest_charge_card_field_and_unusable_iin_or_last4_are_dropped() -> None:
    charge = modern_charge(currency="usd")
    del charge["payment_method_details"]
    charge["card"] = {"brand": "Visa", "last4": "42", "iin": "4242", "fingerprint": "fp_old"}
    event = only(run(envelope("charge.succeeded", charge)), PaymentSucceeded)
    assert event.card is not None
    assert (event.card.brand, event.card.last4, event.card.bin) == ("visa", None, None)


def test_modern_refund_without_refund_list() -> None:
    charge = modern_charge(amount_refunded=500)  # no "refunds" key, as since API 2022-11-15
    event = only(run(envelope("charge.refunded", charge)), ChargeRefunded)
    assert event.amount_refunded == Money.of(500, "JPY")
    assert (event.refunds, event.payment_id, event.order_id) == ((), "pi_1", "ord-42")


@pytest.mark.parametrize(
    "event_type", ["refund.updated", "refund.failed", "charge.refund.updated", "refund.created"]
)
def test_one_refund_news_needs_no_expanded_charge(event_type: str) -> None:
    """A refund that failed after it succeeded is news on its own: it reaches the order by its
    charge and payment intent, with Stripe's failure reason (was Ignored without the expanded
    charge, so the failure never reached the order)."""
    refund = {
        "id": "re_1",
        "object": "refund",
        "amount": 500,
        "currency": "jpy",
        "charge": "ch_1",
        "payment_intent": "pi_1",
        "status": "failed",
        "failure_reason": "expired_or_canceled_card",
        "metadata": {"order_id": "ord-42"},
        "created": 1_700_000_100,
    }
    event = only(run(envelope(event_type, refund)), RefundUpdated)
    assert (event.charge_id, event.payment_id, event.order_id) == ("ch_1", "pi_1", "ord-42")
    assert event.refund.refund_id == "re_1" and event.refund.status == "failed"
    assert event.refund.amount == Money.of(500, "JPY")
    assert event.refund.failure_reason == "expired_or_canceled_card"
    refund["charge"] = modern_charge(amount_refunded=0)
    del refund["payment_intent"]
    expanded = only(run(envelope(event_type, refund)), RefundUpdated)
    assert (expanded.charge_id, expanded.payment_id) == ("ch_1", "pi_1")


def test_a_refund_naming_no_charge_nor_intent_is_malformed() -> None:
    refund = {"id": "re_1", "object": "refund", "amount": 1, "currency": "usd", "status": "failed"}
    with pytest.raises(Malformed, match="neither its charge nor its payment intent"):
        run(envelope("refund.failed", refund))


def session(**overrides: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": "cs_1",
        "object": "checkout.session",
        "mode": "payment",
        "amount_total": 4999,
        "currency": "eur",
        "client_reference_id": "ord-ref",
        "metadata": {},
        "payment_intent": "pi_7",
        "payment_status": "paid",
        "customer_details": {"email": "ana@example.pt", "name": "Ana", "phone": None},
    }
    obj.update(overrides)
    return obj


def test_checkout_paid_takes_client_reference_when_metadata_lacks_order_id() -> None:
    event = only(run(envelope("checkout.session.completed", session())), PaymentSucceeded)
    assert (event.order_id, event.payment_id, event.amount) == (
        "ord-ref",
        "pi_7",
        Money.of(4999, "EUR"),
    )
    assert event.customer is not None and event.customer.name == "Ana"


def test_checkout_metadata_order_id_wins_and_unpaid_is_an_authorization() -> None:
    obj = session(metadata={"order_id": "ord-meta"}, payment_status="unpaid")
    event = only(run(envelope("checkout.session.completed", obj)), PaymentAuthorized)
    assert event.order_id == "ord-meta"


def test_checkout_subscription_is_ignored_and_expiry_is_reported() -> None:
    with pytest.raises(Ignored, match="'subscription' session"):
        run(envelope("checkout.session.completed", session(mode="subscription")))
    expired = only(
        run(envelope("checkout.session.expired", session(payment_status="unpaid"))),
        CheckoutExpired,
    )
    assert (expired.session_id, expired.order_id, expired.payment_id) == ("cs_1", "ord-ref", "pi_7")


def test_checkout_async_payment_outcomes() -> None:
    ok = run(envelope("checkout.session.async_payment_succeeded", session(payment_status="paid")))
    assert only(ok, PaymentSucceeded).amount_captured == Money.of(4999, "EUR")
    failed = run(
        envelope("checkout.session.async_payment_failed", session(payment_status="unpaid"))
    )
    assert only(failed, PaymentFailed).failure_code == "async_payment_failed"


def test_dispute_updates_with_expanded_charge() -> None:
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "amount": 1500,
        "currency": "jpy",
        "charge": modern_charge(),
        "reason": "product_not_received",
        "status": "under_review",
        "evidence_details": {"due_by": 1_700_500_000},
        "metadata": {},
    }
    updated = only(run(envelope("charge.dispute.updated", dispute)), DisputeUpdated)
    assert (updated.charge_id, updated.payment_id, updated.order_id) == ("ch_1", "pi_1", "ord-42")
    reinstated = run(envelope("charge.dispute.funds_reinstated", dispute))
    assert only(reinstated, DisputeFundsReinstated).dispute_id == "dp_1"


def payout(**overrides: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": "po_1",
        "object": "payout",
        "amount": 123456,
        "currency": "usd",
        "arrival_date": 1_700_100_000,
        "status": "paid",
        "balance_transaction": "txn_po",
        "statement_descriptor": "ACME PAYOUT",
    }
    obj.update(overrides)
    return obj


def test_modern_payout_failed_and_reconciliation_completed() -> None:
    failed = only(
        run(
            envelope(
                "payout.failed",
                payout(status="failed", failure_code="account_closed", failure_message="closed"),
            )
        ),
        PayoutFailed,
    )
    assert (failed.failure_code, failed.failure_message, failed.payout_id) == (
        "account_closed",
        "closed",
        "po_1",
    )
    done = only(run(envelope("payout.reconciliation_completed", payout())), PayoutPaid)
    assert done.reconciliation_completed is True
    assert done.statement_descriptor == "ACME PAYOUT"


def test_unknown_event_types_are_ignored() -> None:
    with pytest.raises(Ignored, match=r"'customer\.created' is stored but not acted on"):
        run(envelope("customer.created", {"id": "cus_1", "object": "customer"}))


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"object": "event", "created": 1, "data": {"object": {}}}, "event type is missing"),
        ({"object": "event", "type": "charge.succeeded", "created": 1}, "data is missing"),
        (
            {"object": "event", "type": "charge.succeeded", "created": 1, "data": {}},
            "data.object is missing",
        ),
        (
            {"object": "event", "type": "charge.succeeded", "data": {"object": {"id": "ch"}}},
            "created is missing",
        ),
        (envelope("charge.succeeded", modern_charge(currency=None)), "currency is missing"),
        (envelope("charge.succeeded", modern_charge(currency="dollars")), "not an ISO 4217"),
        (envelope("charge.succeeded", modern_charge(amount="15.00")), "amount is missing or not"),
        (envelope("charge.succeeded", modern_charge(amount=True)), "amount is missing or not"),
        (envelope("payment_intent.succeeded", modern_intent(id=None)), "data.object.id"),
        (envelope("charge.dispute.created", {"amount": 1, "currency": "usd"}), "charge is missing"),
        (envelope("payout.paid", payout(status=None)), "status is missing"),
        (envelope("charge.refunded", modern_charge(amount_refunded=None)), "amount_refunded"),
        (envelope("charge.succeeded", modern_charge(), created_at=10**20), "created is missing"),
    ],
)
def test_malformed_payloads_say_what_is_missing(payload: dict[str, Any], reason: str) -> None:
    with pytest.raises(Malformed, match=reason):
        run(payload)


def test_non_object_payload_is_malformed() -> None:
    with pytest.raises(Malformed, match="not a JSON object"):
        normalise(Source.STRIPE, TENANT, [], event_id=EVENT_ID, received_at=RECEIVED)  # type: ignore[arg-type]


def test_balance_transaction_helper_payout_linkage_and_refusals() -> None:
    txn = {
        "id": "txn_2",
        "object": "balance_transaction",
        "amount": 5000,
        "fee": 175,
        "net": 4825,
        "currency": "eur",
        "type": "charge",
        "reporting_category": "charge",
        "source": {"id": "ch_2", "object": "charge"},
        "created": 1_700_000_000,
        "available_on": 1_700_200_000,
        "status": "available",
    }
    linked = balance_transaction_from_stripe(txn, payout_id="po_9")
    assert (linked.payout_id, linked.source_id, linked.net) == (
        "po_9",
        "ch_2",
        Money.of(4825, "EUR"),
    )
    sweep = dict(txn, type="payout", reporting_category="payout", source="po_7", amount=-4825)
    assert balance_transaction_from_stripe(sweep).payout_id == "po_7"
    with pytest.raises(Malformed, match="balance transaction expected, got 'charge'"):
        balance_transaction_from_stripe(modern_charge())
    with pytest.raises(Malformed, match="fee is missing"):
        balance_transaction_from_stripe({k: v for k, v in txn.items() if k != "fee"})


# --- hostile input --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_hostile_mutations_of_samples_fail_cleanly(name: str) -> None:
    assert_only_documented_failures(name, load(name), run)
