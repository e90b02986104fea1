"""A tenant's secrets as its three SSM SecureString parameters (``shared.tenant_secrets``)."""

from __future__ import annotations

import json
from typing import Any

from shared import aws
from shared.tenant_secrets import PARTS, merge, parameter_name, put_tenant_secrets


class SsmSecretsVault:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def read(self, tenant: str) -> dict[str, Any] | None:
        names = [parameter_name(self.prefix, tenant, part) for part in PARTS]
        answer = aws.client("ssm").get_parameters(Names=names, WithDecryption=True)
        values = {p["Name"]: p["Value"] for p in answer.get("Parameters", [])}
        if not values:
            return None
        return merge(json.loads(values[name]) for name in names if name in values)

    def write(self, tenant: str, document: dict[str, Any]) -> list[str]:
        return put_tenant_secrets(aws.client("ssm"), tenant, document, self.prefix)
