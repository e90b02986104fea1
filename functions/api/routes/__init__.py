"""Operator API routes of the contexts added after the orders, risk and reconciliation routes
(``handlers/operator.py`` registers each module with one import)."""
