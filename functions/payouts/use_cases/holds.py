"""Parcels, holds and carrier claims: the vendor ledger following an order's parcels.

- The lifecycle's release step releases only the lines whose parcels were delivered; the others
  are held (``domain/parcels.py``) and operations is told once.
- An order whose delivery ended in a problem holds its undelivered lines at once (its delivered
  ones wait for the release step after the return window).
- An operator releases a held line (released as the lifecycle would have: the same entry, so it
  is released once whichever comes) or voids it (its sale undone), with a reason and who.
- A claim the carrier paid for a lost or damaged parcel credits the parcel's lines' vendors.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from functions.payouts.domain.ledger import Entry, EntryKind
from functions.payouts.domain.parcels import (
    DECIDED,
    Decision,
    Hold,
    HoldStatus,
    Parcel,
    ReleasePlan,
    decided,
    refund_rebooked,
    release_plan,
)
from functions.payouts.domain.postings import (
    Context,
    Refused,
    SaleLine,
    carrier_claim,
    release,
    sold_line,
    void,
)
from functions.payouts.ports import HoldStore, Ports
from shared.notices.payouts import VendorLinesHeld
from shared.observability import logger
from shared.order_aggregate import OrderState
from shared.tenants import TenantSettings

# The events' ids (with the line and kind, the entries' keys): an operator's release is the
# lifecycle's release of the line, so the line is released once whoever comes first; a void of
# a held line is its own event (never the cancellation's, which voids the whole order).
SOLD = "paid"
RELEASED = "release"
HELD_VOID = "hold-void"
CLAIM_PREFIX = "claim-"


class NoHolds(LookupError):
    """The order has no held line (or none of those named)."""


def _store(ports: Ports) -> HoldStore:
    if ports.holds is None:
        raise RuntimeError("the payouts ports have no hold store")
    return ports.holds


def parcels_of(state: OrderState) -> list[Parcel]:
    """The order's outbound parcels as the plan reads them."""
    return [
        Parcel(p.tracking_code, tuple(p.line_ids), p.delivered_at is not None, p.state)
        for p in state.parcels()
    ]


def _vendor_lines(lines: Sequence[SaleLine]) -> list[SaleLine]:
    # A line in suspense is never released before an operator names its vendor: not held.
    return [line for line in lines if line.vendor_id is not None]


def hold_lines(
    ports: Ports,
    tenant: TenantSettings,
    state: OrderState,
    plan: ReleasePlan,
    lines: Sequence[SaleLine],
) -> int:
    """Writes the plan's holds not written before (each line once) and tells operations of
    the plan's open holds (the notice's identity makes it once: a retry after a failed notice
    sends it, a retry after a sent one does not); returns how many holds were new."""
    order = state.order
    if order is None or not plan.held:
        return 0
    by_id = {line.line_id: line for line in lines}
    store = _store(ports)
    new = 0
    for held in plan.held:
        line = by_id.get(held.line_id)
        if line is None or line.vendor_id is None:
            continue
        hold = Hold(
            tenant=tenant.id,
            order_id=order.order_id,
            line_id=held.line_id,
            vendor_id=line.vendor_id,
            currency=order.currency,
            reason=held.reason,
            detail=held.detail,
            held_at=ports.clock.now(),
        )
        new += store.hold(hold)
    planned = {held.line_id for held in plan.held}
    still = [
        h
        for h in store.of_order(tenant.id, order.order_id)
        if h.line_id in planned and h.status is HoldStatus.OPEN
    ]
    if new:
        logger.info("vendor lines held", extra={"order": order.order_id, "lines": new})
    if still:
        ports.alerts.send(
            VendorLinesHeld(
                tenant=tenant.id,
                order_id=order.order_id,
                lines=tuple(f"{h.line_id} ({h.reason.value}: {h.detail})" for h in still),
            )
        )
    return new


def releasable(
    ports: Ports, tenant: TenantSettings, state: OrderState, lines: Sequence[SaleLine]
) -> list[SaleLine]:
    """Of the sold ``lines`` the lifecycle releases, those whose parcels were delivered and
    that no operator holds or voided; the rest are held."""
    order = state.order
    if order is None:
        return []
    candidates = _vendor_lines(lines)
    holds = {h.line_id: h for h in _store(ports).of_order(tenant.id, order.order_id)}
    plan = release_plan([line.line_id for line in candidates], parcels_of(state))
    hold_lines(ports, tenant, state, plan, candidates)
    wanted = set(plan.released) | {
        line for line, h in holds.items() if h.status is HoldStatus.RELEASED
    }
    wanted -= {line for line, h in holds.items() if h.status is not HoldStatus.RELEASED}
    return [line for line in candidates if line.line_id in wanted]


def delivery_problem(
    ports: Ports, tenant: TenantSettings, state: OrderState, lines: Sequence[SaleLine]
) -> int:
    """Every parcel settled and one did not arrive: its lines are held now (the delivered
    lines wait for the release step). Returns how many holds were new."""
    candidates = _vendor_lines(lines)
    plan = release_plan([line.line_id for line in candidates], parcels_of(state))
    return hold_lines(ports, tenant, state, plan, candidates)


