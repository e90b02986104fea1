"""In-memory ports of the tenants context (``functions/tenants/ports.py``), with the same
conditions as the table: a version is written once, the settings in force move only from the
version the writer read."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from functions.tenants.domain import (
    Current,
    TenantExists,
    Version,
    VersionConflict,
    chronological,
)
from functions.tenants.ports import TenantPorts
from functions.tenants.use_cases import TenantAdmin
from tests.clocks import FixedClock

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


class InMemoryRecords:
    def __init__(self) -> None:
        self.in_force: dict[str, Current] = {}
        self.saved: dict[tuple[str, str, int], Version] = {}

    def current(self, tenant: str) -> Current | None:
        return self.in_force.get(tenant)

    def all(self) -> list[Current]:
        return list(self.in_force.values())

    def save_settings(self, version: Version, replaces: int | None) -> None:
        assert version.settings is not None
        now = self.in_force.get(version.tenant)
        if replaces is None and now is not None:
            raise TenantExists(version.tenant)
        if replaces is not None and (now is None or now.version != replaces):
            raise VersionConflict(version.tenant)
        self._put(version)
        self.in_force[version.tenant] = Current(
            version.settings, version.version, version.saved_by, version.saved_at
        )

    def record_secrets_change(self, version: Version) -> None:
        self._put(version)

    def _put(self, version: Version) -> None:
        key = (version.tenant, version.subject, version.version)
        if key in self.saved:
            raise VersionConflict(str(key))
        self.saved[key] = version

    def versions(self, tenant: str) -> list[Version]:
        found = [v for (t, _, _), v in self.saved.items() if t == tenant]
        return chronological(found)


class InMemoryVault:
    def __init__(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.writes = 0

    def read(self, tenant: str) -> dict[str, Any] | None:
        return self.documents.get(tenant)

    def write(self, tenant: str, document: dict[str, Any]) -> list[str]:
        self.writes += 1
        self.documents[tenant] = document
        return [f"/t/{tenant}/{part}" for part in ("webhooks", "links", "api")]


class FakeSenders:
    def __init__(self, verified: Sequence[str] = ()) -> None:
        self.verified = set(verified)

    def unverified(self, addresses: Sequence[str]) -> list[str]:
        return [
            a for a in addresses if a not in self.verified and a.split("@")[1] not in self.verified
        ]


def admin(
    verified: Sequence[str] = (),
) -> tuple[TenantAdmin, InMemoryRecords, InMemoryVault, FixedClock]:
    records, vault, clock = InMemoryRecords(), InMemoryVault(), FixedClock(NOW)
    counter = itertools.count(1)
    ports = TenantPorts(
        records=records,
        vault=vault,
        senders=FakeSenders(verified),
        clock=clock,
        new_secret=lambda: f"made-{next(counter)}",
    )
    return TenantAdmin(ports), records, vault, clock
