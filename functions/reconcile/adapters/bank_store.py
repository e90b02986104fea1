"""Bank statement lines and the files they came from, in the single table.

- ``T#<t>#BANK#<booking date>`` / ``L#<account>#<line id>``: one normalised line. The line id
  is stable (statement and position), so the same file dropped twice writes the same items
  again and adds nothing, while two identical payments at two positions stay two. One partition
  per booking day makes "the lines around a payout's arrival date" a few key-range queries.
- ``T#<t>#BANKFILE#<sha256>`` / ``FILE``: what was received (key, format, counts, totals, the
  statements' control checks) and the quarantined lines with their line numbers and reasons;
  indexed as ``T#<t>#BANKFILES`` by arrival time for the operators' list.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from typing import Any

from functions.reconcile.adapters.codec import json_default
from functions.reconcile.domain.bank.model import BankLine, SourcePosition
from shared import aws, keys
from shared.clock import SYSTEM_CLOCK, Clock
from shared.retention import Retention, table_retention


def line_to_json(line: BankLine) -> str:
    return json.dumps(dataclasses.asdict(line), default=json_default, sort_keys=True)


def line_from_json(text: str) -> BankLine:
    data = json.loads(text)
    source = SourcePosition(**data.pop("source"))
    data["booking_date"] = date.fromisoformat(data["booking_date"])
    if data.get("value_date"):
        data["value_date"] = date.fromisoformat(data["value_date"])
    return BankLine(source=source, **data)


def day_pk(tenant: str, day: date) -> str:
    return keys.bank_day_pk(tenant, day)


def file_pk(tenant: str, sha256: str) -> str:
    return keys.bank_file_pk(tenant, sha256)


class BankStore:
    def __init__(
        self, table_name: str, clock: Clock = SYSTEM_CLOCK, retention: Retention | None = None
    ) -> None:
        self.table_name = table_name
        self.clock = clock
        # Bank files and lines are kept the tenant's retention period from when they landed.
        self.retention = retention or table_retention(table_name, clock)

    def file_record(self, tenant: str, sha256: str) -> dict[str, Any] | None:
        item = (
            aws.client("dynamodb")
            .get_item(
                TableName=self.table_name,
                Key={"PK": {"S": file_pk(tenant, sha256)}, "SK": {"S": "FILE"}},
                ConsistentRead=True,
            )
            .get("Item")
        )
        return json.loads(item["record"]["S"]) if item else None

    def put_lines(self, lines: Iterable[BankLine]) -> int:
        # Written a batch at a time as the lines come: a bank file's lines are never all held.
        batch: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for line in lines:
            key = (day_pk(line.tenant, line.booking_date), f"L#{line.account}#{line.line_id}")
            if key in seen:  # one batch may not name an item twice
                continue
            seen.add(key)
            batch.append(
                {
                    "PutRequest": {
                        "Item": {
                            "PK": {"S": key[0]},
                            "SK": {"S": key[1]},
                            "kind": {"S": "bank_line"},
                            "tenant": {"S": line.tenant},
                            "line": {"S": line_to_json(line)},
                            **self.retention.attribute(line.tenant),
                        }
                    }
                }
            )
            if len(batch) == aws.BATCH_WRITE_LIMIT:
                aws.batch_write(self.table_name, batch)
                batch.clear()
        aws.batch_write(self.table_name, batch)
        return len(seen)

    def put_file_record(self, tenant: str, sha256: str, key: str, record: dict[str, Any]) -> None:
        now = self.clock.now().isoformat(timespec="seconds")
        document = {**record, "tenant": tenant, "file_sha256": sha256, "key": key}
        aws.client("dynamodb").put_item(
            TableName=self.table_name,
            Item={
                "PK": {"S": file_pk(tenant, sha256)},
                "SK": {"S": "FILE"},
                "kind": {"S": "bank_file"},
                "tenant": {"S": tenant},
                "status": {"S": str(record.get("status", ""))},
                "record": {"S": json.dumps(document, default=json_default, sort_keys=True)},
                "GSI2PK": {"S": keys.bank_files_index(tenant)},
                "GSI2SK": {"S": f"{now}#{sha256}"},
                **self.retention.attribute(tenant),
            },
        )

    def note_duplicate(self, tenant: str, sha256: str, key: str, first_key: str) -> None:
        """A later drop of a file already stored: listed with the files, nothing else."""
        now = self.clock.now().isoformat(timespec="seconds")
        record = {"status": "duplicate", "key": key, "first_key": first_key, "lines": 0}
        aws.client("dynamodb").put_item(
            TableName=self.table_name,
            Item={
                "PK": {"S": file_pk(tenant, sha256)},
                "SK": {"S": f"DROP#{key}"},
                "kind": {"S": "bank_file_drop"},
                "tenant": {"S": tenant},
                "record": {"S": json.dumps(record, sort_keys=True)},
                "GSI2PK": {"S": keys.bank_files_index(tenant)},
                "GSI2SK": {"S": f"{now}#{sha256}#{key}"},
                **self.retention.attribute(tenant),
            },
        )

    def files(self, tenant: str, limit: int = 50) -> list[dict[str, Any]]:
        """The latest files received (and re-sent copies), newest first."""
        answer = aws.client("dynamodb").query(
            TableName=self.table_name,
            IndexName="ByStatus",
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": {"S": keys.bank_files_index(tenant)}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [
            {**json.loads(item["record"]["S"]), "received": item["GSI2SK"]["S"].split("#")[0]}
            for item in answer["Items"]
        ]

    def lines_between(self, tenant: str, first: date, last: date) -> Iterator[BankLine]:
        """Every line booked from ``first`` to ``last`` (inclusive), one query per day."""
        client = aws.client("dynamodb")
        paginator = client.get_paginator("query")
        day = first
        while day <= last:
            for page in paginator.paginate(
                TableName=self.table_name,
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": day_pk(tenant, day)}},
                ProjectionExpression="line",
            ):
                for item in page["Items"]:
                    yield line_from_json(item["line"]["S"])
            day += timedelta(days=1)
