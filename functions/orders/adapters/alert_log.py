"""The alert log of the orders context: which channels a notice went out on
(``shared.alerts.DynamoAlertLog``), and, for a notice about an order, an entry on the order's
timeline when its team's e-mail went (or the notice was held for the team's digest), so
``ecomops orders show`` tells what the team was told."""

from __future__ import annotations

from functions.orders.ports import NotificationLog
from shared.alerts import DIGEST_MESSAGE, EMAIL, AlertLog
from shared.notices import Notice


class OrderAlertLog:
    def __init__(self, alerts: AlertLog, notifications: NotificationLog) -> None:
        self.alerts = alerts
        self.notifications = notifications

    def channels(self, notice: Notice) -> set[str]:
        return self.alerts.channels(notice)

    def record(self, notice: Notice, channel: str, message_id: str) -> None:
        self.alerts.record(notice, channel, message_id)
        if channel == EMAIL and notice.tenant and notice.order_id:
            held = message_id.startswith(DIGEST_MESSAGE)
            self.notifications.record(
                notice.tenant,
                notice.order_id,
                f"notice:{notice.kind}",
                "held" if held else "sent",
                message_id,
                notice.headline,
            )
