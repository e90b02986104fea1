"""Each parcel of an order, once shipped: what the carrier says is told to whom it concerns,
a loss opens a claim with the carrier, and a claim lives until the carrier pays or rejects it
or the parcel turns up after all.

The processor calls ``parcel_news`` after every scan it applied (from the aggregate, so the
order scans arrive in does not matter, and a scan applied twice tells nobody twice); the
lifecycle's delivery wait goes on until every parcel is settled (``domain.wait_outcome``).

- an attempt that failed or a delay: the customer is told what the carrier says, once per
  distinct scan; the parcel keeps going;
- an exception (refused, bad address, held): the client team is told, once per scan;
- lost or damaged: a claim for that parcel's lines (once), the customer and the client team
  are told; the order's other parcels keep going;
- returned to the sender: the customer and the client team are told; no claim (nothing the
  carrier owes), the parcel is settled;
- delivered: a claim still open for the parcel is withdrawn (closed by delivery); one the
  carrier paid already is left as it is and the client team told.
"""

from __future__ import annotations

from typing import Any

from functions.orders.domain import (
    CLAIM_OPEN,
    ClaimStatus,
    OperationRefused,
    claim_moved,
    movement,
    new_claim,
    order_context,
)
from functions.orders.ports import Ports
from functions.orders.use_cases.notify import customer_of, notify
from shared.event_parts import PARCEL_EXCEPTIONS, PARCEL_LOSSES, PARCEL_NEWS, ShipmentStatus
from shared.observability import logger
from shared.order_aggregate import OrderState, ShipmentFacts
from shared.tenants import TenantSettings

# The notice kinds (shared.notices.orders) load in the step that raises one: most raise none.

# The customer e-mail's word for each thing a carrier may say (``render.DeliveryProblem``).
_WORDING = {
    ShipmentStatus.ATTEMPT_FAILED: "failed_attempt",
    ShipmentStatus.DELAYED: "delayed",
    ShipmentStatus.LOST: "lost",
    ShipmentStatus.DAMAGED: "damaged",
    ShipmentStatus.RETURN_TO_SENDER: "returned_to_sender",
    "no_movement": "lost",
}
CARRIER = "carrier"  # who withdraws a claim when the parcel is delivered


def parcel_news(ports: Ports, tenant_id: str, order_id: str, state: OrderState) -> list[str]:
    """Act on what the carriers said about the order's parcels; what was done, for the log."""
    tenant = ports.tenants.get(tenant_id)
    if tenant is None or state.order is None:
        return []
    claims = {c["tracking_code"]: c for c in ports.records.claims(tenant_id, order_id)}
    # A return parcel is the return's business (``use_cases.returns``), not the customer's.
    returning = {r.get("tracking_code") for r in ports.returns.all(tenant_id, order_id)}
    done: list[str] = []
    for parcel in state.parcels():
        if parcel.tracking_code in returning:
            continue
        claim = claims.get(parcel.tracking_code)
        if parcel.state == ShipmentStatus.DELIVERED:
            if claim is not None and ClaimStatus(claim["status"]) in CLAIM_OPEN:
                _withdraw(ports, tenant, state, claim)
                done.append(f"{parcel.tracking_code}: claim withdrawn, delivered")
            elif claim is not None and claim["status"] == ClaimStatus.PAID:
                _tell_team_once(
                    ports,
                    tenant,
                    state,
                    parcel,
                    "delivered-after-paid",
                    f"delivered after the carrier paid claim {claim.get('reference')}: "
                    "the carrier may ask for the money back",
                )
            continue
        for key, notice in sorted(parcel.notices.items()):
            status = ShipmentStatus(notice.status)
            if status in PARCEL_NEWS:
                _tell_customer(ports, tenant, state, parcel, status, key, notice.detail)
            elif status in PARCEL_EXCEPTIONS:
                _tell_team_once(ports, tenant, state, parcel, key, notice.detail)
        current = parcel.state
        if current in PARCEL_LOSSES and claim is None:
            if open_parcel_claim(ports, tenant, state, parcel, current):
                done.append(f"{parcel.tracking_code}: claim filed ({current})")
        elif current == ShipmentStatus.RETURN_TO_SENDER:
            sent = _tell_customer(ports, tenant, state, parcel, current, current, None)
            if sent:
                _alert(ports, tenant, state, parcel, current, "returning to the shop: no claim")
    return done


def open_parcel_claim(
    ports: Ports, tenant: TenantSettings, state: OrderState, parcel: ShipmentFacts, problem: str
) -> bool:
    """A claim for one parcel's lines (once per parcel), and who must hear of it."""
    claim = new_claim(state, parcel.tracking_code, problem, ports.clock.now(), "ecomops")
    if not ports.records.open_claim(tenant.id, state.order_id, claim):
        return False
    logger.info("carrier claim filed", extra={"parcel": parcel.tracking_code, "problem": problem})
    _tell_customer(ports, tenant, state, parcel, problem, problem, None)
    _alert(
        ports,
        tenant,
        state,
        parcel,
        problem,
        f"claim filed for lines {', '.join(claim['lines']) or '(none named)'}: file it with "
        "the carrier and record its reference (ecomops orders claim)",
    )
    return True


