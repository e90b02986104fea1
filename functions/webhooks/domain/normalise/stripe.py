"""Stripe events (``"object": "event"``) → domain events.

Plain dict parsing: no ``stripe`` import, so this runs on any API version Stripe renders for
the account. Fields that moved between versions are read from both places (``charges.data`` on
old payment intents, ``latest_charge`` on new ones; ``payment_method_details.card`` on charges
since 2019, ``source``/``card`` before).

Decisions worth knowing:

* ``occurred_at`` is the event's ``created``, never the object's: the event is what Stripe says
  happened at that moment, and the object may be older (a refund of a months-old charge).
* ``payment_intent.canceled`` → ``PaymentFailed`` with ``failure_code="canceled"`` and Stripe's
  ``cancellation_reason`` as the message. To the order, a voided authorization and a decline
  mean the same thing: this payment will not pay for it.
* ``charge.succeeded`` on a charge with ``captured: false`` is an authorization (separate
  capture), so it becomes ``PaymentAuthorized``; ``charge.captured`` then yields
  ``PaymentSucceeded``.
* ``checkout.session.completed`` → ``PaymentSucceeded`` when ``payment_status`` is ``paid`` or
  ``no_payment_required``; ``PaymentAuthorized`` when ``unpaid`` (manual capture or a delayed
  payment method: the session links the order to its payment intent now, and the intent's own
  events settle the outcome); ``Ignored`` for setup and subscription sessions.
* ``refund.created``, ``refund.updated``, ``refund.failed`` and ``charge.refund.updated`` carry
  one refund → ``RefundUpdated`` (its status, amount, ``failure_reason``, refund or reversal
  and the card network's reference (ARN) from ``destination_details.card``), found by its
  charge or payment intent. The aggregate adds refunds up by id, so the charge's cumulative
  ``amount_refunded`` is not needed (nor is the charge expanded); a refund that failed after it
  succeeded therefore takes its amount off what the order has refunded.
* Disputes from before 2014 have no ``dp_`` id: Stripe then allowed one dispute per charge and
  identified it by the charge, so the charge id is used as the dispute id.
* ``payout.*`` events must carry a ``payout`` object. The pre-2017 shape where a ``transfer``
  (``tr_…``) stood for a bank payout is refused with ``Malformed``: reconciliation matches
  payouts by ``po_`` id, failure code and failure balance transaction, none of which a transfer
  has, and guessing would file a break against a payout that does not exist. Such a payload goes
  to the dead-letter queue for a person to look at.
* Card data is limited to what a token-free record may hold: fingerprint, BIN (Stripe's ``iin``
  when present), last four, brand, issuing country, funding and wallet. Nothing else of the card
  is read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from functions.webhooks.domain.normalise import (
    Context,
    as_list,
    as_obj,
    integer,
    minor_money,
    need_currency,
    need_obj,
    need_text,
    need_unix_time,
    ref_id,
    text,
    unix_time,
)
from shared.events import (
    Card,
    ChargeRefunded,
    CheckoutExpired,
    Customer,
    DisputeClosed,
    DisputeFundsReinstated,
    DisputeFundsWithdrawn,
    DisputeOpened,
    DisputeUpdated,
    DomainEvent,
    EarlyFraudWarningRaised,
    Ignored,
    Malformed,
    PaymentAuthorized,
    PaymentFailed,
    PaymentSucceeded,
    PayoutFailed,
    PayoutPaid,
    Refund,
    RefundUpdated,
)
from shared.money import Money
from shared.settlements import BalanceTransaction, FeeDetail

__all__ = ["BalanceTransaction", "balance_transaction_from_stripe", "normalise_stripe"]

_Handler = Callable[[dict[str, Any], str, datetime, Context], list[DomainEvent]]


def normalise_stripe(payload: dict[str, Any], ctx: Context) -> list[DomainEvent]:
    kind = text(payload.get("object"))
    if kind is not None and kind != "event":
        raise Malformed(f"stripe payload is a {kind!r} object, not an event")
    event_type = need_text(payload.get("type"), "stripe event type")
    data = need_obj(payload.get("data"), f"stripe {event_type}: data")
    obj = need_obj(data.get("object"), f"stripe {event_type}: data.object")
    occurred_at = need_unix_time(payload.get("created"), f"stripe {event_type}: created")
    handler = _HANDLERS.get(event_type)
    if handler is None:
        raise Ignored(f"stripe event type {event_type!r} is stored but not acted on")
    return handler(obj, event_type, occurred_at, ctx)


# --- payment intents ----------------------------------------------------------------------------


def _intent_charge(intent: dict[str, Any], prefer: str | None = None) -> dict[str, Any] | None:
    """The charge an intent event is about, from ``latest_charge`` or the old ``charges.data``.

    ``prefer`` picks a charge by id (the one a payment error names); otherwise the succeeded
    charge wins, then the newest (Stripe lists newest first).
    """
    latest = as_obj(intent.get("latest_charge"))
    listed = as_list((as_obj(intent.get("charges")) or {}).get("data"))
    candidates = [c for c in [latest, *listed] if isinstance(c, dict)]
    if prefer is not None:
        for charge in candidates:
            if text(charge.get("id")) == prefer:
                return charge
    for charge in candidates:
        if charge.get("status") == "succeeded":
            return charge
    return candidates[0] if candidates else None


def _intent_charge_id(intent: dict[str, Any], charge: dict[str, Any] | None) -> str | None:
    if charge is not None:
        return text(charge.get("id"))
    return ref_id(intent.get("latest_charge"))


def _payment_intent(
    intent: dict[str, Any], event_type: str, occurred_at: datetime, ctx: Context
) -> list[DomainEvent]:
    where = f"stripe {event_type}: data.object"
    payment_id = need_text(intent.get("id"), f"{where}.id")
    currency = need_currency(intent.get("currency"), f"{where}.currency")
    amount = minor_money(intent.get("amount"), currency, f"{where}.amount")
    error = as_obj(intent.get("last_payment_error")) or {}
    charge = _intent_charge(intent, prefer=text(error.get("charge")))
    error_method = as_obj(error.get("payment_method"))
    common: dict[str, Any] = {
        **ctx.common(occurred_at),
        "order_id": _order_id(intent, charge),
        "payment_id": payment_id,
        "charge_id": _intent_charge_id(intent, charge) or text(error.get("charge")),
        "amount": amount,
        "customer": _customer(charge, intent, as_obj(intent.get("payment_method")), error_method),
        "card": _card(charge, as_obj(intent.get("payment_method")), error_method),
    }
    if event_type == "payment_intent.succeeded":
        received = integer(intent.get("amount_received"))
        return [
            PaymentSucceeded(
                **common,
                amount_captured=None if received is None else Money.of(received, currency),
                balance_transaction_id=ref_id(charge.get("balance_transaction"))
                if charge
                else None,
            )
        ]
    if event_type == "payment_intent.amount_capturable_updated":
        capturable = integer(intent.get("amount_capturable"))
        if capturable:
            common["amount"] = Money.of(capturable, currency)
        return [PaymentAuthorized(**common)]
    if event_type == "payment_intent.canceled":
        return [
            PaymentFailed(
                **common,
                failure_code="canceled",
                failure_message=text(intent.get("cancellation_reason")),
            )
        ]
    # payment_intent.payment_failed
    failed = charge or {}
    return [
        PaymentFailed(
            **common,
            failure_code=text(error.get("code")) or text(failed.get("failure_code")),
            failure_message=text(error.get("message")) or text(failed.get("failure_message")),
            decline_code=text(error.get("decline_code")) or _decline_code(charge),
        )
    ]


# --- charges ------------------------------------------------------------------------------------


def _charge(
    charge: dict[str, Any], event_type: str, occurred_at: datetime, ctx: Context
) -> list[DomainEvent]:
    where = f"stripe {event_type}: data.object"
    charge_id = need_text(charge.get("id"), f"{where}.id")
    currency = need_currency(charge.get("currency"), f"{where}.currency")
    amount = minor_money(charge.get("amount"), currency, f"{where}.amount")
    common: dict[str, Any] = {
        **ctx.common(occurred_at),
        "order_id": _order_id(charge),
        "payment_id": ref_id(charge.get("payment_intent")) or charge_id,
        "charge_id": charge_id,
        "amount": amount,
        "customer": _customer(charge),
        "card": _card(charge),
    }
    if event_type == "charge.failed":
        return [
            PaymentFailed(
                **common,
                failure_code=text(charge.get("failure_code")),
                failure_message=text(charge.get("failure_message")),
                decline_code=_decline_code(charge),
            )
        ]
    if event_type == "charge.succeeded" and charge.get("captured") is False:
        return [PaymentAuthorized(**common)]
    return [
        PaymentSucceeded(
            **common,
            amount_captured=_amount_captured(charge, currency),
            balance_transaction_id=ref_id(charge.get("balance_transaction")),
        )
    ]


def _amount_captured(charge: dict[str, Any], currency: str) -> Money | None:
    captured = integer(charge.get("amount_captured"))
    if captured is not None:
        return Money.of(captured, currency)
    # Before 2019 charges had no amount_captured; a captured charge was captured in full
    # unless partially refunded at capture, which Stripe then reported as a refund.
    amount = integer(charge.get("amount"))
    if charge.get("captured") is True and amount is not None:
        return Money.of(amount, currency)
    return None


def _decline_code(charge: dict[str, Any] | None) -> str | None:
    if charge is None:
        return None
    outcome = as_obj(charge.get("outcome")) or {}
    return text(outcome.get("reason"))


def _charge_refunded(
    charge: dict[str, Any], event_type: str, occurred_at: datetime, ctx: Context
) -> list[DomainEvent]:
    where = f"stripe {event_type}: data.object"
    charge_id = need_text(charge.get("id"), f"{where}.id")
    currency = need_currency(charge.get("currency"), f"{where}.currency")
    refunded = minor_money(charge.get("amount_refunded"), currency, f"{where}.amount_refunded")
    # Since API 2022-11-15 the refunds list is no longer included; then only the cumulative
    # amount is known, which is what the aggregate needs anyway.
    refunds_list = as_obj(charge.get("refunds")) or {}
    refunds = tuple(
        _refund(item, currency, f"{where}.refunds.data[{index}]")
        for index, item in enumerate(as_list(refunds_list.get("data")))
    )
    return [
        ChargeRefunded(
            **ctx.common(occurred_at),
            order_id=_order_id(charge),
            payment_id=ref_id(charge.get("payment_intent")),
            charge_id=charge_id,
            amount_refunded=refunded,
            refunds=refunds,
        )
    ]


def _refund_updated(
    refund: dict[str, Any], event_type: str, occurred_at: datetime, ctx: Context
) -> list[DomainEvent]:
    where = f"stripe {event_type}: data.object"
    charge = as_obj(refund.get("charge"))
    charge_id = ref_id(refund.get("charge"))
    payment_id = ref_id(refund.get("payment_intent")) or (
        ref_id(charge.get("payment_intent")) if charge else None
    )
    if charge_id is None and payment_id is None:
        raise Malformed(f"{where}: a refund names neither its charge nor its payment intent")
    currency = need_currency(
        refund.get("currency") or (charge or {}).get("currency"), f"{where}.currency"
    )
    return [
        RefundUpdated(
            **ctx.common(occurred_at),
            order_id=_order_id(refund, charge),
            payment_id=payment_id,
            charge_id=charge_id,
            refund=_refund(refund, currency, where),
        )
    ]


def _refund(item: Any, currency: str, where: str) -> Refund:
    refund = need_obj(item, where)
    refund_currency = text(refund.get("currency")) or currency
    return Refund(
        refund_id=need_text(refund.get("id"), f"{where}.id"),
        amount=minor_money(refund.get("amount"), refund_currency, f"{where}.amount"),
        status=text(refund.get("status")) or "unknown",
        reason=text(refund.get("reason")),
        created_at=unix_time(refund.get("created")),
        failure_reason=text(refund.get("failure_reason")),
        **_refund_destination(refund),
    )


def _refund_destination(refund: dict[str, Any]) -> dict[str, str | None]:
    """Refund or reversal, and the card network's reference (ARN) once Stripe has it
    (``destination_details.card``: ``reference`` counts only when its status is ``available``)."""
    details = as_obj(refund.get("destination_details")) or {}
    card = as_obj(details.get("card")) or {}
    available = text(card.get("reference_status")) in (None, "available")
    return {
        "destination_type": text(card.get("type")),
        "network_reference": text(card.get("reference")) if available else None,
    }


# --- checkout sessions --------------------------------------------------------------------------


def _checkout_session(
    session: dict[str, Any], event_type: str, occurred_at: datetime, ctx: Context
) -> list[DomainEvent]:
    where = f"stripe {event_type}: data.object"
    session_id = need_text(session.get("id"), f"{where}.id")
    order_id = _order_id(session) or text(session.get("client_reference_id"))
    payment_id = ref_id(session.get("payment_intent"))
    if event_type == "checkout.session.expired":
        return [
            CheckoutExpired(
                **ctx.common(occurred_at),
                session_id=session_id,
                order_id=order_id,
                payment_id=payment_id,
            )
        ]
    mode = text(session.get("mode")) or "payment"
    if mode != "payment":
        raise Ignored(f"stripe {event_type}: a {mode!r} session takes no payment for an order")
    currency = need_currency(session.get("currency"), f"{where}.currency")
    amount = minor_money(session.get("amount_total"), currency, f"{where}.amount_total")
    details = as_obj(session.get("customer_details")) or {}
    common: dict[str, Any] = {
        **ctx.common(occurred_at),
        "order_id": order_id,
        # A session without an intent (nothing to pay) is its own payment.
        "payment_id": payment_id or session_id,
        "amount": amount,
        "customer": _make_customer(
            customer_id=ref_id(session.get("customer")),
            email=text(details.get("email")) or text(session.get("customer_email")),
            name=text(details.get("name")),
            phone=text(details.get("phone")),
        ),
    }
    status = text(session.get("payment_status"))
    if event_type == "checkout.session.async_payment_failed":
        return [PaymentFailed(**common, failure_code="async_payment_failed")]
    if event_type == "checkout.session.async_payment_succeeded" or status in {
        "paid",
        "no_payment_required",
    }:
        return [PaymentSucceeded(**common, amount_captured=amount)]
    if status == "unpaid":
        return [PaymentAuthorized(**common)]
    raise Malformed(f"{where}.payment_status {status!r} is not one Stripe documents")


# --- disputes -----------------------------------------------------------------------------------

_DISPUTE_EVENTS: dict[
    str,
    type[DisputeOpened]
    | type[DisputeUpdated]
    | type[DisputeClosed]
    | type[DisputeFundsWithdrawn]
    | type[DisputeFundsReinstated],
] = {
    "charge.dispute.created": DisputeOpened,
    "charge.dispute.updated": DisputeUpdated,
    "charge.dispute.closed": DisputeClosed,
    "charge.dispute.funds_withdrawn": DisputeFundsWithdrawn,
    "charge.dispute.funds_reinstated": DisputeFundsReinstated,
}


def _dispute(
    dispute: dict[str, Any], event_type: str, occurred_at: datetime, ctx: Context
) -> list[DomainEvent]:
    where = f"stripe {event_type}: data.object"
    charge = as_obj(dispute.get("charge"))
    charge_id = need_text(ref_id(dispute.get("charge")), f"{where}.charge")
    currency = need_currency(dispute.get("currency"), f"{where}.currency")
    details = as_obj(dispute.get("evidence_details")) or {}
    card = as_obj((as_obj(dispute.get("payment_method_details")) or {}).get("card")) or {}
    event_class = _DISPUTE_EVENTS[event_type]
    return [
        event_class(
            **ctx.common(occurred_at),
            dispute_id=text(dispute.get("id")) or charge_id,
            charge_id=charge_id,
            payment_id=ref_id(dispute.get("payment_intent"))
            or (ref_id(charge.get("payment_intent")) if charge else None),
            order_id=_order_id(dispute, charge),
            amount=minor_money(dispute.get("amount"), currency, f"{where}.amount"),
            reason=text(dispute.get("reason")),
            status=need_text(dispute.get("status"), f"{where}.status"),
            evidence_due_by=unix_time(details.get("due_by"))
            or unix_time(dispute.get("evidence_due_by")),
            card_brand=text(card.get("brand")),
            network_reason_code=text(card.get("network_reason_code")),
            fee=_dispute_fee(dispute, currency, where),
        )
    ]


def _dispute_fee(dispute: dict[str, Any], currency: str, where: str) -> Money | None:
    """The fees of the dispute's balance transactions (a withdrawal's fee, a reinstatement's
    refunded fee), in the dispute's currency; None when Stripe listed none yet."""
    fees = [
        integer(txn.get("fee")) or 0
        for txn in (as_obj(t) for t in as_list(dispute.get("balance_transactions")))
        if txn is not None and text(txn.get("currency")) in (None, currency.lower())
    ]
    if not fees:
        return None
    return minor_money(sum(fees), currency, f"{where}.balance_transactions[].fee")


