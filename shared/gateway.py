"""The Stripe adapter: the only module that talks to the payment gateway's API.

``STRIPE_API_BASE`` points it at the local Stripe sandbox; otherwise it is Stripe. Every call
that changes money carries an idempotency key derived from our own ids by the caller.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any


class StripeGateway:
    def __init__(
        self, api_key: str, api_base: str | None = None, max_network_retries: int = 3
    ) -> None:
        import stripe

        base = api_base or os.environ.get("STRIPE_API_BASE")
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": base} if base else None,
            max_network_retries=max_network_retries,
        )

    def balance_transactions_for_payout(self, payout_id: str) -> Iterator[dict[str, Any]]:
        """Every balance transaction a payout settled, following Stripe's pagination."""
        page = self._client.v1.balance_transactions.list(params={"payout": payout_id, "limit": 100})
        for transaction in page.auto_paging_iter():
            yield transaction.to_dict()

    def retrieve_payout(self, payout_id: str) -> dict[str, Any]:
        payout: dict[str, Any] = self._client.v1.payouts.retrieve(payout_id).to_dict()
        return payout
