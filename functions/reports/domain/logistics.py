"""The logistics log: per period, each parcel dispatched, delivered or in trouble, with its
carrier and times, its dispatch delay against the tenant's dispatch SLA (counted from the
order's first successful payment, else its placement), the carrier's exceptions and the claim
filed for it; and per carrier the counts, the late dispatches and the median days in transit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from functions.reports.domain.tables import csv_text, time_cell
from functions.reports.domain.tally import first_paid_at
from shared.events import PARCEL_EXCEPTIONS, PARCEL_LOSSES, ShipmentStatus
from shared.order_aggregate import OrderState

_TROUBLE = frozenset({*PARCEL_EXCEPTIONS, *PARCEL_LOSSES, ShipmentStatus.RETURN_TO_SENDER})


@dataclass(frozen=True)
class ParcelRow:
    order_id: str
    tracking_code: str
    carrier: str
    ready_at: datetime | None  # paid (or placed): when the dispatch SLA starts
    dispatched_at: datetime | None
    delivered_at: datetime | None
    status: str
    dispatch_hours: float | None
    late_by_hours: float | None  # past the dispatch SLA; None when within it
    transit_days: float | None
    exceptions: tuple[str, ...]
    claim: str


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 1)


def parcel_rows(
    state: OrderState,
    claims: Iterable[dict[str, Any]],
    timezone: str,
    first: date,
    last: date,
    sla_days: int,
) -> list[ParcelRow]:
    """The order's parcels that were dispatched, delivered or had an exception in
    [first, last] (local days)."""
    zone = ZoneInfo(timezone)

    def inside(at: datetime | None) -> bool:
        return at is not None and first <= at.astimezone(zone).date() <= last

    claimed = {str(c.get("parcel") or c.get("tracking_code")): c for c in claims}
    ready = first_paid_at(state) or state.placed_at()
    rows = []
    for parcel in state.parcels():
        sent = parcel.fulfilled_at or parcel.first_seen_at
        trouble = sorted(
            (n for n in parcel.notices.values() if n.status in _TROUBLE), key=lambda n: n.at
        )
        if not (inside(sent) or inside(parcel.delivered_at) or any(inside(n.at) for n in trouble)):
            continue
        waited = sent - ready if ready else None
        late = waited - timedelta(days=sla_days) if waited is not None else None
        claim = claimed.get(parcel.tracking_code)
        rows.append(
            ParcelRow(
                order_id=state.order_id,
                tracking_code=parcel.tracking_code,
                carrier=parcel.carrier or "unknown",
                ready_at=ready,
                dispatched_at=sent,
                delivered_at=parcel.delivered_at,
                status=parcel.state,
                dispatch_hours=_hours(waited) if waited is not None else None,
                late_by_hours=_hours(late) if late is not None and late > timedelta(0) else None,
                transit_days=(
                    round((parcel.delivered_at - sent).total_seconds() / 86400, 2)
                    if parcel.delivered_at
                    else None
                ),
                exceptions=tuple(
                    f"{n.status} {n.at.astimezone(zone):%Y-%m-%d %H:%M}"
                    + (f" ({n.detail})" if n.detail else "")
                    for n in trouble
                ),
                claim=str(claim.get("status", "filed")) if claim else "",
            )
        )
    return rows


@dataclass
class CarrierLine:
    carrier: str
    dispatched: int = 0
    delivered: int = 0
    late: int = 0
    exceptions: int = 0
    claims: int = 0
    transit: list[float] = field(default_factory=list)

    @property
    def median_transit_days(self) -> float | None:
        return round(median(self.transit), 2) if self.transit else None


def by_carrier(
    rows: Iterable[ParcelRow], timezone: str, first: date, last: date
) -> list[CarrierLine]:
    zone = ZoneInfo(timezone)

    def inside(at: datetime | None) -> bool:
        return at is not None and first <= at.astimezone(zone).date() <= last

    lines: dict[str, CarrierLine] = {}
    for row in rows:
        line = lines.setdefault(row.carrier, CarrierLine(row.carrier))
        if inside(row.dispatched_at):
            line.dispatched += 1
            line.late += row.late_by_hours is not None
        if inside(row.delivered_at):
            line.delivered += 1
            if row.transit_days is not None:
                line.transit.append(row.transit_days)
        line.exceptions += len(row.exceptions)
        line.claims += bool(row.claim)
    return sorted(lines.values(), key=lambda c: c.carrier)


HEADER = (
    "order_id",
    "tracking_code",
    "carrier",
    "ready_at",
    "dispatched_at",
    "delivered_at",
    "status",
    "dispatch_hours",
    "late_by_hours",
    "transit_days",
    "exceptions",
    "claim",
)


def logistics_csv(rows: Iterable[ParcelRow]) -> str:
    return csv_text(
        HEADER,
        (
            (
                r.order_id,
                r.tracking_code,
                r.carrier,
                time_cell(r.ready_at),
                time_cell(r.dispatched_at),
                time_cell(r.delivered_at),
                r.status,
                "" if r.dispatch_hours is None else r.dispatch_hours,
                "" if r.late_by_hours is None else r.late_by_hours,
                "" if r.transit_days is None else r.transit_days,
                " | ".join(r.exceptions),
                r.claim,
            )
            for r in rows
        ),
    )