# --- early fraud warnings -----------------------------------------------------------------------


def _early_fraud_warning(
    warning: dict[str, Any], event_type: str, occurred_at: datetime, ctx: Context
) -> list[DomainEvent]:
    where = f"stripe {event_type}: data.object"
    actionable = warning.get("actionable")
    if not isinstance(actionable, bool):
        raise Malformed(f"{where}.actionable is missing or not a boolean")
    return [
        EarlyFraudWarningRaised(
            **ctx.common(occurred_at),
            warning_id=need_text(warning.get("id"), f"{where}.id"),
            charge_id=need_text(ref_id(warning.get("charge")), f"{where}.charge"),
            payment_id=ref_id(warning.get("payment_intent")),
            actionable=actionable,
            fraud_type=text(warning.get("fraud_type")),
        )
    ]


# --- payouts ------------------------------------------------------------------------------------


def _payout(
    payout: dict[str, Any], event_type: str, occurred_at: datetime, ctx: Context
) -> list[DomainEvent]:
    where = f"stripe {event_type}: data.object"
    kind = text(payout.get("object"))
    if kind != "payout":
        raise Malformed(
            f"{where} is a {kind!r} object ({text(payout.get('id'))}), not a payout: the "
            "pre-2017 transfer shape has no payout id, failure code or failure balance "
            "transaction, and is not guessed at"
        )
    currency = need_currency(payout.get("currency"), f"{where}.currency")
    common: dict[str, Any] = {
        **ctx.common(occurred_at),
        "payout_id": need_text(payout.get("id"), f"{where}.id"),
        "amount": minor_money(payout.get("amount"), currency, f"{where}.amount"),
        "arrival_date": unix_time(payout.get("arrival_date")),
        "status": need_text(payout.get("status"), f"{where}.status"),
        "statement_descriptor": text(payout.get("statement_descriptor")),
        "balance_transaction_id": ref_id(payout.get("balance_transaction")),
    }
    if event_type == "payout.failed":
        return [
            PayoutFailed(
                **common,
                failure_code=text(payout.get("failure_code")),
                failure_message=text(payout.get("failure_message")),
            )
        ]
    return [
        PayoutPaid(
            **common, reconciliation_completed=event_type == "payout.reconciliation_completed"
        )
    ]


