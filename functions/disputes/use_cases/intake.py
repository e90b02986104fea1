"""What the processor's dispute events do at the desk: the case recorded, its evidence
drafted."""

from __future__ import annotations

from typing import Any

from functions.disputes.domain.case import TimelineEntry
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
