"""Stripe's webhook signature, checked by the stripe library (``sources.StripeHeaderCheck``).

The library is imported on the first Stripe request only: it doubles the ingress import time,
and carrier and shop requests never need it. The timestamp is not the library's to judge
(``tolerance=None``): its check reads the wall clock and lets a timestamp from the future
through, so ``sources`` checks it on our clock.
"""

from __future__ import annotations

from shared.signing import SignatureError


def check_stripe_header(payload: str, header: str, secret: str) -> None:
    import stripe

    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=None)
    except stripe.SignatureVerificationError as error:
        raise SignatureError(str(error)) from None
