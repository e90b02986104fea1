"""Answering a customer's question about one order: the order, and for "charged twice" and
"failed but charged" the same customer's other orders around it (found by e-mail and card
through the lookup index, one query each)."""

from __future__ import annotations

from datetime import datetime, timedelta

from functions.reports.queries.domain.customer import (
    Answer,
    Question,
    charged_twice,
    failed_but_charged,
    not_found,
    refund_not_received,
)
from functions.reports.queries.domain.lookup import LOOKUP_LIMIT, Search
from functions.reports.queries.ports import OrderIndex
from shared.order_aggregate import OrderState
from shared.order_lookup import LookupKind, Unsearchable, email_key, order_key

# How far around the order its siblings are read (a retry, a second order minutes later).
SIBLINGS_WINDOW = timedelta(days=1)


def answer_customer_question(
    orders: OrderIndex, tenant: str, order_id: str, question: Question | str, now: datetime
) -> Answer:
    try:
        question = Question(question)
    except ValueError as exc:
        known = ", ".join(q.value for q in Question)
        raise Unsearchable(f"unknown question {question!r} (one of {known})") from exc
    order_id = order_key(order_id)
    state = orders.load(tenant, order_id)
    if state is None:
        return not_found(question, tenant, order_id)
    if question is Question.REFUND_NOT_RECEIVED:
        return refund_not_received(state, now)
    others = siblings(orders, state)
    if question is Question.CHARGED_TWICE:
        return charged_twice(state, others, now)
    return failed_but_charged(state, others, now)


def siblings(orders: OrderIndex, state: OrderState) -> list[OrderState]:
    """The customer's other orders within ``SIBLINGS_WINDOW`` of this one: by the order's
    e-mail (the index carries the orders) and by each of its cards (read one by one)."""
    at = state.placed_at() or min(
        (
            t
            for p in state.payments.values()
            for t in (p.authorized_at, p.succeeded_at, p.failed_at)
            if t
        ),
        default=None,
    )
    searches: list[Search] = []
    order = state.order
    if order and order.customer.email:
        try:
            email = email_key(order.customer.email)
            searches.append(Search(state.tenant, LookupKind.EMAIL, email, email))
        except Unsearchable:
            pass
    cards = {
        (str(p.card.value["last4"]), p.card.value.get("bin"))
        for p in state.payments.values()
        if p.card and p.card.value.get("last4")
    }
    for last4, bin_ in sorted(cards, key=str):
        searches.append(Search(state.tenant, LookupKind.CARD, last4, last4, bin_))
    found: dict[str, OrderState] = {}
    for search in searches:
        hits, _ = orders.find(search, LOOKUP_LIMIT)
        for hit in hits:
            if hit.order_id == state.order_id or hit.order_id in found:
                continue
            if at is not None and hit.at is not None and abs(hit.at - at) > SIBLINGS_WINDOW:
                continue
            other = hit.state or orders.load(state.tenant, hit.order_id)
            if other is not None:
                found[hit.order_id] = other
    return sorted(found.values(), key=lambda o: o.order_id)
