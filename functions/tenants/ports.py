"""What onboarding needs from outside: the tenants' records, their secrets, SES, a clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from functions.tenants.domain import Current, Version
    from shared.clock import Clock


class TenantRecordsPort(Protocol):
    def current(self, tenant: str) -> Current | None: ...

    def all(self) -> list[Current]: ...

    def save_settings(self, version: Version, replaces: int | None) -> None:
        """Version ``version.version`` of the settings, and make it the one in force, in one
        conditional write: ``replaces`` is the version in force now (None: there is none, the
        tenant is new). ``TenantExists``/``VersionConflict`` if that no longer holds."""
        ...

    def record_secrets_change(self, version: Version) -> None:
        """One immutable audit version of a secrets change (``VersionConflict`` if taken)."""
        ...

    def versions(self, tenant: str) -> list[Version]:
        """Every version of the settings and of the secrets, oldest first."""
        ...


class SecretsVaultPort(Protocol):
    def read(self, tenant: str) -> dict[str, Any] | None:
        """The tenant's secrets document (None: no parameter of it exists)."""
        ...

    def write(self, tenant: str, document: dict[str, Any]) -> list[str]:
        """A new version of each of the three parameters; their names."""
        ...


class SenderIdentitiesPort(Protocol):
    def unverified(self, addresses: Sequence[str]) -> list[str]:
        """Those of ``addresses`` SES may not send from (neither the address nor its domain is
        a verified identity)."""
        ...


@dataclass(frozen=True)
class TenantPorts:
    records: TenantRecordsPort
    vault: SecretsVaultPort
    senders: SenderIdentitiesPort
    clock: Clock
    new_secret: Callable[[], str]
