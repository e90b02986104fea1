"""A customer's order history, mailed on request (operator API or CLI): only ever to the
address on the order named, at most once per order per ``reports.history_email_hours`` (the
slot is one conditional write, taken before the mail and given back if the mail fails), and
noted on the order's timeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from functions.reports.ports import Ports


class HistoryRefused(ValueError):
    """The request cannot be honoured; the message says why."""


class TooSoon(HistoryRefused):
    pass


def mail_order_history(ports: Ports, tenant_id: str, order_id: str, *, by: str) -> dict[str, Any]:
    if ports.history_mail is None:
        raise HistoryRefused("order-history e-mails are not configured in this deployment")
    tenant = ports.tenant(tenant_id)
    state = ports.orders.order(tenant.id, order_id)
    if state is None or state.order is None:
        raise LookupError(f"nothing found: no order {order_id!r} for tenant {tenant.id!r}")
    email = state.order.customer.email
    if not email:
        raise HistoryRefused(f"order {order_id!r} has no customer e-mail address on file")
    now = ports.clock.now()
    every = timedelta(hours=tenant.reports.history_email_hours)
    if not ports.history_mail.claim(tenant.id, order_id, now, every):
        raise TooSoon(
            f"the order history of {order_id!r} was e-mailed less than "
            f"{tenant.reports.history_email_hours} h ago; it goes at most once in that time"
        )
    orders = [s for s in ports.orders.of_customer(tenant.id, email) if s.order is not None]
    try:
        message_id = ports.history_mail.send(tenant, state, orders)
    except Exception:
        ports.history_mail.release(tenant.id, order_id, now)
        raise
    summary = f"Order history ({len(orders)} orders) e-mailed to the customer, asked by {by}"
    ports.history_mail.note(tenant.id, order_id, now, summary)
    return {
        "order_id": order_id,
        "orders": len(orders),
        "message_id": message_id,
        "to": "the address on the order",
    }
