"""Transitional: an old path of the risk context, re-exported for the callers that cannot move
yet (functions/orders/lifecycle.py and starter.py, which the orders rebuild replaces, and
tests/component/test_risk_screening.py, which it rewrites). New code imports from the rooms
named below, or reaches risk through ``composition``. Delete once nothing imports this."""

from functions.risk.domain.lists import ListChange
from functions.risk.use_cases.management import RiskAdmin

__all__ = ["ListChange", "RiskAdmin"]