def no_movement(ports: Ports, tenant: TenantSettings, state: OrderState) -> list[str]:
    """The delivery wait found no parcel moving for the tenant's limit: every undelivered
    parcel without a claim gets one (``no_movement``)."""
    claimed = {c["tracking_code"] for c in ports.records.claims(tenant.id, state.order_id)}
    opened = []
    for parcel in state.parcels():
        if parcel.state == ShipmentStatus.DELIVERED or parcel.tracking_code in claimed:
            continue
        if parcel.state == ShipmentStatus.RETURN_TO_SENDER:
            continue
        if open_parcel_claim(ports, tenant, state, parcel, "no_movement"):
            opened.append(parcel.tracking_code)
    return opened


def moved_since_wait(ports: Ports, tenant_id: str, order_id: str, state: OrderState) -> bool:
    """Whether an undelivered parcel was scanned since the delivery wait began; the wait
    begins again from now either way."""
    now = movement(state)
    before = ports.records.movement(tenant_id, order_id)
    ports.records.save_movement(tenant_id, order_id, now)
    return before is not None and before != now


def move_claim(
    ports: Ports,
    tenant_id: str,
    order_id: str,
    tracking_code: str,
    status: str,
    *,
    by: str,
    reference: str | None = None,
    amount_paid: int | None = None,
    note: str | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """An operator records what the carrier answered (accepted, rejected, paid, with its
    reference), or withdraws the claim; the new version, with who and when."""
    try:
        target = ClaimStatus(status)
    except ValueError:
        allowed = ", ".join(s.value for s in ClaimStatus if s is not ClaimStatus.FILED)
        raise OperationRefused(f"a claim can be recorded as {allowed}, not {status!r}") from None
    claims = {c["tracking_code"]: c for c in ports.records.claims(tenant_id, order_id)}
    claim = claims.get(tracking_code)
    if claim is None:
        raise OperationRefused(f"order {order_id!r} has no claim for parcel {tracking_code!r}")
    if expected_version is not None and claim["version"] != expected_version:
        raise OperationRefused(
            f"the claim is at version {claim['version']}, not {expected_version}: read it again"
        )
    moved = claim_moved(
        claim,
        target,
        at=ports.clock.now(),
        by=by,
        reference=reference,
        amount_paid=amount_paid,
        note=note,
    )
    if target is ClaimStatus.PAID:
        # Before the claim is saved paid: a failure here leaves it as it was, to be recorded
        # again (the credit is kept once per parcel, so the retry adds nothing twice).
        _credit_vendors(ports, tenant_id, order_id, moved)
    if not ports.records.save_claim(tenant_id, order_id, moved, claim["version"]):
        raise OperationRefused("the claim changed meanwhile: read it again")
    return moved


def _credit_vendors(ports: Ports, tenant_id: str, order_id: str, claim: dict[str, Any]) -> None:
    """The carrier's payment credits the parcel's lines' vendors (the vendor ledger keeps it
    once per parcel)."""
    tenant = ports.tenants.get(tenant_id)
    amount = claim.get("amount_paid")
    if ports.vendor_ledger is None or tenant is None or not amount:
        return
    state, _ = ports.orders.load(tenant_id, order_id)
    ports.vendor_ledger.claim_paid(
        tenant, state, claim["tracking_code"], int(amount), list(claim.get("lines") or [])
    )


def _withdraw(
    ports: Ports, tenant: TenantSettings, state: OrderState, claim: dict[str, Any]
) -> None:
    moved = claim_moved(
        claim,
        ClaimStatus.WITHDRAWN,
        at=ports.clock.now(),
        by=CARRIER,
        note="closed by delivery: the carrier delivered the parcel",
    )
    if ports.records.save_claim(tenant.id, state.order_id, moved, claim["version"]):
        from shared.notices.orders import ClaimWithdrawn

        ports.alerts.send(
            ClaimWithdrawn(
                tenant=tenant.id,
                order_id=state.order_id,
                tracking_code=claim["tracking_code"],
                reference=claim.get("reference"),
            )
        )


def _tell_customer(
    ports: Ports,
    tenant: TenantSettings,
    state: OrderState,
    parcel: ShipmentFacts,
    problem: str,
    once: str,
    carrier_says: str | None,
) -> bool:
    return (
        notify(
            ports,
            "delivery_problem",
            state,
            tenant,
            customer_of(state),
            {
                "problem": _WORDING[problem],
                "tracking_code": parcel.tracking_code,
                "carrier": parcel.carrier,
                "tracking_url": parcel.tracking_url,
                "carrier_says": carrier_says,
            },
            once_as=f"delivery_problem#{parcel.tracking_code}#{once}",
        )
        is not None
    )


def _tell_team_once(
    ports: Ports,
    tenant: TenantSettings,
    state: OrderState,
    parcel: ShipmentFacts,
    key: str,
    carrier_says: str | None,
) -> None:
    once = f"delivery_exception#{parcel.tracking_code}#{key}"
    if ports.notifications.sent(tenant.id, state.order_id, once):
        return
    what = carrier_says or "the carrier needs help"
    _alert(ports, tenant, state, parcel, "exception", what, occurrence=once)
    ports.notifications.record(tenant.id, state.order_id, once, "sent", "", "client team alerted")


def _alert(
    ports: Ports,
    tenant: TenantSettings,
    state: OrderState,
    parcel: ShipmentFacts,
    problem: str,
    what: str,
    occurrence: str | None = None,
) -> None:
    from shared.notices.orders import DeliveryProblem

    ports.alerts.send(
        DeliveryProblem(
            tenant=tenant.id,
            order_id=state.order_id,
            problem=problem,
            carrier=parcel.carrier,
            tracking_code=parcel.tracking_code,
            lines=tuple(state.parcel_lines(parcel)),
            what_next=what,
            occurrence=occurrence,
            order=order_context(state),
        )
    )
