"""Risk's composition root: screening, wired to the table, for whoever needs it.

Orders reach screening through their ``Screening`` port (``functions/orders/ports.py``); the
orders composition root builds it with ``build_risk``. Nothing outside risk imports risk's other
modules. The rule engine (CEL, IP and disposable-domain tables) loads on the first screening,
so a function that only files customer history does not pay for it.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from shared.clock import SYSTEM_CLOCK, Clock
from shared.events import Card, OrderPlaced
from shared.order_aggregate import OrderState
from shared.tenants import TenantSettings

if TYPE_CHECKING:
    from functions.risk.history import DynamoHistory
    from functions.risk.management import RiskAdmin
    from functions.risk.velocity import VelocityPort


class RiskService:
    """Screen an order, and keep the customer history screening reads."""

    def __init__(self, table: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.table = table
        self.clock = clock

    @cached_property
    def history(self) -> DynamoHistory:
        from functions.risk.history import DynamoHistory

        return DynamoHistory(self.table)

    @cached_property
    def admin(self) -> RiskAdmin:
        from functions.risk.management import RiskAdmin
        from shared.risk_store import RiskStore

        return RiskAdmin(RiskStore(self.table, self.clock))

    @cached_property
    def velocity(self) -> VelocityPort:
        from functions.risk.velocity import DynamoVelocity

        return DynamoVelocity(self.table)

    def screen(
        self, tenant: TenantSettings, order: OrderPlaced, card: Card | None
    ) -> dict[str, Any]:
        """Signals (lists, velocity, geography, history) and the tenant's rules → the screening
        document (decision, score, reasons, ruleset, matched rules, every attribute).

        Retries are safe: velocity returns the counts recorded at the first attempt and history
        is read strictly before the order's time, so a retry decides on the same attributes."""
        from functions.risk.customers import customer_key
        from functions.risk.rules import evaluate
        from functions.risk.signals import collect

        config = self.admin.signal_config(tenant)
        attributes = collect(order, config, self.velocity, self.history, card)
        ruleset = self.admin.ruleset_for(tenant.id, attributes["category"])
        decision = evaluate(ruleset, attributes)
        screening = decision.to_screening(attributes).model_dump(mode="json")
        screening["matched_rules"] = [m.rule_id for m in decision.matched]
        screening["rule_errors"] = list(decision.errors)
        self.history.record(
            tenant.id, customer_key(order), order.occurred_at, "order", order.order_id,
            order.total.amount,
        )  # fmt: skip
        return screening

    def record_fraud_decision(self, order: OrderPlaced, at: datetime) -> None:
        """A block or a reviewer's rejection, in the customer's history from ``at``."""
        from functions.risk.customers import customer_key

        self.history.record(order.tenant, customer_key(order), at, "fraud_decision", order.order_id)

    def record_outcomes(self, state: OrderState) -> int:
        """The order's refunds and chargebacks, in its customer's history (idempotent)."""
        return self.history.record_outcomes(state)


def build_risk(table: str, clock: Clock = SYSTEM_CLOCK) -> RiskService:
    return RiskService(table, clock)
