"""Onboarding on moto: the settings record and its versions in the table, the secrets in SSM
where the functions read them, SES senders (14)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from functions.tenants.adapters.records import DynamoTenantRecords
from functions.tenants.composition import build_admin
from functions.tenants.domain import TenantExists, UnverifiedSenders, VersionConflict
from shared import signing
from shared.tenant_secrets import LINKS, WEBHOOKS, TenantSecrets
from shared.tenants import TenantDirectory, TenantDocument, TenantSettings
from tests.clocks import FixedClock
from tests.component.conftest import PREFIX, TABLE

API = "https://abc.execute-api.eu-west-1.amazonaws.com"
AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def shop(tenant: str = "bolt", sender: str = "Bolt <orders@bolt.example>") -> TenantDocument:
    return TenantDocument.model_validate(
        {
            "settings": {
                "id": tenant,
                "name": "Bolt",
                "currency": "EUR",
                "customer_sender": sender,
                "alert_emails": ["ops@bolt.example"],
            },
            "secrets": {"stripe": {"webhook_secrets": ["whsec_bolt"], "api_key": "sk_test_b"}},
        }
    )


def test_add_refuses_unverified_senders_then_onboards_where_the_functions_read(
    aws_env: dict[str, Any],
) -> None:
    admin = build_admin(TABLE, PREFIX, FixedClock(AT))
    with pytest.raises(UnverifiedSenders, match=r"orders@bolt\.example"):
        admin.add(shop(), "arn:aws:sts::1:assumed-role/ops/ann", API, "refuse")
    assert TenantDirectory(TABLE).get("bolt") is None
    assert (
        TenantSecrets(WEBHOOKS, PREFIX).client.get_parameters(Names=[f"{PREFIX}bolt/webhooks"])[
            "Parameters"
        ]
        == []
    )

    boto3.client("ses").verify_domain_identity(Domain="bolt.example")
    onboarded = admin.add(shop(), "arn:aws:sts::1:assumed-role/ops/ann", API, "refuse")

    # What every function reads: the settings in force and the secrets by part.
    assert TenantDirectory(TABLE).get("bolt") == shop().settings
    webhooks = TenantSecrets(WEBHOOKS, PREFIX).get("bolt")
    assert webhooks["stripe"]["webhook_secrets"] == ["whsec_bolt"]
    secret = onboarded.secrets["shop"]["webhook_secrets"][0]
    body = b'{"event_id": "e1"}'
    headers = signing.sign_shop(body, secret, timestamp=1_800_000_000)
    signing.verify_shop(
        body,
        headers["X-EcomOps-Timestamp"],
        headers["X-EcomOps-Signature"],
        webhooks["shop"]["webhook_secrets"],
        now=1_800_000_000,
    )
    assert TenantSecrets(LINKS, PREFIX).get("bolt")["links"]["signing_keys"]
    assert "bolt" in [c.settings.id for c in admin.tenants()]

    with pytest.raises(TenantExists):
        admin.add(shop(), "someone", API, "refuse")


def test_versions_are_immutable_and_two_operators_cannot_both_win(
    aws_env: dict[str, Any],
) -> None:
    boto3.client("ses").verify_email_identity(EmailAddress="orders@bolt.example")
    admin = build_admin(TABLE, PREFIX, FixedClock(AT))
    admin.add(shop(), "ann", API, "refuse")
    # Both read version 1; the first to save wins, the other is refused, nothing overwritten.
    results: list[object] = []

    def save(who: str, days: int) -> None:
        try:
            results.append(
                admin.update(
                    "bolt",
                    who,
                    "refuse",
                    assignments=[f"dispatch_sla_days={days}"],
                    expected_version=1,
                )
            )
        except VersionConflict as conflict:
            results.append(conflict)

    threads = [threading.Thread(target=save, args=(w, d)) for w, d in (("bob", 5), ("cy", 6))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(isinstance(r, VersionConflict) for r in results) == 1
    history = admin.history("bolt")
    settings_versions = [v for v in history if v.subject == "settings"]
    assert [v.version for v in settings_versions] == [1, 2]
    assert settings_versions[0].settings == shop().settings  # version 1 as it was
    winner = settings_versions[1]
    assert TenantDirectory(TABLE).get("bolt") == winner.settings
    assert winner.saved_by in ("bob", "cy") and winner.saved_at == AT
    assert winner.change == {"changed": ["dispatch_sla_days"]}

    # The write itself is conditional: a save from version 1 after version 2 is refused, and a
    # version number is never written twice.
    records = DynamoTenantRecords(TABLE)
    late = winner.model_copy(update={"version": 3, "saved_by": "dee"})
    with pytest.raises(VersionConflict):
        records.save_settings(late, replaces=1)
    with pytest.raises(VersionConflict):
        records.save_settings(winner.model_copy(update={"saved_by": "eve"}), replaces=2)
    assert [v.version for v in admin.history("bolt") if v.subject == "settings"] == [1, 2]
    assert admin.show("bolt", API).current.saved_by == winner.saved_by


def test_a_tenant_written_before_versions_is_updated_to_version_one(
    aws_env: dict[str, Any],
) -> None:
    # As `ecomops local up` installs a tenants file, or a hand edit did.
    TenantDirectory(TABLE).save(
        TenantSettings(id="acme", name="Acme", currency="EUR", customer_sender="o@acme.example")
    )
    admin = build_admin(TABLE, PREFIX, FixedClock(AT))
    assert admin.show("acme", API).current.version == 0
    updated = admin.update("acme", "ann", "refuse", assignments=["risk.review_over=40000"])
    assert updated.version.version == 1
    assert TenantDirectory(TABLE).get("acme").risk.review_over == 40000  # type: ignore[union-attr]


def test_rotation_keeps_the_previous_secret_where_ingress_reads_it(
    aws_env: dict[str, Any],
) -> None:
    boto3.client("ses").verify_domain_identity(Domain="bolt.example")
    admin = build_admin(TABLE, PREFIX, FixedClock(AT))
    first = admin.add(shop(), "ann", API, "refuse").secrets["easypost"]["webhook_secrets"][0]
    rotation = admin.rotate("bolt", "easypost.webhook_secrets", "bob").rotation
    assert rotation is not None and rotation.previous == first
    read = TenantSecrets(WEBHOOKS, PREFIX, cache_seconds=0).get("bolt")
    assert read["easypost"]["webhook_secrets"] == [rotation.new, first]
    assert read["stripe"]["webhook_secrets"] == ["whsec_bolt"]  # the others untouched
    changes = [v for v in admin.history("bolt") if v.subject == "secrets"]
    assert [c.change["action"] for c in changes] == ["added", "rotated"]
    assert all("made" not in str(c.change) and first not in str(c.change) for c in changes)
