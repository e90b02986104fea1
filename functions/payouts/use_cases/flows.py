"""The vendor ledger reacting to what the orders context does: a sale when an order is
confirmed paid, a release when the lifecycle's release step runs, a void when an order is
cancelled before its release, a refund's reversal when a refund completes, chargebacks as
disputes move. Only for marketplaces (``payouts.enabled``): other shops' orders cost nothing.
Orders reach these through their ``VendorLedger`` port (``functions.payouts.composition``).

Each posts entries with deterministic keys, so a step retried or an event replayed adds
nothing. A line whose vendor is unknown goes to suspense with an alert to operations: the order
goes on.
"""

from __future__ import annotations

from collections.abc import Sequence

from functions.payouts.domain.ledger import Entry, EntryKind
from functions.payouts.domain.postings import (
    Context,
    FeeBearer,
    OrderLine,
    SaleLine,
    allocate,
    chargeback_lost,
    chargeback_opened,
    chargeback_won,
    refund_cash,
    release,
    reversal,
    sale,
    sold_line,
    spread,
    void,
)
from functions.payouts.domain.vendors import Vendor
from functions.payouts.ports import Ports
from functions.payouts.use_cases import holds
from functions.payouts.use_cases.connect import reverse_after_payout
from functions.payouts.use_cases.holds import RELEASED, SOLD
from shared.notices.payouts import UnknownVendor
from shared.observability import logger
from shared.order_aggregate import OrderState
from shared.tenants import TenantSettings

# The events' ids: one sale, release and void per order (their lines make the entries' keys).
CANCELLED = "cancel"
RETURN_REFUND_PREFIX = "return-"


def _vendors(ports: Ports, tenant: str, state: OrderState) -> dict[str, Vendor]:
    order = state.order
    named = {line.vendor_id for line in order.lines} if order else set()
    found = {}
    for vendor_id in sorted(named):
        version = ports.vendors.latest(tenant, vendor_id)
        if version is not None:
            found[vendor_id] = version.vendor
    return found


def order_sold(ports: Ports, tenant: TenantSettings, state: OrderState) -> int:
    """The order is paid and confirmed: each line's sale, allocated exactly (docs/payouts.md).
    Returns how many entries were new (none for a tenant that is not a marketplace)."""
    order = state.order
    if order is None or not tenant.payouts.enabled:
        return 0
    allocated = allocated_lines(ports, tenant, state)
    ctx = Context(tenant.id, order.currency, order.order_id)
    at = order.occurred_at
    charge = _single_charge(state)
    entries = [
        e for e in (sale(ctx, SOLD, line, at, charge) for line in allocated) if e is not None
    ]
    added = ports.ledger.post(tenant.id, entries)
    for held in allocated:
        if held.vendor_id is None:
            ports.alerts.send(
                UnknownVendor(
                    tenant=tenant.id,
                    order_id=order.order_id,
                    line_id=held.line_id,
                    vendor_id=held.named_vendor or None,
                    amount=held.vendor_net,
                    currency=order.currency,
                )
            )
    return added


def allocated_lines(ports: Ports, tenant: TenantSettings, state: OrderState) -> list[SaleLine]:
    """The order's sale per line, as ``order_sold`` posts it: a line of a vendor unknown (or not
    paid in the order's currency) has no vendor (suspense)."""
    order = state.order
    if order is None:
        return []
    currency = order.currency
    vendors = _vendors(ports, tenant.id, state)
    sold_on = order.occurred_at.date()
    lines, rates = [], {}
    for line in order.lines:
        vendor = vendors.get(line.vendor_id)
        known = vendor is not None and currency in vendor.currencies
        category = line.category or order.business_category or tenant.business_category
        lines.append(
            OrderLine(
                line.line_id,
                line.vendor_id if known else None,
                line.quantity,
                line.unit_price.amount,
                sku=line.sku or "",
                category=category,
                named_vendor=line.vendor_id,
            )
        )
        if vendor is not None and known:
            rates[line.line_id] = vendor.rate_for(category, sold_on)
    return allocate(
        lines,
        discount=order.discount.amount if order.discount else 0,
        shipping=order.shipping.amount if order.shipping else 0,
        tax=order.tax.amount if order.tax else 0,
        # The order aggregate does not carry the gateway's fee today: none is allocated.
        gateway_fee=0,
        rates=rates,
        fees_borne_by=FeeBearer(tenant.payouts.fees_borne_by),
    )


