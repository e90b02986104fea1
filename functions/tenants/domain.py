"""Onboarding a client shop: its settings as immutable versions, its secrets, and what the
operator configures at Stripe, the carriers and the shop.

Settings are ``shared.tenants.TenantSettings`` (the one model a tenants file uses too); every save
is version n+1 with who and when, and what changed. Secrets are the document of
``shared.tenant_secrets`` (stored as three SSM parameters); some are ours to make (the shop's
signing secret, EasyPost's webhook secret, Shippo's URL token, the review links' key), the
others are issued by the provider and the operator copies them in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict

from shared.secrets_layout import FLAGS, LAYOUT, SINGLE_VALUES, InvalidSecrets, split
from shared.tenants import TenantSettings


class TenantRefused(ValueError):
    """What the operator asked cannot be done; the message says why and what to do."""


class UnknownTenant(TenantRefused):
    pass


class TenantExists(TenantRefused):
    pass


class VersionConflict(TenantRefused):
    """Someone saved a newer version since the caller read theirs."""


class UnverifiedSenders(TenantRefused):
    def __init__(self, addresses: Sequence[str]) -> None:
        self.addresses = tuple(addresses)
        super().__init__(
            f"not verified in SES: {', '.join(addresses)}; e-mails from them would be refused. "
            "Verify each (aws sesv2 create-email-identity --email-identity <address or domain>, "
            "then publish the DKIM records it returns) and run the command again"
        )


Subject = Literal["settings", "secrets"]


class Version(BaseModel):
    """One saved version of a tenant's settings (``settings`` set) or a change of its secrets
    (``change.fields`` names what changed; the values never leave Parameter Store)."""

    model_config = ConfigDict(frozen=True)

    tenant: str
    subject: Subject
    version: int
    saved_by: str
    saved_at: datetime
    change: dict[str, Any]
    settings: TenantSettings | None = None


def chronological(versions: Iterable[Version]) -> list[Version]:
    """Oldest first; at the same instant settings before secrets (``add`` saves them so)."""
    return sorted(versions, key=lambda v: (v.saved_at, v.subject != "settings", v.version))


@dataclass(frozen=True)
class Current:
    """A tenant's settings in force and their version (0: written before versions were kept,
    e.g. by a tenants file on the local stack)."""

    settings: TenantSettings
    version: int
    saved_by: str = ""
    saved_at: datetime | None = None


# -- what changed ---------------------------------------------------------------------------------


def changed_paths(before: Mapping[str, Any], after: Mapping[str, Any], at: str = "") -> list[str]:
    """Dotted paths whose values differ (a sub-object compared key by key)."""
    paths: list[str] = []
    for key in sorted(set(before) | set(after)):
        path = f"{at}{key}"
        old, new = before.get(key), after.get(key)
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            paths += changed_paths(old, new, f"{path}.")
        elif old != new:
            paths.append(path)
    return paths


def assign(document: Mapping[str, Any], assignments: Sequence[str]) -> dict[str, Any]:
    """``document`` with each ``dotted.path=value`` set (values read as YAML scalars or lists:
    ``50000``, ``true``, ``[a, b]``, text); validation is the settings model's."""
    result: dict[str, Any] = _copy(document)
    for assignment in assignments:
        path, sep, text = assignment.partition("=")
        if not sep or not path.strip():
            raise TenantRefused(f"{assignment!r} is not KEY=VALUE (e.g. risk.review_over=50000)")
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError as error:
            raise TenantRefused(f"{path}: cannot read {text!r}: {error}") from None
        parts = path.strip().split(".")
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise TenantRefused(f"{path}: {part} is not a group of settings")
            node = child
        node[parts[-1]] = value
    return result


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(v) for v in value]
    return value


# -- e-mail senders -------------------------------------------------------------------------------


def sender_addresses(settings: TenantSettings) -> list[str]:
    """The addresses the tenant's e-mails are sent from: ``customer_sender`` and any other
    ``*_sender`` setting (``Name <address>`` or a bare address)."""
    found: list[str] = []
    for name, value in settings.model_dump().items():
        if name.endswith("_sender") and isinstance(value, str) and value:
            address = parseaddr(value)[1].lower()
            if address and address not in found:
                found.append(address)
    return found


# -- secrets --------------------------------------------------------------------------------------

# Ours to make; the others are issued by the provider (Stripe's whsec_ and API key, Shopify's app
# secret, AfterShip's and Shippo's signing secrets) and copied in by the operator.
GENERATED: frozenset[tuple[str, str]] = frozenset(
    {
        ("shop", "webhook_secrets"),
        ("easypost", "webhook_secrets"),
        ("shippo", "tokens"),
        ("links", "signing_keys"),
    }
)


