"""Signed one-click decision links: what is accepted, what is refused and why."""

from __future__ import annotations

import base64
import json

import pytest

from shared.signed_links import (
    LinkAlreadyUsed,
    LinkBadSignature,
    LinkClaims,
    LinkExpired,
    LinkMalformed,
    LinkRefused,
    LinkUnknownKey,
    LinkWrongDecision,
    LinkWrongOrder,
    LinkWrongTenant,
    key_id,
    keyring,
    redeem,
    sign_decision_links,
    sign_link,
    verify_link,
)

NOW = 1_800_000_000
KEY = "k-2026-new-secret"
OLD_KEY = "k-2025-old-secret"
KEYS = {"new": KEY, "old": OLD_KEY}


def token(**overrides: object) -> str:
    args: dict[str, object] = {
        "key": KEY,
        "kid": "new",
        "tenant": "acme",
        "order_id": "ord_1",
        "decision": "approve",
        "expires_at": NOW + 3600,
        "nonce": "nonce-0001",
    }
    args.update(overrides)
    return sign_link(**args)  # type: ignore[arg-type]


def verify(value: str, **overrides: object) -> LinkClaims:
    args: dict[str, object] = {
        "keys": KEYS,
        "tenant": "acme",
        "order_id": "ord_1",
        "decision": "approve",
        "now": NOW,
    }
    args.update(overrides)
    return verify_link(value, **args)  # type: ignore[arg-type]


class MemoryLedger:
    def __init__(self) -> None:
        self.spent: dict[tuple[str, str], int] = {}

    def consume(self, tenant: str, nonce: str, expires_at: int) -> bool:
        if (tenant, nonce) in self.spent:
            return False
        self.spent[(tenant, nonce)] = expires_at
        return True


def test_a_valid_link_gives_its_claims() -> None:
    value = token()
    assert verify(value) == LinkClaims(
        tenant="acme",
        order_id="ord_1",
        decision="approve",
        expires_at=NOW + 3600,
        nonce="nonce-0001",
        kid="new",
    )


def test_tokens_are_url_safe_and_compact() -> None:
    value = token(order_id="ord/with spaces&?=", tenant="a-tenant")
    assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert len(value) < 250


def test_a_fresh_nonce_each_time_by_default() -> None:
    first = sign_link(key=KEY, tenant="acme", order_id="o", decision="reject", expires_at=NOW + 9)
    second = sign_link(key=KEY, tenant="acme", order_id="o", decision="reject", expires_at=NOW + 9)
    assert first != second


def test_redeem_once_then_replay_is_refused() -> None:
    ledger = MemoryLedger()
    value = token()
    args = {"keys": KEYS, "tenant": "acme", "order_id": "ord_1", "decision": "approve"}
    claims = redeem(value, now=NOW, ledger=ledger, **args)  # type: ignore[arg-type]
    assert claims.nonce == "nonce-0001"
    assert ledger.spent == {("acme", "nonce-0001"): NOW + 3600}
    with pytest.raises(LinkAlreadyUsed) as refused:
        redeem(value, now=NOW + 1, ledger=ledger, **args)  # type: ignore[arg-type]
    assert refused.value.reason == "already used"
    assert isinstance(refused.value, LinkRefused)


def test_a_refused_link_spends_nothing() -> None:
    ledger = MemoryLedger()
    with pytest.raises(LinkExpired):
        redeem(
            token(),
            keys=KEYS,
            tenant="acme",
            order_id="ord_1",
            decision="approve",
            now=NOW + 3600,
            ledger=ledger,
        )
    assert ledger.spent == {}


def test_approve_and_reject_of_one_review_share_a_nonce() -> None:
    links = sign_decision_links(
        key=KEY, kid="new", tenant="acme", order_id="o", expires_at=NOW + 60
    )
    ledger = MemoryLedger()
    common = {"keys": KEYS, "tenant": "acme", "order_id": "o", "now": NOW, "ledger": ledger}
    redeem(links["reject"], decision="reject", **common)  # type: ignore[arg-type]
    with pytest.raises(LinkAlreadyUsed):
        redeem(links["approve"], decision="approve", **common)  # type: ignore[arg-type]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_forged_signature_is_refused() -> None:
    version, kid, body, _ = token().split(".")
    forged = f"{version}.{kid}.{body}.{_b64(b'x' * 32)}"
    with pytest.raises(LinkBadSignature) as refused:
        verify(forged)
    assert refused.value.reason == "bad signature"


