"""The orders context's refusals, light enough for the operator API to map them to answers
without loading the context."""

from __future__ import annotations


class OperationRefused(Exception):
    """The order's state does not allow this (409 for the API)."""


class NotRefundable(Exception):
    """The refund asked for cannot be taken from what the order's payments have left."""