_HANDLERS: dict[str, _Handler] = {
    "payment_intent.succeeded": _payment_intent,
    "payment_intent.payment_failed": _payment_intent,
    "payment_intent.amount_capturable_updated": _payment_intent,
    "payment_intent.canceled": _payment_intent,
    "charge.succeeded": _charge,
    "charge.failed": _charge,
    "charge.captured": _charge,
    "charge.refunded": _charge_refunded,
    "charge.refund.updated": _refund_updated,
    "refund.created": _refund_updated,
    "refund.updated": _refund_updated,
    "refund.failed": _refund_updated,
    "checkout.session.completed": _checkout_session,
    "checkout.session.async_payment_succeeded": _checkout_session,
    "checkout.session.async_payment_failed": _checkout_session,
    "checkout.session.expired": _checkout_session,
    **dict.fromkeys(_DISPUTE_EVENTS, _dispute),
    "payout.paid": _payout,
    "payout.failed": _payout,
    "payout.reconciliation_completed": _payout,
    "radar.early_fraud_warning.created": _early_fraud_warning,
    "radar.early_fraud_warning.updated": _early_fraud_warning,
}


# --- shared pieces ------------------------------------------------------------------------------


def _order_id(*objects: dict[str, Any] | None) -> str | None:
    """``metadata.order_id`` of the first object that has one (the event's object first)."""
    for obj in objects:
        metadata = as_obj(obj.get("metadata")) if obj else None
        if metadata and (found := text(metadata.get("order_id"))):
            return found
    return None


