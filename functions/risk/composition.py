"""Risk's composition root: screening, wired to the table, for whoever needs it.

Orders reach screening through their ``Screening`` port (``functions/orders/ports.py``); the
orders composition root builds it with ``build_risk``. The operator API and the CLI manage
rules and lists through ``build_admin``. Risk has no Lambda entry point of its own, and no
settings of its own: its callers know the table.

The rule engine (CEL, IP and disposable-domain tables) loads on the first screening, so a
function that only files customer history does not pay for it.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from shared.clock import SYSTEM_CLOCK, Clock
from shared.event_parts import Card, OrderPlaced
from shared.order_aggregate import OrderState
from shared.tenants import TenantSettings

if TYPE_CHECKING:
    from functions.risk.adapters.history import DynamoHistory
    from functions.risk.adapters.stored_orders import StoredOrders
    from functions.risk.ports import VelocityPort
    from functions.risk.use_cases.management import RiskAdmin


class RiskService:
    """Screen an order, and keep the customer history screening reads."""

    def __init__(self, table: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.table = table
        self.clock = clock

    @cached_property
    def history(self) -> DynamoHistory:
        from functions.risk.adapters.history import DynamoHistory

        return DynamoHistory(self.table)

    @cached_property
    def admin(self) -> RiskAdmin:
        return build_admin(self.table, self.clock)

    @cached_property
    def velocity(self) -> VelocityPort:
        from functions.risk.adapters.velocity import DynamoVelocity

        return DynamoVelocity(self.table)

    def screen(
        self, tenant: TenantSettings, order: OrderPlaced, card: Card | None
    ) -> dict[str, Any]:
        """Signals (lists, velocity, geography, history) and the tenant's rules → the screening
        document (decision, score, reasons, ruleset, matched rules, every attribute).

        Retries are safe: velocity returns the counts recorded at the first attempt and history
        is read strictly before the order's time, so a retry decides on the same attributes."""
        from functions.risk.use_cases.screening import screen

        return screen(self.admin, self.velocity, self.history, tenant, order, card)

    def record_fraud_decision(self, order: OrderPlaced, at: datetime) -> None:
        """A block or a reviewer's rejection, in the customer's history from ``at``."""
        from functions.risk.use_cases.customer_history import record_fraud_decision

        record_fraud_decision(self.history, order, at)

    def record_outcomes(self, state: OrderState) -> int:
        """The order's refunds and chargebacks, in its customer's history (idempotent)."""
        from functions.risk.use_cases.customer_history import record_outcomes

        return record_outcomes(self.history, state)


def build_risk(table: str, clock: Clock = SYSTEM_CLOCK) -> RiskService:
    return RiskService(table, clock)


def build_admin(table: str, clock: Clock = SYSTEM_CLOCK) -> RiskAdmin:
    """Rules and lists management (``use_cases.management``) on the table's versions."""
    from functions.risk.adapters.risk_store import RiskStore
    from functions.risk.use_cases.management import RiskAdmin

    return RiskAdmin(RiskStore(table, clock))


def stored_orders(table: str) -> StoredOrders:
    """A tenant's stored orders, for ``use_cases.stored_history``."""
    from functions.risk.adapters.stored_orders import StoredOrders

    return StoredOrders(table)
