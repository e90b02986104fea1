"""Operator API routes by context, registered on the operator API's ``app`` by importing them
from ``functions/api/handlers/operator.py``."""