def _make_customer(
    *,
    customer_id: str | None = None,
    email: str | None = None,
    name: str | None = None,
    phone: str | None = None,
) -> Customer | None:
    if customer_id is None and email is None and name is None and phone is None:
        return None
    return Customer(customer_id=customer_id, email=email, name=name, phone=phone)


def _customer(*objects: dict[str, Any] | None) -> Customer | None:
    """Payer details from charges, intents and payment methods, first non-empty value wins.

    Stripe puts no client IP on charges or intents (Radar keeps it to itself), so ``ip`` stays
    empty here; the shop's order carries it.
    """
    present = [obj for obj in objects if obj]
    billing = [as_obj(obj.get("billing_details")) or {} for obj in present]
    legacy = [as_obj(obj.get("source")) or {} for obj in present]

    def first(values: list[Any]) -> str | None:
        return next((found for value in values if (found := text(value))), None)

    return _make_customer(
        customer_id=first([ref_id(obj.get("customer")) for obj in present]),
        email=first([b.get("email") for b in billing] + [o.get("receipt_email") for o in present]),
        name=first([b.get("name") for b in billing] + [s.get("name") for s in legacy]),
        phone=first([b.get("phone") for b in billing]),
    )


# Legacy card objects spell brands for display; payment_method_details uses codes.
_LEGACY_BRANDS = {"american express": "amex", "diners club": "diners"}
_BIN = re.compile(r"^[0-9]{6,8}$")
_LAST4 = re.compile(r"^[0-9]{4}$")


