"""The orders context's rules: pure functions over the order aggregate and plain values.

Nothing here talks to AWS or Stripe, reads the environment or the clock: the use cases pass in
what these need.
"""

import hashlib
import json
import math
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from functions.orders.contracts import (
    ParcelOutcome,
    RefundLine,
    WaitKind,
    WaitOutcome,
    WaitOutcomeKind,
    Waits,
)
from functions.orders.errors import NotRefundable, OperationRefused, ReturnInvalid, ReturnRefused
from shared.event_parts import Card, OrderPlaced, ShipmentStatus
from shared.order_aggregate import OPEN_DISPUTE, DisputeFacts, OrderState, PaymentFacts
from shared.tenants import TenantSettings

if TYPE_CHECKING:
    from shared.events import OrderFulfilled, ShipmentUpdated

__all__ = [
    "SHIPPED",
    "NotRefundable",
    "OperationRefused",
]

# Carrier states that mean the parcel has left the shop.
SHIPPED = frozenset(
    {
        "pre_transit",
        "in_transit",
        "out_for_delivery",
        "available_for_pickup",
        "attempt_failed",
        "delayed",
        "exception",
        "failure",
        "lost",
        "damaged",
        "return_to_sender",
        "delivered",
    }
)
# A parcel in one of these will not reach the customer without someone acting: it is settled
# for the delivery wait (a returned parcel; a cancelled label).
PARCEL_ENDS = frozenset({"return_to_sender", "cancelled"})


class ClaimStatus(StrEnum):
    """A carrier claim's life: filed with the carrier, then accepted or rejected, an accepted
    one paid; a parcel delivered after all withdraws it (closed by delivery)."""

    FILED = "filed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PAID = "paid"
    WITHDRAWN = "withdrawn"


CLAIM_MOVES: Mapping[ClaimStatus, frozenset[ClaimStatus]] = {
    ClaimStatus.FILED: frozenset(
        {ClaimStatus.ACCEPTED, ClaimStatus.REJECTED, ClaimStatus.WITHDRAWN}
    ),
    ClaimStatus.ACCEPTED: frozenset(
        {ClaimStatus.PAID, ClaimStatus.REJECTED, ClaimStatus.WITHDRAWN}
    ),
    ClaimStatus.REJECTED: frozenset({ClaimStatus.WITHDRAWN}),
    ClaimStatus.PAID: frozenset(),
    ClaimStatus.WITHDRAWN: frozenset(),
}
# A claim in one of these is decided: its parcel is settled for the delivery wait.
CLAIM_DECIDED = frozenset({ClaimStatus.REJECTED, ClaimStatus.PAID, ClaimStatus.WITHDRAWN})
# A claim the carrier may still pay or the parcel may still close.
CLAIM_OPEN = frozenset({ClaimStatus.FILED, ClaimStatus.ACCEPTED})


def new_claim(
    state: OrderState, tracking_code: str, problem: str, at: datetime, by: str
) -> dict[str, Any]:
    """The record of a claim opened for one parcel: its lines and what they cost."""
    parcel = state.shipments[tracking_code]
    lines = state.parcel_lines(parcel)
    order = state.order
    prices = (
        {line.line_id: line.unit_price.amount * line.quantity for line in order.lines}
        if order
        else {}
    )
    return {
        "tracking_code": tracking_code,
        "carrier": parcel.carrier,
        "problem": problem,
        "lines": lines,
        "value": sum(prices.get(line, 0) for line in lines),
        "currency": state.currency,
        "status": str(ClaimStatus.FILED),
        "reference": None,
        "amount_paid": None,
        "version": 1,
        "opened_at": at.isoformat(),
        "history": [{"status": str(ClaimStatus.FILED), "at": at.isoformat(), "by": by}],
    }


