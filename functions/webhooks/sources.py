"""What each webhook source sends: how to verify it and what identifies one event.

Pure functions over the raw body and headers, with the tenant's secrets passed in; the ingress
handler calls them before anything is stored. Lowercased header names throughout (API Gateway
v2 lowercases them).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from shared import signing
from shared.signing import SignatureError

SOURCES = ("stripe", "easypost", "aftership", "shippo", "shop", "shopify")
CARRIERS = ("easypost", "aftership", "shippo")


class BadRequest(Exception):
    """400 with this message; nothing stored."""


@dataclass(frozen=True)
class Identified:
    event_id: str
    event_type: str


def _secrets(tenant_secrets: dict[str, Any], source: str, field: str) -> list[str]:
    values = (tenant_secrets.get(source) or {}).get(field) or []
    if isinstance(values, str):
        values = [values]
    return [str(v) for v in values if v]


def verify(
    source: str,
    body: bytes,
    headers: dict[str, str],
    query: dict[str, str],
    tenant_secrets: dict[str, Any],
    *,
    now: float,
) -> None:
    """Raise ``SignatureError`` unless the request is provably from ``source`` for this tenant,
    signed within the tolerance around ``now`` (seconds since the epoch, from our clock)."""
    if source == "stripe":
        _verify_stripe(
            body,
            headers.get("stripe-signature"),
            _secrets(tenant_secrets, "stripe", "webhook_secrets"),
            now,
        )
        return
    if source == "shop":
        signing.verify_shop(
            body,
            headers.get("x-ecomops-timestamp"),
            headers.get("x-ecomops-signature"),
            _require(_secrets(tenant_secrets, "shop", "webhook_secrets"), source),
            now=now,
        )
    elif source == "easypost":
        signing.verify_easypost(
            body,
            headers.get("x-hmac-signature"),
            _require(_secrets(tenant_secrets, source, "webhook_secrets"), source),
        )
    elif source == "aftership":
        signing.verify_aftership(
            body,
            headers.get("aftership-hmac-sha256"),
            _require(_secrets(tenant_secrets, source, "webhook_secrets"), source),
        )
    elif source == "shopify":
        signing.verify_shopify(
            body,
            headers.get("x-shopify-hmac-sha256"),
            _require(_secrets(tenant_secrets, source, "webhook_secrets"), source),
        )
    elif source == "shippo":
        signing.verify_shippo(
            body,
            query.get("token"),
            _require(_secrets(tenant_secrets, source, "tokens"), source),
            headers.get("x-shippo-signature"),
            _secrets(tenant_secrets, source, "webhook_secrets"),
            now=now,
        )
    else:
        raise BadRequest(f"unknown source {source!r}")


def _require(secrets: list[str], source: str) -> list[str]:
    if not secrets:
        raise SignatureError(f"no {source} webhook secret is configured for this tenant")
    return secrets


def _stripe_timestamp(header: str) -> int:
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            try:
                return int(value)
            except ValueError:
                break
    raise SignatureError("Stripe-Signature has no timestamp")


def _verify_stripe(body: bytes, header: str | None, secrets: list[str], now: float) -> None:
    # The stripe library is imported on the first Stripe request only: it doubles the ingress
    # import time, and carrier and shop requests never need it.
    import stripe

    if not header:
        raise SignatureError("Stripe-Signature is required")
    if not secrets:
        raise SignatureError("no stripe webhook secret is configured for this tenant")
    payload = body.decode("utf-8", errors="strict")
    messages = []
    # Several endpoint secrets during rotation: the header may carry a v1 for each, and we
    # accept a match with any of ours. The library checks the signature; the time is checked
    # on our clock below (the library's own check reads the wall clock and lets a timestamp
    # from the future through).
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=None)
        except stripe.SignatureVerificationError as error:
            messages.append(str(error))
            continue
        try:
            signing.check_age(_stripe_timestamp(header), signing.DEFAULT_TOLERANCE_S, now)
        except signing.StaleTimestamp as stale:
            raise signing.StaleTimestamp(f"Stripe-Signature: {stale}") from None
        return
    raise SignatureError(f"Stripe-Signature: {messages[-1] if messages else 'no match'}")


def identify(source: str, document: Any, body: bytes, headers: dict[str, str]) -> Identified:
    """The provider's event id (our deduplication key) and event type; a content hash where the
    provider sends no id."""
    if not isinstance(document, dict):
        raise BadRequest("the body must be a JSON object")
    content_hash = "sha256:" + hashlib.sha256(body).hexdigest()
    if source == "stripe":
        return Identified(_field(document, "id", source), _field(document, "type", source))
    if source == "easypost":
        return Identified(
            _field(document, "id", source), str(document.get("description") or "unknown")
        )
    if source == "aftership":
        return Identified(
            str(document.get("event_id") or content_hash), str(document.get("event") or "unknown")
        )
    if source == "shippo":
        return Identified(content_hash, str(document.get("event") or "unknown"))
    if source == "shop":
        return Identified(_field(document, "event_id", source), _field(document, "type", source))
    if source == "shopify":
        return Identified(
            headers.get("x-shopify-webhook-id") or content_hash,
            headers.get("x-shopify-topic") or "unknown",
        )
    raise BadRequest(f"unknown source {source!r}")


def _field(document: dict[str, Any], name: str, source: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value or len(value) > 255:
        raise BadRequest(f"{source} payload has no usable {name!r}")
    return value


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BadRequest(f"body is not valid JSON: {error}") from None
