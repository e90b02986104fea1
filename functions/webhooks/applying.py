"""Transitional: the old path of ``use_cases.apply.route``, kept for the callers that cannot
move yet (tests/component/test_risk_screening.py, which the orders work is rewriting). Delete
once nothing imports it."""

from functions.webhooks.use_cases.apply import route

__all__ = ["route"]
