"""Why money goes back to a customer, and what each cause means to the gateway and to them.

The one place that maps a refund's (or a void's) cause to the reason the payment gateway is
given and to the sentence the customer reads. Stripe takes a refund ``reason`` of
``duplicate``, ``fraudulent`` or ``requested_by_customer`` (or none), and a PaymentIntent
``cancellation_reason`` of those or ``abandoned``. ``fraudulent`` is not a label: Stripe adds the
card and e-mail to the account's block lists and feeds Radar with it, so a screening false
positive refunded as fraudulent would turn away the customer's next honest order. It is sent
only for causes that are a fraud decision, and only when the tenant's policy says so
(``refunds.report_fraud_to_gateway``, off by default). Customers never see the gateway's
words: they read the cause's sentence, in the shop's voice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

GatewayRefundReason = Literal["duplicate", "fraudulent", "requested_by_customer"]
GatewayCancellationReason = Literal["duplicate", "fraudulent", "requested_by_customer", "abandoned"]


class RefundCause(StrEnum):
    """What led to a refund or a void: named by the business, not by the gateway."""

    # An operator refunds because the customer asked (or for a goodwill gesture).
    CUSTOMER_REQUEST = "customer_request"
    # An operator refunds a charge taken twice.
    DUPLICATE_CHARGE = "duplicate_charge"
    # An operator (or the shop) cancels or refunds an order they judge fraudulent.
    FRAUD_REPORTED = "fraud_reported"
    # Returned items came back.
    RETURN = "return"
    # The shop or an operator cancelled the order (out of stock, address problem, ...).
    SHOP_CANCELLED = "shop_cancelled"
    # The order was cancelled because its payment never came through (not authorised in time).
    NOT_PAID = "not_paid"
    # Screening blocked the order.
    SCREENING_BLOCK = "screening_block"
    # A reviewer rejected the held order.
    REVIEW_REJECTED = "review_rejected"
    # Nobody decided on the held order before the review timed out.
    REVIEW_TIMED_OUT = "review_timed_out"
    # Reconciliation found the order paid more than once.
    RECONCILIATION_DUPLICATE = "reconciliation_duplicate"
    # Reconciliation found a cancelled order whose payment was never given back.
    RECONCILIATION_CANCELLED = "reconciliation_cancelled"
    # Reconciliation found a payment for an order that failed (charged, but no order).
    RECONCILIATION_NO_ORDER = "reconciliation_no_order"
    # A payment reached an order already cancelled (it settled after the payment timeout, say).
    PAID_AFTER_CANCELLATION = "paid_after_cancellation"


@dataclass(frozen=True, slots=True)
class CauseMeaning:
    refund_reason: GatewayRefundReason | None
    cancellation_reason: GatewayCancellationReason | None
    # A fraud decision: the gateway hears ``fraudulent`` only if the tenant reports fraud,
    # and nothing otherwise.
    fraud: bool
    customer_sentence: str


_CANNOT_ACCEPT = (
    "We weren't able to accept this order, so we've given back everything you paid for it."
)

MEANINGS: dict[RefundCause, CauseMeaning] = {
    RefundCause.CUSTOMER_REQUEST: CauseMeaning(
        "requested_by_customer",
        "requested_by_customer",
        False,
        "This is the refund you asked us for.",
    ),
    RefundCause.DUPLICATE_CHARGE: CauseMeaning(
        "duplicate",
        "duplicate",
        False,
        "You were charged more than once for this order; this gives back the extra payment.",
    ),
    RefundCause.FRAUD_REPORTED: CauseMeaning(None, None, True, _CANNOT_ACCEPT),
    RefundCause.RETURN: CauseMeaning(
        "requested_by_customer",
        "requested_by_customer",
        False,
        "We've received the items you sent back.",
    ),
    RefundCause.SHOP_CANCELLED: CauseMeaning(
        None,
        None,
        False,
        "We had to cancel your order, so you're not paying for it.",
    ),
    RefundCause.NOT_PAID: CauseMeaning(
        None,
        "abandoned",
        False,
        "Your payment didn't come through in time, so we cancelled the order and are giving "
        "back what reached us.",
    ),
    RefundCause.SCREENING_BLOCK: CauseMeaning(None, None, True, _CANNOT_ACCEPT),
    RefundCause.REVIEW_REJECTED: CauseMeaning(None, None, True, _CANNOT_ACCEPT),
    RefundCause.REVIEW_TIMED_OUT: CauseMeaning(
        None,
        "abandoned",
        False,
        "We couldn't confirm your order in time, so we cancelled it and are giving back what "
        "you paid.",
    ),
    RefundCause.RECONCILIATION_DUPLICATE: CauseMeaning(
        "duplicate",
        "duplicate",
        False,
        "You were charged more than once for this order; this gives back the extra payment.",
    ),
    RefundCause.RECONCILIATION_CANCELLED: CauseMeaning(
        None,
        None,
        False,
        "Your order was cancelled, and this gives back the payment we still held for it.",
    ),
    RefundCause.RECONCILIATION_NO_ORDER: CauseMeaning(
        None,
        None,
        False,
        "We received a payment from you for an order that didn't go through, so we're giving "
        "it back.",
    ),
    RefundCause.PAID_AFTER_CANCELLATION: CauseMeaning(
        None,
        None,
        False,
        "Your order had already been cancelled when your payment reached us, so we're giving "
        "it back.",
    ),
}


def refund_reason(cause: RefundCause, *, report_fraud: bool) -> GatewayRefundReason | None:
    """The ``reason`` a gateway refund for ``cause`` carries (None: send none)."""
    meaning = MEANINGS[cause]
    if meaning.fraud:
        return "fraudulent" if report_fraud else None
    return meaning.refund_reason


def cancellation_reason(
    cause: RefundCause, *, report_fraud: bool
) -> GatewayCancellationReason | None:
    """The ``cancellation_reason`` a void of an authorisation for ``cause`` carries."""
    meaning = MEANINGS[cause]
    if meaning.fraud:
        return "fraudulent" if report_fraud else None
    return meaning.cancellation_reason


def customer_sentence(cause: RefundCause) -> str:
    """What the customer reads about why the money comes back, in the shop's voice."""
    return MEANINGS[cause].customer_sentence
