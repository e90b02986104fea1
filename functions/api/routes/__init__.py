"""Operator API routes of the contexts, one module each, registered from
``handlers/operator.py``."""
