"""Signed one-click links for decisions taken from an e-mail: approve / reject a held order
(``sign_link``, ``verify_link``), and any other subject with its own set of actions (a payout
cycle, or one vendor's line of it, marked paid or failed: ``sign_action_links``,
``verify_action_link``).

A token is ``v1.<kid>.<payload>.<signature>``: the payload is base64url of compact JSON naming
the tenant, subject (the order), action (the decision), expiry and a nonce; the signature is
HMAC-SHA256 over everything before it. A token verifies only for the set of actions it was
signed under (the sets do not overlap), so a review link never passes as a payout link. The
key id travels in clear so the verifier picks the key *before* reading any unauthenticated
JSON, and so keys can rotate: sign with the new key, keep the old one in the
verifier's key ring until the last link it signed has expired.

Links are single use. The two links of one review share a nonce (``sign_decision_links``, and
``sign_action_links`` for any subject), so consuming either one spends both: the first click
decides, the second is "already used".

Mail scanners (Safe Links and the like) fetch every URL in a message. The HTTP handler should
answer a GET with a confirmation page and only ``redeem`` on the POST it submits, or a scanner
would decide for the operator.

Only the standard library at import time: a Lambda API handler imports this on every cold start.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from shared import keys

Decision = Literal["approve", "reject"]
DECISIONS: tuple[Decision, ...] = ("approve", "reject")

_VERSION = "v1"
_MAX_TOKEN = 1024  # links live in e-mails and URLs; anything longer is not one of ours
_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_B64 = re.compile(r"^[A-Za-z0-9_-]+$")


class LinkRefused(Exception):
    """A link that must not be acted on; ``reason`` is safe to show to the person who clicked."""

    default_reason = "refused"

    def __init__(self, reason: str | None = None) -> None:
        self.reason = reason or self.default_reason
        super().__init__(self.reason)


class LinkMalformed(LinkRefused):
    default_reason = "malformed"


class LinkUnknownKey(LinkRefused):
    default_reason = "unknown key"


class LinkBadSignature(LinkRefused):
    default_reason = "bad signature"


class LinkExpired(LinkRefused):
    default_reason = "expired"


class LinkWrongTenant(LinkRefused):
    default_reason = "wrong tenant"


class LinkWrongSubject(LinkRefused):
    default_reason = "wrong subject"


class LinkWrongOrder(LinkWrongSubject):
    default_reason = "wrong order"


class LinkWrongAction(LinkRefused):
    default_reason = "wrong action"


class LinkWrongDecision(LinkWrongAction):
    default_reason = "wrong decision"


class LinkAlreadyUsed(LinkRefused):
    default_reason = "already used"


@dataclass(frozen=True)
class LinkClaims:
    tenant: str
    order_id: str
    decision: Decision
    expires_at: int
    nonce: str
    kid: str


@dataclass(frozen=True)
class ActionClaims:
    """What a verified link of any subject says (``LinkClaims`` for an order's review)."""

    tenant: str
    subject: str
    action: str
    expires_at: int
    nonce: str
    kid: str


def key_id(key: str) -> str:
    """A stable id for a key that reveals nothing useful about it (for key rings built from
    secrets that carry no id of their own)."""
    return hashlib.sha256(b"ecomops-link-kid:" + key.encode()).hexdigest()[:12]


def keyring(*keys: str) -> dict[str, str]:
    """``kid → key`` for ``verify_link``, with ids from ``key_id``; newest key first by habit."""
    return {key_id(k): k for k in keys}


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not _B64.match(text):
        raise LinkMalformed
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise LinkMalformed from None


def _mac(key: str, signed_part: str) -> bytes:
    return hmac.new(key.encode(), signed_part.encode("ascii"), hashlib.sha256).digest()


def _sign(
    *,
    key: str,
    tenant: str,
    subject: str,
    action: str,
    actions: Sequence[str],
    expires_at: int,
    nonce: str | None,
    kid: str | None,
) -> str:
    if not key:
        raise ValueError("signing key is empty")
    if action not in actions:
        raise ValueError(f"the action must be one of {tuple(actions)}, not {action!r}")
    if isinstance(expires_at, bool) or not isinstance(expires_at, int) or expires_at <= 0:
        raise ValueError("expires_at is a positive epoch second")
    if not tenant or not subject:
        raise ValueError("tenant and subject are required")
    kid = kid if kid is not None else key_id(key)
    if not _KID.match(kid):
        raise ValueError(f"kid must match {_KID.pattern}")
    nonce = nonce if nonce is not None else secrets.token_urlsafe(16)
    if not _NONCE.match(nonce):
        raise ValueError(f"nonce must match {_NONCE.pattern}")
    payload = {"t": tenant, "o": subject, "d": action, "exp": expires_at, "n": nonce}
    body = _b64encode(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    signed_part = f"{_VERSION}.{kid}.{body}"
    token = f"{signed_part}.{_b64encode(_mac(key, signed_part))}"
    if len(token) > _MAX_TOKEN:
        raise ValueError("tenant or subject too long for a link")
    return token


def sign_link(
    *,
    key: str,
    tenant: str,
    order_id: str,
    decision: Literal["approve", "reject"],
    expires_at: int,
    nonce: str | None = None,
    kid: str | None = None,
) -> str:
    """A URL-safe token for one decision on one order of one tenant, valid until ``expires_at``
    (epoch seconds). ``kid`` defaults to ``key_id(key)``."""
    return _sign(
        key=key,
        tenant=tenant,
        subject=order_id,
        action=decision,
        actions=DECISIONS,
        expires_at=expires_at,
        nonce=nonce,
        kid=kid,
    )


def sign_action_links(
    *,
    key: str,
    tenant: str,
    subject: str,
    actions: Sequence[str],
    expires_at: int,
    kid: str | None = None,
) -> dict[str, str]:
    """One token per action on ``subject``, sharing one nonce: using one spends them all."""
    nonce = secrets.token_urlsafe(16)
    return {
        action: _sign(
            key=key,
            tenant=tenant,
            subject=subject,
            action=action,
            actions=actions,
            expires_at=expires_at,
            nonce=nonce,
            kid=kid,
        )
        for action in actions
    }


def sign_decision_links(
    *, key: str, tenant: str, order_id: str, expires_at: int, kid: str | None = None
) -> dict[Decision, str]:
    """Approve and reject tokens for one review, sharing one nonce so only one can be used."""
    tokens = sign_action_links(
        key=key,
        tenant=tenant,
        subject=order_id,
        actions=DECISIONS,
        expires_at=expires_at,
        kid=kid,
    )
    return {decision: tokens[decision] for decision in DECISIONS}


def _claims(kid: str, body: str, actions: Sequence[str]) -> ActionClaims:
    try:
        payload = json.loads(_b64decode(body))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise LinkMalformed from None
    if not isinstance(payload, dict):
        raise LinkMalformed
    tenant, subject, action = payload.get("t"), payload.get("o"), payload.get("d")
    expires_at, nonce = payload.get("exp"), payload.get("n")
    if not (isinstance(tenant, str) and isinstance(subject, str) and isinstance(nonce, str)):
        raise LinkMalformed
    if isinstance(expires_at, bool) or not isinstance(expires_at, int):
        raise LinkMalformed
    # Signed under another set of actions (a review link shown as a payout link): not ours.
    if not isinstance(action, str) or action not in actions:
        raise LinkMalformed
    return ActionClaims(
        tenant=tenant,
        subject=subject,
        action=action,
        expires_at=expires_at,
        nonce=nonce,
        kid=kid,
    )


def verify_action_link(
    token: str,
    *,
    keys: Mapping[str, str],
    tenant: str,
    subject: str,
    action: str,
    actions: Sequence[str],
    now: int,
    wrong_subject: type[LinkRefused] = LinkWrongSubject,
    wrong_action: type[LinkRefused] = LinkWrongAction,
) -> ActionClaims:
    """The claims of a token signed by one of ``keys`` (kid → key) under ``actions`` for
    exactly this tenant, subject and action, not expired at ``now``; otherwise a
    ``LinkRefused`` saying why."""
    if not isinstance(token, str) or len(token) > _MAX_TOKEN:
        raise LinkMalformed
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != _VERSION or not _KID.match(parts[1]):
        raise LinkMalformed
    _, kid, body, signature = parts
    if not _B64.match(body):
        raise LinkMalformed
    given = _b64decode(signature)
    key = keys.get(kid)
    if not key:
        raise LinkUnknownKey
    if not hmac.compare_digest(_mac(key, f"{_VERSION}.{kid}.{body}"), given):
        raise LinkBadSignature
    claims = _claims(kid, body, actions)
    # Binding before expiry: a link pasted on the wrong order is a mistake worth naming even
    # when it has also expired.
    if claims.tenant != tenant:
        raise LinkWrongTenant
    if claims.subject != subject:
        raise wrong_subject
    if claims.action != action:
        raise wrong_action
    if now >= claims.expires_at:
        raise LinkExpired
    return claims


def verify_link(
    token: str,
    *,
    keys: Mapping[str, str],
    tenant: str,
    order_id: str,
    decision: str,
    now: int,
) -> LinkClaims:
    """The claims of a review token signed by one of ``keys`` (kid → key) for exactly this
    tenant, order and decision, not expired at ``now``; otherwise a ``LinkRefused`` saying why."""
    claims = verify_action_link(
        token,
        keys=keys,
        tenant=tenant,
        subject=order_id,
        action=decision,
        actions=DECISIONS,
        now=now,
        wrong_subject=LinkWrongOrder,
        wrong_action=LinkWrongDecision,
    )
    return LinkClaims(
        tenant=claims.tenant,
        order_id=claims.subject,
        decision="approve" if claims.action == "approve" else "reject",
        expires_at=claims.expires_at,
        nonce=claims.nonce,
        kid=claims.kid,
    )


class LinkLedger(Protocol):
    def consume(self, tenant: str, nonce: str, expires_at: int) -> bool:
        """True the first time a nonce is consumed, False ever after (until it expires)."""
        ...


class DynamoLinkLedger:
    """Spent nonces in the single table; TTL removes them once the link has expired anyway."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @staticmethod
    def key(tenant: str, nonce: str) -> dict[str, dict[str, str]]:
        pk, sk = keys.spent_link(tenant, nonce)
        return {"PK": {"S": pk}, "SK": {"S": sk}}

    def was_spent(self, tenant: str, nonce: str) -> bool:
        """Whether the ledger holds the nonce: a read, so showing a link changes nothing."""
        from shared import aws

        item = aws.client("dynamodb").get_item(
            TableName=self.table_name, Key=self.key(tenant, nonce), ConsistentRead=True
        )
        return "Item" in item

    def consume(self, tenant: str, nonce: str, expires_at: int) -> bool:
        # Deferred so that verifying a link costs no botocore import.
        from botocore.exceptions import ClientError

        from shared import aws

        try:
            aws.client("dynamodb").put_item(
                TableName=self.table_name,
                Item={
                    **self.key(tenant, nonce),
                    "kind": {"S": "link"},
                    "tenant": {"S": tenant},
                    "expires_at": {"N": str(expires_at)},
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True


def redeem(
    token: str,
    *,
    keys: Mapping[str, str],
    tenant: str,
    order_id: str,
    decision: str,
    now: int,
    ledger: LinkLedger,
) -> LinkClaims:
    """Verify, then spend the link's nonce: a second redemption is ``LinkAlreadyUsed``."""
    claims = verify_link(
        token, keys=keys, tenant=tenant, order_id=order_id, decision=decision, now=now
    )
    if not ledger.consume(claims.tenant, claims.nonce, claims.expires_at):
        raise LinkAlreadyUsed
    return claims


def redeem_action(
    token: str,
    *,
    keys: Mapping[str, str],
    tenant: str,
    subject: str,
    action: str,
    actions: Sequence[str],
    now: int,
    ledger: LinkLedger,
) -> ActionClaims:
    """``redeem`` for a link of any subject: verify, then spend its nonce."""
    claims = verify_action_link(
        token, keys=keys, tenant=tenant, subject=subject, action=action, actions=actions, now=now
    )
    if not ledger.consume(claims.tenant, claims.nonce, claims.expires_at):
        raise LinkAlreadyUsed
    return claims
