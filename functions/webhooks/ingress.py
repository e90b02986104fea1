"""POST /webhooks/{tenant}/{source}: the front door for gateways, carriers and shops.

Kept lean on purpose (see bench/ingress.py): no pydantic, no event-handler framework, stripe
imported only on the first Stripe request. Verification and storage are in ``intake``.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

from functions.webhooks.intake import WebhookRequest, accept, decode_body
from functions.webhooks.sources import BadRequest
from shared.observability import logger
from shared.raw_events import RawEventStore
from shared.tenant_secrets import TenantSecrets

_secrets = TenantSecrets(parts=("webhooks",))


@cache
def _store_for(table: str, archive: str | None) -> RawEventStore:
    return RawEventStore(table, archive)


def _raw_store() -> RawEventStore:
    # Keyed by the environment, read on use: one process may host several deployments.
    return _store_for(os.environ["TABLE_NAME"], os.environ.get("ARCHIVE_BUCKET"))


class _Tenants:
    """Tenant settings, loaded (with pydantic) on the first order webhook only: carrier and
    Stripe requests never need them, and the front door's cold start stays lean."""

    def __init__(self, table: str) -> None:
        self.table = table

    def get(self, tenant: str) -> Any:
        return _cached_tenants(self.table).get(tenant)


@cache
def _cached_tenants(table: str) -> Any:
    from shared.tenants import CachedTenants, TenantDirectory

    return CachedTenants(TenantDirectory(table))


def source_of(path: str) -> str:
    """``/webhooks/acme/carriers/easypost`` → ``easypost``; ``/webhooks/acme/shop`` → ``shop``."""
    return path.rstrip("/").rsplit("/", 1)[-1]


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    tenant = (event.get("pathParameters") or {}).get("tenant", "")
    source = source_of(event.get("rawPath", ""))
    logger.append_keys(tenant=tenant, source=source)
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    try:
        body = decode_body(event.get("body"), bool(event.get("isBase64Encoded")))
    except BadRequest as bad:
        return _response(400, {"error": "malformed", "message": str(bad)})
    request = WebhookRequest(
        tenant=tenant,
        source=source,
        body=body,
        headers=headers,
        query=event.get("queryStringParameters") or {},
    )
    answer = accept(
        request,
        _secrets,
        _raw_store(),
        max_body_bytes=int(os.environ.get("MAX_BODY_BYTES", "1000000")),
        tenants=_Tenants(os.environ["TABLE_NAME"]),
    )
    logger.info(
        "webhook",
        extra={
            "outcome": answer.outcome,
            "status": answer.status,
            "event_id": answer.body.get("event_id"),
            "bytes": len(body),
        },
    )
    return _response(answer.status, answer.body)
