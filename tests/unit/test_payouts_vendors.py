"""Vendors: validation with every reason, commission plans by category and date, versions."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from functions.payouts.domain.postings import Rate, Refused
from functions.payouts.domain.vendors import (
    BankAccount,
    VendorStatus,
    VersionConflict,
    check_vendor,
)
from functions.payouts.use_cases.vendors import (
    VendorNotFound,
    save_vendor,
    set_status,
    vendor,
)
from tests.payouts_fakes import payouts_ports


def raw(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "vendor_id": "v-anna",
        "name": "Anna's Ceramics",
        "emails": ["anna@example.com"],
        "currencies": ["EUR"],
        "payout": {
            "method": "bank",
            "holder": "Anna Keramik GmbH",
            "iban": "DE89 3704 0044 0532 0130 00",
            "currency": "EUR",
        },
        "commission": [
            {"category": "*", "percent": "12.5", "fixed": 30, "effective_from": "2026-01-01"},
            {
                "category": "art",
                "percent": "8",
                "effective_from": "2026-01-01",
                "effective_to": "2026-07-01",
            },
            {"category": "art", "percent": "9.75", "effective_from": "2026-07-01"},
        ],
        "hold": {"extra_days": 2, "reserve_percent": "10", "reserve_days": 30},
        "minimum_payout": {"EUR": 2500},
    }
    base.update(changes)
    return base


def test_a_good_vendor_is_read_with_its_iban_compacted_and_its_bic_derived() -> None:
    v = check_vendor(raw())
    assert v.payout.method == "bank"
    assert isinstance(v.payout, BankAccount)
    assert v.payout.iban == "DE89370400440532013000"
    assert v.payout.bic_or_derived() == "COBADEFFXXX"
    assert v.hold.reserve_basis_points() == 1000
    assert v.minimum("EUR") == 2500 and v.minimum("USD") == 0


def test_the_commission_rate_follows_category_and_effective_dates() -> None:
    v = check_vendor(raw())
    assert v.rate_for("art", date(2026, 3, 1)) == Rate(800, 0)
    assert v.rate_for("art", date(2026, 7, 1)) == Rate(975, 0)
    assert v.rate_for("toys", date(2026, 3, 1)) == Rate(1250, 30)
    assert v.rate_for(None, date(2026, 3, 1)) == Rate(1250, 30)
    assert v.rate_for("toys", date(2025, 12, 31)) == Rate()


def test_bad_input_is_refused_with_every_reason() -> None:
    with pytest.raises(Refused) as refused:
        check_vendor(
            raw(
                name="",
                payout={
                    "method": "bank",
                    "holder": "A",
                    "iban": "DE89370400440532013001",
                    "currency": "USD",
                },
                commission=[
                    {"percent": "120", "effective_from": "2026-01-01"},
                    {"percent": "10", "effective_from": "2026-02-01"},
                ],
                status="on_hold",
            )
        )
    reasons = "\n".join(refused.value.reasons)
    assert "name" in reasons
    assert "invalid IBAN" in reasons
    assert "over 100 %" in reasons
    assert "USD, which is not one of the vendor's currencies" in reasons
    assert "needs the reason" in reasons
    assert "overlap" in reasons
    assert len(refused.value.reasons) == 6


def test_a_stripe_connect_vendor_and_a_bad_bic() -> None:
    v = check_vendor(
        raw(payout={"method": "stripe_connect", "account_id": "acct_1Abc234", "currency": "EUR"})
    )
    assert v.payout.method == "stripe_connect"
    with pytest.raises(Refused, match="invalid BIC"):
        check_vendor(
            raw(
                payout={
                    "method": "bank",
                    "holder": "A",
                    "iban": "DE89370400440532013000",
                    "bic": "XXXX",
                    "currency": "EUR",
                }
            )
        )
    with pytest.raises(Refused, match="account_id"):
        check_vendor(raw(payout={"method": "stripe_connect", "account_id": "x", "currency": "EUR"}))


def test_every_change_is_a_new_version_with_who_when_and_what_changed() -> None:
    ports, vendors, _, _ = payouts_ports()
    first = save_vendor(ports, "t1", raw(), "ops@acme")
    assert (first.version, first.saved_by, first.saved_at) == (1, "ops@acme", ports.clock.now())
    same = save_vendor(ports, "t1", raw(), "ops@acme")
    assert same.version == 1  # nothing changed, no new version
    second = save_vendor(ports, "t1", raw(name="Anna Ceramics"), "lead@acme")
    assert (second.version, second.changed) == (2, ("name",))
    held = set_status(ports, "t1", "v-anna", VendorStatus.ON_HOLD, "KYC expired", "lead@acme")
    assert held.vendor.on_hold and held.vendor.hold_reason == "KYC expired"
    assert held.changed == ("hold_reason", "status")
    assert [v.version for v in vendors.versions("t1", "v-anna")] == [1, 2, 3]
    assert vendor(ports, "t1", "v-anna").version == 3


def test_refused_changes_write_nothing() -> None:
    ports, vendors, _, _ = payouts_ports()
    with pytest.raises(Refused) as refused:
        save_vendor(ports, "t1", raw(currencies=[]), " ")
    assert any("who" in r for r in refused.value.reasons)
    assert any("currencies" in r for r in refused.value.reasons)
    assert vendors.items == {}
    save_vendor(ports, "t1", raw(), "ops")
    with pytest.raises(Refused):
        set_status(ports, "t1", "v-anna", VendorStatus.ON_HOLD, None, "ops")
    assert len(vendors.versions("t1", "v-anna")) == 1
    with pytest.raises(VendorNotFound):
        vendor(ports, "t1", "nobody")


def test_two_saves_of_the_same_version_cannot_both_win() -> None:
    ports, vendors, _, _ = payouts_ports()
    first = save_vendor(ports, "t1", raw(), "ops")
    with pytest.raises(VersionConflict):
        vendors.put("t1", first)
