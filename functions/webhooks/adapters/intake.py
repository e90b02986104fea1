"""The front door's adapters (``use_cases.accept``'s ports): the tenant's webhook secrets, the
stripe library's signature check, and tenant settings for order webhooks. One module, as the
ingress imports all three at its cold start (bench/ingress.py).

- Secrets come from SSM (``shared.tenant_secrets``); a tenant without any is the intake's
  ``UnknownTenant``.
- The stripe library is imported on the first Stripe request only: it doubles the ingress
  import time, and carrier and shop requests never need it. The timestamp is not the
  library's to judge (``tolerance=None``): its check reads the wall clock and lets a timestamp
  from the future through, so ``domain.sources`` checks it on our clock.
- Tenant settings are loaded (with pydantic) on the first order webhook only: carrier and
  Stripe requests never need them.
"""

from __future__ import annotations

from typing import Any

from functions.webhooks.domain.intake import UnknownTenant
from shared import tenant_secrets
from shared.signing import SignatureError


class WebhookSecrets:
    def __init__(self, secrets: tenant_secrets.TenantSecrets) -> None:
        self.secrets = secrets

    def get(self, tenant: str) -> dict[str, Any]:
        try:
            return self.secrets.get(tenant)
        except tenant_secrets.UnknownTenant as unknown:
            raise UnknownTenant(str(unknown)) from None


def check_stripe_header(payload: str, header: str, secret: str) -> None:
    """``domain.sources.StripeHeaderCheck`` by ``stripe.WebhookSignature.verify_header``."""
    import stripe

    try:
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=None)
    except stripe.SignatureVerificationError as error:
        raise SignatureError(str(error)) from None


class LazyTenantSettings:
    def __init__(self, table: str) -> None:
        self.table = table
        self._tenants: Any = None

    def get(self, tenant: str) -> Any:
        if self._tenants is None:
            from shared.tenants import CachedTenants, TenantDirectory

            self._tenants = CachedTenants(TenantDirectory(self.table))
        return self._tenants.get(tenant)
