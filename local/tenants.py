"""Tenants for the local stack: settings into the table, secrets into (moto's) Secrets Manager.

The file (JSON or YAML) holds ``tenants: [{settings: {...}, secrets: {...}}]``: ``settings`` as
``shared.tenants.TenantSettings``, ``secrets`` as documented in ``shared.tenant_secrets``.
``local/tenants.demo.json`` is the default: a ``demo`` tenant with test-only secrets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from shared.tenants import TenantDirectory, TenantSettings

DEFAULT_FILE = Path(__file__).resolve().parent / "tenants.demo.json"


class LocalTenant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    settings: TenantSettings
    secrets: dict[str, Any]


class TenantsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenants: list[LocalTenant]


def read(path: Path | None = None) -> TenantsFile:
    text = (path or DEFAULT_FILE).read_text()
    return TenantsFile.model_validate(yaml.safe_load(text))


def install(
    tenants: TenantsFile, *, table_name: str, secret_prefix: str, secrets_client: Any
) -> None:
    directory = TenantDirectory(table_name)
    for tenant in tenants.tenants:
        directory.save(tenant.settings)
        name = f"{secret_prefix}{tenant.settings.id}"
        value = json.dumps(tenant.secrets)
        try:
            secrets_client.create_secret(Name=name, SecretString=value)
        except secrets_client.exceptions.ResourceExistsException:
            secrets_client.put_secret_value(SecretId=name, SecretString=value)
