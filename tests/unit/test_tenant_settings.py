"""Tenant settings are typed throughout: a misspelt or unknown key is refused, naming it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from functions.risk.domain.signals import SignalConfig
from local import tenants as tenants_file
from shared.tenants import TenantSettings

ROOT = Path(__file__).resolve().parents[2]


def settings(**changes: Any) -> dict[str, Any]:
    return {
        "id": "acme",
        "name": "Acme",
        "currency": "EUR",
        "customer_sender": "orders@acme.example",
        **changes,
    }


def refusal(**changes: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        TenantSettings.model_validate(settings(**changes))
    return str(refused.value)


def test_a_misspelt_list_kind_is_refused_by_name() -> None:
    text = refusal(risk={"block": {"ipz": ["203.0.113.7"]}})
    assert "risk.block.ipz" in text and "Extra inputs are not permitted" in text


def test_list_entries_are_checked_and_kept_canonical() -> None:
    text = refusal(risk={"block": {"ips": ["203.0.113.0/26", "not-an-ip"]}})
    assert "risk.block.ips" in text and "'not-an-ip' is not an IP address or CIDR range" in text
    assert "is not an ISO 3166" in refusal(risk={"allow": {"countries": ["Netherlands"]}})
    tenant = TenantSettings.model_validate(
        settings(risk={"block": {"countries": ["kp"], "emails": ["Bad@Example.com"]}})
    )
    assert tenant.risk.block.countries == ("KP",) and tenant.risk.block.emails == (
        "bad@example.com",
    )


def test_an_unknown_risk_setting_is_refused_by_name() -> None:
    # Country mismatches are screened by rules (billing_shipping_mismatch, docs/risk.md), so a
    # setting for them would only be a second, silently different place to say it.
    assert "risk.review_country_mismatch" in refusal(risk={"review_country_mismatch": True})
    assert "risk.thresholds.toys.review_ovr" in refusal(
        risk={"thresholds": {"toys": {"review_ovr": 5000}}}
    )
    assert "risk.review_over" in refusal(risk={"review_over": "a lot"})


def test_a_bank_csv_layout_is_checked_on_load() -> None:
    assert "no bank CSV preset 'sparkasse'" in refusal(reconciliation={"bank_csv": "sparkasse"})
    mapping = {"booking_date": "Date", "amount": "Amount", "currency": "EUR", "amout": "x"}
    assert "reconciliation.bank_csv.mapping.amout" in refusal(reconciliation={"bank_csv": mapping})
    assert "either an amount column or both credit and debit" in refusal(
        reconciliation={"bank_csv": {"booking_date": "Date", "currency": "EUR"}}
    )


def test_addresses_and_the_time_zone_are_checked_on_load() -> None:
    assert "timezone" in (text := refusal(timezone="Europe/Amsterdm"))
    assert "'Europe/Amsterdm' is not an IANA time zone" in text
    assert "customer_sender" in (text := refusal(customer_sender="Acme <orders at acme>"))
    assert "is not an e-mail address" in text
    assert "alert_emails.1" in refusal(alert_emails=["ops@acme.example", "ops.acme.example"])
    fine = TenantSettings.model_validate(settings(customer_sender="Acme <orders@acme.example>"))
    assert fine.customer_sender == "Acme <orders@acme.example>"


def test_typed_risk_settings_reach_screening() -> None:
    tenant = TenantSettings.model_validate(
        settings(
            risk={
                "block": {"ips": ["203.0.113.0/26"]},
                "thresholds": {"toys": {"review_over": 5000}},
                "review_over": 40000,
            }
        )
    )
    config = SignalConfig.from_tenant(tenant.timezone, tenant.business_category, tenant.risk)
    assert config.block.ips == ("203.0.113.0/26",)
    assert config.thresholds["toys"].review_over == 5000
    assert config.thresholds["*"].review_over == 40000


TENANT_FILES = sorted(
    path
    for pattern in ("tenants*.json", "tenants*.yaml", "tenants*.yml")
    for folder in ("local", "tests")
    for path in (ROOT / folder).rglob(pattern)
)


@pytest.mark.parametrize("path", TENANT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_tenants_file_in_the_repository_loads(path: Path) -> None:
    assert tenants_file.read(path).tenants


def test_the_demo_tenant_file_is_among_them() -> None:
    assert ROOT / "local" / "tenants.demo.json" in TENANT_FILES
