"""What the payment gateway's answers mean to us, apart from the client that gets them
(``shared.gateway``): use cases tell a refusal from a reason to retry without loading Stripe.
Step Functions' retries and catches name these classes."""

from __future__ import annotations


class GatewayRetryable(Exception):
    """The gateway did not answer or asked us to slow down (5xx, 429, network): retry."""


class GatewayRefused(Exception):
    """The gateway said no (4xx other than 429): retrying the same request cannot help.
    ``code``: the gateway's own word for why (Stripe's error ``code``), when it gave one."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code
