"""The tenant's webhook secrets (SSM, ``shared.tenant_secrets``), as the intake reads them: a
tenant without any is the intake's ``UnknownTenant``."""

from __future__ import annotations

from typing import Any

from functions.webhooks.domain.intake import UnknownTenant
from shared import tenant_secrets


class WebhookSecrets:
    def __init__(self, secrets: tenant_secrets.TenantSecrets) -> None:
        self.secrets = secrets

    def get(self, tenant: str) -> dict[str, Any]:
        try:
            return self.secrets.get(tenant)
        except tenant_secrets.UnknownTenant as unknown:
            raise UnknownTenant(str(unknown)) from None
