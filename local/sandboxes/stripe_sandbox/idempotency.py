"""Idempotency keys: a POST's answer saved per API key and key for 24 h of sandbox time; the same
key with the same parameters replays it, with other parameters it is an ``idempotency_error``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from local.sandboxes.stripe_sandbox.account import Account
from local.sandboxes.stripe_sandbox.errors import JSON, StripeAPIError, invalid

IDEMPOTENCY_TTL_S = 24 * 3600
MAX_IDEMPOTENCY_KEYS = 200_000


def _digest(value: object) -> str:
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    raise TypeError(f"{type(value).__name__} is not a request parameter")


@dataclass
class Saved:
    fingerprint: str
    status: int
    body: bytes
    headers: dict[str, str]
    request_id: str
    saved_at: float


class Idempotency(Account):
    """Saved answers, keyed by (API key, idempotency key)."""

    _idempotency: dict[tuple[str, str], Saved]

    def _fingerprint(self, method: str, path: str, params: JSON) -> str:
        return hashlib.sha256(
            # A file upload's bytes count by their digest.
            json.dumps([method, path, params], sort_keys=True, default=_digest).encode()
        ).hexdigest()

    def _idempotent(self, api_key: str, key: str, fingerprint: str) -> Saved | None:
        if len(key) > 255:
            raise invalid("Idempotency keys can be at most 255 characters long.")
        now = self.now()
        saved = self._idempotency.get((api_key, key))
        if saved is None:
            return None
        if now - saved.saved_at > IDEMPOTENCY_TTL_S:
            del self._idempotency[(api_key, key)]
            return None
        if saved.fingerprint != fingerprint:
            raise StripeAPIError(
                400,
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
            )
        return saved

    def _save(
        self,
        api_key: str,
        key: str,
        fingerprint: str,
        status: int,
        body: bytes,
        headers: Mapping[str, str],
        request_id: str,
    ) -> None:
        now = self.now()
        if len(self._idempotency) >= MAX_IDEMPOTENCY_KEYS:
            expired = [
                k for k, v in self._idempotency.items() if now - v.saved_at > IDEMPOTENCY_TTL_S
            ]
            for k in expired or list(self._idempotency)[: MAX_IDEMPOTENCY_KEYS // 10]:
                del self._idempotency[k]
        self._idempotency[(api_key, key)] = Saved(
            fingerprint, status, body, dict(headers), request_id, now
        )
