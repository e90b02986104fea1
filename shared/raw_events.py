"""Raw webhook events in the table: stored first, exactly once, before anything acts on them.

Key: ``PK = T#<tenant>#RAW#<source>#<event id>``, ``SK = RAW``. The conditional put on that key is
the deduplication. Bodies over ``inline_limit`` go to the archive bucket first and the item
points at them. ``GSI2`` (``T#<tenant>#RAW#<source>`` by receive time) serves replays by time.

A body is kept as sent, byte for byte, packed when that is smaller (``shared.packed``: ``body_z``).
Webhook JSON shrinks three- to fivefold, and the raw events are most of what the table stores
and writes (each is written to the table and to the index that lists them): the cost meter's
measure (docs/cost.md).
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shared import aws, keys
from shared.packed import binary, packed_attribute

RAW_KIND = "raw_event"
INLINE_LIMIT = 100_000  # DynamoDB items stop at 400 KB; leave room for attributes

STATUS_RECEIVED = "received"
STATUS_APPLIED = "applied"
STATUS_IGNORED = "ignored"
STATUS_REJECTED = "rejected"


def raw_pk(tenant: str, source: str, event_id: str) -> str:
    return keys.raw_pk(tenant, source, event_id)


def archive_key(tenant: str, source: str, received_at: str, event_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._=-]", "_", event_id)
    return f"raw/{tenant}/{source}/{received_at[:10].replace('-', '/')}/{safe}.json"


@dataclass(frozen=True)
class RawEvent:
    tenant: str
    source: str
    event_id: str
    event_type: str
    received_at: str
    status: str
    body: str | None
    archive_key: str | None
    # Unsigned headers kept for operators (Shopify's topic, webhook and event ids, trigger
    # time): JSON, never used to decide what the event does.
    hints: str | None
    detail: str | None = None
    body_z: bytes | None = None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> RawEvent:
        """From a low-level (typed) item, as GetItem and the stream give it."""

        def text(name: str) -> str | None:
            value = item.get(name)
            return value.get("S") if isinstance(value, dict) else None

        return cls(
            tenant=text("tenant") or "",
            source=text("source") or "",
            event_id=text("event_id") or "",
            event_type=text("event_type") or "",
            received_at=text("received_at") or "",
            status=text("status") or "",
            body=text("body"),
            archive_key=text("archive_key"),
            hints=text("hints"),
            detail=text("detail"),
            body_z=binary(item.get("body_z")),
        )


class RawEventStore:
    def __init__(
        self, table_name: str, archive_bucket: str | None = None, inline_limit: int = INLINE_LIMIT
    ) -> None:
        self.table_name = table_name
        self.archive_bucket = archive_bucket
        self.inline_limit = inline_limit

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
    ) -> bool:
        """Store the event unless it is stored already; True if this call stored it."""
        ddb = aws.client("dynamodb")
        pk = raw_pk(tenant, source, event_id)
        item: dict[str, Any] = {
            "PK": {"S": pk},
            "SK": {"S": "RAW"},
            "kind": {"S": RAW_KIND},
            "tenant": {"S": tenant},
            "source": {"S": source},
            "event_id": {"S": event_id},
            "event_type": {"S": event_type},
            "received_at": {"S": received_at},
            "status": {"S": STATUS_RECEIVED},
            "size": {"N": str(len(body))},
            "GSI2PK": {"S": keys.raw_index(tenant, source)},
            "GSI2SK": {"S": f"{received_at}#{event_id}"},
        }
        if hints:
            item["hints"] = {"S": json.dumps(hints, sort_keys=True)}
        attribute, value, stored_size = packed_attribute("body", body)
        if stored_size > self.inline_limit:
            if not self.archive_bucket:
                raise RuntimeError("body exceeds the inline limit and no archive bucket is set")
            # Check first so a duplicate writes nothing; then the archive, then the pointer, so
            # the item never points at an object that is not there.
            if self.exists(tenant, source, event_id):
                return False
            key = archive_key(tenant, source, received_at, event_id)
            aws.client("s3").put_object(
                Bucket=self.archive_bucket, Key=key, Body=body, ContentType="application/json"
            )
            item["archive_key"] = {"S": key}
        else:
            item[attribute] = value
        try:
            ddb.put_item(
                TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(PK)"
            )
        except ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def exists(self, tenant: str, source: str, event_id: str) -> bool:
        answer = aws.client("dynamodb").get_item(
            TableName=self.table_name,
            ProjectionExpression="PK",
            Key={"PK": {"S": raw_pk(tenant, source, event_id)}, "SK": {"S": "RAW"}},
        )
        return "Item" in answer

    def get(self, tenant: str, source: str, event_id: str) -> RawEvent | None:
        answer = aws.client("dynamodb").get_item(
            TableName=self.table_name,
            ConsistentRead=True,
            Key={"PK": {"S": raw_pk(tenant, source, event_id)}, "SK": {"S": "RAW"}},
        )
        return RawEvent.from_item(answer["Item"]) if "Item" in answer else None

    def body_of(self, event: RawEvent) -> bytes:
        if event.body_z is not None:
            return zlib.decompress(event.body_z)
        if event.body is not None:
            return event.body.encode("utf-8")
        if event.archive_key and self.archive_bucket:
            answer = aws.client("s3").get_object(Bucket=self.archive_bucket, Key=event.archive_key)
            data: bytes = answer["Body"].read()
            return data
        raise LookupError(f"raw event {event.event_id} has neither a body nor an archive key")

    def mark(self, event: RawEvent, status: str, detail: str | None = None) -> None:
        names = {"#s": "status"}
        values: dict[str, Any] = {":s": {"S": status}}
        expression = "SET #s = :s"
        if detail:
            expression += ", detail = :d"
            values[":d"] = {"S": detail[:1000]}
        aws.client("dynamodb").update_item(
            TableName=self.table_name,
            Key={
                "PK": {"S": raw_pk(event.tenant, event.source, event.event_id)},
                "SK": {"S": "RAW"},
            },
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def since(self, tenant: str, source: str, since: str) -> Iterator[RawEvent]:
        """Stored events of a tenant and source received at or after ``since`` (ISO 8601)."""
        paginator = aws.client("dynamodb").get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            IndexName="ByStatus",
            KeyConditionExpression="GSI2PK = :pk AND GSI2SK >= :since",
            ExpressionAttributeValues={
                ":pk": {"S": keys.raw_index(tenant, source)},
                ":since": {"S": since},
            },
            ProjectionExpression="PK, SK",
        ):
            # The index keeps no bodies (``keys.Index.projected``): read the page's items whole.
            wanted = [{"PK": i["PK"], "SK": i["SK"]} for i in page["Items"]]
            read = {i["PK"]["S"]: i for i in aws.batch_get(self.table_name, wanted)}
            for key in wanted:
                if key["PK"]["S"] in read:
                    yield RawEvent.from_item(read[key["PK"]["S"]])
