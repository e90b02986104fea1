"""Returns: a customer sends back lines of a delivered order and is refunded for what the shop
accepts.

requested → label_issued (the carrier's return label and tracking code) → in_transit →
received (the return parcel's delivery scan) → [inspected: accept / partial / reject, with who
and when, when the tenant's ``returns.inspection`` is on] → refunded (through the refund
workflow, named after the return so it happens once) or rejected.

A return is accepted only inside the tenant's return window, counted from the delivery the
carrier reported, and only for what of each line is neither held by another return nor
refunded by lines; the return's lines are reserved by one conditional write, so two concurrent
returns of the same line cannot both pass.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError

from functions.orders import contracts as c
from functions.orders.domain import (
    RETURN_PARCEL_MOVING,
    RETURN_REFUND_PREFIX,
    InspectionOutcome,
    OperationRefused,
    ReturnStatus,
    amount_for_lines,
    check_return_window,
    delivered_at,
    inspection_refund,
    lines_refunded,
    lines_to_return,
)
from functions.orders.errors import ReturnInvalid, ReturnRefused
from functions.orders.ports import Ports
from functions.orders.use_cases.notify import customer_of, notify
from functions.orders.use_cases.refund_requests import request_refund
from shared.observability import logger
from shared.order_aggregate import OrderState

# The notice kinds (shared.notices.orders) load in the step that raises one: most raise none.


def _refund_lines(lines: dict[str, int]) -> list[c.RefundLine]:
    return [c.RefundLine(line_id=line_id, quantity=q) for line_id, q in lines.items()]


def _history(record: dict[str, Any], status: ReturnStatus, at: Any, **more: Any) -> list[Any]:
    return [*record.get("history", []), {"status": status.value, "at": str(at), **more}]


def _advance(
    ports: Ports,
    tenant: str,
    order_id: str,
    record: dict[str, Any],
    before: list[ReturnStatus],
    status: ReturnStatus,
    at: Any,
    **fields: Any,
) -> dict[str, Any] | None:
    """The record moved to ``status`` (its history says when), or None if it was not in one of
    ``before`` (moved on already, or by a concurrent call)."""
    history = _history(record, status, at, **({"by": fields["by"]} if "by" in fields else {}))
    fields.pop("by", None)
    if not ports.returns.advance(
        tenant, order_id, record["return_id"], before, status, history=history, **fields
    ):
        return None
    return {**record, **fields, "status": status.value, "history": history}


def open_return(
    ports: Ports,
    tenant: str,
    order_id: str,
    lines: list[dict[str, Any]],
    reason: str,
    by: str | None = None,
) -> dict[str, Any]:
    """Accept a return inside the window for lines not already returned or refunded, get its
    label from the carrier and send it to the customer. Refused with the line and the reason,
    leaving nothing behind."""
    state, version = ports.orders.load(tenant, order_id)
    if version == 0 or state.order is None:
        raise OperationRefused(f"order {order_id!r} is not known")
    try:
        requested = [c.RefundLine.model_validate(line) for line in lines]
    except ValidationError as bad:
        raise ReturnInvalid(f"bad return line: {bad.errors()[0]['msg']}") from None
    earlier = ports.returns.all(tenant, order_id)
    delivered = delivered_at(state, {r["tracking_code"] for r in earlier if r.get("tracking_code")})
    if delivered is None:
        raise ReturnRefused("only a delivered order can be returned; cancel it instead")
    settings = ports.tenants.get(tenant)
    if settings is None:
        raise OperationRefused(f"tenant {tenant!r} is not known")
    now = ports.clock.now()
    check_return_window(delivered, settings.return_window_days, now)
    refunded = lines_refunded(state.order, ports.refunds.requests(tenant, order_id))
    wanted = lines_to_return(
        state.order, requested, ports.returns.returned(tenant, order_id), refunded
    )
    if ports.return_labels is None:
        raise ReturnRefused("return labels are not configured in this deployment")
    amount = amount_for_lines(state, _refund_lines(wanted))
    return_id = uuid.uuid4().hex
    record: dict[str, Any] = {
        "return_id": return_id,
        "status": ReturnStatus.REQUESTED.value,
        "lines": wanted,
        "amount": amount,
        "currency": state.currency,
        "reason": reason,
        "requested_by": by,
        "requested_at": now.isoformat(),
        "history": [{"status": ReturnStatus.REQUESTED.value, "at": now.isoformat(), "by": by}],
    }
    cap = {
        line.line_id: line.quantity - refunded.get(line.line_id, 0) for line in state.order.lines
    }
    if not ports.returns.reserve(tenant, order_id, record, cap):
        # Another return took the lines in the meantime: the same check says which.
        lines_to_return(state.order, requested, ports.returns.returned(tenant, order_id), refunded)
        raise ReturnRefused("another return took these lines at the same time")
    address = state.order.shipping_address
    try:
        label = ports.return_labels.issue(
            tenant, order_id, return_id, address.model_dump() if address else None
        )
    except Exception as failed:
        ports.returns.cancel(tenant, order_id, return_id, str(failed)[:300])
        if isinstance(failed, OperationRefused):
            raise
        raise ReturnRefused(f"no return label could be issued: {failed}") from failed
    # The return parcel's scans find the order through its tracking code, like an outbound
    # parcel's; the return record says which lines it carries back.
    ports.orders.link(tenant, f"tracking:{label['tracking_code']}", order_id)
    _advance(
        ports,
        tenant,
        order_id,
        record,
        [ReturnStatus.REQUESTED],
        ReturnStatus.LABEL_ISSUED,
        now.isoformat(),
        **label,
    )
    by_id = {line.line_id: line for line in state.order.lines}
    notify(
        ports,
        "return_opened",
        state,
        settings,
        customer_of(state),
        {
            "return_id": return_id,
            "label_url": label["label_url"],
            "instructions": (
                "Print the return label and stick it on the parcel.",
                f"Hand the parcel to {label['carrier']}: its tracking code is "
                f"{label['tracking_code']}.",
            ),
            "return_lines": [
                {"name": by_id[k].name, "quantity": q, "unit_price": by_id[k].unit_price}
                for k, q in wanted.items()
            ],
        },
        once_as=f"return_opened:{return_id}",
    )
    return {
        "return_id": return_id,
        "status": ReturnStatus.LABEL_ISSUED.value,
        "lines": wanted,
        "amount": amount,
        **label,
    }


def return_parcels_moved(ports: Ports, tenant: str, order_id: str, state: OrderState) -> list[str]:
    """After a carrier scan was applied: move each return whose parcel it is about; a parcel
    delivered back is received, and refunded in full unless the tenant inspects returns.
    Returns the ids of the returns refunded now. Safe to repeat (a redelivered scan)."""
    refunded = []
    settings = ports.tenants.get(tenant)
    for record in ports.returns.all(tenant, order_id):
        parcel = state.shipments.get(record.get("tracking_code") or "")
        if parcel is None or parcel.status is None:
            continue
        scan, return_id = parcel.status.value, record["return_id"]
        at = parcel.status.at.isoformat()
        if scan in RETURN_PARCEL_MOVING:
            _advance(
                ports,
                tenant,
                order_id,
                record,
                [ReturnStatus.LABEL_ISSUED],
                ReturnStatus.IN_TRANSIT,
                at,
            )
            continue
        if scan != "delivered":
            continue
        moved = _advance(
            ports,
            tenant,
            order_id,
            record,
            [ReturnStatus.LABEL_ISSUED, ReturnStatus.IN_TRANSIT],
            ReturnStatus.RECEIVED,
            at,
            received_at=at,
        )
        received = moved is not None
        current = moved or record
        if not received and current["status"] != ReturnStatus.RECEIVED:
            continue
        if settings is not None and settings.returns.inspection:
            if received:
                from shared.notices.orders import ReturnToInspect

                ports.alerts.send(
                    ReturnToInspect(tenant=tenant, order_id=order_id, return_id=return_id)
                )
            continue
        _refund(ports, tenant, order_id, current, current["lines"], None, ReturnStatus.RECEIVED)
        refunded.append(return_id)
    return refunded


def _refund(
    ports: Ports,
    tenant: str,
    order_id: str,
    record: dict[str, Any],
    lines: dict[str, int] | None,
    amount: int | None,
    before: ReturnStatus,
) -> dict[str, Any]:
    """Refund what was accepted of a return through the refund workflow (its reservation
    rules unchanged), once: the request is named after the return."""
    refund_id = f"{RETURN_REFUND_PREFIX}{record['return_id']}"
    request_refund(
        ports,
        tenant,
        order_id,
        lines=[line.model_dump() for line in _refund_lines(lines)] if lines else None,
        amount=amount,
        cause=c.RefundCause.RETURN,
        refund_id=refund_id,
    )
    refund = {"refund_id": refund_id, "lines": lines, "amount": amount}
    _advance(
        ports,
        tenant,
        order_id,
        record,
        [before],
        ReturnStatus.REFUNDED,
        ports.clock.now().isoformat(),
        refund=refund,
    )
    return refund


def inspect_return(
    ports: Ports,
    tenant: str,
    order_id: str,
    return_id: str,
    outcome: str,
    *,
    by: str,
    lines: list[dict[str, Any]] | None = None,
    amount: int | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Record the inspection of a received return (who and when) and refund what it accepts;
    tell the customer the outcome. The same inspection again answers what was done."""
    record = ports.returns.get(tenant, order_id, return_id)
    if record is None:
        raise ReturnRefused(f"order {order_id!r} has no return {return_id!r}")
    settings = ports.tenants.get(tenant)
    if settings is None or not settings.returns.inspection:
        raise ReturnRefused(
            "this tenant's returns are refunded when the parcel is received "
            "(returns.inspection is off)"
        )
    try:
        decided = InspectionOutcome(outcome)
        accepted_lines = (
            [c.RefundLine.model_validate(line) for line in lines] if lines is not None else None
        )
    except (ValueError, ValidationError):
        raise ReturnInvalid(
            f"an inspection is accept, partial or reject with valid lines, not {outcome!r}"
        ) from None
    refund_lines, refund_amount = inspection_refund(
        record["lines"], int(record["amount"]), decided, accepted_lines, amount, reason
    )
    state, _ = ports.orders.load(tenant, order_id)
    accepted = (
        amount_for_lines(state, _refund_lines(refund_lines)) if refund_lines else refund_amount
    ) or 0
    now = ports.clock.now()
    inspection = {
        "outcome": decided.value,
        "lines": refund_lines,
        "amount": accepted,
        "reason": reason,
        "by": by,
        "at": now.isoformat(),
    }
    earlier = record.get("inspection")
    if earlier is not None:
        if {k: v for k, v in earlier.items() if k not in ("by", "at")} != {
            k: v for k, v in inspection.items() if k not in ("by", "at")
        }:
            raise ReturnRefused(
                f"return {return_id} was inspected already ({earlier['outcome']}) by "
                f"{earlier['by']} at {earlier['at']}"
            )
        inspection = earlier  # the same decision again (a retry): finish what it started
    elif record["status"] != ReturnStatus.RECEIVED:
        raise ReturnRefused(
            f"return {return_id} cannot be inspected: its parcel is not received yet "
            f"({record['status']})"
        )
    else:
        after = (
            ReturnStatus.REJECTED if decided is InspectionOutcome.REJECT else ReturnStatus.INSPECTED
        )
        moved = _advance(
            ports,
            tenant,
            order_id,
            record,
            [ReturnStatus.RECEIVED],
            after,
            now.isoformat(),
            inspection=inspection,
            by=by,
        )
        if moved is None:
            raise ReturnRefused(f"return {return_id} was inspected at the same time by another")
        record = moved
    answer: dict[str, Any] = {"return_id": return_id, "inspection": inspection}
    if decided is not InspectionOutcome.REJECT:
        current = ports.returns.get(tenant, order_id, return_id) or record
        if current["status"] == ReturnStatus.INSPECTED:
            answer["refund"] = _refund(
                ports,
                tenant,
                order_id,
                current,
                refund_lines,
                refund_amount,
                ReturnStatus.INSPECTED,
            )
        else:
            answer["refund"] = current.get("refund")
    _tell_customer_outcome(ports, tenant, state, record, inspection)
    logger.info("return inspected", extra={"order_id": order_id, "return": return_id, "by": by})
    return answer


def _tell_customer_outcome(
    ports: Ports, tenant: str, state: OrderState, record: dict[str, Any], inspection: dict[str, Any]
) -> None:
    settings = ports.tenants.get(tenant)
    if settings is None or state.order is None:
        return
    extra: dict[str, Any] = {
        "return_id": record["return_id"],
        "outcome": inspection["outcome"],
        "reason": inspection.get("reason"),
    }
    if inspection.get("amount") and state.currency:
        extra["refund"] = {"amount": inspection["amount"], "currency": state.currency}
    notify(
        ports,
        "return_inspected",
        state,
        settings,
        customer_of(state),
        extra,
        once_as=f"return_inspected:{record['return_id']}",
    )


def returns_of(ports: Ports, tenant: str, order_id: str) -> list[dict[str, Any]]:
    return sorted(ports.returns.all(tenant, order_id), key=lambda r: r.get("requested_at", ""))


__all__ = [
    "inspect_return",
    "open_return",
    "return_parcels_moved",
    "returns_of",
]
