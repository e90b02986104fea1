"""A tenant's (client shop's) settings: what differs from one client to the next.

Secrets (webhook secrets, API keys) are not here: they live in Secrets Manager
(``shared.tenant_secrets``). These settings live in the table at ``TENANT#<id>`` / ``CONFIG``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared import aws
from shared.money import Currency


class Branding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    display_name: str
    primary_color: str = Field(default="#1f4e79", pattern=r"^#[0-9a-fA-F]{6}$")
    logo_url: str | None = None
    support_email: str | None = None


class TenantSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$")
    name: str
    currency: Currency
    timezone: str = "UTC"
    business_category: str = "general"
    capture_mode: Literal["automatic", "manual"] = "automatic"
    customer_sender: str = Field(description="From: address of customer e-mails")
    alert_emails: tuple[str, ...] = ()
    finance_emails: tuple[str, ...] = ()
    branding: Branding | None = None
    dispatch_sla_days: int = Field(default=3, ge=1)
    return_window_days: int = Field(default=14, ge=0)
    review_timeout_hours: int = Field(default=48, ge=1)
    delivery_timeout_days: int = Field(default=14, ge=1)
    # Lists and thresholds screening starts from (functions/risk/signals.SignalConfig.from_tenant).
    risk: dict[str, Any] = Field(default_factory=dict)


def config_key(tenant: str) -> dict[str, dict[str, str]]:
    return {"PK": {"S": f"TENANT#{tenant}"}, "SK": {"S": "CONFIG"}}


class TenantDirectory:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def save(self, settings: TenantSettings) -> None:
        aws.client("dynamodb").put_item(
            TableName=self.table_name,
            Item={
                **config_key(settings.id),
                "kind": {"S": "tenant"},
                "settings": {"S": settings.model_dump_json()},
                "GSI2PK": {"S": "TENANTS"},
                "GSI2SK": {"S": settings.id},
            },
        )

    def get(self, tenant: str) -> TenantSettings | None:
        answer = aws.client("dynamodb").get_item(TableName=self.table_name, Key=config_key(tenant))
        item = answer.get("Item")
        return TenantSettings.model_validate_json(item["settings"]["S"]) if item else None

    def all(self) -> list[TenantSettings]:
        answer = aws.client("dynamodb").query(
            TableName=self.table_name,
            IndexName="ByStatus",
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": {"S": "TENANTS"}},
        )
        return [TenantSettings.model_validate_json(i["settings"]["S"]) for i in answer["Items"]]
