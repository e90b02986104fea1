"""Onboarding a client shop and changing it, over in-memory ports (14)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from functions.tenants.domain import (
    TenantExists,
    TenantRefused,
    UnknownTenant,
    UnverifiedSenders,
    Version,
    VersionConflict,
    sender_addresses,
)
from shared.tenants import TenantDocument
from tests.tenants_fakes import NOW, admin

API = "https://abc.execute-api.eu-west-1.amazonaws.com"


def acme(**settings: Any) -> TenantDocument:
    return TenantDocument.model_validate(
        {
            "settings": {
                "id": "acme",
                "name": "Acme",
                "currency": "EUR",
                "customer_sender": "Acme <orders@acme.example>",
                **settings,
            },
            "secrets": {"stripe": {"api_key": "sk_test_acme"}},
        }
    )


def test_add_saves_version_one_makes_our_secrets_and_says_what_to_configure() -> None:
    tenants, records, vault, _ = admin(verified=["acme.example"])
    onboarded = tenants.add(acme(), "ops@example", API, "refuse")

    assert onboarded.version.version == 1 and onboarded.version.saved_by == "ops@example"
    assert onboarded.version.saved_at == NOW
    assert records.current("acme") is not None and records.current("acme").version == 1  # type: ignore[union-attr]
    stored = vault.documents["acme"]
    assert stored["stripe"]["api_key"] == "sk_test_acme"  # given, kept
    assert stored["shop"]["webhook_secrets"] and stored["links"]["signing_keys"]
    assert sorted(onboarded.generated) == [
        "easypost.webhook_secrets",
        "links.signing_keys",
        "shippo.tokens",
        "shop.webhook_secrets",
    ]
    # Issued by the provider: to be set once the endpoint exists there.
    assert "stripe.webhook_secrets" in onboarded.missing
    assert "aftership.webhook_secrets" in onboarded.missing
    urls = {e.secret: e.url for e in onboarded.endpoints}
    assert urls["stripe.webhook_secrets"] == f"{API}/webhooks/acme/stripe"
    assert urls["shop.webhook_secrets"] == f"{API}/webhooks/acme/shop"
    token = stored["shippo"]["tokens"][0]
    assert urls["shippo.webhook_secrets"] == f"{API}/webhooks/acme/carriers/shippo?token={token}"
    assert [v.subject for v in tenants.history("acme")] == ["settings", "secrets"]


def test_add_refuses_a_tenant_that_exists_and_writes_nothing() -> None:
    tenants, _, vault, _ = admin(verified=["acme.example"])
    tenants.add(acme(), "ops", API, "refuse")
    writes = vault.writes
    with pytest.raises(TenantExists, match=r"exists already.*tenants update"):
        tenants.add(acme(name="Other"), "ops", API, "refuse")
    assert vault.writes == writes


def test_unverified_senders_refuse_before_anything_is_written() -> None:
    tenants, records, vault, _ = admin(verified=["other.example"])
    with pytest.raises(UnverifiedSenders) as refused:
        tenants.add(acme(), "ops", API, "refuse")
    assert refused.value.addresses == ("orders@acme.example",)
    assert "sesv2 create-email-identity" in str(refused.value)
    assert records.saved == {} and vault.writes == 0

    warned = tenants.add(acme(), "ops", API, "warn")
    assert warned.unverified_senders == ["orders@acme.example"]


def test_every_sender_setting_is_checked() -> None:
    settings = acme().settings
    assert sender_addresses(settings) == ["orders@acme.example"]


def test_update_is_the_next_version_with_what_changed() -> None:
    tenants, _, _, clock = admin(verified=["acme.example"])
    tenants.add(acme(), "ann", API, "refuse")
    clock.advance(timedelta(hours=1))
    updated = tenants.update(
        "acme", "bob", "refuse", assignments=["risk.review_over=50000", "return_window_days=30"]
    )
    assert updated.version.version == 2 and updated.version.saved_by == "bob"
    assert updated.changed == ["return_window_days", "risk.review_over"]
    current = tenants.show("acme", API).current
    assert current.settings.risk.review_over == 50000 and current.version == 2
    history = [(v.subject, v.version, v.saved_by) for v in tenants.history("acme")]
    assert history == [("settings", 1, "ann"), ("secrets", 1, "ann"), ("settings", 2, "bob")]


def test_update_refuses_a_misspelt_key_by_name_and_changes_nothing() -> None:
    tenants, records, _, _ = admin(verified=["acme.example"])
    tenants.add(acme(), "ann", API, "refuse")
    with pytest.raises(ValidationError, match=r"risk\.block\.ipz"):
        tenants.update("acme", "bob", "refuse", assignments=["risk.block.ipz=[203.0.113.7]"])
    assert records.current("acme").version == 1  # type: ignore[union-attr]


def test_update_refuses_a_stale_version_no_change_and_a_new_id() -> None:
    tenants, _, _, _ = admin(verified=["acme.example"])
    tenants.add(acme(), "ann", API, "refuse")
    tenants.update("acme", "bob", "refuse", assignments=["dispatch_sla_days=5"])
    with pytest.raises(VersionConflict, match="version 2, not 1"):
        tenants.update(
            "acme", "cy", "refuse", assignments=["dispatch_sla_days=6"], expected_version=1
        )
    with pytest.raises(TenantRefused, match="nothing to change"):
        tenants.update("acme", "cy", "refuse", assignments=["dispatch_sla_days=5"])
    renamed = acme().settings.model_copy(update={"id": "acme-two"})
    with pytest.raises(TenantRefused, match="cannot change"):
        tenants.update("acme", "cy", "refuse", replacement=renamed)


def test_a_new_sender_on_update_is_checked() -> None:
    tenants, _, _, _ = admin(verified=["acme.example"])
    tenants.add(acme(), "ann", API, "refuse")
    with pytest.raises(UnverifiedSenders):
        tenants.update(
            "acme", "bob", "refuse", assignments=["customer_sender=shop@elsewhere.example"]
        )


def test_rotating_our_secret_keeps_the_previous_one_accepted() -> None:
    tenants, _, vault, _ = admin(verified=["acme.example"])
    tenants.add(acme(), "ann", API, "refuse")
    first = vault.documents["acme"]["shop"]["webhook_secrets"]
    changed = tenants.rotate("acme", "shop.webhook_secrets", "bob")
    assert changed.rotation is not None
    assert changed.rotation.previous == first[0]
    assert vault.documents["acme"]["shop"]["webhook_secrets"] == [changed.rotation.new, first[0]]
    again = tenants.rotate("acme", "shop.webhook_secrets", "bob")
    assert again.rotation is not None
    # Only the one before is kept: the oldest stops being accepted.
    assert vault.documents["acme"]["shop"]["webhook_secrets"] == [
        again.rotation.new,
        changed.rotation.new,
    ]
    last = tenants.history("acme")[-1]
    assert last.subject == "secrets" and last.version == 3
    assert last.change == {
        "action": "rotated",
        "fields": ["shop.webhook_secrets"],
        "previous_kept": True,
    }


def test_a_provider_secret_is_rotated_with_the_providers_new_value() -> None:
    tenants, _, vault, _ = admin(verified=["acme.example"])
    tenants.add(acme(), "ann", API, "refuse")
    with pytest.raises(TenantRefused, match="issued by stripe"):
        tenants.rotate("acme", "stripe.webhook_secrets", "bob")
    tenants.set_secret("acme", "stripe.webhook_secrets", "whsec_1", "bob")
    tenants.rotate("acme", "stripe.webhook_secrets", "bob", value="whsec_2")
    assert vault.documents["acme"]["stripe"]["webhook_secrets"] == ["whsec_2", "whsec_1"]
    tenants.rotate("acme", "stripe.api_key", "bob", value="sk_test_new")
    assert vault.documents["acme"]["stripe"]["api_key"] == "sk_test_new"


def test_set_replaces_and_refuses_unknown_names() -> None:
    tenants, _, vault, _ = admin(verified=["acme.example"])
    tenants.add(acme(), "ann", API, "refuse")
    tenants.set_secret("acme", "aftership.webhook_secrets", "as_1", "bob")
    assert vault.documents["acme"]["aftership"]["webhook_secrets"] == ["as_1"]
    with pytest.raises(TenantRefused, match=r"no secret 'stripe\.webhook_secret'.*known"):
        tenants.set_secret("acme", "stripe.webhook_secret", "x", "bob")


def test_unknown_tenants_are_refused_with_the_fix() -> None:
    tenants, _, _, _ = admin()
    with pytest.raises(UnknownTenant, match="tenants add"):
        tenants.show("nobody", API)
    with pytest.raises(UnknownTenant):
        tenants.rotate("nobody", "shop.webhook_secrets", "bob")


def test_of_two_secret_changes_at_once_one_is_refused_and_writes_nothing() -> None:
    tenants, records, vault, _ = admin(verified=["acme.example"])
    tenants.add(acme(), "ann", API, "refuse")
    before = dict(vault.documents["acme"])
    read = vault.read

    def read_while_another_operator_changes_them(tenant: str) -> dict[str, Any] | None:
        stored = read(tenant)
        other = Version(
            tenant=tenant,
            subject="secrets",
            version=2,
            saved_by="cy",
            saved_at=NOW,
            change={"action": "rotated", "fields": ["shop.webhook_secrets"]},
        )
        records.record_secrets_change(other)
        return stored

    vault.read = read_while_another_operator_changes_them  # type: ignore[method-assign]
    writes = vault.writes
    with pytest.raises(VersionConflict):
        tenants.rotate("acme", "shop.webhook_secrets", "bob")
    assert vault.writes == writes and vault.documents["acme"] == before