def test_signed_with_a_key_the_verifier_does_not_hold() -> None:
    with pytest.raises(LinkBadSignature):
        verify(token(key="an-attackers-key"))


def test_a_tampered_payload_is_refused() -> None:
    version, kid, body, signature = token().split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["o"] = "ord_2"
    tampered = f"{version}.{kid}.{_b64(json.dumps(payload).encode())}.{signature}"
    with pytest.raises(LinkBadSignature):
        verify(tampered, order_id="ord_2")


def test_a_swapped_key_id_is_refused() -> None:
    version, _, body, signature = token().split(".")
    with pytest.raises(LinkBadSignature):
        verify(f"{version}.old.{body}.{signature}")


def test_an_expired_link_is_refused() -> None:
    value = token(expires_at=NOW + 10)
    assert verify(value, now=NOW + 9)
    with pytest.raises(LinkExpired) as refused:
        verify(value, now=NOW + 10)
    assert refused.value.reason == "expired"


def test_another_tenants_link_is_refused() -> None:
    with pytest.raises(LinkWrongTenant) as refused:
        verify(token(tenant="globex"))
    assert refused.value.reason == "wrong tenant"


def test_a_link_for_another_order_is_refused() -> None:
    with pytest.raises(LinkWrongOrder):
        verify(token(order_id="ord_2"))


def test_the_other_decision_is_refused() -> None:
    with pytest.raises(LinkWrongDecision):
        verify(token(decision="reject"))
    with pytest.raises(LinkWrongDecision):
        verify(token(), decision="escalate")


def test_an_unknown_key_id_is_refused() -> None:
    with pytest.raises(LinkUnknownKey) as refused:
        verify(token(kid="retired"))
    assert refused.value.reason == "unknown key"


def test_a_rotated_key_still_verifies_until_removed() -> None:
    old = token(key=OLD_KEY, kid="old")
    assert verify(old).kid == "old"
    with pytest.raises(LinkUnknownKey):
        verify(old, keys={"new": KEY})


def test_derived_key_ids_and_keyring() -> None:
    value = sign_link(key=KEY, tenant="acme", order_id="o", decision="approve", expires_at=NOW + 5)
    assert value.split(".")[1] == key_id(KEY)
    ring = keyring(KEY, OLD_KEY)
    claims = verify_link(value, keys=ring, tenant="acme", order_id="o", decision="approve", now=NOW)
    assert claims.kid == key_id(KEY)
    assert KEY not in value and key_id(KEY) != key_id(OLD_KEY)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "v1.new.abc",
        "v2.new.abc.def",
        "v1.new.abc.def.ghi",
        "v1.bad kid.abc.def",
        "v1.new.ab!c.def",
        "v1.new.abc.",
        "x" * 5000,
    ],
)
def test_malformed_tokens_are_refused(value: str) -> None:
    with pytest.raises(LinkMalformed) as refused:
        verify(value)
    assert refused.value.reason == "malformed"


def test_a_well_signed_but_senseless_payload_is_malformed() -> None:
    import hashlib
    import hmac

    body = _b64(json.dumps({"t": "acme", "o": "ord_1", "d": "approve"}).encode())  # no exp
    signed = f"v1.new.{body}"
    mac = hmac.new(KEY.encode(), signed.encode(), hashlib.sha256).digest()
    with pytest.raises(LinkMalformed):
        verify(f"{signed}.{_b64(mac)}")


@pytest.mark.parametrize(
    "overrides",
    [
        {"key": ""},
        {"decision": "maybe"},
        {"expires_at": 0},
        {"expires_at": True},
        {"tenant": ""},
        {"nonce": "short"},
        {"kid": "has space"},
        {"order_id": "o" * 2000},
    ],
)
def test_signing_refuses_bad_arguments(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        token(**overrides)