def decide(
    ports: Ports,
    tenant: TenantSettings,
    order_id: str,
    decision: str,
    *,
    reason: str,
    who: str,
    line_ids: Sequence[str] = (),
) -> list[Hold]:
    """An operator releases or voids the order's open holds (``line_ids``: only those).
    Refused with every reason, nothing written, when any named hold cannot take it. The hold
    is marked first (its status the condition: two operators cannot decide both ways), then
    the entries are posted; a retry of the same decision finishes a half-done one."""
    store = _store(ports)
    holds = store.of_order(tenant.id, order_id)
    if line_ids:
        unknown = sorted(set(line_ids) - {h.line_id for h in holds})
        if unknown:
            raise NoHolds(f"order {order_id} holds no line {', '.join(unknown)}")
        holds = [h for h in holds if h.line_id in set(line_ids)]
    else:
        # Every open hold, and those decided this way already (a retry of a decision that
        # failed after marking them posts what it left out; the ledger keeps entries once).
        same = DECIDED.get(Decision(decision)) if decision in set(Decision) else None
        holds = [h for h in holds if h.status in (HoldStatus.OPEN, same)]
    if not holds:
        raise NoHolds(f"order {order_id} has no open hold")
    now = ports.clock.now()
    problems: list[str] = []
    moved: list[Hold] = []
    for hold in holds:
        try:
            moved.append(decided(hold, decision, reason=reason, who=who, at=now))
        except Refused as refused:
            problems.extend(r for r in refused.reasons if r not in problems)
    by_id, sold_at = _sold(ports, tenant.id, order_id, holds)
    missing = sorted(h.line_id for h in holds if h.line_id not in by_id)
    if missing:
        problems.append(f"line(s) {', '.join(missing)} were never sold in the ledger")
    if problems:
        raise Refused(problems)
    for hold in moved:
        if not store.decide(hold):
            raise Refused([f"line {hold.line_id} was decided otherwise meanwhile: read it again"])
    _post_decisions(ports, tenant, order_id, moved, by_id, sold_at)
    return moved


def _sold(
    ports: Ports, tenant: str, order_id: str, holds: Sequence[Hold]
) -> tuple[dict[str, SaleLine], dict[str, datetime]]:
    """The held lines as their sale posted them, and when it did."""
    found: dict[str, SaleLine] = {}
    sold_at: dict[str, datetime] = {}
    for vendor_id, currency in sorted({(h.vendor_id, h.currency) for h in holds}):
        for item in ports.ledger.posted(
            tenant, vendor_id, currency, order_id, SOLD, EntryKind.SALE
        ):
            line = sold_line(item)
            found[line.line_id] = line
            sold_at[line.line_id] = item.occurred_at
    return found, sold_at


def _post_decisions(
    ports: Ports,
    tenant: TenantSettings,
    order_id: str,
    holds: Sequence[Hold],
    lines: dict[str, SaleLine],
    sold_at: dict[str, datetime],
) -> None:
    at = ports.clock.now()
    entries = []
    for hold in holds:
        ctx = Context(tenant.id, hold.currency, order_id)
        line = lines[hold.line_id]
        if hold.status is HoldStatus.RELEASED:
            version = ports.vendors.latest(tenant.id, hold.vendor_id)
            reserve = version.vendor.hold.reserve_basis_points() if version else 0
            entries.append(release(ctx, RELEASED, line, at, reserve))
        elif hold.status is HoldStatus.VOIDED:
            entries.append(void(ctx, HELD_VOID, line, at))
            entries.extend(
                refund_rebooked(item, at)
                for item in _reversals(ports, tenant.id, order_id, hold, sold_at[hold.line_id])
            )
    ports.ledger.post(tenant.id, [e for e in entries if e is not None])


def _reversals(
    ports: Ports, tenant: str, order_id: str, hold: Hold, since: datetime
) -> list[Entry]:
    """The refunds and returns that took a share of the held line from its vendor (every one
    came after the line's sale)."""
    return [
        item
        for item in ports.ledger.entries(tenant, hold.vendor_id, since=since)
        if item.order_id == order_id
        and item.line == hold.line_id
        and item.currency == hold.currency
        and item.kind in (EntryKind.REFUND, EntryKind.RETURN)
    ]


def claim_paid(
    ports: Ports,
    tenant: TenantSettings,
    state: OrderState,
    tracking_code: str,
    amount: int,
    lines: Sequence[SaleLine],
    claim_lines: Sequence[str] = (),
) -> int:
    """The carrier paid ``amount`` (the order's currency, minor units) on the claim for a
    parcel: the parcel's lines' vendors are credited pro rata to what each line charged (once
    per parcel: one claim per parcel). The parcel's lines are the claim's, else the plan's."""
    order = state.order
    if order is None or amount <= 0 or not lines:
        return 0
    named = set(claim_lines)
    if not named:
        parcel = next((p for p in parcels_of(state) if p.tracking_code == tracking_code), None)
        if parcel is not None:
            named = set(parcel.line_ids) or {
                line_id
                for p in state.parcels()
                if p.tracking_code == tracking_code
                for line_id in state.parcel_lines(p)
            }
    credited = [line for line in _vendor_lines(lines) if line.line_id in named]
    if not credited:
        logger.warning("a paid claim names no vendor line", extra={"parcel": tracking_code})
        return 0
    ctx = Context(tenant.id, order.currency, order.order_id)
    entries = carrier_claim(
        ctx, f"{CLAIM_PREFIX}{tracking_code}", credited, amount, ports.clock.now()
    )
    return ports.ledger.post(tenant.id, entries)


def holds_of(ports: Ports, tenant: str, order_id: str) -> list[Hold]:
    return _store(ports).of_order(tenant, order_id)


def open_holds(ports: Ports, tenant: str) -> list[Hold]:
    return _store(ports).held(tenant, HoldStatus.OPEN)


def held_voided(ports: Ports, tenant: str, state: OrderState) -> set[str]:
    """The order's lines an operator voided (their refunds clear, the vendor bears nothing)."""
    order = state.order
    if order is None or ports.holds is None:
        return set()
    holds = ports.holds.of_order(tenant, order.order_id)
    return {h.line_id for h in holds if h.status is HoldStatus.VOIDED}
