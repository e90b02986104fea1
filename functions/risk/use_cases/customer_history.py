"""Filing what screening later reads about a customer: fraud decisions, refunds, chargebacks.

Light on purpose: the processor and the lifecycle file history without loading the rule
engine."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from functions.risk.domain.customers import customer_key, outcome_facts
from shared.event_parts import OrderPlaced
from shared.order_aggregate import OrderState

if TYPE_CHECKING:
    from functions.risk.ports import HistoryPort


def record_fraud_decision(history: HistoryPort, order: OrderPlaced, at: datetime) -> None:
    """A block or a reviewer's rejection, in the customer's history from ``at``."""
    history.record(order.tenant, customer_key(order), at, "fraud_decision", order.order_id)


def record_outcomes(history: HistoryPort, state: OrderState) -> int:
    """The order's refunds and chargebacks, in its customer's history (idempotent)."""
    written = 0
    for fact in outcome_facts(state):
        history.record(fact.tenant, fact.who, fact.at, fact.kind, fact.ref, fact.amount)
        written += 1
    return written
