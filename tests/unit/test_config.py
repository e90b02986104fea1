from __future__ import annotations

import pytest
from pydantic import ValidationError

from infra.config import StackConfig


def context(values: dict[str, object]):  # type: ignore[no-untyped-def]
    return values.get


def test_defaults_when_context_is_empty() -> None:
    config = StackConfig.from_context(context({}))
    assert config.stage == "dev"
    assert config.tenants == ()


def test_tenants_given_as_json_on_the_command_line() -> None:
    config = StackConfig.from_context(
        context(
            {
                "stage": "prod",
                "tenants": '[{"id": "acme-shop", "alert_emails": ["ops@acme.example"]}]',
            }
        )
    )
    (tenant,) = config.tenants
    assert tenant.id == "acme-shop"
    assert config.tenant_secret_parameters(tenant) == (
        "/ecomops/prod/tenants/acme-shop/webhooks",
        "/ecomops/prod/tenants/acme-shop/links",
        "/ecomops/prod/tenants/acme-shop/api",
    )


@pytest.mark.parametrize("bad", ["A", "x", "has space", "-leading", "Upper"])
def test_bad_tenant_ids_are_refused_with_the_rule(bad: str) -> None:
    with pytest.raises(ValidationError, match="tenant id"):
        StackConfig.from_context(context({"tenants": [{"id": bad}]}))


def test_unknown_setting_is_refused() -> None:
    with pytest.raises(ValidationError):
        StackConfig.model_validate({"stage": "dev", "colour": "blue"})


def test_reports_kept_shorter_than_the_raw_webhooks_are_refused_with_the_keys() -> None:
    assert StackConfig().financial_retention_days >= StackConfig().archive_expire_days
    with pytest.raises(ValidationError, match=r"financialRetentionDays.*archiveExpireDays"):
        StackConfig.from_context({"financialRetentionDays": 400}.get)
