"""Applying domain events to order aggregates, exactly once in effect, in any arrival order.

An event that names its order (shop events, payments with ``metadata.order_id``, carriers with
an order reference) goes straight to it. One that names only a gateway or carrier reference
(a refund by charge, a dispute) finds the order through the reference a previous event linked;
if no event has linked it yet, it is parked under the reference and applied as soon as one does.
Both sides write before they look, so a park racing a link is always seen by one of them.
"""

from __future__ import annotations

from typing import Any

from functions.webhooks.domain.applying import MAX_ATTEMPTS, ConcurrentUpdates, Result, summary
from functions.webhooks.ports import OrderRepository
from shared.order_aggregate import TimelineEntry, apply, references

__all__ = ["ConcurrentUpdates", "Result", "apply_to_order", "route", "route_to_order"]


def timeline_entry(event: Any) -> TimelineEntry:
    return TimelineEntry(
        occurred_at=event.occurred_at,
        source=str(event.source),
        event_id=event.source_event_id,
        kind=event.kind,
        summary=summary(event),
    )


def apply_to_order(
    event: Any, order_id: str, repo: OrderRepository, _draining: frozenset[str] = frozenset()
) -> Result:
    entry = timeline_entry(event)
    for _ in range(MAX_ATTEMPTS):
        state, version = repo.load_for_update(event.tenant, order_id)
        outcome = repo.commit(apply(state, event), version, entry)
        if outcome != "conflict":
            break
    else:
        raise ConcurrentUpdates(
            f"order {order_id} changed {MAX_ATTEMPTS} times while applying {event.source_event_id}"
        )
    # Linking and draining run for duplicates too: a first pass that stopped after its commit
    # must still release what waits on its references.
    _link_and_drain(
        event,
        order_id,
        repo,
        _draining | {event.source_event_id},
        redelivered=outcome == "duplicate",
    )
    return outcome


def _link_and_drain(
    event: Any,
    order_id: str,
    repo: OrderRepository,
    draining: frozenset[str],
    redelivered: bool,
) -> None:
    from functions.webhooks.domain.event_json import event_from_json

    for ref in references(event):
        owner, linked_now = repo.link(event.tenant, ref, order_id)
        if owner != order_id:
            # The reference belongs to another order (a reused payment, a re-shipped parcel):
            # its parked events stay with the first owner.
            continue
        # Anything parked before the link was written is drained by whoever wrote it (parkers
        # look again after parking, so later ones find the link themselves). A redelivered
        # event drains too, in case its first pass stopped between linking and draining.
        if not (linked_now or redelivered):
            continue
        for event_id, parked in repo.parked(event.tenant, ref):
            if event_id not in draining:
                apply_to_order(event_from_json(parked), order_id, repo, draining)
            repo.unpark(event.tenant, ref, event_id)


def route(event: Any, repo: OrderRepository) -> Result:
    return route_to_order(event, repo)[0]


def route_to_order(event: Any, repo: OrderRepository) -> tuple[Result, str | None]:
    """Apply or park ``event``; returns what happened and the order it went to (if any)."""
    order_id = getattr(event, "order_id", None)
    if order_id:
        return apply_to_order(event, order_id, repo), order_id
    refs = references(event)
    for ref in refs:
        found = repo.resolve(event.tenant, ref)
        if found:
            return apply_to_order(event, found, repo), found
    if not refs:
        raise ValueError(
            f"{event.kind} {event.source_event_id} names neither an order nor a reference"
        )
    # Parked under every reference it carries: whichever is linked first drains it (the others
    # then find it applied and just clear it).
    document = event.model_dump(mode="json")
    for ref in refs:
        repo.park(event.tenant, ref, event.source_event_id, document)
    # Look again after parking: a link written meanwhile would otherwise miss this event.
    for ref in refs:
        found = repo.resolve(event.tenant, ref)
        if found:
            apply_to_order(event, found, repo)
            for parked_ref in refs:
                repo.unpark(event.tenant, parked_ref, event.source_event_id)
            return "applied", found
    return "parked", None
