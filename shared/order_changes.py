"""Which orders changed on which day: the index the daily reconciliation reads beside the orders
placed that day, so that a cancellation, a second charge or a failed refund on an older order
is examined again (``T#<t>#CHANGED#<day>`` / ``ORDER#<order>``, ``shared.keys``).

The processor notes an order under the UTC day the source says the change happened and the UTC
day it reached us (``functions.webhooks.domain.applying.change_days``; one item when both are
the same day): a late webhook is then still seen by
the next run. Each note is one conditional put, so an order changed a hundred times in a day is
written once and a redelivered event writes nothing. The reader takes the UTC days a tenant's
local day overlaps; an order changed just outside the local day is examined once more, which is
harmless. Items expire after ``RETENTION_DAYS``, longer than any audit period we keep financial
records for, so a day can be re-run as long as its records exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from shared import aws, keys

# Ten years: longer than the seven years raw webhooks (and the records made from them) are
# kept for audits.
RETENTION_DAYS = 3_660


def utc_days(start: datetime, end: datetime) -> list[date]:
    """The UTC days the half-open interval [start, end) touches."""
    first = start.astimezone(UTC).date()
    last = (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class OrderChanges:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def note(self, tenant: str, order_id: str, days: Iterable[date]) -> int:
        """Note ``order_id`` as changed on each of ``days``; returns how many notes are new."""
        client = aws.client("dynamodb")
        written = 0
        for day in days:
            expires = datetime.combine(day, time.min, UTC) + timedelta(days=RETENTION_DAYS)
            item: dict[str, Any] = {
                "PK": {"S": keys.changed_orders_pk(tenant, day)},
                "SK": {"S": keys.changed_order_sk(order_id)},
                "kind": {"S": "order_changed"},
                "order_id": {"S": order_id},
                "expires_at": {"N": str(int(expires.timestamp()))},
            }
            try:
                client.put_item(
                    TableName=self.table_name,
                    Item=item,
                    ConditionExpression="attribute_not_exists(PK)",
                )
            except client.exceptions.ConditionalCheckFailedException:
                continue
            written += 1
        return written

    def changed_on(self, tenant: str, days: Iterable[date]) -> Iterator[str]:
        """The ids of orders noted on any of ``days`` (each day one key range)."""
        paginator = aws.client("dynamodb").get_paginator("query")
        for day in days:
            for page in paginator.paginate(
                TableName=self.table_name,
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": keys.changed_orders_pk(tenant, day)}},
                ProjectionExpression="order_id",
            ):
                for item in page["Items"]:
                    yield item["order_id"]["S"]
