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
- How long the table keeps a tenant's raw webhooks (``retention.raw_event_days``) is read for
  every webhook, without pydantic: the one number, from the settings JSON, cached a few
  minutes per tenant.
"""

from __future__ import annotations

import json
import time
from typing import Any

from functions.webhooks.domain.intake import UnknownTenant
from shared import aws, keys, tenant_secrets
from shared.observability import logger
from shared.retention import RAW_TABLE_DEFAULT_DAYS, RAW_TABLE_LONGEST_DAYS, raw_table_days
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


class TenantRawEventDays:
    """``retention.raw_event_days`` of each tenant's settings (validated when they were saved),
    kept ``ttl_s`` per process: a changed period applies within minutes."""

    def __init__(self, table: str, ttl_s: float = 300) -> None:
        self.table = table
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, int]] = {}

    def days(self, tenant: str) -> int:
        now = time.monotonic()
        cached = self._cache.get(tenant)
        if cached is not None and cached[0] > now:
            return cached[1]
        pk, sk = keys.tenant_config(tenant)
        try:
            item = (
                aws.client("dynamodb")
                .get_item(
                    TableName=self.table,
                    Key={"PK": {"S": pk}, "SK": {"S": sk}},
                    ProjectionExpression="settings",
                )
                .get("Item")
            )
            settings = json.loads(item["settings"]["S"]) if item else {}
            days = (settings.get("retention") or {}).get("raw_event_days", RAW_TABLE_DEFAULT_DAYS)
        except Exception as unreadable:  # the webhook is stored all the same, kept the longest
            logger.warning(
                "tenant settings unreadable: raw webhook kept the longest period",
                extra={"error": str(unreadable)[:300]},
            )
            return RAW_TABLE_LONGEST_DAYS
        days = raw_table_days(int(days))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[tenant] = (now + self.ttl_s, days)
        return days
