"""Which e-mails an order was sent, in the table: ``NOTIFY#<kind>`` beside the order, and a
timeline entry per e-mail sent (``shared.keys``). Both are kept as long as the order's other
records (``shared.retention``)."""

from __future__ import annotations

from shared import aws, keys
from shared.clock import SYSTEM_CLOCK, Clock
from shared.retention import Retention, table_retention


class DynamoNotificationLog:
    def __init__(
        self, table: str, clock: Clock = SYSTEM_CLOCK, retention: Retention | None = None
    ) -> None:
        self.table = table
        self.clock = clock
        self.retention = retention or table_retention(table, clock)

    def sent(self, tenant: str, order_id: str, kind: str) -> bool:
        item = (
            aws.client("dynamodb")
            .get_item(
                TableName=self.table,
                ConsistentRead=True,
                Key={
                    "PK": {"S": keys.order_pk(tenant, order_id)},
                    "SK": {"S": keys.notify_sk(kind)},
                },
            )
            .get("Item")
        )
        return bool(item) and item["status"]["S"] == "sent"

    def record(
        self, tenant: str, order_id: str, kind: str, status: str, message_id: str, summary: str
    ) -> None:
        now = self.clock.now().isoformat()
        pk = {"S": keys.order_pk(tenant, order_id)}
        kept = self.retention.attribute(tenant)
        ddb = aws.client("dynamodb")
        ddb.put_item(
            TableName=self.table,
            Item={
                "PK": pk,
                "SK": {"S": keys.notify_sk(kind)},
                "kind": {"S": "notification"},
                "status": {"S": status},
                "message_id": {"S": message_id},
                "at": {"S": now},
                **kept,
            },
        )
        if status in ("sent", "held"):
            # The entry's key names the e-mail's kind where an event's names the event: the
            # message id is kept beside it (``shared.order_store.timeline_fields``).
            ddb.put_item(
                TableName=self.table,
                Item={
                    "PK": pk,
                    "SK": {"S": keys.timeline_sk(now, "notify", kind)},
                    "kind": {"S": "timeline"},
                    "event_kind": {"S": "NotificationSent"},
                    "event_id": {"S": message_id or kind},
                    "summary": {
                        "S": f"e-mail {kind}: {summary}"
                        if status == "sent"
                        else f"held for the team's digest {kind}: {summary}"
                    },
                    **kept,
                },
            )
