"""Opening and updating a case from every dispute event the processor applies, and what
operators do to a case by hand (move it, assign it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functions.disputes.domain.case import (
    CaseRefused,
    CaseState,
    DisputeCase,
    apply_dispute_event,
    assign,
    move,
)
from functions.disputes.errors import CaseNotFound
from functions.disputes.ports import Ports
from shared.order_aggregate import OrderState

__all__ = ["CaseNotFound", "CaseRefused"]

MAX_ATTEMPTS = 8

OPENED = "opened"
UPDATED = "updated"
DUPLICATE = "duplicate"


class ConcurrentCaseUpdates(RuntimeError):
    """The case kept changing under us: retried by the processor's stream."""


def charge_amount(state: OrderState | None, charge_id: str) -> int | None:
    """What the disputed charge took, from the order's payments (partial disputes)."""
    if state is None:
        return None
    for payment in state.payments.values():
        if charge_id in payment.charge_ids:
            return payment.settled_amount or None
    return None


def record_dispute_event(ports: Ports, event: Any, order_id: str | None) -> str:
    """Open or update the dispute's case: ``opened``, ``updated`` or ``duplicate`` (the event
    was applied to the case already). One conditional write per change."""
    state = ports.orders.load(event.tenant, order_id) if order_id else None
    amount = charge_amount(state, event.charge_id)
    for _ in range(MAX_ATTEMPTS):
        case = ports.cases.get(event.tenant, event.dispute_id)
        version = case.version if case else 0
        changed = apply_dispute_event(case, event, order_id, amount)
        if changed is None:
            return DUPLICATE
        changed.version = version + 1
        if ports.cases.save(changed, version):
            return OPENED if case is None else UPDATED
    raise ConcurrentCaseUpdates(
        f"case {event.dispute_id} changed {MAX_ATTEMPTS} times while applying "
        f"{event.source_event_id}"
    )


def change_case(
    ports: Ports,
    tenant: str,
    dispute_id: str,
    change: Callable[[DisputeCase], DisputeCase],
) -> DisputeCase:
    """Apply an operator's ``change`` to the case with one conditional write, retried on a
    concurrent change; ``CaseRefused`` from ``change`` leaves the case as it was."""
    for _ in range(MAX_ATTEMPTS):
        case = ports.cases.get(tenant, dispute_id)
        if case is None:
            raise CaseNotFound(tenant, dispute_id)
        changed = change(case)
        changed.version = case.version + 1
        if ports.cases.save(changed, case.version):
            return changed
    raise ConcurrentCaseUpdates(f"case {dispute_id} changed {MAX_ATTEMPTS} times")


def move_case(ports: Ports, tenant: str, dispute_id: str, to: str, by: str) -> DisputeCase:
    try:
        target = CaseState(to)
    except ValueError:
        raise CaseRefused(dispute_id, [f"{to!r} is not a case state"]) from None
    now = ports.clock.now()
    return change_case(ports, tenant, dispute_id, lambda case: move(case, target, by, now))


def assign_case(
    ports: Ports, tenant: str, dispute_id: str, assignee: str | None, by: str
) -> DisputeCase:
    now = ports.clock.now()
    return change_case(ports, tenant, dispute_id, lambda case: assign(case, assignee, by, now))


def disputes_with_case(ports: Ports, tenant: str, dispute_ids: list[str]) -> set[str]:
    return ports.cases.having_case(tenant, dispute_ids)
