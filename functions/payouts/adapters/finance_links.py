"""Signed links for finance to mark a cycle, or one vendor's line of it, paid or failed, with
the tenant's newest link-signing key (the review links' key and tokens: ``shared.signed_links``).
The API's public routes serve them (``functions/api/handlers/payout_links.py``)."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote

from functions.payouts.domain.cycles import MARKS, link_subject
from shared.signed_links import sign_action_links


class _Secrets(Protocol):
    def get(self, tenant: str) -> dict[str, Any]: ...


def cycle_path(tenant: str, cycle_id: str) -> str:
    """``/links/<tenant>/payouts/<cycle>``: the routes' prefix (``/<mark>``, or
    ``/<currency>/<vendor>/<mark>`` for a line)."""
    return f"/links/{quote(tenant)}/payouts/{quote(cycle_id, safe='')}"


class SignedFinanceLinks:
    def __init__(self, secrets: _Secrets, public_api_url: str) -> None:
        self.secrets = secrets
        self.base = public_api_url.rstrip("/")

    def _links(self, tenant: str, subject: str, path: str, expires_at: int) -> dict[str, str]:
        signing_keys = self.secrets.get(tenant).get("links", {}).get("signing_keys") or []
        if not signing_keys:
            return {}
        tokens = sign_action_links(
            key=signing_keys[0],
            tenant=tenant,
            subject=subject,
            actions=MARKS,
            expires_at=expires_at,
        )
        return {mark: f"{self.base}{path}/{mark}?token={token}" for mark, token in tokens.items()}

    def cycle_links(self, tenant: str, cycle_id: str, expires_at: int) -> dict[str, str]:
        return self._links(tenant, link_subject(cycle_id), cycle_path(tenant, cycle_id), expires_at)

    def line_links(
        self, tenant: str, cycle_id: str, currency: str, vendor_id: str, expires_at: int
    ) -> dict[str, str]:
        path = f"{cycle_path(tenant, cycle_id)}/{quote(currency)}/{quote(vendor_id, safe='')}"
        return self._links(tenant, link_subject(cycle_id, currency, vendor_id), path, expires_at)
