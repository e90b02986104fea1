"""Audit retention (issue 13.12): the period is a tenant setting, never shorter than the raw
webhooks, counted in calendar years from the clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.retention import RAW_EVENT_DAYS, Retention, keep_until
from shared.tenants import TenantSettings
from tests.clocks import FixedClock

BASE = {"id": "acme", "name": "Acme", "currency": "EUR", "customer_sender": "shop@acme.example"}


def test_financial_records_are_kept_seven_years_unless_the_tenant_says_longer() -> None:
    assert TenantSettings.model_validate(BASE).retention.financial_years == 7
    longer = TenantSettings.model_validate({**BASE, "retention": {"financial_years": 10}})
    assert longer.retention.financial_years == 10


@pytest.mark.parametrize("years", [0, 1, 6])
def test_a_period_shorter_than_the_raw_webhooks_is_refused_with_the_key_named(years: int) -> None:
    with pytest.raises(ValidationError) as refused:
        TenantSettings.model_validate({**BASE, "retention": {"financial_years": years}})
    (error,) = refused.value.errors()
    assert error["loc"] == ("retention", "financial_years")
    assert "retention.financial_years" in str(refused.value)
    assert str(RAW_EVENT_DAYS) in error["msg"]


def test_an_unknown_retention_key_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"retention\.years"):
        TenantSettings.model_validate({**BASE, "retention": {"years": 10}})


@pytest.mark.parametrize(
    ("now", "years", "until"),
    [
        (datetime(2026, 11, 23, 10, tzinfo=UTC), 7, datetime(2033, 11, 23, 10, tzinfo=UTC)),
        (datetime(2028, 2, 29, 12, tzinfo=UTC), 7, datetime(2035, 2, 28, 12, tzinfo=UTC)),
        (datetime(2028, 2, 29, 12, tzinfo=UTC), 4, datetime(2032, 2, 29, 12, tzinfo=UTC)),
    ],
)
def test_the_ttl_is_calendar_years_from_the_clock(
    now: datetime, years: int, until: datetime
) -> None:
    assert keep_until(now, years) == int(until.timestamp())
    assert keep_until(now, 7) - int(now.timestamp()) >= RAW_EVENT_DAYS * 86_400


class Directory:
    def __init__(self, *tenants: TenantSettings) -> None:
        self.by_id = {t.id: t for t in tenants}

    def get(self, tenant: str) -> TenantSettings | None:
        return self.by_id.get(tenant)


class Unreadable:
    def get(self, tenant: str) -> TenantSettings | None:
        raise ValueError("settings record does not validate")


def test_unreadable_settings_never_stop_the_write_and_never_shorten_the_period() -> None:
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert Retention(Unreadable(), FixedClock(now)).expires_at("acme") == keep_until(now, 100)


def test_a_tenant_without_settings_gets_the_default_period() -> None:
    now = datetime(2026, 11, 23, 10, tzinfo=UTC)
    longer = TenantSettings.model_validate({**BASE, "retention": {"financial_years": 10}})
    retention = Retention(Directory(longer), FixedClock(now))
    assert retention.expires_at("acme") == keep_until(now, 10)
    assert retention.expires_at("unknown") == keep_until(now, 7)
    assert retention.attribute("acme") == {"expires_at": {"N": str(keep_until(now, 10))}}
