"""Reading the single table page by page, for the payouts adapters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared import aws


def query_all(table_name: str, args: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item a query finds, following its pages."""
    client = aws.client("dynamodb")
    args = {"TableName": table_name, **args}
    while True:
        page = client.query(**args)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
