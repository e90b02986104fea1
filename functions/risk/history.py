"""Transitional: an old path of the risk context, re-exported for the callers that cannot move
yet (functions/orders/lifecycle.py and starter.py, which the orders rebuild replaces, and
tests/component/test_risk_screening.py, which it rewrites). New code imports from the rooms
named below, or reaches risk through ``composition``. Delete once nothing imports this."""

from functions.risk.adapters import history as _adapter
from functions.risk.use_cases.customer_history import record_outcomes
from shared.order_aggregate import OrderState


class DynamoHistory(_adapter.DynamoHistory):
    """The adapter, with the old ``record_outcomes`` method (now ``use_cases.customer_history``)."""

    def record_outcomes(self, state: OrderState) -> int:
        return record_outcomes(self, state)


__all__ = ["DynamoHistory"]
