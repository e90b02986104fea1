"""The hourly tick's summaries: ``SYSTEM#recontick#<UTC day>`` / ``<tick instant>``.

An operations record (which tenants each tick reconciled and which failed), not a financial
one: kept ``KEEP_DAYS`` from its write.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from shared import aws, keys
from shared.clock import SYSTEM_CLOCK, Clock

KEEP_DAYS = 90


class DynamoTickLog:
    def __init__(self, table_name: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.table_name = table_name
        self.clock = clock

    def save(self, tick: datetime, summary: dict[str, Any]) -> None:
        instant = tick.astimezone(UTC)
        pk, sk = keys.reconcile_tick(instant.date(), instant.isoformat())
        expires = self.clock.now() + timedelta(days=KEEP_DAYS)
        aws.client("dynamodb").put_item(
            TableName=self.table_name,
            Item={
                "PK": {"S": pk},
                "SK": {"S": sk},
                "kind": {"S": "reconciliation_tick"},
                "summary": {"S": json.dumps(summary, sort_keys=True)},
                keys.TABLE.ttl_attribute: {"N": str(int(expires.timestamp()))},
            },
        )

    def get(self, tick: datetime) -> dict[str, Any] | None:
        instant = tick.astimezone(UTC)
        pk, sk = keys.reconcile_tick(instant.date(), instant.isoformat())
        item = (
            aws.client("dynamodb")
            .get_item(TableName=self.table_name, Key={"PK": {"S": pk}, "SK": {"S": sk}})
            .get("Item")
        )
        return json.loads(item["summary"]["S"]) if item else None
