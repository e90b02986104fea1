"""Routine notices waiting for their team's digest (``shared.alerts`` holds them, the reports
function's hourly tick mails and lets them go: ``functions/reports/use_cases/digest.py``).

Apart from ``shared.alerts`` so that the tick, which looks for held notices every hour, loads
neither the notice models nor the alerting: most ticks find nothing held.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from shared.clock import SYSTEM_CLOCK, Clock
from shared.observability import logger

if TYPE_CHECKING:
    from shared.notices import Notice


@dataclass(frozen=True)
class HeldNotice:
    """A routine notice's line, waiting for its team's digest."""

    key: str  # where it is kept (the item's sort key)
    team: str
    held_at: datetime
    line: Mapping[str, Any]  # ``shared.alerts.digest_line``


class NoticeDigest(Protocol):
    """Routine notices waiting for their team's digest, per tenant."""

    def hold(self, notice: Notice, line: Mapping[str, Any]) -> str:
        """Keep ``line`` for the next digest of the notice's team; returns where it is kept."""
        ...

    def held(self, tenant: str, before: datetime) -> list[HeldNotice]:
        """Every team's notices held before ``before``, oldest first."""
        ...

    def release(self, tenant: str, held: Sequence[HeldNotice]) -> None:
        """Forget notices a digest has carried."""
        ...


class DynamoNoticeDigest:
    """``NoticeDigest`` in the table: one item per held notice under the tenant's digest
    partition (``keys.notice_held``), sorted by time, so what a tick sends is one query. An
    item no digest carries (the reports function stopped for weeks) expires after ``keep``; the
    notice is on SNS and in the alert log all the same."""

    def __init__(
        self, table: str, clock: Clock = SYSTEM_CLOCK, keep: timedelta = timedelta(days=30)
    ) -> None:
        self.table = table
        self.clock = clock
        self.keep = keep

    def hold(self, notice: Notice, line: Mapping[str, Any]) -> str:
        from shared import aws, keys

        if notice.tenant is None:
            raise ValueError("a notice about no tenant has no team to hold it for")
        now = self.clock.now().astimezone(UTC)
        pk, sk = keys.notice_held(notice.tenant, _stamp(now), notice.identity)
        aws.client("dynamodb").put_item(
            TableName=self.table,
            Item={
                "PK": {"S": pk},
                "SK": {"S": sk},
                "kind": {"S": "notice_held"},
                "notice": {"S": notice.kind},
                "team": {"S": str(notice.team)},
                "held_at": {"S": now.isoformat()},
                "line": {"S": json.dumps(line, separators=(",", ":"))},
                keys.TABLE.ttl_attribute: {"N": str(int((now + self.keep).timestamp()))},
            },
        )
        return sk

    def held(self, tenant: str, before: datetime) -> list[HeldNotice]:
        from shared import aws, keys

        pk, _ = keys.notice_held(tenant, "", "")
        query: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND SK < :before",
            "ExpressionAttributeValues": {
                ":pk": {"S": pk},
                ":before": {"S": _stamp(before)},
            },
            "ConsistentRead": True,
        }
        found: list[HeldNotice] = []
        client = aws.client("dynamodb")
        while True:
            page = client.query(**query)
            for item in page.get("Items", []):
                found.append(
                    HeldNotice(
                        key=item["SK"]["S"],
                        team=item["team"]["S"],
                        held_at=datetime.fromisoformat(item["held_at"]["S"]),
                        line=json.loads(item["line"]["S"]),
                    )
                )
            if "LastEvaluatedKey" not in page:
                return found
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def release(self, tenant: str, held: Sequence[HeldNotice]) -> None:
        from shared import aws, keys

        pk, _ = keys.notice_held(tenant, "", "")
        left = aws.batch_write(
            self.table,
            [{"DeleteRequest": {"Key": {"PK": {"S": pk}, "SK": {"S": h.key}}}} for h in held],
            attempts=5,
        )
        if left:  # carried again by the next digest: a repeat, never a loss
            logger.warning("held notices not released", extra={"left": len(left)})


def _stamp(at: datetime) -> str:
    # One fixed width in UTC, so that sort keys order as the times do.
    return at.astimezone(UTC).isoformat(timespec="milliseconds")
