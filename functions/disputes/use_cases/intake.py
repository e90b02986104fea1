"""What the processor's dispute events do at the desk: the case recorded, its evidence
drafted."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from functions.disputes.domain.case import DisputeCase, TimelineEntry, link
from functions.disputes.domain.evidence import EvidenceRefused
from functions.disputes.ports import Ports
from functions.disputes.use_cases.cases import (
    DUPLICATE,
    OPENED,
    change_case,
    record_dispute_event,
)
from functions.disputes.use_cases.deadlines import alert_opened
from functions.disputes.use_cases.evidence import draft_evidence


def dispute_event_taken(ports: Ports, event: Any, order_id: str | None) -> str:
    """What the processor calls: the case recorded, then its first evidence draft (also when
    a retry finds the case open and not drafted, or newly linked to its order). A draft that
    cannot be made is said on the case's timeline; it never fails the event."""
    result = record_dispute_event(ports, event, order_id)
    case = ports.cases.get(event.tenant, event.dispute_id)
    if case is None or not case.is_open:
        return result
    drafted_order = case.evidence.get("order_id") if case.evidence else None
    if not case.evidence or drafted_order != case.order_id:
        _draft(ports, event)
    if result in (OPENED, DUPLICATE):
        # A redelivery may follow a pass that stopped before the alert: the alert log sends
        # each case's alert once.
        opened = ports.cases.get(event.tenant, event.dispute_id)
        if opened is not None:
            alert_opened(ports, opened)
    return result


def _draft(ports: Ports, event: Any) -> None:
    try:
        draft_evidence(ports, event.tenant, event.dispute_id)
    except EvidenceRefused as refused:
        now, why = ports.clock.now(), str(refused)
        change_case(
            ports,
            event.tenant,
            event.dispute_id,
            lambda c: c.with_entry(
                TimelineEntry(at=now, what="evidence not drafted", detail=why, by="desk")
            ),
        )


def link_unknown_charges(ports: Ports) -> list[str]:
    """Cases opened on a charge no event had named yet: once the payment's events have linked
    the charge to its order (the parked dispute events are then applied to the order), the
    case learns its order and its evidence is drafted from it. From the hourly tick."""
    linked = []
    for tenant in ports.directory.all():
        for case in ports.cases.cases(tenant.id, "open"):
            if not case.charge_unknown:
                continue
            order_id = ports.orders.resolve(tenant.id, f"charge:{case.charge_id}")
            if order_id is None and case.payment_id:
                order_id = ports.orders.resolve(tenant.id, f"payment:{case.payment_id}")
            if order_id is None:
                continue
            change_case(ports, tenant.id, case.dispute_id, _linker(order_id, ports.clock.now()))
            # A draft over Stripe's limits is said on the case when its next event tries again.
            with contextlib.suppress(EvidenceRefused):
                draft_evidence(ports, tenant.id, case.dispute_id)
            linked.append(case.dispute_id)
    return linked


def _linker(order_id: str, at: datetime) -> Callable[[DisputeCase], DisputeCase]:
    return lambda case: link(case, order_id, at)
