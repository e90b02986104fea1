"""Who "the customer" is, and what was known about them: light enough for the processor to
file refunds and chargebacks without loading the screening's signal tables.

A customer's history is timed facts (an order, a refund, a chargeback, a fraud decision), and
a screening sees only the facts from before the screened order's time. Which time each fact
carries (the rule is in ``shared.clock``):

- an order: its ``occurred_at`` (when the shop says it was placed);
- a refund: when the gateway says it was created; a chargeback: when the dispute was opened;
- a fraud decision: when we took it (the lifecycle's clock at the block or the rejection),
  never earlier than the order it judges.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from shared.event_parts import OrderPlaced
from shared.order_aggregate import OrderState

HistoryEvent = Literal["order", "refund", "chargeback", "fraud_decision"]


@dataclass(frozen=True)
class CustomerHistory:
    orders: int = 0
    amount: int = 0
    refunds: int = 0
    chargebacks: int = 0
    fraud_decisions: int = 0


@dataclass(frozen=True)
class Fact:
    """One timed fact about a customer, as the history keeps it."""

    tenant: str
    who: str
    at: datetime
    kind: HistoryEvent
    ref: str
    amount: int = 0


def customer_key(order: OrderPlaced) -> str:
    """Who "the customer" is for history: the shop's id, else the e-mail."""
    if order.customer.customer_id:
        return f"id:{order.customer.customer_id}"
    email = (order.customer.email or "").strip().lower()
    return f"email:{email}" if email else ""


def outcome_facts(state: OrderState) -> Iterator[Fact]:
    """An order's refunds (succeeded or pending) and chargebacks, filed under its customer."""
    order = state.order
    if order is None:
        return
    who = customer_key(order)
    for payment in state.payments.values():
        for refund_id, refund in payment.refunds.items():
            if refund.status.value in ("succeeded", "pending"):
                at = refund.status.at or order.occurred_at
                yield Fact(order.tenant, who, at, "refund", refund_id, refund.amount)
    for dispute in state.disputes.values():
        at = dispute.opened_at or order.occurred_at
        yield Fact(order.tenant, who, at, "chargeback", dispute.dispute_id)


def tally(facts: Iterable[tuple[str, int]]) -> CustomerHistory:
    """The history that (kind, amount) facts add up to."""
    orders = amount = refunds = chargebacks = fraud = 0
    for kind, value in facts:
        if kind == "order":
            orders += 1
            amount += value
        elif kind == "refund":
            refunds += 1
        elif kind == "chargeback":
            chargebacks += 1
        elif kind == "fraud_decision":
            fraud += 1
    return CustomerHistory(orders, amount, refunds, chargebacks, fraud)


@dataclass
class CustomerTimeline:
    """Customer histories in memory, as timed facts per customer: a backtest replays orders
    through one of these, registering an outcome (a chargeback weeks later) as soon as it
    knows it, since a query sees only the facts before its time."""

    events: dict[tuple[str, str], list[tuple[datetime, HistoryEvent, int]]] = field(
        default_factory=dict
    )

    def add(
        self, tenant: str, customer_key: str, at: datetime, kind: HistoryEvent, amount: int = 0
    ) -> None:
        self.events.setdefault((tenant, customer_key), []).append((at, kind, amount))

    def history(self, tenant: str, customer_key: str, before: datetime) -> CustomerHistory:
        return tally(
            (kind, value)
            for at, kind, value in self.events.get((tenant, customer_key), ())
            if at < before
        )
