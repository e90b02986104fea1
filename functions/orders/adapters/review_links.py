"""Signed approve/reject links for a review, with the tenant's newest link-signing key."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote

from shared.signed_links import sign_decision_links


class _Secrets(Protocol):
    def get(self, tenant: str) -> dict[str, Any]: ...


class SignedReviewLinks:
    def __init__(self, secrets: _Secrets, public_api_url: str) -> None:
        self.secrets = secrets
        self.base = public_api_url.rstrip("/")
        self.console_url = f"{self.base}/orders"

    def order_url(self, tenant: str, order_id: str) -> str:
        return f"{self.base}/ops/tenants/{quote(tenant)}/orders/{quote(order_id, safe='')}"

    def links(self, tenant: str, order_id: str, expires_at: int) -> dict[str, str]:
        signing_keys = self.secrets.get(tenant).get("links", {}).get("signing_keys") or []
        if not signing_keys:
            return {}
        tokens = sign_decision_links(
            key=signing_keys[0], tenant=tenant, order_id=order_id, expires_at=expires_at
        )
        return {
            decision: f"{self.base}/links/{tenant}/{order_id}/{decision}?token={token}"
            for decision, token in tokens.items()
        }
