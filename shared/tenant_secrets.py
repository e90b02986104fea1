"""Each tenant's webhook secrets and API keys, from Secrets Manager, cached per process.

One secret per tenant, named ``<prefix><tenant>`` (``ecomops/<stage>/tenants/<tenant>``), a JSON
document::

    {"stripe":    {"webhook_secrets": ["whsec_…"], "api_key": "sk_…"},
     "easypost":  {"webhook_secrets": ["…"]},
     "aftership": {"webhook_secrets": ["…"]},
     "shippo":    {"tokens": ["…"], "webhook_secrets": []},
     "shop":      {"webhook_secrets": ["…"]},
     "shopify":   {"webhook_secrets": ["…"]},
     "links":     {"signing_keys": ["…"]}}

Lists hold more than one value while a secret is being rotated: the newest first.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from typing import Any

from shared import aws

CACHE_SECONDS = 300
_TENANT = re.compile(r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")


class UnknownTenant(LookupError):
    pass


class TenantSecrets:
    def __init__(
        self, prefix: str | None = None, client: Any = None, cache_seconds: float = CACHE_SECONDS
    ) -> None:
        self._prefix = prefix
        self._client = client
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    @property
    def prefix(self) -> str:
        # Read on use: one process (the local stack, a test run) may host several deployments.
        if self._prefix is not None:
            return self._prefix
        return os.environ.get("TENANT_SECRET_PREFIX", "ecomops/dev/tenants/")

    @property
    def client(self) -> Any:
        return self._client or aws.client("secretsmanager")

    def get(self, tenant: str) -> dict[str, Any]:
        if not _TENANT.match(tenant):
            raise UnknownTenant(f"{tenant!r} is not a tenant id")
        name = f"{self.prefix}{tenant}"
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(name)
            if cached and cached[0] > now:
                return cached[1]
        try:
            answer = self.client.get_secret_value(SecretId=name)
        except self.client.exceptions.ResourceNotFoundException:
            raise UnknownTenant(f"unknown tenant {tenant!r}") from None
        document: dict[str, Any] = json.loads(answer["SecretString"])
        with self._lock:
            self._cache[name] = (now + self.cache_seconds, document)
        return document

    def forget(self, tenant: str | None = None) -> None:
        with self._lock:
            if tenant is None:
                self._cache.clear()
            else:
                self._cache.pop(f"{self.prefix}{tenant}", None)