def _card(*objects: dict[str, Any] | None) -> Card | None:
    """The card, from a charge's ``payment_method_details`` or legacy ``source``/``card``,
    or from a payment method object (``card``)."""
    for obj in objects:
        if not obj:
            continue
        details = as_obj(obj.get("payment_method_details")) or {}
        card = as_obj(details.get("card")) or as_obj(details.get("card_present"))
        wallet = None
        if card is not None:
            wallet = text((as_obj(card.get("wallet")) or {}).get("type"))
        else:
            source = as_obj(obj.get("source"))
            if source is not None and source.get("object") == "card":
                card = source
            elif (legacy := as_obj(obj.get("card"))) is not None:
                card = legacy
            if card is not None:
                wallet = text(card.get("tokenization_method")) or text(
                    (as_obj(card.get("wallet")) or {}).get("type")
                )
        if card is None:
            continue
        brand = text(card.get("brand"))
        if brand is not None:
            brand = _LEGACY_BRANDS.get(brand.lower(), brand.lower())
        iin = text(card.get("iin"))
        last4 = text(card.get("last4"))
        return Card(
            fingerprint=text(card.get("fingerprint")),
            bin=iin if iin and _BIN.fullmatch(iin) else None,
            last4=last4 if last4 and _LAST4.fullmatch(last4) else None,
            brand=brand,
            country=text(card.get("country")),
            funding=text(card.get("funding")),
            wallet=wallet,
        )
    return None


