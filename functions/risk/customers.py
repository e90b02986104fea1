"""Who "the customer" is, and what was known about them: light enough for the processor to
file refunds and chargebacks without loading the screening's signal tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.events import OrderPlaced

HistoryEvent = Literal["order", "refund", "chargeback", "fraud_decision"]


@dataclass(frozen=True)
class CustomerHistory:
    orders: int = 0
    amount: int = 0
    refunds: int = 0
    chargebacks: int = 0
    fraud_decisions: int = 0


def customer_key(order: OrderPlaced) -> str:
    """Who "the customer" is for history: the shop's id, else the e-mail."""
    if order.customer.customer_id:
        return f"id:{order.customer.customer_id}"
    email = (order.customer.email or "").strip().lower()
    return f"email:{email}" if email else ""
