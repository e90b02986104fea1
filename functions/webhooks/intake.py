"""Webhook intake: verify, store first, answer. Nothing else happens on the request path.

The ingress handler turns an API Gateway event into a ``WebhookRequest`` and calls ``accept``
with its adapters; tests call ``accept`` with fakes. Every rejection happens before the store is
touched, so a rejected request leaves nothing behind.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any, Protocol

from functions.webhooks import sources
from shared.clock import SYSTEM_CLOCK, Clock
from shared.signing import SignatureError, StaleTimestamp
from shared.tenant_secrets import UnknownTenant

MAX_BODY_BYTES = 1_000_000
# An order webhook becomes the order's item in the table, which DynamoDB caps at 400 KB: a
# larger order body could be acknowledged yet never applied, so it is refused at the door.
ORDER_SOURCES_MAX_BYTES = 256_000


class SecretsPort(Protocol):
    def get(self, tenant: str) -> dict[str, Any]: ...


class TenantsPort(Protocol):
    def get(self, tenant: str) -> Any:
        """The tenant's settings (``accepted_currencies``), or None if it has none."""
        ...


class StorePort(Protocol):
    def put_new(
        self,
        *,
        tenant: str,
        source: str,
        event_id: str,
        event_type: str,
        body: bytes,
        received_at: str,
        hints: dict[str, str] | None = None,
    ) -> bool: ...


@dataclass(frozen=True)
class WebhookRequest:
    tenant: str
    source: str
    body: bytes
    headers: dict[str, str]
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
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


def _reject(status: int, reason: str, kind: str) -> Answer:
    return Answer(status, {"error": kind, "message": reason}, f"rejected:{kind}")


def accept(
    request: WebhookRequest,
    secrets: SecretsPort,
    store: StorePort,
    clock: Clock = SYSTEM_CLOCK,
    max_body_bytes: int = MAX_BODY_BYTES,
    tenants: TenantsPort | None = None,
) -> Answer:
    if request.source not in sources.SOURCES:
        return _reject(404, f"unknown webhook source {request.source!r}", "unknown_source")
    limit = max_body_bytes
    if request.source in sources.ORDER_SOURCES:
        limit = min(limit, ORDER_SOURCES_MAX_BYTES)
    if len(request.body) > limit:
        return _reject(413, f"body of {len(request.body)} bytes exceeds {limit}", "too_large")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return _reject(
            400, f"content type must be application/json, not {content_type!r}", "content_type"
        )
    try:
        request.body.decode("utf-8")
    except UnicodeDecodeError as error:
        return _reject(
            400, f"body is not UTF-8 JSON: {error.reason} at byte {error.start}", "encoding"
        )
    try:
        tenant_secrets = secrets.get(request.tenant)
    except UnknownTenant as unknown:
        return _reject(400, str(unknown), "unknown_tenant")
    now = clock.now()
    try:
        sources.verify(
            request.source,
            request.body,
            request.headers,
            request.query,
            tenant_secrets,
            now=now.timestamp(),
        )
    except StaleTimestamp as stale:
        return _reject(401, str(stale), "stale_timestamp")
    except SignatureError as bad:
        return _reject(401, str(bad), "bad_signature")
    try:
        document = sources.parse_json(request.body)
        identified = sources.identify(request.source, document, request.body, request.headers)
        if request.source in sources.ORDER_SOURCES:
            # An order we cannot take is refused now, with the reason, while the shop can
            # still correct it: acknowledged orders must all be applicable.
            currencies = sources.check_order(
                request.source, request.tenant, document, identified, now
            )
            settings = tenants.get(request.tenant) if tenants is not None and currencies else None
            if settings is not None and not currencies <= settings.accepted_currencies:
                accepted = ", ".join(sorted(settings.accepted_currencies))
                raise sources.BadRequest(
                    f"order currency {', '.join(sorted(currencies))} is not one this shop "
                    f"takes orders in ({accepted})"
                )
    except sources.BadRequest as bad_request:
        return _reject(400, str(bad_request), "malformed")
    stored = store.put_new(
        tenant=request.tenant,
        source=request.source,
        event_id=identified.event_id,
        event_type=identified.event_type,
        body=request.body,
        received_at=now.isoformat(timespec="microseconds"),
        hints=sources.unsigned_hints(request.source, request.headers),
    )
    # A duplicate is a success for the sender: it must stop retrying.
    return Answer(
        200,
        {"received": True, "event_id": identified.event_id, "duplicate": not stored},
        "stored" if stored else "duplicate",
    )
