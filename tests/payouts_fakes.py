"""The payouts context's ports over memory: the same contracts as the DynamoDB adapters
(conditional version puts, entries written once), for use-case tests."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from functions.payouts.domain.connect import ReversalOrder, TransferOrder, TransferRefused
from functions.payouts.domain.cycles import Cycle, CycleConflict, CycleLine, CycleStatus
from functions.payouts.domain.ledger import PLATFORM, Book, Entry, Ledger
from functions.payouts.domain.parcels import Hold, HoldStatus
from functions.payouts.domain.vendors import VendorVersion, VersionConflict
from functions.payouts.ports import Ports
from shared.events import OrderFulfilled, ShipmentStatus, ShipmentUpdated, Source
from tests.alerts_fakes import FakeAlerts
from tests.clocks import FixedClock

AT = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


class InMemoryVendors:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], list[VendorVersion]] = defaultdict(list)

    def latest(self, tenant: str, vendor_id: str) -> VendorVersion | None:
        versions = self.items.get((tenant, vendor_id))
        return versions[-1] if versions else None

    def versions(self, tenant: str, vendor_id: str) -> list[VendorVersion]:
        return list(self.items.get((tenant, vendor_id), []))

    def put(self, tenant: str, version: VendorVersion) -> None:
        versions = self.items[(tenant, version.vendor.vendor_id)]
        if len(versions) + 1 != version.version:
            raise VersionConflict(f"version {version.version} of {version.vendor.vendor_id}")
        versions.append(version)

    def current(self, tenant: str) -> list[VendorVersion]:
        return [v[-1] for (t, _), v in sorted(self.items.items()) if t == tenant and v]


class InMemoryLedger:
    """Entries kept once by key; balances by holder from the domain's ledger."""

    def __init__(self) -> None:
        self.ledgers: dict[str, Ledger] = {}
        self.writes = 0

    def ledger(self, tenant: str) -> Ledger:
        return self.ledgers.setdefault(tenant, Ledger(tenant))

    def post(self, tenant: str, entries: Sequence[Entry]) -> int:
        added = self.ledger(tenant).post_all(entries)
        self.writes += added
        return added

    def posted(
        self, tenant: str, holder: str, currency: str, order_id: str, event_id: str, kind: str
    ) -> list[Entry]:
        return [
            e
            for e in self.ledger(tenant).entries
            if (e.refs.get("vendor") or PLATFORM) == holder
            and (e.currency, e.order_id, e.event_id, e.kind) == (currency, order_id, event_id, kind)
        ]

    def balances(self, tenant: str, holder: str) -> dict[tuple[str, Book], int]:
        return {
            (currency, account.book): amount
            for (currency, account), amount in self.ledger(tenant).balances().items()
            if account.holder == holder
        }

    def entries(
        self,
        tenant: str,
        holder: str,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Entry]:
        # Filed as the store files them: under the vendor the entry is about, else the platform.
        found = [
            e for e in self.ledger(tenant).entries if (e.refs.get("vendor") or PLATFORM) == holder
        ]
        return sorted(
            (
                e
                for e in found
                if (since is None or e.occurred_at >= since)
                and (until is None or e.occurred_at < until)
            ),
            key=lambda e: (e.occurred_at, e.key),
        )


def payouts_ports(at: datetime = AT) -> tuple[Ports, InMemoryVendors, InMemoryLedger, FakeAlerts]:
    vendors, ledger, alerts = InMemoryVendors(), InMemoryLedger(), FakeAlerts()
    ports = Ports(vendors, ledger, InMemoryCycles(), alerts, FixedClock(at), holds=InMemoryHolds())
    return ports, vendors, ledger, alerts


