"""Tenants for the local stack: settings into the table, secrets into (moto's) Parameter Store.

The file (JSON or YAML) holds ``tenants: [{settings: {...}, secrets: {...}}]``, each entry a
``shared.tenants.TenantDocument`` (what ``ecomops tenants add`` reads too): ``settings`` as
``shared.tenants.TenantSettings``, ``secrets`` one document per tenant as documented in
``shared.tenant_secrets``, which ``install`` splits by use into the tenant's three SecureString
parameters (``webhooks``, ``links``, ``api``), as they are stored deployed.
``local/tenants.demo.json`` is the default: a ``demo`` tenant with test-only secrets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from shared.tenant_secrets import put_tenant_secrets
from shared.tenants import TenantDirectory, TenantDocument

DEFAULT_FILE = Path(__file__).resolve().parent / "tenants.demo.json"


class TenantsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenants: list[TenantDocument]


def read(path: Path | None = None) -> TenantsFile:
    text = (path or DEFAULT_FILE).read_text()
    return TenantsFile.model_validate(yaml.safe_load(text))


def install(tenants: TenantsFile, *, table_name: str, secret_prefix: str, ssm_client: Any) -> None:
    """Each tenant's settings into the table and its secrets into its three parameters
    (``<secret_prefix><id>/webhooks|links|api``, a new version of each)."""
    directory = TenantDirectory(table_name)
    for tenant in tenants.tenants:
        directory.save(tenant.settings)
        put_tenant_secrets(ssm_client, tenant.settings.id, tenant.secrets, secret_prefix)