def refunded_lines(lines: list[SaleLine], line_ids: Sequence[str] | None) -> list[SaleLine]:
    """The sold lines a refund takes back from: those it was asked for, or every line when it
    was asked as an amount (or names none the sale knows)."""
    wanted = set(line_ids or ())
    return [line for line in lines if line.line_id in wanted] or lines


def _single_charge(state: OrderState) -> str:
    """The one charge that paid the order ("" when none or several did)."""
    charges = {
        charge
        for payment in state.payments.values()
        if payment.succeeded_at is not None or payment.captured > 0
        for charge in payment.charge_ids
    }
    return charges.pop() if len(charges) == 1 else ""


def sold_lines(ports: Ports, tenant: str, state: OrderState) -> list[SaleLine]:
    """The order's lines as their sale posted them (empty: not sold in the ledger)."""
    order = state.order
    if order is None:
        return []
    lines: list[SaleLine] = []
    for vendor_id in sorted({line.vendor_id for line in order.lines}):
        posted = ports.ledger.posted(
            tenant, vendor_id, order.currency, order.order_id, SOLD, EntryKind.SALE
        )
        lines.extend(sold_line(e) for e in posted)
    rank = {line.line_id: i for i, line in enumerate(order.lines)}
    return sorted(lines, key=lambda line: rank.get(line.line_id, len(rank)))


def _posted(ports: Ports, tenant: str, state: OrderState, event_id: str, kind: EntryKind) -> bool:
    order = state.order
    return order is not None and any(
        ports.ledger.posted(tenant, v, order.currency, order.order_id, event_id, kind)
        for v in sorted({line.vendor_id for line in order.lines})
    )


def order_released(
    ports: Ports, tenant: TenantSettings, state: OrderState, line_ids: list[str]
) -> int:
    """The lifecycle released these lines (every parcel settled, the return window over): of
    them, each line whose parcels were all delivered moves from pending to available, less its
    vendor's reserve; the others are held until an operator decides (``use_cases.holds``). A
    line not sold in the ledger, or voided, is not released."""
    if not tenant.payouts.enabled or _posted(ports, tenant.id, state, CANCELLED, EntryKind.VOID):
        return 0
    wanted = set(line_ids)
    sold = [line for line in sold_lines(ports, tenant.id, state) if line.line_id in wanted]
    lines = holds.releasable(ports, tenant, state, sold)
    if not lines or state.order is None:
        return 0
    vendors = _vendors(ports, tenant.id, state)
    ctx = Context(tenant.id, state.order.currency, state.order.order_id)
    at = ports.clock.now()
    entries = []
    for line in lines:
        vendor = vendors.get(line.vendor_id or "")
        reserve = vendor.hold.reserve_basis_points() if vendor else 0
        made = release(ctx, RELEASED, line, at, reserve)
        if made is not None:
            entries.append(made)
    return ports.ledger.post(tenant.id, entries)


def order_delivery_problem(ports: Ports, tenant: TenantSettings, state: OrderState) -> int:
    """Every parcel settled and one did not arrive: the lines it carried (and any line no
    parcel carried) are held now; returns how many holds were new."""
    if not tenant.payouts.enabled or _posted(ports, tenant.id, state, CANCELLED, EntryKind.VOID):
        return 0
    return holds.delivery_problem(ports, tenant, state, sold_lines(ports, tenant.id, state))


def order_claim_paid(
    ports: Ports,
    tenant: TenantSettings,
    state: OrderState,
    tracking_code: str,
    amount: int,
    claim_lines: list[str],
) -> int:
    """The carrier paid the claim for a lost or damaged parcel: its lines' vendors are
    credited (a carrier-claim entry per line, once per parcel)."""
    if not tenant.payouts.enabled:
        return 0
    lines = sold_lines(ports, tenant.id, state)
    return holds.claim_paid(ports, tenant, state, tracking_code, amount, lines, claim_lines)


def order_cancelled(ports: Ports, tenant: TenantSettings, state: OrderState) -> int:
    """Cancelled: the sale is voided unless a line was released already (then the refund's
    reversal takes it back like any refund)."""
    if not tenant.payouts.enabled:
        return 0
    lines = sold_lines(ports, tenant.id, state)
    if not lines or state.order is None:
        return 0
    if _posted(ports, tenant.id, state, RELEASED, EntryKind.RELEASE):
        logger.info("cancelled after a release: the refund reverses it")
        return 0
    ctx = Context(tenant.id, state.order.currency, state.order.order_id)
    at = ports.clock.now()
    entries = [e for e in (void(ctx, CANCELLED, line, at) for line in lines) if e is not None]
    return ports.ledger.post(tenant.id, entries)


