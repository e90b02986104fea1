"""Vendors told what happened to their lines (docs/payouts.md, "Vendors are told"): an e-mail
to each vendor of a confirmed order with what to pack and ship, and one for each cancellation,
return or refund that touches its lines.

Each is sent once per order, event and vendor: the orders context's notification log (beside
the order, where the customer's e-mails are kept once too) says what was sent, and the mailer
carries the same key. Nothing here ever raises: a vendor without an address, a template or a
mail that fails is logged, recorded as failed and told to operations (``VendorNotTold``); the
order's step, and the ledger's entries beside it, go on. The hooks call these beside the
ledger's flows (``composition.VendorLedgerHooks``) so that neither can undo the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from functions.payouts.domain.postings import SaleLine
from functions.payouts.domain.vendor_news import (
    News,
    VendorNews,
    cancellation_news,
    order_news,
    refund_news,
)
from functions.payouts.domain.vendors import Vendor
from functions.payouts.ports import Ports
from functions.payouts.use_cases.flows import (
    RETURN_REFUND_PREFIX,
    allocated_lines,
    refunded_lines,
    sold_lines,
)
from shared.notices.payouts import VendorNotTold
from shared.observability import logger
from shared.order_aggregate import OrderState
from shared.tenants import TenantSettings

TEMPLATES = {
    News.ORDER: "vendor_order",
    News.CANCELLED: "vendor_order_change",
    News.RETURNED: "vendor_order_change",
    News.REFUNDED: "vendor_order_change",
}
FALLBACK_SENDER = "Ecom OPS <ops@ecomops.example>"


def tell_of_order(ports: Ports, tenant: TenantSettings, state: OrderState) -> int:
    """The order is confirmed: each vendor gets its lines and where to ship them. Returns how
    many e-mails were sent now (none when sent before)."""
    return _tell(ports, tenant, state, "order", lambda: _order(ports, tenant, state))


def tell_of_cancellation(ports: Ports, tenant: TenantSettings, state: OrderState) -> int:
    """The order is cancelled: each vendor that was told of the order hears its lines are off
    (a vendor never told of the order — cancelled before its confirmation — hears nothing)."""
    return _tell(ports, tenant, state, "cancelled", lambda: _cancelled(ports, tenant, state))


def tell_of_refund(
    ports: Ports,
    tenant: TenantSettings,
    state: OrderState,
    refund_id: str,
    amount: int,
    currency: str,
    line_ids: Sequence[str] | None = None,
) -> int:
    """A refund (or a return's refund) completed: each vendor whose lines it touches (those
    asked for, ``line_ids``; all of the order's for a refund by amount) hears which and how
    much. A cancelled order's refund is not news: the cancellation was."""
    return _tell(
        ports,
        tenant,
        state,
        refund_id,
        lambda: _refund(ports, tenant, state, refund_id, amount, currency, line_ids),
    )


# -- what each vendor is told --------------------------------------------------------------------


def _order(ports: Ports, tenant: TenantSettings, state: OrderState) -> list[VendorNews]:
    assert state.order is not None
    return order_news(state.order, allocated_lines(ports, tenant, state))


def _told(ports: Ports, tenant: TenantSettings, state: OrderState, vendor: str, news: News) -> bool:
    assert ports.notifications is not None
    once = VendorNews(vendor, news, ()).once
    return ports.notifications.sent(tenant.id, state.order_id, once)


def _cancelled(ports: Ports, tenant: TenantSettings, state: OrderState) -> list[VendorNews]:
    assert state.order is not None
    news = cancellation_news(state.order, _as_sold(ports, tenant, state))
    return [n for n in news if _told(ports, tenant, state, n.vendor_id, News.ORDER)]


def _refund(
    ports: Ports,
    tenant: TenantSettings,
    state: OrderState,
    refund_id: str,
    amount: int,
    currency: str,
    line_ids: Sequence[str] | None,
) -> list[VendorNews]:
    order = state.order
    assert order is not None
    if currency != order.currency or amount <= 0:
        return []
    returned = refund_id.startswith(RETURN_REFUND_PREFIX)
    sold = refunded_lines(_as_sold(ports, tenant, state), line_ids)
    news = refund_news(order, sold, refund_id, amount, returned=returned)
    # Told only to vendors told of the order, and not once its cancellation was told: the
    # refund of a cancelled order is the customer's money back, not news to its vendors.
    return [
        n
        for n in news
        if _told(ports, tenant, state, n.vendor_id, News.ORDER)
        and not _told(ports, tenant, state, n.vendor_id, News.CANCELLED)
    ]


def _as_sold(ports: Ports, tenant: TenantSettings, state: OrderState) -> list[SaleLine]:
    """The lines as the ledger's sale posted them (what its reversals split), or, when the
    ledger has none (its write failed, or the order was never sold), as the sale would."""
    return sold_lines(ports, tenant.id, state) or allocated_lines(ports, tenant, state)


# -- sending once ----------------------------------------------------------------------------------


def _tell(
    ports: Ports,
    tenant: TenantSettings,
    state: OrderState,
    what: str,
    news: Callable[[], list[VendorNews]],
) -> int:
    if not tenant.payouts.enabled or state.order is None:
        return 0
    if ports.mailer is None or ports.notifications is None:
        return 0
    try:
        told = news()
        vendors = {n.vendor_id: ports.vendors.latest(tenant.id, n.vendor_id) for n in told}
        sent = 0
        for item in told:
            version = vendors.get(item.vendor_id)
            if version is not None and _send(ports, tenant, state, version.vendor, item):
                sent += 1
        return sent
    except Exception as failure:  # the vendors are not told; the order goes on regardless
        logger.exception("vendors not told", extra={"news": what, "order_id": state.order_id})
        _alert(ports, tenant, state.order_id, "*", what, str(failure)[:300])
        return 0


def _send(
    ports: Ports, tenant: TenantSettings, state: OrderState, vendor: Vendor, item: VendorNews
) -> bool:
    assert ports.notifications is not None and ports.mailer is not None
    once = item.once
    if ports.notifications.sent(tenant.id, state.order_id, once):
        return False
    news = f"{item.news.value} {item.event_id}".strip()
    if not vendor.emails:
        ports.notifications.record(tenant.id, state.order_id, once, "failed", "", "no e-mail")
        _alert(ports, tenant, state.order_id, vendor.vendor_id, news, "the vendor has no e-mail")
        return False
    # The templates (jinja2, babel) load on the first e-mail: steps that send none skip them.
    from shared.notify.render import RenderedEmail, brand_of, render_pair

    try:
        brand = brand_of(tenant)
        subject = _subject(item, state.order_id, brand.display_name)
        html, text = render_pair(
            TEMPLATES[item.news],
            _context(tenant, state, vendor, item),
            tenant,
            subject=subject,
            team=False,
        )
        email = RenderedEmail(
            kind=TEMPLATES[item.news],
            subject=subject,
            html=html,
            text=text,
            to=tuple(vendor.emails),
            sender=ports.sender or FALLBACK_SENDER,
            # A vendor's answer goes to the marketplace, not to the operations sender.
            reply_to=brand.support_email,
            tenant=tenant.id,
            order_id=state.order_id,
        )
        message_id = str(ports.mailer.send(email, f"{tenant.id}:{state.order_id}:{once}"))
    except Exception as failure:
        logger.error(
            "vendor e-mail failed",
            extra={"vendor": vendor.vendor_id, "news": news, "error": str(failure)},
        )
        ports.notifications.record(
            tenant.id, state.order_id, once, "failed", "", str(failure)[:300]
        )
        _alert(ports, tenant, state.order_id, vendor.vendor_id, news, str(failure)[:300])
        return False
    ports.notifications.record(tenant.id, state.order_id, once, "sent", message_id, subject)
    return True


def _alert(
    ports: Ports, tenant: TenantSettings, order_id: str, vendor_id: str, news: str, why: str
) -> None:
    try:
        ports.alerts.send(
            VendorNotTold(
                tenant=tenant.id, order_id=order_id, vendor_id=vendor_id, news=news, reason=why
            )
        )
    except Exception:
        logger.exception("the alert that a vendor was not told failed too")


def _subject(item: VendorNews, order_id: str, brand: str) -> str:
    match item.news:
        case News.ORDER:
            return f"[{brand}] New order {order_id}: please pack and ship"
        case News.CANCELLED:
            return f"[{brand}] Order {order_id} is cancelled: do not ship"
        case News.RETURNED:
            return f"[{brand}] Items of order {order_id} were returned"
        case News.REFUNDED:
            return f"[{brand}] Order {order_id} was refunded in part or whole"


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def _context(
    tenant: TenantSettings, state: OrderState, vendor: Vendor, item: VendorNews
) -> dict[str, Any]:
    order = state.order
    assert order is not None
    currency = order.currency
    address = order.shipping_address
    return {
        "news": item.news.value,
        "order_id": order.order_id,
        "order_number": order.order_number,
        "placed_at": order.occurred_at,
        "vendor_name": vendor.name,
        "refund_id": item.event_id,
        "lines": [
            {
                "name": line.name,
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": _money(line.unit_price, currency),
                "amount": _money(line.amount, currency),
                "vendor_amount": _money(line.vendor_amount, currency),
            }
            for line in item.lines
        ],
        "amount": _money(item.amount, currency),
        "vendor_amount": _money(item.vendor_amount, currency),
        "address": _address(address.model_dump()) if address is not None else None,
    }


def _address(fields: dict[str, Any]) -> Any:
    # The templates' address macro reads ``lines`` (each country's own order of the parts).
    from shared.notify.render import Address

    return Address.model_validate(fields)
