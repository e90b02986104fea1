"""What the front door decides, from the request alone: the request and answer shapes, the
checks that come before any secret is read (source, size, content type, encoding), and the
order currencies the tenant takes. ``use_cases.accept`` runs them in order with its ports.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Set
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple

from functions.webhooks.domain import sources

MAX_BODY_BYTES = 1_000_000
# An order webhook becomes the order's item in the table, which DynamoDB caps at 400 KB: a
# larger order body could be acknowledged yet never applied, so it is refused at the door.
ORDER_SOURCES_MAX_BYTES = 256_000


class UnknownTenant(LookupError):
    """No tenant by that id has webhook secrets: 400 ``unknown_tenant``, nothing stored."""


# Named tuples rather than frozen dataclasses: as immutable, and a tenth of the cost at the
# front door's cold import (bench/ingress.py).


class WebhookRequest(NamedTuple):
    tenant: str
    source: str
    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str] = MappingProxyType({})


class Answer(NamedTuple):
    status: int
    body: dict[str, Any]
    outcome: str  # stored | duplicate | rejected:<why>


def decode_body(raw: str | None, is_base64: bool) -> bytes:
    if raw is None:
        return b""
    if not is_base64:
        return raw.encode("utf-8")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise sources.BadRequest("body is marked base64 but does not decode") from None


def reject(status: int, reason: str, kind: str) -> Answer:
    return Answer(status, {"error": kind, "message": reason}, f"rejected:{kind}")


def check_envelope(request: WebhookRequest, max_body_bytes: int) -> Answer | None:
    """The refusal for a request that fails before its tenant is looked up, else None."""
    if request.source not in sources.SOURCES:
        return reject(404, f"unknown webhook source {request.source!r}", "unknown_source")
    limit = max_body_bytes
    if request.source in sources.ORDER_SOURCES:
        limit = min(limit, ORDER_SOURCES_MAX_BYTES)
    if len(request.body) > limit:
        return reject(413, f"body of {len(request.body)} bytes exceeds {limit}", "too_large")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return reject(
            400, f"content type must be application/json, not {content_type!r}", "content_type"
        )
    try:
        request.body.decode("utf-8")
    except UnicodeDecodeError as error:
        return reject(
            400, f"body is not UTF-8 JSON: {error.reason} at byte {error.start}", "encoding"
        )
    return None


def check_order(
    source: str, tenant: str, document: Any, identified: sources.Identified, received_at: datetime
) -> frozenset[str]:
    """Refuse an order body the processor could not apply (the normaliser's own checks: the
    schema, amounts within bounds, totals that add up), with the normaliser's reason; return
    the currencies of the orders it places."""
    # Loaded on the first order request only: carrier and Stripe requests never need it.
    from functions.webhooks.domain.normalise import Ignored, Malformed, normalise
    from shared.events import OrderPlaced, Source

    try:
        events = normalise(
            Source(source),
            tenant,
            document,
            event_id=identified.event_id,
            received_at=received_at,
        )
    except Ignored:
        return frozenset()
    except Malformed as malformed:
        raise sources.BadRequest(str(malformed)) from None
    return frozenset(e.currency for e in events if isinstance(e, OrderPlaced))


def check_currencies(currencies: Set[str], accepted: Set[str]) -> None:
    """``BadRequest`` unless every currency the body orders in is one the shop takes."""
    if not currencies <= accepted:
        raise sources.BadRequest(
            f"order currency {', '.join(sorted(currencies))} is not one this shop "
            f"takes orders in ({', '.join(sorted(accepted))})"
        )


def stored_answer(event_id: str, stored: bool) -> Answer:
    # A duplicate is a success for the sender: it must stop retrying.
    return Answer(
        200,
        {"received": True, "event_id": event_id, "duplicate": not stored},
        "stored" if stored else "duplicate",
    )
