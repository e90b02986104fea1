"""What each webhook source sends: how to verify it and what identifies one event.

Pure functions over the raw body and headers, with the tenant's secrets passed in; the intake
(``use_cases.accept``) calls them before anything is stored. Lowercased header names throughout
(API Gateway v2 lowercases them). Stripe's HMAC is checked by the stripe library, which only an
adapter imports: ``verify`` is handed that check (``StripeHeaderCheck``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from shared import signing
from shared.signing import SignatureError

SOURCES = ("stripe", "easypost", "aftership", "shippo", "shop", "shopify")
CARRIERS = ("easypost", "aftership", "shippo")
ORDER_SOURCES = ("shop", "shopify")
# No webhook any source sends nests deeper than a dozen levels; a hostile body nested
# thousands deep would otherwise exhaust the parser's recursion.
MAX_JSON_DEPTH = 64


# (payload, Stripe-Signature header, one endpoint secret) → None if the header carries a valid
# v1 signature of the payload with that secret; else SignatureError with the library's reason.
# It does not look at the timestamp: that is checked here, on our clock.
StripeHeaderCheck = Callable[[str, str, str], None]


class BadRequest(Exception):
    """400 with this message; nothing stored."""


class Identified(NamedTuple):
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
    headers: Mapping[str, str],
    query: Mapping[str, str],
    tenant_secrets: dict[str, Any],
    *,
    now: float,
    stripe_check: StripeHeaderCheck,
) -> None:
    """Raise ``SignatureError`` unless the request is provably from ``source`` for this tenant,
    signed within the tolerance around ``now`` (seconds since the epoch, from our clock)."""
    if source == "stripe":
        _verify_stripe(
            body,
            headers.get("stripe-signature"),
            _secrets(tenant_secrets, "stripe", "webhook_secrets"),
            now,
            stripe_check,
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
            token_only=(tenant_secrets.get(source) or {}).get("token_only") is True,
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


def _verify_stripe(
    body: bytes, header: str | None, secrets: list[str], now: float, check: StripeHeaderCheck
) -> None:
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
            check(payload, header, secret)
        except SignatureError as error:
            messages.append(str(error))
            continue
        try:
            signing.check_age(_stripe_timestamp(header), signing.DEFAULT_TOLERANCE_S, now)
        except signing.StaleTimestamp as stale:
            raise signing.StaleTimestamp(f"Stripe-Signature: {stale}") from None
        return
    raise SignatureError(f"Stripe-Signature: {messages[-1] if messages else 'no match'}")


def identify(source: str, document: Any, body: bytes, headers: Mapping[str, str]) -> Identified:
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
        # Shopify's HMAC covers the body only: its headers (topic, webhook and event ids) can be
        # swapped on a captured body, so the body's hash is the identity and the body's shape
        # its type. A re-sent body is a duplicate whatever headers it comes with.
        return Identified(content_hash, shopify_body_kind(document))
    raise BadRequest(f"unknown source {source!r}")


def shopify_body_kind(payload: dict[str, Any]) -> str:
    """What a signed Shopify body is, from the body alone: ``order``, ``order.cancelled``,
    ``fulfillment`` or ``other``."""
    if "order_id" in payload and ("tracking_numbers" in payload or "tracking_number" in payload):
        return "fulfillment"
    if "line_items" in payload and "total_price" in payload and "order_id" not in payload:
        return "order.cancelled" if payload.get("cancelled_at") else "order"
    return "other"


# Headers a source sends outside its signature: kept beside the stored event for operators
# (which topic Shopify meant, its delivery and event ids, when it fired), never decisive.
_UNSIGNED_HINTS = {
    "shopify": (
        "x-shopify-topic",
        "x-shopify-webhook-id",
        "x-shopify-event-id",
        "x-shopify-triggered-at",
    )
}


def unsigned_hints(source: str, headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name: headers[name][:200] for name in _UNSIGNED_HINTS.get(source, ()) if headers.get(name)
    }


def _field(document: dict[str, Any], name: str, source: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value or len(value) > 255:
        raise BadRequest(f"{source} payload has no usable {name!r}")
    return value


def parse_json(body: bytes) -> Any:
    """The body as JSON, UTF-8 only (RFC 8259): json.loads on bytes would also guess UTF-16
    and UTF-32, which no source sends and the rest of the pipeline does not expect."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"body is not UTF-8: {error.reason} at byte {error.start}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadRequest(f"body is not valid JSON: {error}") from None
    except RecursionError:
        raise BadRequest(f"body nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as error:  # e.g. an integer of 5,000 digits
        raise BadRequest(f"body is not usable JSON: {str(error)[:200]}") from None
    # Depth is bounded by the number of brackets: most bodies are checked by counting alone.
    if body.count(b"{") + body.count(b"[") > MAX_JSON_DEPTH and _too_deep(document):
        raise BadRequest(f"body nests deeper than {MAX_JSON_DEPTH} levels")
    return document


def _too_deep(document: Any) -> bool:
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
