"""Stripe Connect transfers and reversals on the tenant's Stripe account (the ``Transfers``
port). Every call that moves money carries the caller's idempotency key; a refusal becomes
``TransferRefused`` with Stripe's error code, anything retryable propagates as
``shared.gateway.GatewayRetryable``."""

from __future__ import annotations

from typing import Any

from functions.payouts.domain.connect import ReversalOrder, TransferOrder, TransferRefused
from shared.gateway import GatewayRefused, SecretsReader, StripeGateway, gateway_error


class StripeTransfers:
    def __init__(self, secrets: SecretsReader, api_base: str | None = None) -> None:
        self.secrets = secrets
        self.api_base = api_base  # None: STRIPE_API_BASE, else Stripe

    def _client(self, tenant: str) -> Any:
        return StripeGateway(self.secrets.get(tenant)["stripe"]["api_key"], self.api_base).client

    def transfer(self, tenant: str, order: TransferOrder) -> str:
        params: dict[str, Any] = {
            "amount": order.amount,
            "currency": order.currency.lower(),
            "destination": order.account_id,
            "transfer_group": order.group,
            "metadata": dict(order.metadata),
        }
        if order.source_transaction:
            params["source_transaction"] = order.source_transaction
        try:
            made = self._client(tenant).v1.transfers.create(
                params=params, options={"idempotency_key": order.key}
            )
        except Exception as error:
            raise _ours(error) from error
        return str(made.id)

    def find(self, tenant: str, order: TransferOrder) -> str | None:
        try:
            page = self._client(tenant).v1.transfers.list(
                params={
                    "transfer_group": order.group,
                    "destination": order.account_id,
                    "limit": 100,
                }
            )
            for made in page.auto_paging_iter():
                if (made.to_dict().get("metadata") or {}).get("key") == order.key:
                    return str(made.id)
        except Exception as error:
            raise _ours(error) from error
        return None

    def reverse(self, tenant: str, order: ReversalOrder) -> str:
        try:
            made = self._client(tenant).v1.transfers.reversals.create(
                order.transfer_id,
                params={"amount": order.amount, "metadata": dict(order.metadata)},
                options={"idempotency_key": order.key},
            )
        except Exception as error:
            raise _ours(error) from error
        return str(made.id)


def _ours(error: Exception) -> Exception:
    translated = gateway_error(error)
    if isinstance(translated, GatewayRefused):
        return TransferRefused(str(translated), getattr(error, "code", None))
    return translated