def refund_completed(
    ports: Ports,
    tenant: TenantSettings,
    state: OrderState,
    refund_id: str,
    amount: int,
    currency: str,
    line_ids: Sequence[str] | None = None,
) -> int:
    """A refund completed at the gateway. Of a voided order: its cash leaves refunds clearing.
    Otherwise it is taken back from the refunded lines (``line_ids``; all of the order's for a
    refund by amount) pro rata to what each charged (a return's refund is booked as a return).
    An order not sold in the ledger posts nothing."""
    if not tenant.payouts.enabled:
        return 0
    order = state.order
    lines = refunded_lines(sold_lines(ports, tenant.id, state), line_ids)
    if order is None or not lines:
        return 0
    if currency != order.currency:
        logger.warning("a refund in another currency than its order", extra={"refund": refund_id})
        return 0
    ctx = Context(tenant.id, currency, order.order_id)
    at = ports.clock.now()
    entries: list[Entry | None]
    if _posted(ports, tenant.id, state, CANCELLED, EntryKind.VOID):
        entries = [refund_cash(ctx, refund_id, amount, at)]
    else:
        kind = EntryKind.RETURN if refund_id.startswith(RETURN_REFUND_PREFIX) else EntryKind.REFUND
        voided = holds.held_voided(ports, tenant.id, state)
        # A refund replayed after the void of a line it reversed before: the void re-booked
        # that reversal already (``holds.refund_rebooked``), so the line stays as it is.
        reversed_before = {
            item.line
            for vendor_id in sorted({line.vendor_id or "" for line in lines} - {""})
            if voided
            for item in ports.ledger.posted(
                tenant.id, vendor_id, currency, order.order_id, refund_id, kind
            )
        }
        kept = [line for line in lines if line.line_id not in voided - reversed_before]
        shares = dict(zip((line.line_id for line in lines), spread(amount, lines), strict=True))
        # The share of a line an operator voided leaves refunds clearing (its vendor gave
        # it back with the void); the rest is taken back from the lines' vendors.
        entries = [
            refund_cash(ctx, refund_id, shares[line_id], at, line_id=line_id)
            for line_id in sorted((voided - reversed_before) & shares.keys())
        ]
        entries += [
            reversal(ctx, kind, refund_id, line, shares[line.line_id], at, refund=refund_id)
            for line in kept
        ]
    made = [e for e in entries if e is not None]
    added = ports.ledger.post(tenant.id, made)
    # Paid out already to a Connect vendor: the part its unpaid money cannot cover is reversed.
    reverse_after_payout(ports, tenant, order.order_id, refund_id, currency, made)
    return added


def order_disputed(ports: Ports, tenant: TenantSettings, state: OrderState) -> int:
    """What the order's disputes did, each fact once (keyed by the dispute): the money the bank
    took (the platform fronts it), the money given back when won, and, when lost and the
    tenant's policy makes vendors bear chargebacks, the loss moved to the lines' vendors pro
    rata. Posts nothing for an order the ledger never sold."""
    if not tenant.payouts.enabled:
        return 0
    order = state.order
    lines = sold_lines(ports, tenant.id, state)
    if order is None or not lines:
        return 0
    ctx = Context(tenant.id, order.currency, order.order_id)
    at = ports.clock.now()
    entries: list[Entry | None] = []
    losses: list[tuple[str, list[Entry]]] = []
    for dispute in state.disputes.values():
        if dispute.currency != order.currency:
            continue
        if dispute.funds_withdrawn:
            entries.append(chargeback_opened(ctx, dispute.dispute_id, dispute.amount, at))
        if dispute.funds_reinstated:
            entries.append(chargeback_won(ctx, dispute.dispute_id, dispute.amount, at))
        if dispute.status.value == "lost":
            vendors_bear = tenant.payouts.chargebacks_borne_by == "vendor"
            lost = chargeback_lost(
                ctx, dispute.dispute_id, lines, dispute.amount, at, vendors_bear=vendors_bear
            )
            entries.extend(lost)
            losses.append((dispute.dispute_id, lost))
    added = ports.ledger.post(tenant.id, [e for e in entries if e is not None])
    for dispute_id, lost_entries in losses:
        reverse_after_payout(
            ports, tenant, order.order_id, dispute_id, order.currency, lost_entries
        )
    return added
