"""Operator API routes of the contexts added after the orders, risk and reconciliation routes
(``handlers/operator.py`` registers each module with one import: each module's ``register``
takes the app and the handler's helpers, so the routes never import the handler)."""