# --- balance transactions -----------------------------------------------------------------------


def balance_transaction_from_stripe(
    obj: dict[str, Any], *, payout_id: str | None = None
) -> BalanceTransaction:
    """Parse a bare ``balance_transaction`` object (not an event).

    Balance transactions do not name the payout that swept them; the caller knows it when it
    listed them with ``balance_transactions?payout=po_…`` and passes ``payout_id``. For the
    payout's own transaction (type ``payout``) the source is the payout.
    """
    if not isinstance(obj, dict) or obj.get("object") != "balance_transaction":
        found = obj.get("object") if isinstance(obj, dict) else type(obj).__name__
        raise Malformed(f"stripe balance transaction expected, got {found!r}")
    txn_id = need_text(obj.get("id"), "stripe balance_transaction.id")
    where = f"stripe balance_transaction {txn_id}"
    currency = need_currency(obj.get("currency"), f"{where}: currency")
    txn_type = need_text(obj.get("type"), f"{where}: type")
    source_id = ref_id(obj.get("source"))
    if payout_id is None and (txn_type == "payout" or (source_id or "").startswith("po_")):
        payout_id = source_id
    return BalanceTransaction(
        id=txn_id,
        amount=minor_money(obj.get("amount"), currency, f"{where}: amount"),
        fee=minor_money(obj.get("fee"), currency, f"{where}: fee"),
        net=minor_money(obj.get("net"), currency, f"{where}: net"),
        type=txn_type,
        reporting_category=text(obj.get("reporting_category")),
        status=text(obj.get("status")),
        description=text(obj.get("description")),
        source_id=source_id,
        created=need_unix_time(obj.get("created"), f"{where}: created"),
        available_on=unix_time(obj.get("available_on")),
        payout_id=payout_id,
        fee_details=tuple(
            FeeDetail(
                type=need_text(
                    need_obj(d, f"{where}: fee_details[{i}]").get("type"),
                    f"{where}: fee_details[{i}].type",
                ),
                amount=minor_money(
                    d.get("amount"),
                    need_currency(
                        d.get("currency") or currency, f"{where}: fee_details[{i}].currency"
                    ),
                    f"{where}: fee_details[{i}].amount",
                ),
                description=text(d.get("description")),
            )
            for i, d in enumerate(as_list(obj.get("fee_details")))
        ),
        exchange_rate=_decimal_text(obj.get("exchange_rate")),
    )


def _decimal_text(value: Any) -> str | None:
    """A rate as exact decimal text (JSON gives a float; its shortest repr is what was sent)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return repr(value)
    return text(value)
