"""Tenant settings for the front door, loaded (with pydantic) on the first order webhook only:
carrier and Stripe requests never need them, and the ingress's cold start stays lean."""

from __future__ import annotations

from typing import Any


class LazyTenantSettings:
    def __init__(self, table: str) -> None:
        self.table = table
        self._tenants: Any = None

    def get(self, tenant: str) -> Any:
        if self._tenants is None:
            from shared.tenants import CachedTenants, TenantDirectory

            self._tenants = CachedTenants(TenantDirectory(self.table))
        return self._tenants.get(tenant)
