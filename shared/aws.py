"""boto3 clients, created once per process and only when first used.

Creating a client costs tens of milliseconds; Lambda keeps the process warm, so each handler
pays it once. ``AWS_ENDPOINT_URL`` (honoured by boto3 itself) points every client at the local
stack when it runs on moto.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30
)


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]


@cache
def dynamodb_table(name: str) -> Any:
    return boto3.resource("dynamodb", config=_CONFIG).Table(name)


def reset() -> None:
    """Forget cached clients (tests and the local stack change endpoints between runs)."""
    client.cache_clear()
    dynamodb_table.cache_clear()