class InMemoryHolds:
    """``ports.HoldStore`` in memory, with the store's conditions."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str, str], Hold] = {}

    def hold(self, hold: Hold) -> bool:
        key = (hold.tenant, hold.order_id, hold.line_id)
        if key in self.items:
            return False
        self.items[key] = hold
        return True

    def of_order(self, tenant: str, order_id: str) -> list[Hold]:
        found = [h for (t, o, _), h in self.items.items() if (t, o) == (tenant, order_id)]
        return sorted(found, key=lambda h: h.line_id)

    def held(self, tenant: str, status: HoldStatus | None = None) -> list[Hold]:
        found = [
            h
            for (t, _, _), h in self.items.items()
            if t == tenant and (status is None or h.status is status)
        ]
        return sorted(found, key=lambda h: (h.held_at, h.order_id, h.line_id))

    def decide(self, hold: Hold) -> bool:
        key = (hold.tenant, hold.order_id, hold.line_id)
        stored = self.items.get(key)
        if stored is None or stored.status not in (HoldStatus.OPEN, hold.status):
            return False
        self.items[key] = hold
        return True


class InMemoryCycles:
    def __init__(self) -> None:
        self.cycles: dict[tuple[str, str], Cycle] = {}
        self.line_items: dict[tuple[str, str], dict[tuple[str, str], CycleLine]] = {}

    def get(self, tenant: str, cycle_id: str) -> Cycle | None:
        return self.cycles.get((tenant, cycle_id))

    def create(self, cycle: Cycle) -> bool:
        if (cycle.tenant, cycle.cycle_id) in self.cycles:
            return False
        self.cycles[(cycle.tenant, cycle.cycle_id)] = cycle
        return True

    def save(self, cycle: Cycle, expected: CycleStatus) -> None:
        current = self.cycles.get((cycle.tenant, cycle.cycle_id))
        if current is None or current.status != expected:
            raise CycleConflict(f"{cycle.cycle_id} is not {expected}")
        self.cycles[(cycle.tenant, cycle.cycle_id)] = cycle

    def put_lines(self, tenant: str, cycle_id: str, lines: Sequence[CycleLine]) -> None:
        held = self.line_items.setdefault((tenant, cycle_id), {})
        for line in lines:
            held[(line.currency, line.vendor_id)] = line

    def save_line(self, tenant: str, cycle_id: str, line: CycleLine, expected: CycleLine) -> None:
        held = self.line_items.setdefault((tenant, cycle_id), {})
        if held.get((line.currency, line.vendor_id)) != expected:
            raise CycleConflict(f"the line of {line.vendor_id} changed meanwhile")
        held[(line.currency, line.vendor_id)] = line

    def lines(self, tenant: str, cycle_id: str) -> list[CycleLine]:
        return [v for _, v in sorted(self.line_items.get((tenant, cycle_id), {}).items())]

    def recent(self, tenant: str, limit: int = 20) -> list[Cycle]:
        mine = [c for (t, _), c in self.cycles.items() if t == tenant]
        return sorted(mine, key=lambda c: c.cutoff, reverse=True)[:limit]


class InMemoryFiles:
    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}

    def put(self, key: str, body: bytes, content_type: str) -> str:
        self.files[key] = (body, content_type)
        return f"s3://reports/{key}"

    @contextmanager
    def stream(self, key: str, content_type: str) -> Iterator[TextIO]:
        out = _Named(f"s3://reports/{key}")
        yield out  # stored only when the block ends without raising, as the bucket's upload
        self.files[key] = (out.getvalue().encode(), content_type)


class _Named(io.StringIO):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name


class FakeTransfers:
    """Stripe Connect over memory, with Stripe's idempotency: the same key gives the same
    transfer or reversal. ``balances`` (connected account → what it holds) makes a reversal
    fail as Stripe does when the account's balance is too low; ``refuse`` refuses transfers;
    ``timeouts`` times the next calls out after Stripe made the transfer (a lost answer)."""

    def __init__(self) -> None:
        self.transfers: dict[str, tuple[TransferOrder, str]] = {}
        self.reversals: dict[str, tuple[ReversalOrder, str]] = {}
        self.balances: dict[str, int] = {}
        self.refuse: str | None = None
        self.timeouts = 0
        self.calls: list[str] = []

    def transfer(self, tenant: str, order: TransferOrder) -> str:
        self.calls.append("transfer")
        if self.refuse:
            raise TransferRefused(self.refuse, "account_invalid")
        if order.key not in self.transfers:
            self.transfers[order.key] = (order, f"tr_{len(self.transfers) + 1}")
            self.balances[order.account_id] = self.balances.get(order.account_id, 0) + order.amount
        if self.timeouts:
            self.timeouts -= 1
            raise TimeoutError("the answer was lost")
        return self.transfers[order.key][1]

    def find(self, tenant: str, order: TransferOrder) -> str | None:
        self.calls.append("find")
        made = self.transfers.get(order.key)
        return made[1] if made and made[0].group == order.group else None

    def reverse(self, tenant: str, order: ReversalOrder) -> str:
        self.calls.append("reverse")
        if order.key in self.reversals:
            return self.reversals[order.key][1]
        (account,) = {o.account_id for o, t in self.transfers.values() if t == order.transfer_id}
        if self.balances.get(account, 0) < order.amount:
            raise TransferRefused(
                "Insufficient funds in the destination account", "balance_insufficient"
            )
        self.balances[account] -= order.amount
        self.reversals[order.key] = (order, f"trr_{len(self.reversals) + 1}")
        return self.reversals[order.key][1]


def parcel(
    order_id: str,
    tracking_code: str,
    at: datetime,
    *,
    lines: Sequence[str] = (),
    status: str | None = "delivered",
    tenant: str = "acme",
) -> list[Any]:
    """The shop's fulfilment of a parcel (``lines``: the lines it carries; none: the lines no
    other parcel names) and, unless ``status`` is None, the carrier's scan of it."""
    events: list[Any] = [
        OrderFulfilled(
            tenant=tenant,
            source=Source.SHOP,
            source_event_id=f"{order_id}-{tracking_code}-fulfilled",
            occurred_at=at,
            order_id=order_id,
            tracking_code=tracking_code,
            line_ids=tuple(lines),
        )
    ]
    if status is not None:
        events.append(
            ShipmentUpdated(
                tenant=tenant,
                source=Source.EASYPOST,
                source_event_id=f"{tracking_code}-{status}",
                occurred_at=at + timedelta(days=1),
                order_id=order_id,
                tracking_code=tracking_code,
                status=ShipmentStatus(status),
            )
        )
    return events
