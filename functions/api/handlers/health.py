"""GET /health: proves the request path (HTTP API → Lambda → response) end to end."""

from __future__ import annotations

import json
from typing import Any

from shared.coldstart import imports_without_gc

with imports_without_gc():
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from shared import settings
    from shared.clock import SYSTEM_CLOCK
    from shared.observability import logger


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    body = {
        "status": "ok",
        "service": "ecomops",
        "stage": settings.stage(),
        "version": settings.code_version(),
        "function": context.function_name,
        "time": SYSTEM_CLOCK.now().isoformat(timespec="seconds"),
    }
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "cache-control": "no-store"},
        "body": json.dumps(body),
    }
