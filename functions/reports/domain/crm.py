"""Order history for CRM: each customer's orders, each in one class.

- ``chargeback``: the customer disputed a payment (whatever came of it);
- ``refund``: money went back (part or all of it);
- ``success``: paid, and nothing went back;
- ``failed``: a payment was attempted and failed, none succeeded;
- ``dropout``: the checkout expired, or the order was never paid (nothing attempted, or the
  order cancelled before any payment).

The classes are checked in that order: an order refunded and then disputed is a chargeback.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from functions.reports.domain.tables import csv_text, money_cell, time_cell
from shared.order_aggregate import OrderState

CrmClass = Literal["dropout", "failed", "success", "refund", "chargeback"]
CLASSES: tuple[CrmClass, ...] = ("dropout", "failed", "success", "refund", "chargeback")


def crm_class(state: OrderState) -> CrmClass:
    if state.disputes:
        return "chargeback"
    if state.refunded() > 0:
        return "refund"
    if state.successful_payments():
        return "success"
    if any(p.failed_at is not None for p in state.payments.values()):
        return "failed"
    return "dropout"


@dataclass(frozen=True)
class CrmRow:
    customer_email: str
    customer_name: str
    order_id: str
    placed_at: datetime | None
    placed_on: str
    crm_class: CrmClass
    status: str
    currency: str
    total: int | None
    paid: int
    refunded: int


def crm_row(state: OrderState, timezone: str) -> CrmRow | None:
    order = state.order
    if order is None:
        return None
    placed = state.placed_at()
    return CrmRow(
        customer_email=(order.customer.email or "").lower(),
        customer_name=order.customer.name or "",
        order_id=state.order_id,
        placed_at=placed,
        placed_on=placed.astimezone(ZoneInfo(timezone)).date().isoformat() if placed else "",
        crm_class=crm_class(state),
        status=state.status().value,
        currency=order.currency,
        total=order.total.amount,
        paid=state.paid(),
        refunded=state.refunded(),
    )


def crm_rows(states: Iterable[OrderState], timezone: str) -> list[CrmRow]:
    rows = [row for s in states if (row := crm_row(s, timezone)) is not None]
    return sorted(rows, key=lambda r: (r.customer_email, time_cell(r.placed_at), r.order_id))


HEADER = (
    "customer_email",
    "customer_name",
    "order_id",
    "placed_at",
    "placed_on",
    "class",
    "status",
    "currency",
    "total",
    "paid",
    "refunded",
)


def crm_csv(rows: Iterable[CrmRow]) -> str:
    return csv_text(
        HEADER,
        (
            (
                r.customer_email,
                r.customer_name,
                r.order_id,
                time_cell(r.placed_at),
                r.placed_on,
                r.crm_class,
                r.status,
                r.currency,
                money_cell(r.total, r.currency),
                money_cell(r.paid, r.currency),
                money_cell(r.refunded, r.currency),
            )
            for r in rows
        ),
    )


def class_counts(rows: Iterable[CrmRow]) -> dict[str, int]:
    counts = Counter(r.crm_class for r in rows)
    return {c: counts.get(c, 0) for c in CLASSES}
