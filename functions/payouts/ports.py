"""What the payouts use cases need from outside, as protocols; ``composition`` wires the
adapters in (``adapters/``), tests wire fakes (``tests/payouts_fakes.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from shared.clock import Clock

if TYPE_CHECKING:
    from functions.payouts.domain.ledger import Book, Entry
    from functions.payouts.domain.vendors import VendorVersion
    from shared.alerts import Alerts


class VendorStore(Protocol):
    """Vendors as immutable versions: each save is version n+1 or ``VersionConflict``."""

    def latest(self, tenant: str, vendor_id: str) -> VendorVersion | None: ...
    def versions(self, tenant: str, vendor_id: str) -> list[VendorVersion]: ...
    def put(self, tenant: str, version: VendorVersion) -> None: ...
    def current(self, tenant: str) -> list[VendorVersion]:
        """The newest version of every vendor of the tenant."""
        ...


class LedgerStore(Protocol):
    def post(self, tenant: str, entries: Sequence[Entry]) -> int:
        """Writes the entries not written before (by their keys) and moves the cached balances
        with them, exactly once; returns how many entries were new."""
        ...

    def posted(
        self, tenant: str, holder: str, currency: str, order_id: str, event_id: str, kind: str
    ) -> list[Entry]:
        """What one event posted for a holder before (the lines of an order's sale, say)."""
        ...

    def balances(self, tenant: str, holder: str) -> dict[tuple[str, Book], int]:
        """A vendor's cached balances by (currency, book). The platform's are not cached (every
        sale would write that one item): reports sum its entries."""
        ...

    def entries(
        self,
        tenant: str,
        holder: str,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Entry]:
        """The holder's entries by time (``since`` included, ``until`` excluded)."""
        ...


@dataclass(frozen=True)
class Ports:
    vendors: VendorStore
    ledger: LedgerStore
    alerts: Alerts
    clock: Clock
