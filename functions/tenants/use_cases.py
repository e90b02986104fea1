"""What an operator does to a client shop: add it, look at it, change it, list them, and set or
rotate its secrets — each change a new immutable version with who and when.

Nothing is half done: every check (the settings model, the secrets layout, the SES senders, that
the tenant is new or at the version the operator read) comes before the first write, and the
settings version and the settings in force are one conditional write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from functions.tenants.domain import (
    GENERATED,
    Current,
    Endpoint,
    Rotation,
    TenantExists,
    TenantRefused,
    UnknownTenant,
    UnverifiedSenders,
    Version,
    VersionConflict,
    assign,
    changed_paths,
    endpoints,
    missing_secrets,
    rotated,
    secret_field,
    sender_addresses,
    with_generated,
    with_value,
)
from shared.tenants import TenantDocument, TenantSettings

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from functions.tenants.ports import TenantPorts

# refuse: nothing is written while a sender is unverified (deployed: SES would refuse the mail);
# warn: written, and the unverified senders reported (the local stack writes e-mails to files).
SenderPolicy = Literal["refuse", "warn"]


@dataclass(frozen=True)
class Onboarded:
    version: Version
    secrets: dict[str, Any]
    generated: list[str]
    missing: list[str]
    endpoints: list[Endpoint]
    unverified_senders: list[str]


@dataclass(frozen=True)
class TenantView:
    current: Current
    secrets: dict[str, Any]
    missing: list[str]
    endpoints: list[Endpoint]


@dataclass(frozen=True)
class Updated:
    version: Version
    changed: list[str]
    unverified_senders: list[str]


@dataclass(frozen=True)
class SecretsChanged:
    version: Version
    rotation: Rotation | None = None


class TenantAdmin:
    def __init__(self, ports: TenantPorts) -> None:
        self.ports = ports

    # -- settings -------------------------------------------------------------------------------

    def add(
        self, document: TenantDocument, who: str, api_url: str, senders: SenderPolicy
    ) -> Onboarded:
        settings = document.settings
        tenant = settings.id
        if self.ports.records.current(tenant) is not None:
            raise TenantExists(
                f"tenant {tenant!r} exists already: change it with `ecomops tenants update`"
            )
        unverified = self._check_senders(sender_addresses(settings), senders)
        stored = self.ports.vault.read(tenant) or {}
        # A rerun after a failed write keeps what is there, field by field.
        given = {
            source: {**stored.get(source, {}), **document.secrets.get(source, {})}
            for source in {*stored, *document.secrets}
        }
        secrets = with_generated(given, self.ports.new_secret)
        generated = [f"{s}.{f}" for s, f in sorted(GENERATED) if not given.get(s, {}).get(f)]
        version = self._version(tenant, "settings", 1, who, {"action": "added"}, settings)
        self.ports.records.save_settings(version, replaces=None)
        self._change_secrets(
            tenant, who, lambda _: (secrets, {"action": "added", "fields": _fields(secrets)})
        )
        return Onboarded(
            version=version,
            secrets=secrets,
            generated=generated,
            missing=missing_secrets(secrets),
            endpoints=endpoints(api_url, tenant, secrets),
            unverified_senders=unverified,
        )

    def show(self, tenant: str, api_url: str) -> TenantView:
        current = self._current(tenant)
        secrets = self.ports.vault.read(tenant) or {}
        return TenantView(
            current, secrets, missing_secrets(secrets), endpoints(api_url, tenant, secrets)
        )

    def tenants(self) -> list[Current]:
        return sorted(self.ports.records.all(), key=lambda c: c.settings.id)

    def history(self, tenant: str) -> list[Version]:
        self._current(tenant)
        return self.ports.records.versions(tenant)

    def update(
        self,
        tenant: str,
        who: str,
        senders: SenderPolicy,
        assignments: Sequence[str] = (),
        replacement: TenantSettings | None = None,
        expected_version: int | None = None,
    ) -> Updated:
        """New settings from ``assignments`` (``risk.review_over=50000``) over those in force,
        or a whole ``replacement``; checked by the same model as a tenants file."""
        current = self._current(tenant)
        if expected_version is not None and expected_version != current.version:
            raise VersionConflict(
                f"tenant {tenant!r} is at version {current.version}, not {expected_version}: "
                "look at it again (`ecomops tenants show`) and re-apply your change"
            )
        before = current.settings.model_dump(mode="json")
        if replacement is not None:
            after = replacement
        else:
            after = TenantSettings.model_validate(assign(before, assignments))
        if after.id != tenant:
            raise TenantRefused(f"the tenant id cannot change ({tenant!r} → {after.id!r})")
        changed = changed_paths(before, after.model_dump(mode="json"))
        if not changed:
            raise TenantRefused(f"nothing to change: tenant {tenant!r} already has these settings")
        old_senders = set(sender_addresses(current.settings))
        new_senders = [a for a in sender_addresses(after) if a not in old_senders]
        unverified = self._check_senders(new_senders, senders)
        version = self._version(
            tenant, "settings", current.version + 1, who, {"changed": changed}, after
        )
        self.ports.records.save_settings(version, replaces=current.version)
        return Updated(version, changed, unverified)

    # -- secrets --------------------------------------------------------------------------------

    def set_secret(self, tenant: str, name: str, value: str, who: str) -> SecretsChanged:
        self._current(tenant)

        def put(stored: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
            return with_value(stored, name, value), {"action": "set", "fields": [name]}

        return SecretsChanged(self._change_secrets(tenant, who, put))

    def rotate(self, tenant: str, name: str, who: str, value: str | None = None) -> SecretsChanged:
        """A new value first (made here if the secret is ours to make, else ``value`` as the
        provider issued it), the previous one still accepted after it."""
        self._current(tenant)
        field = secret_field(name)
        if value is None:
            if field not in GENERATED:
                raise TenantRefused(
                    f"{name} is issued by {field[0]}: roll it there and give the new value "
                    "it issues (--value)"
                )
            value = self.ports.new_secret()
        new = value
        rotations: list[Rotation] = []

        def rotate(stored: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
            rotation = rotated(stored, name, new)
            rotations.append(rotation)
            kept = rotation.previous is not None
            return rotation.document, {"action": "rotated", "fields": [name], "previous_kept": kept}

        return SecretsChanged(self._change_secrets(tenant, who, rotate), rotations[0])

    # -- helpers --------------------------------------------------------------------------------

    def _current(self, tenant: str) -> Current:
        current = self.ports.records.current(tenant)
        if current is None:
            raise UnknownTenant(f"no tenant {tenant!r}: add it with `ecomops tenants add`")
        return current

    def _check_senders(self, addresses: Sequence[str], policy: SenderPolicy) -> list[str]:
        unverified = self.ports.senders.unverified(addresses) if addresses else []
        if unverified and policy == "refuse":
            raise UnverifiedSenders(unverified)
        return unverified

    def _version(
        self,
        tenant: str,
        subject: Literal["settings", "secrets"],
        number: int,
        who: str,
        change: dict[str, Any],
        settings: TenantSettings | None = None,
    ) -> Version:
        return Version(
            tenant=tenant,
            subject=subject,
            version=number,
            saved_by=who,
            saved_at=self.ports.clock.now(),
            change=change,
            settings=settings,
        )

    def _change_secrets(
        self,
        tenant: str,
        who: str,
        change: Callable[[dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]],
    ) -> Version:
        """Apply ``change`` (stored document → new document and what changed) as secrets
        change n+1. The change's number is read before the document and claimed (a conditional
        put) before the parameters are written: of two operators changing the same tenant's
        secrets at once, one is refused and writes nothing, and no change goes unrecorded."""
        last = max(
            (v.version for v in self.ports.records.versions(tenant) if v.subject == "secrets"),
            default=0,
        )
        document, what = change(self.ports.vault.read(tenant) or {})
        version = self._version(tenant, "secrets", last + 1, who, what)
        self.ports.records.record_secrets_change(version)
        self.ports.vault.write(tenant, document)
        return version


def _fields(document: dict[str, Any]) -> list[str]:
    return sorted(f"{source}.{field}" for source, fields in document.items() for field in fields)
