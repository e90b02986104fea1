"""AWS clients, created once per process and only when first used.

Clients come from botocore directly: ``import boto3`` also loads s3transfer, which costs a Lambda
cold start tens of milliseconds that no handler here needs. ``AWS_ENDPOINT_URL`` (honoured by
botocore) points every client at the local stack when it runs on moto.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import cache
from typing import Any

from botocore.config import Config
from botocore.session import Session

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30
)
_lock = threading.Lock()
_session: Session | None = None


def _botocore_session() -> Session:
    global _session  # noqa: PLW0603 - one session per process, like boto3's default session
    with _lock:
        if _session is None:
            _session = Session()
        return _session


@cache
def client(service: str) -> Any:
    return _botocore_session().create_client(service, config=_CONFIG)


@cache
def dynamodb_table(name: str) -> Any:
    """A boto3 resource table, for code that prefers plain Python values over typed items."""
    import boto3

    return boto3.resource("dynamodb", config=_CONFIG).Table(name)


def reset() -> None:
    """Forget cached clients (tests and the local stack change endpoints between runs)."""
    global _session  # noqa: PLW0603
    with _lock:
        _session = None
    client.cache_clear()
    dynamodb_table.cache_clear()


BATCH_WRITE_LIMIT = 25  # requests one BatchWriteItem takes


def batch_write(
    table: str, requests: list[dict[str, Any]], attempts: int | None = None
) -> list[dict[str, Any]]:
    """Put and delete requests, 25 a request, sending again what DynamoDB hands back
    unprocessed: until it is taken, or at most ``attempts`` sends of each 25. Returns what is
    left unwritten (nothing without ``attempts``)."""
    ddb = client("dynamodb")
    left: list[dict[str, Any]] = []
    for start in range(0, len(requests), BATCH_WRITE_LIMIT):
        pending = requests[start : start + BATCH_WRITE_LIMIT]
        sends = 0
        while pending and (attempts is None or sends < attempts):
            answer = ddb.batch_write_item(RequestItems={table: pending})
            pending = answer.get("UnprocessedItems", {}).get(table, [])
            sends += 1
        left.extend(pending)
    return left


def batch_get(
    table: str,
    keys: list[dict[str, Any]],
    projection: str | None = None,
    names: dict[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Every item of ``keys`` that exists, 100 keys a request, re-asking for the keys DynamoDB
    hands back unprocessed. ``names`` stands in for reserved words in ``projection``."""
    ddb = client("dynamodb")
    for start in range(0, len(keys), 100):
        pending = keys[start : start + 100]
        while pending:
            request: dict[str, Any] = {"Keys": pending}
            if projection:
                request["ProjectionExpression"] = projection
            if names:
                request["ExpressionAttributeNames"] = names
            answer = ddb.batch_get_item(RequestItems={table: request})
            yield from answer["Responses"].get(table, [])
            pending = answer.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])


def batch_get_in_order(
    table: str,
    keys: list[dict[str, Any]],
    projection: str | None = None,
    names: dict[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """``batch_get`` answered in the order of ``keys`` (as a query found them), keys gone since
    skipped. A projection must name ``PK`` and ``SK``, by which the answers are matched."""
    read = {
        (item["PK"]["S"], item["SK"]["S"]): item
        for item in batch_get(table, keys, projection, names)
    }
    for key in keys:
        item = read.get((key["PK"]["S"], key["SK"]["S"]))
        if item is not None:
            yield item
