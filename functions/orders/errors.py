"""The orders context's refusals, light enough for the operator API to map them to answers
without loading the context."""

from __future__ import annotations


class OperationRefused(Exception):
    """The order's state does not allow this (409 for the API)."""


class NotRefundable(Exception):
    """The refund asked for cannot be taken from what the order's payments have left."""


class ReturnRefused(OperationRefused):
    """A return the order cannot take now (409): outside the window, a line already returned
    or refunded, a return not in the state an inspection needs. ``line`` names the line."""

    def __init__(self, reason: str, line: str | None = None) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.line = line
        self.reason = reason


class ReturnInvalid(ReturnRefused):
    """A return request that can never be right for this order (400): a line it does not
    have, more than was bought, an inspection's lines outside the return."""


class RefundCovered(Exception):
    """Nothing is left to refund: refunds not made here (the shop's own, in the gateway's
    dashboard, that we had not heard of yet) gave the payment back in full. The refund
    workflow ends the request ``covered``, not failed (``use_cases.refunds.covered``)."""
