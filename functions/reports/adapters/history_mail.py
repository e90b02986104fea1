"""``HistoryMail``: the slot ``T#<t>#ORDER#<o>`` / ``HISTORYMAIL`` (when the history was last
mailed: one conditional put takes it), the ``order_history`` e-mail rendered with the tenant's
branding from its customer sender, and the timeline entry."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared import aws, keys
from shared.notify.mailers import Mailer
from shared.order_aggregate import OrderState, TimelineEntry
from shared.order_store import OrderStore
from shared.tenants import TenantSettings


class DynamoHistoryMail:
    def __init__(self, table_name: str, mailer: Mailer, orders: OrderStore) -> None:
        self.table_name = table_name
        self.mailer = mailer
        self.orders = orders

    def _key(self, tenant: str, order_id: str) -> dict[str, dict[str, str]]:
        return {"PK": {"S": keys.order_pk(tenant, order_id)}, "SK": {"S": keys.HISTORY_MAIL_SK}}

    def claim(self, tenant: str, order_id: str, now: datetime, every: timedelta) -> bool:
        client = aws.client("dynamodb")
        try:
            client.put_item(
                TableName=self.table_name,
                Item={
                    **self._key(tenant, order_id),
                    "kind": {"S": "history_mail"},
                    "sent_at": {"S": now.isoformat()},
                    **self.orders.retention.attribute(tenant),
                },
                ConditionExpression="attribute_not_exists(PK) OR sent_at <= :cutoff",
                ExpressionAttributeValues={":cutoff": {"S": (now - every).isoformat()}},
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release(self, tenant: str, order_id: str, claimed_at: datetime) -> None:
        client = aws.client("dynamodb")
        try:
            client.delete_item(
                TableName=self.table_name,
                Key=self._key(tenant, order_id),
                ConditionExpression="sent_at = :mine",
                ExpressionAttributeValues={":mine": {"S": claimed_at.isoformat()}},
            )
        except client.exceptions.ConditionalCheckFailedException:
            return  # someone took the slot since: it is theirs

    def send(self, tenant: TenantSettings, order: OrderState, orders: list[OrderState]) -> str:
        from shared.notify.render import EmailKind, render

        placed = order.order
        assert placed is not None and placed.customer.email
        entries = sorted(
            (
                {
                    "order_id": s.order_id,
                    "placed_at": s.placed_at(),
                    "status": s.status().value,
                    "total": s.order.total,
                }
                for s in orders
                if s.order is not None
            ),
            key=lambda e: str(e["placed_at"]),
            reverse=True,
        )
        email = render(
            EmailKind.ORDER_HISTORY,
            {
                "customer_name": placed.customer.name,
                "customer_email": placed.customer.email,
                "orders": entries,
            },
            tenant,
            [placed.customer.email],
        )
        now = self.orders.clock.now().isoformat()
        return str(self.mailer.send(email, f"{tenant.id}:{order.order_id}:order_history:{now}"))

    def note(self, tenant: str, order_id: str, at: datetime, summary: str) -> None:
        self.orders.note(
            tenant,
            order_id,
            TimelineEntry(
                occurred_at=at,
                source="ecomops",
                event_id=f"history-mail-{at.isoformat()}",
                kind="OrderHistoryMailed",
                summary=summary,
            ),
        )
