"""Raw webhook events: stored first, exactly once, before anything acts on them; archived.

Key: ``PK = T#<tenant>#RAW#<source>#<event id>``, ``SK = RAW``. The conditional put on that key is
the deduplication. Bodies over ``inline_limit`` go to the archive bucket first and the item
points at them. ``GSI2`` (``T#<tenant>#RAW#<source>`` by receive time) serves replays by time
and the archiver.

A body is kept as sent, byte for byte, packed when that is smaller (``shared.packed``: ``body_z``).
Webhook JSON shrinks three- to fivefold, and the raw events are most of what the table stores
and writes (each is written to the table and to the index that lists them): the cost meter's
measure (docs/cost.md).

The table keeps an event the tenant's ``retention.raw_event_days`` (its TTL, set by the front
door), the archive bucket ``RAW_EVENT_DAYS``: the hourly archiver writes each ended hour of a
tenant's events of a source as one gzipped JSON-lines object,
``raw/<tenant>/<source>/<yyyy>/<mm>/<dd>/<HH>.jsonl.gz`` (hours in UTC), never overwriting
one, and notes how far it got in ``raw/<tenant>/archived-through.json``. Processing leaves the
item as stored (``received``); only what processing could not use is marked (``ignored``,
``rejected``), for operators.
"""

from __future__ import annotations

import contextlib
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared import aws, keys
from shared.packed import binary, packed_attribute
from shared.retention import TTL_ATTRIBUTE, raw_event_expiry, received_instant

RAW_KIND = "raw_event"
INLINE_LIMIT = 100_000  # DynamoDB items stop at 400 KB; leave room for attributes

STATUS_RECEIVED = "received"  # stored; processed unless marked otherwise (no second write)
STATUS_IGNORED = "ignored"
STATUS_REJECTED = "rejected"

ARCHIVE_SUFFIX = ".jsonl.gz"
_HOUR_OBJECT = re.compile(r"/(\d{4})/(\d\d)/(\d\d)/(\d\d)\.jsonl\.gz$")


def raw_pk(tenant: str, source: str, event_id: str) -> str:
    return keys.raw_pk(tenant, source, event_id)


def archive_key(tenant: str, source: str, received_at: str, event_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._=-]", "_", event_id)
    return f"raw/{tenant}/{source}/{received_at[:10].replace('-', '/')}/{safe}.json"


def _day_prefix(tenant: str, source: str, day: datetime) -> str:
    return f"raw/{tenant}/{source}/{day:%Y/%m/%d}/"


def hour_key(tenant: str, source: str, hour: datetime) -> str:
    """The archive object of one UTC hour of a tenant's events from a source."""
    hour = hour.astimezone(UTC)
    return f"{_day_prefix(tenant, source, hour)}{hour:%H}{ARCHIVE_SUFFIX}"


def checkpoint_key(tenant: str) -> str:
    return f"raw/{tenant}/archived-through.json"


