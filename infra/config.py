"""Deployment configuration, read from CDK context (``cdk.json`` or ``-c key=value``).

Everything a deployment varies by lives here so that constructs never read context themselves.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.notices import DEFAULT_OPS_SENDER
from shared.retention import RAW_EVENT_DAYS

_TENANT_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,38}[a-z0-9]")


class TenantConfig(BaseModel):
    """A client shop served by this deployment."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    # The tenant's secrets are the SSM parameters ``<tenant_secret_prefix><id>/webhooks|links|api``
    # (shared/tenant_secrets.py); they are put there without a deploy, so they are not settings.
    alert_emails: tuple[str, ...] = ()

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not _TENANT_ID.fullmatch(value):
            raise ValueError(
                f"tenant id {value!r} must be 3-40 characters of a-z, 0-9 and '-', "
                "starting and ending with a letter or digit"
            )
        return value


class StackConfig(BaseModel):
    """The whole deployment's settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: str = Field(default="dev", pattern=r"^[a-z][a-z0-9]{1,15}$")
    tenants: tuple[TenantConfig, ...] = ()
    alert_emails: tuple[str, ...] = ()
    # From: of every notice and report to client teams (shared.alerts): an SES identity of the
    # operations team, never a shop's customer sender.
    ops_sender: str = Field(default=DEFAULT_OPS_SENDER, pattern=r"@")
    log_retention_days: int = 30
    # The table's class. Financial records stay in it for the tenants' years (seven by default),
    # so within a year storage outweighs the requests: Standard-IA stores for 40 % of Standard's
    # price and serves each request for 125 %. On the demo's day it costs $0.027 more per 1,000
    # orders in month 1, less from about month 9, $0.27 less in month 84 (docs/cost.md).
    # DynamoDB lets a table change class twice in 30 days, in place.
    table_class: Literal["STANDARD", "STANDARD_INFREQUENT_ACCESS"] = "STANDARD_INFREQUENT_ACCESS"
    # Days raw payloads stay in the archive bucket before moving to Infrequent Access / expiring.
    archive_ia_days: int = 30
    archive_expire_days: int = Field(default=RAW_EVENT_DAYS, ge=1)
    # Days reconciliation reports and summaries, and bank statement files, stay in S3: the
    # deployment-wide period, never shorter than the raw payloads (and at least as long as the
    # longest ``retention.financial_years`` of its tenants: S3 keeps no per-tenant period).
    financial_retention_days: int = Field(default=RAW_EVENT_DAYS, ge=1)
    dlq_alarm_threshold: int = 1
    # Seconds a lifecycle "day" lasts: 86400 deployed; small in tests and the local stack so a
    # lifecycle (review timeout, dispatch SLA, return window) runs in seconds.
    lifecycle_seconds_per_day: int = Field(default=86400, ge=1)
    # The identity provider whose JWTs the operator API's authorizer accepts (API Gateway
    # fetches its keys from <issuer>/.well-known/openid-configuration, so it must be https).
    operator_jwt_issuer: str = Field(default="https://auth.example.invalid/", pattern=r"^https://")
    operator_jwt_audience: tuple[str, ...] = Field(default=("ecomops-operators",), min_length=1)
    # Limits on what anyone on the internet can make us run: the public functions' reserved
    # concurrency (so a flood cannot take the concurrency the processor, the workflows and the
    # operator API need; the account keeps at least 100 unreserved) and the request rates of
    # the public routes (each route its own: a flood of one source does not starve another).
    ingress_concurrency: int = Field(default=100, ge=1)
    links_concurrency: int = Field(default=10, ge=1)
    webhook_rate_per_route: int = Field(default=200, ge=1)
    webhook_burst_per_route: int = Field(default=100, ge=1)
    links_rate: int = Field(default=10, ge=1)
    links_burst: int = Field(default=20, ge=1)

    @model_validator(mode="after")
    def _financial_records_outlive_raw_events(self) -> StackConfig:
        if self.financial_retention_days < self.archive_expire_days:
            raise ValueError(
                f"financialRetentionDays ({self.financial_retention_days}) is shorter than "
                f"archiveExpireDays ({self.archive_expire_days}): reports and bank files must "
                "be kept at least as long as the raw webhooks"
            )
        return self

    @property
    def tenant_secret_prefix(self) -> str:
        """Where tenants' secrets live in Parameter Store: ``<prefix><tenant>/<part>``."""
        return f"/ecomops/{self.stage}/tenants/"

    def tenant_secret_parameters(self, tenant: TenantConfig) -> tuple[str, ...]:
        """The names of ``tenant``'s three SecureString parameters (webhooks, links, api)."""
        from shared.tenant_secrets import PARTS, parameter_name

        return tuple(parameter_name(self.tenant_secret_prefix, tenant.id, p) for p in PARTS)

    @classmethod
    def from_context(cls, get: Any) -> StackConfig:
        """Build from a ``node.try_get_context``-like getter.

        Values given on the command line (``-c tenants='[...]'``) arrive as strings; JSON is
        accepted there so that every setting can be given either way.
        """
        raw: dict[str, Any] = {}
        for key, field in (
            ("stage", "stage"),
            ("tenants", "tenants"),
            ("alertEmails", "alert_emails"),
            ("opsSender", "ops_sender"),
            ("logRetentionDays", "log_retention_days"),
            ("archiveIaDays", "archive_ia_days"),
            ("archiveExpireDays", "archive_expire_days"),
            ("financialRetentionDays", "financial_retention_days"),
            ("dlqAlarmThreshold", "dlq_alarm_threshold"),
            ("lifecycleSecondsPerDay", "lifecycle_seconds_per_day"),
            ("operatorJwtIssuer", "operator_jwt_issuer"),
            ("operatorJwtAudience", "operator_jwt_audience"),
            ("ingressConcurrency", "ingress_concurrency"),
            ("linksConcurrency", "links_concurrency"),
            ("webhookRatePerRoute", "webhook_rate_per_route"),
            ("webhookBurstPerRoute", "webhook_burst_per_route"),
            ("linksRate", "links_rate"),
            ("linksBurst", "links_burst"),
        ):
            value = get(key)
            if value is None:
                continue
            if isinstance(value, str) and field in {
                "tenants",
                "alert_emails",
                "operator_jwt_audience",
            }:
                value = json.loads(value)
            raw[field] = value
        return cls.model_validate(raw)