def claim_moved(
    claim: Mapping[str, Any],
    status: ClaimStatus,
    *,
    at: datetime,
    by: str,
    reference: str | None = None,
    amount_paid: int | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The claim after an operator (or a delivery) moved it; ``OperationRefused`` when the
    move is not one a claim can make, with the reason."""
    current = ClaimStatus(claim["status"])
    if status not in CLAIM_MOVES[current]:
        allowed = ", ".join(sorted(CLAIM_MOVES[current])) or "nothing (it is closed)"
        raise OperationRefused(f"a {current} claim can become {allowed}, not {status}")
    reference = reference or claim.get("reference")
    if status in (ClaimStatus.ACCEPTED, ClaimStatus.PAID) and not reference:
        raise OperationRefused(f"a claim is {status} with the carrier's claim reference")
    if status is ClaimStatus.PAID and (amount_paid is None or amount_paid <= 0):
        raise OperationRefused("a paid claim says how much the carrier paid (minor units)")
    if amount_paid is not None and status is not ClaimStatus.PAID:
        raise OperationRefused("only a paid claim has an amount paid")
    entry: dict[str, Any] = {"status": str(status), "at": at.isoformat(), "by": by}
    if reference:
        entry["reference"] = reference
    if note:
        entry["note"] = note
    if amount_paid is not None:
        entry["amount_paid"] = amount_paid
    return {
        **claim,
        "status": str(status),
        "reference": reference,
        "amount_paid": amount_paid if amount_paid is not None else claim.get("amount_paid"),
        "version": int(claim["version"]) + 1,
        "history": [*claim.get("history", []), entry],
    }


def parcel_outcomes(
    state: OrderState, claims: Mapping[str, Mapping[str, Any]]
) -> list[ParcelOutcome]:
    return [
        ParcelOutcome(
            tracking_code=p.tracking_code,
            state=p.state,
            claim=str(claims[p.tracking_code]["status"]) if p.tracking_code in claims else None,
        )
        for p in state.parcels()
    ]


def settled(parcel: ParcelOutcome) -> bool:
    """Nothing more will happen to this parcel without an operator."""
    return (
        parcel.state == "delivered"
        or parcel.state in PARCEL_ENDS
        or (parcel.claim is not None and ClaimStatus(parcel.claim) in CLAIM_DECIDED)
    )


def movement(state: OrderState) -> str:
    """A fingerprint of the undelivered parcels' latest scans: it changes when one moves."""
    scans = sorted(
        f"{p.tracking_code}:{p.status.event_id if p.status else ''}"
        for p in state.parcels()
        if p.state != "delivered"
    )
    return hashlib.sha256("\n".join(scans).encode()).hexdigest()


def parcel_moved(state: OrderState, event: "ShipmentUpdated | OrderFulfilled") -> bool:
    """Whether an event just applied to ``state`` moved one of its parcels, as ``movement``
    sees movement: a carrier's scan that became its outbound parcel's latest (or delivered it),
    or the shop's fulfilment naming a parcel. A scan older than the parcel's latest, or a
    return parcel's, moves nothing."""
    # Imported here, as the aggregate's ``apply`` does: only whoever applies events (the
    # processor, which has them loaded) asks this, and a lifecycle step creates no event class.
    from shared.events import OrderFulfilled

    parcels = {p.tracking_code: p for p in state.parcels()}
    parcel = parcels.get(event.tracking_code)
    if parcel is None:
        return False
    if isinstance(event, OrderFulfilled):
        return True
    latest = parcel.status is not None and parcel.status.event_id == event.source_event_id
    return latest or event.status == ShipmentStatus.DELIVERED


def waits_for(tenant: TenantSettings, seconds_per_day: int) -> Waits:
    """The lifecycle's waits in seconds: the tenant's days and hours on the deployment's scale."""
    return Waits(
        payment_s=max(1, tenant.payment_timeout_hours * seconds_per_day // 24),
        dispatch_s=max(1, tenant.dispatch_sla_days * seconds_per_day),
        delivery_s=max(1, tenant.delivery_timeout_days * seconds_per_day),
        return_window_s=max(1, tenant.return_window_days * seconds_per_day),
        no_movement_s=max(1, tenant.delivery.no_movement_days * seconds_per_day),
        claims_s=max(1, tenant.delivery.claims_days * seconds_per_day),
    )


class CallOutcome(StrEnum):
    """What came of calling a held order's customer."""

    REACHED_CONFIRMED = "reached-confirmed"
    REACHED_DECLINED = "reached-declined"
    NO_ANSWER = "no-answer"


@dataclass(frozen=True)
class ReviewSchedule:
    """A review hold's points, in the tenant's hours since the hold began: the call task (None:
    no call), the authorisation window's alert (None: nothing to alert) and end (manual
    capture), the review's end."""

    call_h: float | None
    window_alert_h: float | None
    ends_h: float
    window_ends_h: float | None = None

    def due(self, elapsed_h: float) -> list[str]:
        """The points reached after ``elapsed_h`` hours."""
        points = {"call": self.call_h, "window_alert": self.window_alert_h}
        return [name for name, at in points.items() if at is not None and at <= elapsed_h]

    def next_h(self, elapsed_h: float) -> float:
        """The next point still ahead (the review's end at the latest)."""
        ahead = [at for at in (self.call_h, self.window_alert_h) if at is not None]
        return min([at for at in ahead if at > elapsed_h] + [self.ends_h])


def review_schedule(
    tenant: TenantSettings, held_at: datetime, authorised_at: datetime | None
) -> ReviewSchedule:
    """When, during a review, the client team is asked to call the customer and (manual capture)
    the reviewer is told the authorisation runs out. The window runs from the authorisation:
    the time it had already run before the hold began is taken off."""
    ends = float(tenant.review_timeout_hours)
    call = None
    if tenant.review_call_before_timeout_hours > 0:
        call = max(0.0, ends - tenant.review_call_before_timeout_hours)
    if tenant.capture_mode != "manual":
        return ReviewSchedule(call_h=call, window_alert_h=None, ends_h=ends)
    ran_before = max(0.0, (held_at - (authorised_at or held_at)).total_seconds() / 3600)
    window_ends = tenant.authorisation_window_hours - ran_before
    alert: float | None = max(0.0, window_ends - tenant.authorisation_alert_before_hours)
    if alert is not None and alert >= ends:
        alert = None  # the review ends before the alert would be due
    return ReviewSchedule(call_h=call, window_alert_h=alert, ends_h=ends, window_ends_h=window_ends)


def lifecycle_hours(real_seconds: float, seconds_per_day: int) -> float:
    """Real seconds as the tenant's hours on the deployment's time scale."""
    return real_seconds * 24 / seconds_per_day


def real_seconds(hours: float, seconds_per_day: int) -> int:
    """The tenant's hours as whole real seconds on the deployment's scale (at least one)."""
    return max(1, math.ceil(hours * seconds_per_day / 24))


def authorised_at(state: OrderState) -> datetime | None:
    """When the order's first payment in its currency was authorised (its window starts)."""
    times = [p.authorized_at for p in state.payments.values() if p.currency == state.currency]
    return min((t for t in times if t is not None), default=None)


def phone_of(state: OrderState) -> str | None:
    """The number to call the customer on: the customer's, else the billing address's, else the
    shipping address's."""
    order = state.order
    if order is None:
        return None
    addresses = (order.billing_address, order.shipping_address)
    phones = [order.customer.phone, *(a.phone for a in addresses if a is not None)]
    return next((p for p in phones if p), None)


def wait_outcome(
    state: OrderState,
    wait: WaitKind,
    claims: Mapping[str, Mapping[str, Any]] | None = None,
) -> WaitOutcome | None:
    """What resumes a wait, if the order already shows it; None while it should go on waiting.

    The delivery wait is resumed with every parcel's end, not by the latest scan: delivered
    when every parcel is; a problem once every parcel is settled and one is not delivered
    (returned, or its claim decided). An attempt, a delay, a loss with its claim still open
    keep it waiting: the parcel may still arrive.
    """
    if wait == WaitKind.PAYMENT:
        return WaitOutcome(outcome=WaitOutcomeKind.PAID) if is_paid(state) else None
    shipment = state.shipment_status()
    if wait == WaitKind.SHIPMENT and (shipment in SHIPPED or shipment == "fulfilled"):
        return WaitOutcome(outcome=WaitOutcomeKind.SHIPPED, shipment=shipment)
    if wait == WaitKind.DELIVERY and state.parcels():
        parcels = parcel_outcomes(state, claims or {})
        if all(p.state == "delivered" for p in parcels):
            return WaitOutcome(
                outcome=WaitOutcomeKind.DELIVERED, shipment=shipment, parcels=parcels
            )
        if all(settled(p) for p in parcels):
            return WaitOutcome(outcome=WaitOutcomeKind.PROBLEM, shipment=shipment, parcels=parcels)
    return None


def is_paid(state: OrderState) -> bool:
    """The order's total has been paid by payments in its currency (captured, or succeeded in
    full); an authorisation alone, or a payment in another currency, does not pay it. A free
    order (discounted to zero) is paid."""
    order = state.order
    return order is not None and state.paid() >= order.total.amount


def card_of(state: OrderState) -> Card | None:
    """The card of the order's payment, when the gateway has told us already."""
    for payment in sorted(state.payments.values(), key=lambda p: p.payment_id):
        if payment.card is not None:
            return Card.model_validate(payment.card.value)
    return None


def amount_due(state: OrderState) -> int:
    """What the order's payments hold that was not refunded: what a cancellation gives back."""
    return sum(max(0, p.settled_amount - p.refunded) for p in state.successful_payments())


def amount_for_lines(state: OrderState, lines: Iterable[RefundLine]) -> int:
    order = state.order
    if order is None:
        raise NotRefundable("the order is not known")
    by_id = {line.line_id: line for line in order.lines}
    total = 0
    for requested in lines:
        line = by_id.get(requested.line_id)
        if line is None:
            raise NotRefundable(f"order has no line {requested.line_id!r}")
        quantity = requested.quantity or line.quantity
        if not 1 <= quantity <= line.quantity:
            raise NotRefundable(f"line {line.line_id} has {line.quantity}, not {quantity}")
        total += line.unit_price.amount * quantity
    return total


def external_refunds(payment: PaymentFacts, ours: set[str]) -> int:
    """Refunds the gateway reports on the payment that none of our requests made (say, in the
    gateway's dashboard): they shrink what our requests may reserve."""
    return sum(
        facts.amount
        for refund_id, facts in payment.refunds.items()
        if refund_id not in ours and facts.status.value in ("succeeded", "pending")
    )


def refund_room(
    state: OrderState, payment_id: str | None, reserved: Mapping[str, int], ours: set[str]
) -> list[tuple[PaymentFacts, int, int]]:
    """The payments a refund may come from, each with its cap (captured minus refunds made
    elsewhere) and what is left under it (cap minus what our refunds hold), most left first."""
    if payment_id:
        candidates = [p for p in state.successful_payments() if p.payment_id == payment_id]
        if not candidates:
            raise NotRefundable(f"payment {payment_id} has not been captured")
    else:
        candidates = [p for p in state.successful_payments() if p.currency == state.currency]
        if not candidates:
            raise NotRefundable("no captured payment to refund")
    rooms = []
    for payment in candidates:
        cap = payment.settled_amount - external_refunds(payment, ours)
        rooms.append((payment, cap, cap - reserved.get(payment.payment_id, 0)))
    return sorted(rooms, key=lambda room: (-room[2], room[0].payment_id))


def choose_refund(
    rooms: list[tuple[PaymentFacts, int, int]], requested: int | None
) -> tuple[PaymentFacts, int, int]:
    """The payment to refund from, the amount, and the payment's cap."""
    payment, cap, left = rooms[0]
    amount = left if requested is None else requested
    if amount <= 0 or amount > left:
        if requested is not None and amount > left and len(rooms) > 1:
            raise NotRefundable(
                f"refund of {amount} exceeds what any one payment has left ({left}): "
                "refund the payments one by one"
            )
        raise NotRefundable(f"refund of {amount} exceeds the refundable {max(left, 0)}")
    return payment, amount, cap


def failure_reason(error: Mapping[str, Any]) -> str:
    """Step Functions hands a caught error over as ``{"Error": …, "Cause": …}``, the cause
    being the Lambda's error document as JSON."""
    cause = error.get("Cause") or ""
    try:
        message = json.loads(cause).get("errorMessage") or cause
    except (json.JSONDecodeError, AttributeError):
        message = cause
    kind = error.get("Error") or "Error"
    return f"{kind}: {message}"[:500] if message else str(kind)


def order_context(state: OrderState) -> dict[str, Any]:
    """What every e-mail about an order may show."""
    order = state.order
    if order is None:
        raise ValueError(f"order {state.order_id} is not known yet")
    return {
        "order_id": state.order_id,
        "customer_name": order.customer.name,
        "customer_email": order.customer.email,
        "placed_at": order.occurred_at,
        "lines": [
            {
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "vendor": line.vendor_id,
                "sku": line.sku,
            }
            for line in order.lines
        ],
        "total": order.total,
        "shipping": order.shipping,
        "tax": order.tax,
        "discount": order.discount,
        "shipping_address": order.shipping_address.model_dump() if order.shipping_address else None,
    }


def delivered_lines(state: OrderState) -> set[str]:
    """The lines of the order's parcels that were delivered."""
    return {
        line
        for parcel in state.parcels()
        if parcel.delivered_at is not None
        for line in state.parcel_lines(parcel)
    }


def funds_holding_disputes(state: OrderState) -> list[DisputeFacts]:
    """Disputes that keep the vendors' funds back: open ones (the money may go back to the
    cardholder) and lost ones (it did)."""
    return sorted(
        (d for d in state.disputes.values() if d.status.value in OPEN_DISPUTE | {"lost"}),
        key=lambda d: d.dispute_id,
    )


def open_dispute_on(state: OrderState, payment: PaymentFacts) -> DisputeFacts | None:
    """A chargeback open on one of the payment's charges: Stripe refuses to refund it."""
    return next(
        (
            d
            for d in state.disputes.values()
            if d.charge_id in payment.charge_ids and d.status.value in OPEN_DISPUTE
        ),
        None,
    )


def released_lines(state: OrderState, delivered_only: bool = False) -> list[dict[str, Any]]:
    """Each line's gross, for the vendor ledger once the return window has passed; with
    ``delivered_only``, only the lines whose parcel was delivered."""
    order = state.order
    if order is None:
        return []
    arrived = delivered_lines(state) if delivered_only else None
    return [
        {
            "line_id": line.line_id,
            "vendor_id": line.vendor_id,
            "amount": line.unit_price.amount * line.quantity,
            "currency": line.unit_price.currency,
        }
        for line in order.lines
        if arrived is None or line.line_id in arrived
    ]


# -- returns -------------------------------------------------------------------------------------

# A return's refund request is named after the return, so it is refunded once whatever retries.
RETURN_REFUND_PREFIX = "return-"


class ReturnStatus(StrEnum):
    """A return's life: requested → label_issued → in_transit → received → [inspected] →
    refunded, or rejected at inspection; cancelled when no label could be issued. ``refunded``
    means its refund request (``return-<id>``) was started: that request's own record follows
    the gateway (completed, failed)."""

    REQUESTED = "requested"
    LABEL_ISSUED = "label_issued"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    INSPECTED = "inspected"
    REFUNDED = "refunded"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


# The return parcel's scans that mean it is on its way back (before its delivery scan).
RETURN_PARCEL_MOVING = frozenset(
    {
        "pre_transit",
        "in_transit",
        "out_for_delivery",
        "available_for_pickup",
        "attempt_failed",
        "delayed",
    }
)


class InspectionOutcome(StrEnum):
    ACCEPT = "accept"
    PARTIAL = "partial"
    REJECT = "reject"


def delivered_at(state: OrderState, return_parcels: Container[str]) -> datetime | None:
    """When the carrier reported the order delivered: its last outbound parcel's delivery
    scan; None while any outbound parcel is not delivered (return parcels do not count)."""
    parcels = [p for code, p in state.shipments.items() if code not in return_parcels]
    # Delivered is the parcel's flag (its first delivery scan), whatever a carrier said later.
    delivered = [p.delivered_at for p in parcels if p.delivered_at is not None]
    if not parcels or len(delivered) < len(parcels):
        return None
    return max(delivered)


def check_return_window(delivered: datetime | None, days: int, now: datetime) -> None:
    """A return is accepted from the delivery scan until ``days`` calendar days after it."""
    if delivered is None:
        raise ReturnRefused("only a delivered order can be returned; cancel it instead")
    closes = delivered + timedelta(days=days)
    if now > closes:
        raise ReturnRefused(
            f"the return window of {days} days closed at {closes.isoformat()} "
            f"(delivered {delivered.isoformat()})"
        )


def asked_of(request: Mapping[str, Any]) -> dict[str, Any]:
    """A refund request as it was asked (kept as its JSON fingerprint)."""
    asked = request.get("request") or {}
    return dict(json.loads(asked) if isinstance(asked, str) else asked)


def lines_asked(request: Mapping[str, Any]) -> list[str] | None:
    """The lines a refund request named; None for a refund by amount."""
    lines = asked_of(request).get("lines")
    return sorted({str(line["line_id"]) for line in lines}) if lines else None


def lines_refunded(order: OrderPlaced, requests: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """What refunds by lines (not returns' own refunds, not failed ones) took of each line."""
    bought = {line.line_id: line.quantity for line in order.lines}
    taken: dict[str, int] = {}
    for request in requests:
        if request.get("status") == "failed" or str(request.get("refund_id", "")).startswith(
            RETURN_REFUND_PREFIX
        ):
            continue
        for line in asked_of(request).get("lines") or ():
            line_id = line.get("line_id")
            quantity = line.get("quantity") or bought.get(line_id, 0)
            taken[line_id] = taken.get(line_id, 0) + int(quantity)
    return taken


def lines_to_return(
    order: OrderPlaced,
    requested: Iterable[RefundLine],
    returned: Mapping[str, int],
    refunded: Mapping[str, int],
) -> dict[str, int]:
    """The quantity of each line a return takes back: never more than was bought less what
    earlier returns hold and refunds by lines took. A line without a quantity means all that
    is left of it."""
    by_id = {line.line_id: line for line in order.lines}
    wanted: dict[str, int] = {}
    for asked in requested:
        line = by_id.get(asked.line_id)
        if line is None:
            raise ReturnInvalid("the order has no such line", line=asked.line_id)
        left = line.quantity - returned.get(line.line_id, 0) - refunded.get(line.line_id, 0)
        quantity = wanted.get(line.line_id, 0) + (asked.quantity or max(left, 0))
        if quantity > line.quantity:
            raise ReturnInvalid(
                f"{line.quantity} bought, {quantity} cannot be returned", line=line.line_id
            )
        if quantity > left or quantity == 0:
            raise ReturnRefused(
                f"already returned or refunded: {line.quantity - max(left, 0)} of "
                f"{line.quantity}, {max(left, 0)} left to return",
                line=line.line_id,
            )
        wanted[line.line_id] = quantity
    if not wanted:
        raise ReturnInvalid("a return takes at least one line")
    return wanted


def inspection_refund(
    returned: Mapping[str, int],
    return_amount: int,
    outcome: InspectionOutcome,
    lines: Iterable[RefundLine] | None,
    amount: int | None,
    reason: str | None,
) -> tuple[dict[str, int] | None, int | None]:
    """What an inspection refunds: (lines, None), (None, amount), or (None, None) for a
    rejection. A partial acceptance names lines within the return, or an amount within its
    value; a rejection or a partial one says why."""
    if outcome is InspectionOutcome.ACCEPT:
        if lines or amount is not None:
            raise ReturnInvalid("accept refunds the whole return: give no lines or amount")
        return dict(returned), None
    if not (reason and reason.strip()):
        raise ReturnInvalid(f"a {outcome.value} inspection needs a reason")
    if outcome is InspectionOutcome.REJECT:
        if lines or amount is not None:
            raise ReturnInvalid("reject refunds nothing: give no lines or amount")
        return None, None
    if (lines is None) == (amount is None):
        raise ReturnInvalid("a partial inspection accepts either lines or an amount")
    if amount is not None:
        if not 0 < amount <= return_amount:
            raise ReturnInvalid(f"the accepted amount must be within 1..{return_amount}")
        return None, amount
    accepted: dict[str, int] = {}
    for line in lines or ():
        if line.line_id not in returned:
            raise ReturnInvalid("the return does not carry this line", line=line.line_id)
        quantity = accepted.get(line.line_id, 0) + (line.quantity or returned[line.line_id])
        if quantity > returned[line.line_id]:
            raise ReturnInvalid(
                f"{returned[line.line_id]} returned, {quantity} cannot be accepted",
                line=line.line_id,
            )
        accepted[line.line_id] = quantity
    if not accepted:
        raise ReturnInvalid("a partial inspection accepts at least one line")
    return accepted, None