def index_bound(at: datetime) -> str:
    """``at`` as a bound on the index's ``<received_at>#<event id>`` sort keys: every event
    received at or after ``at`` sorts at or after it, every earlier one before it."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


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

    def archive_line(self, body: bytes | None) -> dict[str, Any]:
        """The event as one line of an hour's archive object: the body as text (the front door
        takes UTF-8 only; anything else would survive byte for byte as escaped surrogates), or
        the archive key of a body stored on its own."""
        line: dict[str, Any] = {
            "tenant": self.tenant,
            "source": self.source,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "received_at": self.received_at,
            "status": self.status,
        }
        for name in ("hints", "detail", "archive_key"):
            if (value := getattr(self, name)) is not None:
                line[name] = value
        if body is not None:
            line["body"] = body.decode("utf-8", "surrogateescape")
        return line

    @classmethod
    def from_archive_line(cls, line: dict[str, Any]) -> RawEvent:
        return cls(
            tenant=line["tenant"],
            source=line["source"],
            event_id=line["event_id"],
            event_type=line["event_type"],
            received_at=line["received_at"],
            status=line.get("status", STATUS_RECEIVED),
            body=line.get("body"),
            archive_key=line.get("archive_key"),
            hints=line.get("hints"),
            detail=line.get("detail"),
        )


class RawEventStore:
    def __init__(
        self, table_name: str, archive_bucket: str | None = None, inline_limit: int = INLINE_LIMIT
    ) -> None:
        self.table_name = table_name
        self.archive_bucket = archive_bucket
        self.inline_limit = inline_limit

    # -- the front door -------------------------------------------------------------------------

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
        keep_days: int | None = None,
    ) -> bool:
        """Store the event unless it is stored already; True if this call stored it. With
        ``keep_days`` the table lets it go that many days after ``received_at`` (its TTL)."""
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
        if keep_days is not None:
            expiry = raw_event_expiry(received_instant(received_at), keep_days)
            item[TTL_ATTRIBUTE] = {"N": str(expiry)}
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

    # -- processing -----------------------------------------------------------------------------

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
        if event.body is not None:  # from an archive line: any byte the sender sent, exactly
            return event.body.encode("utf-8", "surrogateescape")
        if event.archive_key and self.archive_bucket:
            answer = aws.client("s3").get_object(Bucket=self.archive_bucket, Key=event.archive_key)
            data: bytes = answer["Body"].read()
            return data
        raise LookupError(f"raw event {event.event_id} has neither a body nor an archive key")

    def mark(self, event: RawEvent, status: str, detail: str | None = None) -> None:
        """What processing could not use (``ignored``, ``rejected``), for operators. An event
        replayed from the archive after the table let it go is not written back."""
        names = {"#s": "status"}
        values: dict[str, Any] = {":s": {"S": status}}
        expression = "SET #s = :s"
        if detail:
            expression += ", detail = :d"
            values[":d"] = {"S": detail[:1000]}
        ddb = aws.client("dynamodb")
        with contextlib.suppress(ddb.exceptions.ConditionalCheckFailedException):
            ddb.update_item(
                TableName=self.table_name,
                Key={
                    "PK": {"S": raw_pk(event.tenant, event.source, event.event_id)},
                    "SK": {"S": "RAW"},
                },
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )

    # -- by receive time ------------------------------------------------------------------------

    def since(self, tenant: str, source: str, since: str) -> Iterator[RawEvent]:
        """Events of a tenant and source the table holds, received at or after ``since``
        (ISO 8601), oldest first."""
        return self._by_time(tenant, source, "GSI2SK >= :since", {":since": {"S": since}})

    def received_between(
        self, tenant: str, source: str, start: datetime, end: datetime
    ) -> Iterator[RawEvent]:
        """Events the table holds received in ``[start, end)``, oldest first."""
        return self._by_time(
            tenant,
            source,
            "GSI2SK BETWEEN :start AND :end",
            {":start": {"S": index_bound(start)}, ":end": {"S": index_bound(end)}},
        )

    def oldest_received(self, tenant: str, source: str) -> datetime | None:
        """When the oldest event of a tenant and source the table holds was received."""
        answer = aws.client("dynamodb").query(
            TableName=self.table_name,
            IndexName="ByStatus",
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.raw_index(tenant, source)}},
            ProjectionExpression="GSI2SK",
            Limit=1,
        )
        items = answer.get("Items", [])
        if not items:
            return None
        return received_instant(items[0]["GSI2SK"]["S"].split("#", 1)[0])

    def _by_time(
        self, tenant: str, source: str, condition: str, values: dict[str, Any]
    ) -> Iterator[RawEvent]:
        paginator = aws.client("dynamodb").get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            IndexName="ByStatus",
            KeyConditionExpression=f"GSI2PK = :pk AND {condition}",
            ExpressionAttributeValues={":pk": {"S": keys.raw_index(tenant, source)}, **values},
            ProjectionExpression="PK, SK",
        ):
            # The index keeps no bodies (``keys.Index.projected``): read the page's items whole.
            wanted = [{"PK": i["PK"], "SK": i["SK"]} for i in page["Items"]]
            for item in aws.batch_get_in_order(self.table_name, wanted):
                yield RawEvent.from_item(item)

    # -- the archive ----------------------------------------------------------------------------

    def archive_hour(
        self, tenant: str, source: str, hour: datetime, events: Iterable[RawEvent]
    ) -> bool:
        """Write one ended hour of events as one object, unless the hour is archived already
        (an object once written is never replaced: the table may have let some of its events
        go since). True if this call wrote it."""
        import gzip  # the archiver's and replays' only: the front door does not pay for it

        s3 = aws.client("s3")
        lines = (
            json.dumps(e.archive_line(None if e.archive_key else self.body_of(e)), sort_keys=True)
            for e in events
        )
        data = gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), 9, mtime=0)
        try:
            s3.put_object(
                Bucket=self._bucket(),
                Key=hour_key(tenant, source, hour),
                Body=data,
                ContentType="application/x-ndjson",
                IfNoneMatch="*",
            )
        except s3.exceptions.ClientError as error:
            # 412: archived already; 409: another run is writing the same hour just now.
            code = error.response.get("Error", {}).get("Code")
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                return False
            raise
        return True

    def archived_through(self, tenant: str) -> datetime | None:
        """Every hour before this instant of the tenant's events is archived (None: nothing
        archived yet)."""
        s3 = aws.client("s3")
        try:
            answer = s3.get_object(Bucket=self._bucket(), Key=checkpoint_key(tenant))
        except s3.exceptions.NoSuchKey:
            return None
        return received_instant(json.loads(answer["Body"].read())["through"])

    def mark_archived_through(self, tenant: str, through: datetime) -> None:
        aws.client("s3").put_object(
            Bucket=self._bucket(),
            Key=checkpoint_key(tenant),
            Body=json.dumps({"through": through.astimezone(UTC).isoformat()}).encode(),
            ContentType="application/json",
        )

    def archived(
        self, tenant: str, source: str, since: datetime, before: datetime
    ) -> Iterator[RawEvent]:
        """Archived events of a tenant and source received in ``[since, before)``, oldest
        first. Keys sort by time, so one listing from ``since``'s day serves the window (a page
        is 1,000 hours of a source)."""
        import gzip

        s3 = aws.client("s3")
        bucket = self._bucket()
        first_hour = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        pages = s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket,
            Prefix=f"raw/{tenant}/{source}/",
            StartAfter=_day_prefix(tenant, source, first_hour),
        )
        for page in pages:
            for item in page.get("Contents", []):
                found = _HOUR_OBJECT.search(item["Key"])
                if not found:
                    continue  # a body the front door archived on its own
                year, month, day, hour_of_day = (int(part) for part in found.groups())
                hour = datetime(year, month, day, hour_of_day, tzinfo=UTC)
                if hour >= before:
                    return
                if hour < first_hour:
                    continue
                body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                events = [
                    RawEvent.from_archive_line(json.loads(line))
                    for line in gzip.decompress(body).splitlines()
                    if line
                ]
                for event in sorted(events, key=lambda e: e.received_at):
                    if since <= received_instant(event.received_at) < before:
                        yield event

    def _bucket(self) -> str:
        if not self.archive_bucket:
            raise RuntimeError("no archive bucket is set")
        return self.archive_bucket
