"""Manual capture within the card networks' authorisation window (issue 13, item 8): settings
that cannot work are refused when they are saved, with the keys named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from local import tenants as tenants_file
from shared.tenants import TenantSettings

BASE = {"id": "acme", "name": "Acme", "currency": "EUR", "customer_sender": "shop@acme.example"}


def settings(**values: Any) -> TenantSettings:
    return TenantSettings.model_validate({**BASE, **values})


def test_the_documented_defaults() -> None:
    tenant = settings()
    assert tenant.authorisation_window_hours == 168  # Visa, customer-initiated: 7 days
    assert tenant.authorisation_alert_before_hours == 24
    assert tenant.review_call_before_timeout_hours == 24
    assert tenant.payment_timeout_hours == 24


def test_a_manual_capture_review_longer_than_the_window_is_refused_naming_the_keys() -> None:
    with pytest.raises(ValidationError) as refused:
        settings(capture_mode="manual", review_timeout_hours=200)
    message = str(refused.value)
    assert "review_timeout_hours (200)" in message
    assert "authorisation_window_hours (168)" in message


def test_merchant_initiated_payments_have_a_shorter_window() -> None:
    settings(capture_mode="manual", review_timeout_hours=100, authorisation_window_hours=120)
    with pytest.raises(ValidationError, match="review_timeout_hours"):
        settings(capture_mode="manual", review_timeout_hours=120, authorisation_window_hours=120)


@pytest.mark.parametrize(
    "values",
    [
        {"capture_mode": "manual", "review_timeout_hours": 48},
        # Captured at once: the review holds no authorisation.
        {"capture_mode": "automatic", "review_timeout_hours": 480},
        # Stripe's extended authorisation (up to 30 days).
        {"capture_mode": "manual", "review_timeout_hours": 480, "authorisation_window_hours": 720},
    ],
)
def test_settings_that_fit_are_taken(values: dict[str, Any]) -> None:
    settings(**values)


def test_an_alert_margin_as_long_as_the_window_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"authorisation_alert_before_hours \(24\) must be"):
        settings(authorisation_window_hours=24, authorisation_alert_before_hours=24)


def test_no_authorisation_lasts_longer_than_thirty_days() -> None:
    with pytest.raises(ValidationError, match="less than or equal to 720"):
        settings(authorisation_window_hours=721)


def test_a_tenants_file_with_a_review_outliving_the_authorisation_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tenants.json"
    document = {
        "tenants": [
            {
                "settings": {**BASE, "capture_mode": "manual", "review_timeout_hours": 240},
                "secrets": {},
            }
        ]
    }
    path.write_text(json.dumps(document))
    with pytest.raises(ValidationError, match="authorisation_window_hours"):
        tenants_file.read(path)
