"""Sale and refund mapping: every refund tied to its sale — the order, the lines, the payment it
went back to, our refund request and the gateway's refund, why, who or what started it, and
where the money went.

A refund is the gateway's (``PaymentFacts.refunds``, by gateway id) joined to our request
(``REFUND#<id>`` beside the order: its cause, lines and status) by the gateway id the refund
workflow recorded. A gateway refund with no request of ours was made outside Ecom OPS (the
gateway's dashboard, the shop); a request the gateway never took (refused, failed before it)
is listed with its status and failure. A refund is dated the day the gateway reported its
latest status, in the tenant's zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from functions.reports.domain.tables import csv_text, money_cell, time_cell
from functions.reports.domain.tally import first_paid_at
from shared.money import Money
from shared.order_aggregate import OrderState, PaymentFacts
from shared.refund_causes import RefundCause

# Who or what started a refund, by its cause.
STARTED_BY: dict[RefundCause, str] = {
    RefundCause.CUSTOMER_REQUEST: "customer",
    RefundCause.DUPLICATE_CHARGE: "operator",
    RefundCause.FRAUD_REPORTED: "operator",
    RefundCause.RETURN: "return",
    RefundCause.SHOP_CANCELLED: "operator",
    RefundCause.NOT_PAID: "lifecycle",
    RefundCause.SCREENING_BLOCK: "screening",
    RefundCause.REVIEW_REJECTED: "screening",
    RefundCause.REVIEW_TIMED_OUT: "screening",
    RefundCause.RECONCILIATION_DUPLICATE: "reconciliation",
    RefundCause.RECONCILIATION_CANCELLED: "reconciliation",
    RefundCause.RECONCILIATION_NO_ORDER: "reconciliation",
    RefundCause.PAID_AFTER_CANCELLATION: "lifecycle",
}
OUTSIDE = "outside Ecom OPS (gateway or shop)"


@dataclass(frozen=True)
class RefundRow:
    order_id: str
    sold_on: date | None
    sale_total: Money | None
    payment_id: str
    paid_with: str
    refund_id: str  # ours, or "" when the refund was made outside
    gateway_refund_id: str
    amount: Money
    status: str
    refunded_on: date | None
    refunded_at: datetime | None
    cause: str
    started_by: str
    lines: str
    money_to: str
    failure: str


def _card(payment: PaymentFacts) -> str:
    card = payment.card.value if payment.card else {}
    if not card:
        return "payment method unknown"
    brand = str(card.get("brand") or "card").capitalize()
    wallet = f" via {card['wallet']}" if card.get("wallet") else ""
    return f"{brand} •{card.get('last4', '????')}{wallet}"


def _lines(state: OrderState, wanted: Any) -> str:
    order = state.order
    if not wanted or order is None:
        return "amount only" if not wanted else ""
    names = {line.line_id: line for line in order.lines}
    parts = []
    for entry in wanted:
        line = names.get(str(entry.get("line_id")))
        quantity = entry.get("quantity") or (line.quantity if line else 1)
        parts.append(f"{quantity} x {line.name if line else entry.get('line_id')}")
    return "; ".join(parts)


def refund_rows(
    state: OrderState, requests: Iterable[dict[str, Any]], timezone: str
) -> list[RefundRow]:
    """Every refund of the order, gateway refunds joined to our requests."""
    zone = ZoneInfo(timezone)
    order = state.order
    paid = first_paid_at(state)
    sold_on = paid.astimezone(zone).date() if paid else None
    sale_total = order.total if order else None
    requests = list(requests)
    by_gateway = {
        str(r.get("gateway_refund_id")): r for r in requests if r.get("gateway_refund_id")
    }
    rows = []
    taken: set[str] = set()
    for payment in state.payments.values():
        for gateway_id, refund in sorted(payment.refunds.items()):
            ours = by_gateway.get(gateway_id)
            if ours is not None:
                taken.add(str(ours["refund_id"]))
            rows.append(
                _row(
                    state,
                    payment,
                    sold_on,
                    sale_total,
                    zone,
                    ours,
                    gateway_id,
                    Money.of(refund.amount, payment.currency),
                    refund.status.value,
                    refund.status.at,
                    refund.failure_reason.value if refund.failure_reason else "",
                )
            )
    for ours in requests:
        if str(ours["refund_id"]) in taken:
            continue
        request = ours.get("request") or {}
        named = str(ours.get("payment_id") or request.get("payment_id"))
        paid_by: PaymentFacts | None = state.payments.get(named) or next(
            iter(state.payments.values()), None
        )
        currency = str(ours.get("currency") or (paid_by.currency if paid_by else state.currency))
        amount = int(ours.get("amount") or request.get("amount") or 0)
        failed_at = ours.get("failed_at")
        rows.append(
            _row(
                state,
                paid_by,
                sold_on,
                sale_total,
                zone,
                ours,
                "",
                Money.of(amount, currency),
                str(ours.get("status", "requested")),
                datetime.fromisoformat(str(failed_at)) if failed_at else None,
                str(ours.get("failure", "")),
            )
        )
    return rows


def _row(
    state: OrderState,
    payment: PaymentFacts | None,
    sold_on: date | None,
    sale_total: Money | None,
    zone: ZoneInfo,
    ours: dict[str, Any] | None,
    gateway_id: str,
    amount: Money,
    status: str,
    at: datetime | None,
    failure: str,
) -> RefundRow:
    request = (ours or {}).get("request") or {}
    cause_text = str((ours or {}).get("cause") or request.get("cause") or "")
    try:
        cause: RefundCause | None = RefundCause(cause_text)
    except ValueError:
        cause = None
    paid_with = _card(payment) if payment else "no payment"
    if ours is None:
        started_by, cause_label = OUTSIDE, "not recorded (made at the gateway)"
    else:
        started_by = STARTED_BY.get(cause, "operator") if cause else "operator"
        cause_label = cause.value.replace("_", " ") if cause else cause_text or "not recorded"
    money_to = (
        f"back to {paid_with} (payment {payment.payment_id})"
        if payment and status not in ("failed", "canceled")
        else "not returned"
        if status in ("failed", "canceled")
        else "unknown"
    )
    return RefundRow(
        order_id=state.order_id,
        sold_on=sold_on,
        sale_total=sale_total,
        payment_id=payment.payment_id if payment else "",
        paid_with=paid_with,
        refund_id=str(ours["refund_id"]) if ours else "",
        gateway_refund_id=gateway_id,
        amount=amount,
        status=status,
        refunded_on=at.astimezone(zone).date() if at else None,
        refunded_at=at,
        cause=cause_label,
        started_by=started_by,
        lines=_lines(state, request.get("lines")),
        money_to=money_to,
        failure=failure,
    )


HEADER = (
    "order_id",
    "sold_on",
    "sale_total",
    "currency",
    "payment_id",
    "paid_with",
    "refund_id",
    "gateway_refund_id",
    "amount",
    "status",
    "refunded_on",
    "refunded_at",
    "cause",
    "started_by",
    "lines",
    "money_to",
    "failure",
)


def refunds_csv(rows: Iterable[RefundRow]) -> str:
    return csv_text(
        HEADER,
        (
            (
                r.order_id,
                r.sold_on or "",
                money_cell(r.sale_total.amount, r.sale_total.currency) if r.sale_total else "",
                r.amount.currency,
                r.payment_id,
                r.paid_with,
                r.refund_id,
                r.gateway_refund_id,
                r.amount.decimal_text(),
                r.status,
                r.refunded_on or "",
                time_cell(r.refunded_at),
                r.cause,
                r.started_by,
                r.lines,
                r.money_to,
                r.failure,
            )
            for r in rows
        ),
    )


def in_period(rows: Iterable[RefundRow], first: date, last: date) -> list[RefundRow]:
    """Rows dated in [first, last]; a request never dated (not yet at the gateway) is kept."""
    return sorted(
        (r for r in rows if r.refunded_on is None or first <= r.refunded_on <= last),
        key=lambda r: (r.refunded_at.isoformat() if r.refunded_at else "~", r.order_id),
    )