def secret_field(name: str) -> tuple[str, str]:
    """``source.field`` (e.g. ``stripe.webhook_secrets``) checked against the layout."""
    source, _, field = name.partition(".")
    if source not in LAYOUT or field not in LAYOUT[source] or (source, field) in FLAGS:
        known = ", ".join(
            f"{s}.{f}" for s, fields in LAYOUT.items() for f in fields if (s, f) not in FLAGS
        )
        raise TenantRefused(f"no secret {name!r} (known: {known})")
    return source, field


def with_generated(document: Mapping[str, Any], new_secret: Callable[[], str]) -> dict[str, Any]:
    """``document`` with every secret that is ours to make and missing made."""
    result: dict[str, Any] = _copy(document)
    for source, field in sorted(GENERATED):
        if not result.get(source, {}).get(field):
            result.setdefault(source, {})[field] = [new_secret()]
    return result


def with_value(document: Mapping[str, Any], name: str, value: str) -> dict[str, Any]:
    """``document`` with the secret ``name`` set to ``value`` alone (the previous ones stop
    being accepted: what ``set`` means; ``rotated`` keeps the previous one)."""
    source, field = secret_field(name)
    if not value:
        raise TenantRefused(f"{name}: the value is empty")
    result: dict[str, Any] = _copy(document)
    result.setdefault(source, {})[field] = value if (source, field) in SINGLE_VALUES else [value]
    return _checked(result)


@dataclass(frozen=True)
class Rotation:
    document: dict[str, Any]
    name: str
    new: str
    previous: str | None  # still accepted, until the next rotation


def rotated(document: Mapping[str, Any], name: str, new: str) -> Rotation:
    """``new`` first in the secret's list, the previous newest kept after it (still accepted
    while senders move over), older ones dropped. An API key is one value: replaced."""
    source, field = secret_field(name)
    if not new:
        raise TenantRefused(f"{name}: the new value is empty")
    result: dict[str, Any] = _copy(document)
    fields = result.setdefault(source, {})
    if (source, field) in SINGLE_VALUES:
        fields[field] = new
        return Rotation(_checked(result), name, new, None)
    previous = [v for v in fields.get(field, []) if v != new][:1]
    fields[field] = [new, *previous]
    return Rotation(_checked(result), name, new, previous[0] if previous else None)


def _checked(document: dict[str, Any]) -> dict[str, Any]:
    try:
        split(document)
    except InvalidSecrets as error:
        raise TenantRefused(str(error)) from None
    return document


def mask(value: str) -> str:
    return "…" + value[-4:] if len(value) > 8 else "…"


def missing_secrets(document: Mapping[str, Any]) -> list[str]:
    """Secrets the provider issues that are not set yet (the tenant's webhooks from that
    provider are refused until they are)."""
    return [
        f"{source}.{field}"
        for source, fields in LAYOUT.items()
        for field in fields
        if (source, field) not in GENERATED | FLAGS and not document.get(source, {}).get(field)
    ]


# -- what to configure where ----------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """A webhook URL to register at ``where``, and the secret that signs what arrives there."""

    where: str
    url: str
    secret: str  # source.field of the secret it is signed with
    note: str


def endpoints(api_url: str, tenant: str, document: Mapping[str, Any]) -> list[Endpoint]:
    base = f"{api_url.rstrip('/')}/webhooks/{tenant}"
    tokens = document.get("shippo", {}).get("tokens") or []
    shippo_url = f"{base}/carriers/shippo" + (f"?token={tokens[0]}" if tokens else "")
    return [
        Endpoint(
            "Stripe (Developers > Webhooks, add endpoint)",
            f"{base}/stripe",
            "stripe.webhook_secrets",
            "Stripe issues the signing secret (whsec_…): set it with `secrets set`",
        ),
        Endpoint(
            "the shop (our signed format)",
            f"{base}/shop",
            "shop.webhook_secrets",
            "give the shop this secret; it signs each request with it",
        ),
        Endpoint(
            "Shopify (app webhooks)",
            f"{base}/shopify",
            "shopify.webhook_secrets",
            "Shopify's app secret signs them: set it with `secrets set`",
        ),
        Endpoint(
            "EasyPost (webhook with a secret)",
            f"{base}/carriers/easypost",
            "easypost.webhook_secrets",
            "enter this secret as the webhook's secret at EasyPost",
        ),
        Endpoint(
            "AfterShip (Notifications > Webhooks)",
            f"{base}/carriers/aftership",
            "aftership.webhook_secrets",
            "AfterShip shows the webhook secret: set it with `secrets set`",
        ),
        Endpoint(
            "Shippo (webhooks)",
            shippo_url,
            "shippo.webhook_secrets",
            "the URL carries the tenant's token; Shippo's signing secret: `secrets set`",
        ),
    ]


def secret_values(document: Mapping[str, Any], name: str) -> list[str]:
    source, field = secret_field(name)
    value = document.get(source, {}).get(field)
    if isinstance(value, str):
        return [value]
    return list(value or [])
