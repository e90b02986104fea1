"""The self-check's proof item in the table (``shared.keys.selfcheck_proof``)."""

from __future__ import annotations

from typing import Any

from shared import aws


class DynamoProofs:
    def __init__(self, table: str) -> None:
        self.table = table

    def put(self, item: dict[str, Any]) -> None:
        aws.dynamodb_table(self.table).put_item(Item=item)
