"""Breaks across days, the refunds reconciliation asked for, and each day's run.

- ``T#<t>#BREAK#<break id>`` / ``BREAK``: the break as last seen, open or closed, indexed as
  ``T#<t>#BREAKS#open`` (or ``#closed``) by first-seen date. The id is stable, so a break seen
  again tomorrow updates the same item (its age grows) and one that resolved is closed, never
  duplicated.
- ``T#<t>#RECONACTION#<idempotency key>`` / ``ACTION``: a refund reconciliation started; the
  conditional put is what makes re-running a day never refund twice.
- ``T#<t>#RECON#<day>`` / ``RUN``: the day's summary and where its report is.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from datetime import date
from typing import Any

from functions.reconcile.adapters.codec import json_default
from functions.reconcile.domain.model import (
    Break,
    BreakClass,
    Priority,
    RefundInstruction,
    SuggestedAction,
)
from shared import aws, keys
from shared.clock import SYSTEM_CLOCK, Clock
from shared.retention import Retention, table_retention


def break_to_json(brk: Break) -> str:
    return json.dumps(dataclasses.asdict(brk), default=json_default, sort_keys=True)


def break_from_json(text: str) -> Break:
    data = json.loads(text)
    action = data.pop("suggested_action", None)
    suggested = None
    if action is not None:
        suggested = SuggestedAction(
            kind=action["kind"],
            description=action["description"],
            refunds=tuple(RefundInstruction(**r) for r in action.get("refunds") or ()),
        )
    return Break(
        **{
            **data,
            "break_class": BreakClass(data["break_class"]),
            "priority": Priority(data["priority"]),
            "keys": tuple((k, v) for k, v in data["keys"]),
            "first_seen": date.fromisoformat(data["first_seen"]),
            "suggested_action": suggested,
        }
    )


class BreakStore:
    def __init__(
        self, table_name: str, clock: Clock = SYSTEM_CLOCK, retention: Retention | None = None
    ) -> None:
        self.table_name = table_name
        self.clock = clock
        # Breaks, actions and runs are kept the tenant's retention period from their last write.
        self.retention = retention or table_retention(table_name, clock)

    def _pk(self, tenant: str, break_id: str) -> str:
        return keys.break_pk(tenant, break_id)

    def open_breaks(self, tenant: str) -> list[Break]:
        return self.breaks(tenant, "open")

    def breaks(self, tenant: str, status: str) -> list[Break]:
        """Open or closed breaks, oldest first seen first."""
        paginator = aws.client("dynamodb").get_paginator("query")
        found = []
        for page in paginator.paginate(
            TableName=self.table_name,
            IndexName="ByStatus",
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.breaks_index(tenant, status)}},
            ProjectionExpression="#b",
            ExpressionAttributeNames={"#b": "break"},
        ):
            found += [break_from_json(item["break"]["S"]) for item in page["Items"]]
        return found

    def save(
        self, tenant: str, day: date, open_now: Iterable[Break], closed: Iterable[Break]
    ) -> None:
        items = []
        keep = self.retention.attribute(tenant)
        for status, breaks in (("open", open_now), ("closed", closed)):
            for brk in breaks:
                items.append(
                    {
                        "PK": {"S": self._pk(tenant, brk.break_id)},
                        "SK": {"S": "BREAK"},
                        "kind": {"S": "recon_break"},
                        "tenant": {"S": tenant},
                        "status": {"S": status},
                        "break_class": {"S": brk.break_class.value},
                        "priority": {"S": brk.priority.value},
                        "last_run": {"S": day.isoformat()},
                        "break": {"S": break_to_json(brk)},
                        "GSI2PK": {"S": keys.breaks_index(tenant, status)},
                        "GSI2SK": {"S": f"{brk.first_seen.isoformat()}#{brk.break_id}"},
                        **keep,
                    }
                )
        aws.batch_write(self.table_name, [{"PutRequest": {"Item": i}} for i in items])

    def claim_action(self, tenant: str, key: str, record: dict[str, Any]) -> dict[str, Any] | None:
        """Record an action once; returns the earlier record when it was taken already."""
        client = aws.client("dynamodb")
        item_key = {"PK": {"S": keys.recon_action_pk(tenant, key)}, "SK": {"S": "ACTION"}}
        try:
            client.put_item(
                TableName=self.table_name,
                Item={
                    **item_key,
                    "kind": {"S": "recon_action"},
                    "record": {"S": json.dumps(record, default=json_default, sort_keys=True)},
                    "claimed_at": {"S": self.clock.now().isoformat()},
                    **self.retention.attribute(tenant),
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            earlier = client.get_item(TableName=self.table_name, Key=item_key, ConsistentRead=True)
            return dict(json.loads(earlier["Item"]["record"]["S"]))
        return None

    def update_action(self, tenant: str, key: str, record: dict[str, Any]) -> None:
        keep, ttl_name, ttl_value = self.retention.update(tenant)
        aws.client("dynamodb").update_item(
            TableName=self.table_name,
            Key={"PK": {"S": keys.recon_action_pk(tenant, key)}, "SK": {"S": "ACTION"}},
            UpdateExpression=f"SET #r = :r, {keep}",
            ExpressionAttributeNames={"#r": "record", **ttl_name},
            ExpressionAttributeValues={
                ":r": {"S": json.dumps(record, default=json_default, sort_keys=True)},
                **ttl_value,
            },
        )

    def save_run(self, tenant: str, day: date, summary: dict[str, Any]) -> None:
        aws.client("dynamodb").put_item(
            TableName=self.table_name,
            Item={
                "PK": {"S": keys.recon_run_pk(tenant, day)},
                "SK": {"S": "RUN"},
                "kind": {"S": "recon_run"},
                "tenant": {"S": tenant},
                "summary": {"S": json.dumps(summary, default=json_default, sort_keys=True)},
                "ran_at": {"S": self.clock.now().isoformat()},
                **self.retention.attribute(tenant),
            },
        )

    def run(self, tenant: str, day: date) -> dict[str, Any] | None:
        item = (
            aws.client("dynamodb")
            .get_item(
                TableName=self.table_name,
                Key={"PK": {"S": keys.recon_run_pk(tenant, day)}, "SK": {"S": "RUN"}},
                ConsistentRead=True,
            )
            .get("Item")
        )
        return json.loads(item["summary"]["S"]) if item else None
