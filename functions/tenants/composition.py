"""Wires the tenants use cases to the table, Parameter Store and SES (the CLI's entry)."""

from __future__ import annotations

import secrets

from functions.tenants.adapters.records import DynamoTenantRecords
from functions.tenants.adapters.senders import SesIdentities
from functions.tenants.adapters.vault import SsmSecretsVault
from functions.tenants.ports import TenantPorts
from functions.tenants.use_cases import TenantAdmin
from shared.clock import SYSTEM_CLOCK, Clock


def new_secret() -> str:
    # 256 bits, URL-safe: fits a header, a query string and every provider's secret field.
    return secrets.token_urlsafe(32)


def build_admin(table_name: str, secret_prefix: str, clock: Clock = SYSTEM_CLOCK) -> TenantAdmin:
    return TenantAdmin(
        TenantPorts(
            records=DynamoTenantRecords(table_name),
            vault=SsmSecretsVault(secret_prefix),
            senders=SesIdentities(),
            clock=clock,
            new_secret=new_secret,
        )
    )
