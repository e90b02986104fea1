"""Screening an order before goods leave: signals (lists, velocity, geography, customer
history, card) and the tenant's rules in CEL → the screening the lifecycle stores on the order.

Loads the rule engine (CEL, IP and disposable-domain tables): import it where an order is
screened, not where customer history is only filed (``customer_history``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.risk.domain.customers import CustomerHistory, customer_key
from functions.risk.domain.rules import evaluate
from functions.risk.domain.signals import SignalConfig, compute, velocity_keys
from shared.event_parts import Card, OrderPlaced

if TYPE_CHECKING:
    from functions.risk.ports import HistoryPort, HistoryReader, VelocityPort
    from functions.risk.use_cases.management import RiskAdmin
    from shared.tenants import TenantSettings


def collect(
    order: OrderPlaced,
    config: SignalConfig,
    velocity: VelocityPort,
    history: HistoryReader,
    card: Card | None = None,
) -> dict[str, Any]:
    """Fetch history, read-then-record velocity, and compute the attributes of ``order``."""
    who = customer_key(order)
    past = history.history(order.tenant, who, order.occurred_at) if who else CustomerHistory()
    counts = velocity.observe(
        order.tenant,
        order.order_id,
        velocity_keys(order, card),
        order.occurred_at,
        order.total.amount,
    )
    return compute(order, config, counts, past, card)


def screen(
    admin: RiskAdmin,
    velocity: VelocityPort,
    history: HistoryPort,
    tenant: TenantSettings,
    order: OrderPlaced,
    card: Card | None,
) -> dict[str, Any]:
    """Signals and the tenant's rules → the screening document (decision, score, reasons,
    ruleset, matched rules, every attribute); the order is filed in its customer's history.

    Retries are safe: velocity returns the counts recorded at the first attempt and history is
    read strictly before the order's time, so a retry decides on the same attributes."""
    config = admin.signal_config(tenant)
    attributes = collect(order, config, velocity, history, card)
    ruleset = admin.ruleset_for(tenant.id, attributes["category"])
    decision = evaluate(ruleset, attributes)
    screening = decision.to_screening(attributes).model_dump(mode="json")
    screening["matched_rules"] = [m.rule_id for m in decision.matched]
    screening["rule_errors"] = list(decision.errors)
    history.record(
        tenant.id, customer_key(order), order.occurred_at, "order", order.order_id,
        order.total.amount,
    )  # fmt: skip
    return screening
