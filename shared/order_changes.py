"""Which orders changed, and which were cancelled, on which day: the indexes the daily
reconciliation reads beside the orders placed that day, so that a cancellation, a second charge
or a failed refund on an older order is examined again (``T#<t>#CHANGED#<day>`` /
``ORDER#<order>``), and every cancellation is checked for its refund each day of the tenant's
cancellation window (``T#<t>#CANCELLED#<day>`` / ``ORDER#<order>``; keys in ``shared.keys``).

The processor notes an order under the UTC day the source says the change happened and the UTC
day it reached us (``functions.webhooks.domain.applying.change_days``; one item when both are
the same day): a late webhook is then still seen by the next run. A cancellation (by the shop,
an operator or our lifecycle) is noted where its stage is written (``shared.lifecycle_store``),
in both indexes, under the day it was decided. Each note is one conditional put, so an order
changed a hundred times in a day is written once and a redelivered event writes nothing. The
reader takes the UTC days a tenant's local day overlaps; an order changed just outside the
local day is examined once more, which is harmless. Items carry the tenant's retention of
financial records (``shared.retention``) from the moment they are written, so a day can be
re-run as long as its records exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared import aws, keys
from shared.clock import SYSTEM_CLOCK, Clock
from shared.retention import Retention, table_retention

_KNOWN_AT_MOST = 50_000


def utc_days(start: datetime, end: datetime) -> list[date]:
    """The UTC days the half-open interval [start, end) touches."""
    first = start.astimezone(UTC).date()
    last = (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


class OrderChanges:
    def __init__(
        self, table_name: str, clock: Clock = SYSTEM_CLOCK, retention: Retention | None = None
    ) -> None:
        self.table_name = table_name
        self.retention = retention or table_retention(table_name, clock)
        # Notes this process already made or found: an order gets many events a day, and a
        # note is final once written, so only the first of them needs the (billed) put.
        self._known: set[tuple[str, str]] = set()

    def note(self, tenant: str, order_id: str, days: Iterable[date]) -> int:
        """Note ``order_id`` as changed on each of ``days``; returns how many notes are new."""
        return sum(
            self._note(tenant, keys.changed_orders_pk(tenant, day), order_id) for day in days
        )

    def note_cancelled(self, tenant: str, order_id: str, day: date) -> bool:
        """Note ``order_id`` as cancelled (and so changed) on ``day``; True if new."""
        self.note(tenant, order_id, [day])
        return self._note(tenant, keys.cancelled_orders_pk(tenant, day), order_id)

    def changed_on(self, tenant: str, days: Iterable[date]) -> Iterator[str]:
        """The ids of orders noted changed on any of ``days`` (each day one key range)."""
        for day in days:
            yield from self._noted(keys.changed_orders_pk(tenant, day))

    def cancelled_on(self, tenant: str, days: Iterable[date]) -> Iterator[str]:
        """The ids of orders cancelled on any of ``days``."""
        for day in days:
            yield from self._noted(keys.cancelled_orders_pk(tenant, day))

    def _note(self, tenant: str, pk: str, order_id: str) -> bool:
        if (pk, order_id) in self._known:
            return False
        client = aws.client("dynamodb")
        item: dict[str, Any] = {
            "PK": {"S": pk},
            "SK": {"S": keys.changed_order_sk(order_id)},
            "kind": {"S": "order_changed"},
            "order_id": {"S": order_id},
            **self.retention.attribute(tenant),
        }
        try:
            client.put_item(
                TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(PK)"
            )
        except client.exceptions.ConditionalCheckFailedException:
            self._remember(pk, order_id)
            return False
        self._remember(pk, order_id)
        return True

    def _remember(self, pk: str, order_id: str) -> None:
        # Only once the note is known to be stored: a put that failed otherwise is retried.
        if len(self._known) > _KNOWN_AT_MOST:
            self._known.clear()
        self._known.add((pk, order_id))

    def _noted(self, pk: str) -> Iterator[str]:
        paginator = aws.client("dynamodb").get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ProjectionExpression="order_id",
        ):
            for item in page["Items"]:
                yield item["order_id"]["S"]
