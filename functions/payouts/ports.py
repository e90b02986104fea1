"""What the payouts use cases need from outside, as protocols; ``composition`` wires the
adapters in (``adapters/``), tests wire fakes (``tests/payouts_fakes.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TextIO

from shared.clock import Clock

if TYPE_CHECKING:
    from functions.payouts.domain.connect import ReversalOrder, TransferOrder
    from functions.payouts.domain.cycles import Cycle, CycleLine, CycleStatus
    from functions.payouts.domain.ledger import Book, Entry
    from functions.payouts.domain.parcels import Hold, HoldStatus
    from functions.payouts.domain.vendors import VendorVersion
    from shared.alerts import Alerts
    from shared.notify.render import RenderedEmail


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


class CycleStore(Protocol):
    """Payout cycles and their lines."""

    def get(self, tenant: str, cycle_id: str) -> Cycle | None: ...

    def create(self, cycle: Cycle) -> bool:
        """Writes the draft unless the cycle exists (False then): one run claims a cycle."""
        ...

    def save(self, cycle: Cycle, expected: CycleStatus) -> None:
        """Writes the cycle's new state if it is still ``expected`` (``CycleConflict`` else)."""
        ...

    def put_lines(self, tenant: str, cycle_id: str, lines: Sequence[CycleLine]) -> None: ...

    def save_line(self, tenant: str, cycle_id: str, line: CycleLine, expected: CycleLine) -> None:
        """Writes one line's new state if it is still ``expected`` (``CycleConflict`` else)."""
        ...

    def lines(self, tenant: str, cycle_id: str) -> list[CycleLine]: ...

    def recent(self, tenant: str, limit: int = 20) -> list[Cycle]:
        """The tenant's cycles, newest first."""
        ...


class HoldStore(Protocol):
    """Held order lines (``domain/parcels.py``) and the operators' decisions on them."""

    def hold(self, hold: Hold) -> bool:
        """Writes the hold unless the line has one already (False then): a line is held once."""
        ...

    def of_order(self, tenant: str, order_id: str) -> list[Hold]: ...

    def held(self, tenant: str, status: HoldStatus | None = None) -> list[Hold]:
        """The tenant's holds (of one status), oldest first."""
        ...

    def decide(self, hold: Hold) -> bool:
        """Writes the decided hold if the stored one is still open or decided the same way
        (False else: another operator decided otherwise meanwhile)."""
        ...


class ReportFiles(Protocol):
    """Where a cycle's files go (the reports bucket)."""

    def put(self, key: str, body: bytes, content_type: str) -> str:
        """Stores the file; returns where (``s3://bucket/key``)."""
        ...

    def stream(self, key: str, content_type: str) -> AbstractContextManager[TextIO]:
        """A file written as it is made (a detailed report of millions of rows, never held
        whole): text written to the stream is stored in parts; on leaving the block the file
        is complete, or, when the block raised, nothing is stored. The stream's ``name`` is
        where the file is (as ``put`` returns it)."""
        ...


class Mailer(Protocol):
    """``shared.notify.mailers``: SES, or .eml files locally; once per idempotency key."""

    def send(self, email: RenderedEmail, idempotency_key: str) -> str: ...


class NotificationLog(Protocol):
    """Which e-mails an order was sent (the orders context's log, beside the order): what is
    told to a vendor once per order, event and vendor is kept there."""

    def sent(self, tenant: str, order_id: str, kind: str) -> bool: ...

    def record(
        self, tenant: str, order_id: str, kind: str, status: str, message_id: str, summary: str
    ) -> None: ...


class FinanceLinks(Protocol):
    """Signed links for finance to mark a cycle, or one vendor's line of it, paid or failed
    (the tenant's link-signing key; the API's public ``/links/…`` routes serve them)."""

    def cycle_links(self, tenant: str, cycle_id: str, expires_at: int) -> dict[str, str]:
        """``{"paid": url, "failed": url}`` for the whole cycle (empty: no signing key)."""
        ...

    def line_links(
        self, tenant: str, cycle_id: str, currency: str, vendor_id: str, expires_at: int
    ) -> dict[str, str]:
        """The same for one vendor's line in one currency."""
        ...


class Transfers(Protocol):
    """Stripe Connect transfers and reversals on the tenant's Stripe account. Each call carries
    its order's idempotency key. A refusal raises ``TransferRefused`` (asking again cannot
    help); any other error (a timeout, a 5xx, a 429) means: retry with the same order."""

    def transfer(self, tenant: str, order: TransferOrder) -> str:
        """Creates the transfer (or gets the one the key made before); returns its id."""
        ...

    def find(self, tenant: str, order: TransferOrder) -> str | None:
        """The transfer of the order's group whose metadata carries its key, if one was made
        (a resumed cycle's record when Stripe's idempotency window has passed)."""
        ...

    def reverse(self, tenant: str, order: ReversalOrder) -> str:
        """Reverses part of a transfer; returns the reversal's id."""
        ...


@dataclass(frozen=True)
class Ports:
    vendors: VendorStore
    ledger: LedgerStore
    cycles: CycleStore
    alerts: Alerts
    clock: Clock
    files: ReportFiles | None = None
    mailer: Mailer | None = None
    # From: of the reports, the instruction and the statements (the operations sender).
    sender: str | None = None
    # Vendors told of their orders once (the orders context's notification log).
    notifications: NotificationLog | None = None
    finance_links: FinanceLinks | None = None
    # Stripe Connect mode (``payouts.connect_transfers``): None where no gateway is wired.
    transfers: Transfers | None = None
    # Held order lines (parcels not delivered, reshipped); None: nothing can be held.
    holds: HoldStore | None = None
