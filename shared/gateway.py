"""The Stripe adapter: the only module that talks to the payment gateway's API.

``STRIPE_API_BASE`` points it at the local Stripe sandbox; otherwise it is Stripe. Every call
that changes money carries an idempotency key derived from our own ids by the caller.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, Protocol

from shared.gateway_errors import GatewayRefused, GatewayRetryable

__all__ = [
    "GatewayRefused",
    "GatewayRetryable",
    "MoneyMovements",
    "SecretsReader",
    "StripeGateway",
    "gateway_error",
    "gateway_for",
    "money_movements_for",
]


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

    @property
    def client(self) -> Any:
        """The tenant's ``stripe.StripeClient``, for a context's own adapter (Connect transfers)."""
        return self._client

    def balance_transactions_for_payout(self, payout_id: str) -> Iterator[dict[str, Any]]:
        """Every balance transaction a payout settled, following Stripe's pagination."""
        page = self._client.v1.balance_transactions.list(params={"payout": payout_id, "limit": 100})
        for transaction in page.auto_paging_iter():
            yield transaction.to_dict()

    def retrieve_payout(self, payout_id: str) -> dict[str, Any]:
        payout: dict[str, Any] = self._client.v1.payouts.retrieve(payout_id).to_dict()
        return payout


class SecretsReader(Protocol):
    def get(self, tenant: str) -> dict[str, Any]: ...


def gateway_for(secrets: SecretsReader, tenant: str) -> StripeGateway:
    """The tenant's Stripe client, from the API key in its secrets (``api`` part)."""
    return StripeGateway(secrets.get(tenant)["stripe"]["api_key"])


def money_movements_for(secrets: SecretsReader, tenant: str) -> MoneyMovements:
    return MoneyMovements(gateway_for(secrets, tenant))


def _translate(error: Exception) -> Exception:
    import stripe

    if isinstance(error, stripe.RateLimitError | stripe.APIConnectionError):
        return GatewayRetryable(str(error))
    if isinstance(error, stripe.StripeError):
        status = getattr(error, "http_status", None) or 500
        if status >= 500 or status == 429:
            return GatewayRetryable(f"{status}: {error.user_message or error}")
        return GatewayRefused(
            f"{status}: {error.user_message or error}", code=getattr(error, "code", None)
        )
    return error


def gateway_error(error: Exception) -> Exception:
    """What a Stripe library error means to us: ``GatewayRetryable`` or ``GatewayRefused``."""
    return _translate(error)


class MoneyMovements:
    """Refunds, captures and voids: each call carries the caller's idempotency key, so a retry
    of the same request (ours or the client library's) moves money once."""

    def __init__(self, gateway: StripeGateway) -> None:
        self._client = gateway._client

    def _call(self, fn: Any, params: dict[str, Any], key: str) -> dict[str, Any]:
        try:
            result: dict[str, Any] = fn(params=params, options={"idempotency_key": key}).to_dict()
        except Exception as error:
            raise _translate(error) from error
        return result

    def refund(
        self,
        *,
        payment_id: str,
        amount: int,
        key: str,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"amount": amount, "metadata": metadata or {}}
        params["payment_intent" if payment_id.startswith("pi_") else "charge"] = payment_id
        if reason in ("duplicate", "fraudulent", "requested_by_customer"):
            params["reason"] = reason
        return self._call(self._client.v1.refunds.create, params, key)

    def refunded(self, *, payment_id: str) -> dict[str, int]:
        """What the gateway says of a payment now: ``captured`` and ``refunded`` (minor units),
        whoever refunded it."""
        try:
            if payment_id.startswith("pi_"):
                intent = self._client.v1.payment_intents.retrieve(
                    payment_id, params={"expand": ["latest_charge"]}
                ).to_dict()
                charge = intent.get("latest_charge") or {}
            else:
                charge = self._client.v1.charges.retrieve(payment_id).to_dict()
        except Exception as error:
            raise _translate(error) from error
        if not isinstance(charge, dict):
            raise GatewayRefused(f"payment {payment_id} has no charge to read")
        return {
            "captured": int(charge.get("amount_captured") or 0),
            "refunded": int(charge.get("amount_refunded") or 0),
        }

    def capture(self, *, payment_id: str, amount: int | None, key: str) -> dict[str, Any]:
        params = {"amount_to_capture": amount} if amount else {}
        return self._call(
            lambda params, options: self._client.v1.payment_intents.capture(
                payment_id, params=params, options=options
            ),
            params,
            key,
        )

    def void(self, *, payment_id: str, key: str, reason: str | None = None) -> dict[str, Any]:
        """Cancel an uncaptured PaymentIntent; ``reason`` is Stripe's ``cancellation_reason``
        (none when None)."""
        return self._call(
            lambda params, options: self._client.v1.payment_intents.cancel(
                payment_id, params=params, options=options
            ),
            {"cancellation_reason": reason} if reason else {},
            key,
        )
