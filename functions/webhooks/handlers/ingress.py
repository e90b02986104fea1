"""POST /webhooks/{tenant}/{source}: the front door for gateways, carriers and shops.

Kept lean on purpose (see bench/ingress.py): no pydantic, no event-handler framework, stripe
imported only on the first Stripe request. Verification and storage are ``use_cases.accept``.
"""

from __future__ import annotations

import json
from typing import Any

from shared.coldstart import imports_without_gc

with imports_without_gc():
    from functions.webhooks.composition import ingress_dependencies
    from functions.webhooks.use_cases.accept import BadRequest, WebhookRequest, accept, decode_body
    from shared.observability import logger


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
    answer = accept(request, ingress_dependencies())
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
