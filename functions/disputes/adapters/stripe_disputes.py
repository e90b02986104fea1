"""Stripe's dispute API for the desk: evidence files uploaded (the Files API), evidence updated
and submitted, disputes closed (accepted). Every call that changes the dispute carries the
caller's idempotency key."""

from __future__ import annotations

import io
import os
from typing import Any

from functions.disputes.ports import StripeRefused
from shared.gateway import GatewayRefused, SecretsReader, gateway_error


class StripeDisputes:
    def __init__(self, secrets: SecretsReader, api_base: str | None = None) -> None:
        self.secrets = secrets
        self.api_base = api_base or os.environ.get("STRIPE_API_BASE")

    def _client(self, tenant: str) -> Any:
        import stripe

        key = self.secrets.get(tenant)["stripe"]["api_key"]
        base = self.api_base
        return stripe.StripeClient(
            key,
            base_addresses={"api": base, "files": base} if base else None,
            max_network_retries=3,
        )

    def upload(self, tenant: str, name: str, content: bytes, key: str) -> str:
        upload = io.BytesIO(content)
        upload.name = name  # the library sends it as the part's filename
        try:
            uploaded = self._client(tenant).v1.files.create(
                params={"purpose": "dispute_evidence", "file": upload},
                options={"idempotency_key": key},
            )
        except Exception as error:
            raise _ours(error) from error
        return str(uploaded.id)

    def update(
        self, tenant: str, dispute_id: str, evidence: dict[str, Any], submit: bool, key: str
    ) -> dict[str, Any]:
        try:
            result: dict[str, Any] = (
                self._client(tenant)
                .v1.disputes.update(
                    dispute_id,
                    params={"evidence": evidence, "submit": submit},
                    options={"idempotency_key": key},
                )
                .to_dict()
            )
        except Exception as error:
            raise _ours(error) from error
        return result

    def close(self, tenant: str, dispute_id: str, key: str) -> dict[str, Any]:
        try:
            result: dict[str, Any] = (
                self._client(tenant)
                .v1.disputes.close(dispute_id, options={"idempotency_key": key})
                .to_dict()
            )
        except Exception as error:
            raise _ours(error) from error
        return result


def _ours(error: Exception) -> Exception:
    translated = gateway_error(error)
    return StripeRefused(str(translated)) if isinstance(translated, GatewayRefused) else translated
