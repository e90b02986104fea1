"""Which e-mails an order was sent, in the table: ``NOTIFY#<kind>`` beside the order, and a
timeline entry per e-mail sent (``shared.keys``)."""

from __future__ import annotations

from shared import aws, keys
from shared.clock import SYSTEM_CLOCK, Clock


class DynamoNotificationLog:
    def __init__(self, table: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.table = table
        self.clock = clock

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
            },
        )
        if status in ("sent", "held"):
            ddb.put_item(
                TableName=self.table,
                Item={
                    "PK": pk,
                    "SK": {"S": keys.timeline_sk(now, "notify", kind)},
                    "kind": {"S": "timeline"},
                    "tenant": {"S": tenant},
                    "order_id": {"S": order_id},
                    "event_kind": {"S": "NotificationSent"},
                    "source": {"S": "notify"},
                    "event_id": {"S": message_id or kind},
                    "occurred_at": {"S": now},
                    "summary": {
                        "S": f"e-mail {kind}: {summary}"
                        if status == "sent"
                        else f"held for the team's digest {kind}: {summary}"
                    },
                    "event": {"S": "{}"},
                },
            )
