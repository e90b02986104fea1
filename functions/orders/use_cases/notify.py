"""Telling the customer (or the client team) about an order: once per order and kind, and never
failing the lifecycle. SES has no idempotency key, so "once" is the notification log's; a failed
send is recorded as failed and tried again the next time the same step runs (the mailer's own
client retries transient errors)."""

from __future__ import annotations

from typing import Any

from functions.orders.domain import order_context
from functions.orders.ports import Ports
from shared.observability import logger
from shared.order_aggregate import OrderState
from shared.tenants import TenantSettings


def notify(
    ports: Ports,
    kind: str,
    state: OrderState,
    tenant: TenantSettings,
    to: list[str],
    extra: dict[str, Any] | None = None,
    sender: str | None = None,
    once_as: str | None = None,
) -> str | None:
    """Render and send ``kind`` unless the order was sent it already; the message id, or None
    (nobody to send to, sent before, or the send failed and was recorded). ``once_as`` names
    what is sent once when an order may be sent a kind more than once (one per return, one per
    carrier scan about one parcel); by default, once per order and kind."""
    recipients = [r for r in to if r]
    once = once_as or kind
    if not recipients or ports.notifications.sent(tenant.id, state.order_id, once):
        return None
    # The templates (jinja2, babel) load on the first e-mail: steps that send none skip them.
    from shared.notify.render import EmailKind, render

    try:
        email = render(
            EmailKind(kind),
            {**order_context(state), **(extra or {})},
            tenant,
            recipients,
            sender=sender,
        )
        message_id = str(ports.mailer.send(email, f"{tenant.id}:{state.order_id}:{once}"))
    except Exception as failure:  # recorded; a notification must never stop the order
        logger.error("notification failed", extra={"kind": kind, "error": str(failure)})
        ports.notifications.record(
            tenant.id, state.order_id, once, "failed", "", str(failure)[:300]
        )
        return None
    ports.notifications.record(tenant.id, state.order_id, once, "sent", message_id, email.subject)
    return message_id


def customer_of(state: OrderState) -> list[str]:
    return [state.order.customer.email or ""] if state.order else []
