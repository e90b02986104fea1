"""``DayTallies``: each local day's tally as one item, ``T#<t>#REPORTDAY`` / ``<day>``, its
JSON compressed (a day's products and vendors compress about tenfold, and reads are billed
per 4 KB): a year is one query of 365 small items."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import date

from functions.reports.domain.tally import Tally
from shared import aws, keys
from shared.clock import SYSTEM_CLOCK, Clock
from shared.retention import Retention, table_retention


class DynamoDayTallies:
    def __init__(
        self, table_name: str, clock: Clock = SYSTEM_CLOCK, retention: Retention | None = None
    ) -> None:
        self.table_name = table_name
        self.clock = clock
        self.retention = retention or table_retention(table_name, clock)

    def save(self, tenant: str, day: date, tally: Tally) -> None:
        body = zlib.compress(tally.model_dump_json(exclude_defaults=True).encode(), 6)
        aws.client("dynamodb").put_item(
            TableName=self.table_name,
            Item={
                "PK": {"S": keys.report_days_pk(tenant)},
                "SK": {"S": keys.report_day_sk(day)},
                "kind": {"S": "report_day"},
                "tally": {"B": body},
                "tallied_at": {"S": self.clock.now().isoformat()},
                **self.retention.attribute(tenant),
            },
        )

    def between(self, tenant: str, first: date, last: date) -> Iterator[tuple[date, Tally]]:
        paginator = aws.client("dynamodb").get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :a AND :b",
            ExpressionAttributeValues={
                ":pk": {"S": keys.report_days_pk(tenant)},
                ":a": {"S": keys.report_day_sk(first)},
                ":b": {"S": keys.report_day_sk(last)},
            },
            ProjectionExpression="SK, tally",
        ):
            for item in page["Items"]:
                day = date.fromisoformat(item["SK"]["S"])
                yield day, Tally.model_validate_json(zlib.decompress(item["tally"]["B"]))
