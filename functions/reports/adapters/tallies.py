"""``DayTallies``: each local day's tally as one item, ``T#<t>#REPORTDAY`` / ``<day>``, and
each ended month's as ``T#<t>#REPORTMONTH`` / ``<yyyy-mm>``, their JSON compressed (a day's
products and vendors compress about tenfold, and reads are billed per 4 KB): a month is one
query of its days, a year one query of 12 months."""

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
        self._put(tenant, keys.report_days_pk(tenant), keys.report_day_sk(day), "day", tally)

    def save_month(self, tenant: str, month: date, tally: Tally) -> None:
        self._put(
            tenant, keys.report_months_pk(tenant), keys.report_month_sk(month), "month", tally
        )

    def _put(self, tenant: str, pk: str, sk: str, span: str, tally: Tally) -> None:
        body = zlib.compress(tally.model_dump_json(exclude_defaults=True).encode(), 6)
        aws.client("dynamodb").put_item(
            TableName=self.table_name,
            Item={
                "PK": {"S": pk},
                "SK": {"S": sk},
                "kind": {"S": f"report_{span}"},
                "tally": {"B": body},
                "tallied_at": {"S": self.clock.now().isoformat()},
                **self.retention.attribute(tenant),
            },
        )

    def between(self, tenant: str, first: date, last: date) -> Iterator[tuple[date, Tally]]:
        for sk, tally in self._range(
            keys.report_days_pk(tenant), keys.report_day_sk(first), keys.report_day_sk(last)
        ):
            yield date.fromisoformat(sk), tally

    def months(self, tenant: str, first: date, last: date) -> Iterator[tuple[date, Tally]]:
        for sk, tally in self._range(
            keys.report_months_pk(tenant), keys.report_month_sk(first), keys.report_month_sk(last)
        ):
            yield date.fromisoformat(f"{sk}-01"), tally

    def _range(self, pk: str, first: str, last: str) -> Iterator[tuple[str, Tally]]:
        paginator = aws.client("dynamodb").get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :a AND :b",
            ExpressionAttributeValues={":pk": {"S": pk}, ":a": {"S": first}, ":b": {"S": last}},
            ProjectionExpression="SK, tally",
        ):
            for item in page["Items"]:
                yield (
                    item["SK"]["S"],
                    Tally.model_validate_json(zlib.decompress(item["tally"]["B"])),
                )
