"""Webhook signature schemes, one function pair per source: sign (sandboxes, tests) and verify.

All comparisons are constant-time. Each verifier raises ``SignatureError`` with a reason an
operator can act on; none of them logs or returns the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from shared.clock import SYSTEM_CLOCK, epoch_seconds

DEFAULT_TOLERANCE_S = 300
# A signature dated ahead of our clock by more than this is refused: a sender's clock may run a
# little fast, but a timestamp far in the future would let a captured request be replayed
# long after the age tolerance should have ended it.
MAX_FUTURE_SKEW_S = 60


class SignatureError(Exception):
    """The request is not provably from the source: 401, nothing stored."""


class StaleTimestamp(SignatureError):
    pass


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _hmac_b64(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def _any_equal(candidate: str, expected: Iterable[str]) -> bool:
    # Evaluate every comparison: stopping at the first match would leak which secret matched.
    found = False
    for value in expected:
        found |= hmac.compare_digest(candidate.encode(), value.encode())
    return found


def check_age(timestamp: int, tolerance_s: int, now: float) -> None:
    if now - timestamp > tolerance_s:
        raise StaleTimestamp(f"timestamp {timestamp} is outside the {tolerance_s}s tolerance")
    if timestamp - now > MAX_FUTURE_SKEW_S:
        raise StaleTimestamp(
            f"timestamp {timestamp} is {int(timestamp - now)}s ahead of our clock "
            f"(at most {MAX_FUTURE_SKEW_S}s is accepted)"
        )


def _signed_now() -> int:
    # Signing is what the senders (sandboxes, tests) do, on their own clock: the machine's.
    return epoch_seconds(SYSTEM_CLOCK)


# -- Stripe: "Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]" over "<t>.<body>" -------------------


def sign_stripe(body: bytes, secret: str, timestamp: int | None = None) -> str:
    t = _signed_now() if timestamp is None else timestamp
    return f"t={t},v1={_hmac_hex(secret, f'{t}.'.encode() + body)}"


# -- Our shop format: X-EcomOps-Timestamp + X-EcomOps-Signature: v1=<hex> over "<t>.<body>" ------


def sign_shop(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    t = _signed_now() if timestamp is None else timestamp
    return {
        "X-EcomOps-Timestamp": str(t),
        "X-EcomOps-Signature": f"v1={_hmac_hex(secret, f'{t}.'.encode() + body)}",
    }


def verify_shop(
    body: bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    secrets: Iterable[str],
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    *,
    now: float,
) -> None:
    if not timestamp_header or not signature_header:
        raise SignatureError("X-EcomOps-Timestamp and X-EcomOps-Signature are required")
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        raise SignatureError("X-EcomOps-Timestamp is not a unix time") from None
    signatures = [
        part.strip()[3:] for part in signature_header.split(",") if part.strip().startswith("v1=")
    ]
    if not signatures:
        raise SignatureError("X-EcomOps-Signature has no v1 signature")
    expected = [_hmac_hex(s, f"{timestamp}.".encode() + body) for s in secrets]
    if not any(_any_equal(sig, expected) for sig in signatures):
        raise SignatureError("X-EcomOps-Signature does not match")
    check_age(timestamp, tolerance_s, now)


# -- EasyPost: "X-Hmac-Signature: hmac-sha256-hex=<hex>" over the body -------------------------


def sign_easypost(body: bytes, secret: str) -> str:
    return f"hmac-sha256-hex={_hmac_hex(secret, body)}"


def verify_easypost(body: bytes, header: str | None, secrets: Iterable[str]) -> None:
    if not header or not header.startswith("hmac-sha256-hex="):
        raise SignatureError("X-Hmac-Signature with hmac-sha256-hex= is required")
    given = header.removeprefix("hmac-sha256-hex=")
    if not _any_equal(given, [_hmac_hex(s, body) for s in secrets]):
        raise SignatureError("X-Hmac-Signature does not match")


# -- AfterShip: "aftership-hmac-sha256: <base64>" over the body ---------------------------------


def sign_aftership(body: bytes, secret: str) -> str:
    return _hmac_b64(secret, body)


def verify_aftership(body: bytes, header: str | None, secrets: Iterable[str]) -> None:
    if not header:
        raise SignatureError("aftership-hmac-sha256 is required")
    if not _any_equal(header.strip(), [_hmac_b64(s, body) for s in secrets]):
        raise SignatureError("aftership-hmac-sha256 does not match")


# -- Shopify: "X-Shopify-Hmac-Sha256: <base64>" over the body -----------------------------------


def sign_shopify(body: bytes, secret: str) -> str:
    return _hmac_b64(secret, body)


def verify_shopify(body: bytes, header: str | None, secrets: Iterable[str]) -> None:
    if not header:
        raise SignatureError("X-Shopify-Hmac-Sha256 is required")
    if not _any_equal(header.strip(), [_hmac_b64(s, body) for s in secrets]):
        raise SignatureError("X-Shopify-Hmac-Sha256 does not match")


# -- Shippo: a per-tenant token in the webhook URL (?token=…); optionally an HMAC header ----------
# "X-Shippo-Signature: t=<unix>,v1=<hex>" over "<t>.<body>" when the tenant configured a secret.


def sign_shippo(body: bytes, secret: str, timestamp: int | None = None) -> str:
    t = _signed_now() if timestamp is None else timestamp
    return f"t={t},v1={_hmac_hex(secret, f'{t}.'.encode() + body)}"


def verify_shippo(
    body: bytes,
    token: str | None,
    tokens: Iterable[str],
    signature: str | None,
    secrets: Iterable[str],
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    *,
    now: float,
    token_only: bool = False,
) -> None:
    if not token or not _any_equal(token, list(tokens)):
        raise SignatureError("the webhook URL's token is missing or wrong")
    secrets = list(secrets)
    if not secrets:
        if token_only:
            return
        # The token travels in the URL (logs, proxies, browser history): alone it would let
        # whoever saw it post a "delivered" scan. A tenant may still choose it, explicitly.
        raise SignatureError(
            "this tenant has no Shippo signing secret: configure one (X-Shippo-Signature), "
            "or switch token-only delivery on explicitly"
        )
    if not signature:
        raise SignatureError("X-Shippo-Signature is required for this tenant")
    parts = dict(p.strip().split("=", 1) for p in signature.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        raise SignatureError("X-Shippo-Signature has no timestamp") from None
    expected = [_hmac_hex(s, f"{timestamp}.".encode() + body) for s in secrets]
    if not _any_equal(parts.get("v1", ""), expected):
        raise SignatureError("X-Shippo-Signature does not match")
    check_age(timestamp, tolerance_s, now)
