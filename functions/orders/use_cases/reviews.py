"""What happens while an order waits for its review, besides the decision itself.

The lifecycle holds a review in stretches: before each, ``checkpoint`` does what has come due
(the call task for the client team, the authorisation window's alert) and answers how long the
next stretch lasts, or that the review's time is up. Each point is done once per review
(``LifecycleRecords`` keeps them), so a retried step repeats nothing. Operators then record
what came of the call (``record_call_outcome``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from functions.orders import contracts as c
from functions.orders.domain import (
    CallOutcome,
    OperationRefused,
    authorised_at,
    lifecycle_hours,
    phone_of,
    real_seconds,
    review_schedule,
)
from functions.orders.ports import Ports
from functions.orders.use_cases.lifecycle import load
from shared.clock import decided_at
from shared.keys import digest
from shared.order_aggregate import OrderState, TimelineEntry
from shared.tenants import TenantSettings

# The notice kinds (shared.notices.orders) load in the step that raises one: most raise none.


def checkpoint(ports: Ports, step: c.ReviewCheckpointInput) -> c.ReviewPlan:
    state, tenant = load(ports, step.tenant, step.order_id)
    now = ports.clock.now()
    held_at = ports.records.start_review(tenant.id, state.order_id, now)
    schedule = review_schedule(tenant, held_at, authorised_at(state))
    per_day = ports.seconds_per_day
    elapsed = lifecycle_hours((now - held_at).total_seconds(), per_day)

    def at(hours: float) -> datetime:
        # Negative for an authorisation that lapsed before the hold began.
        return held_at + timedelta(seconds=hours * per_day / 24)

    due = schedule.due(elapsed)
    if "call" in due:
        _open_call_task(ports, state, tenant, call_by=at(schedule.ends_h))
    if "window_alert" in due and schedule.window_ends_h is not None:
        _alert_window(ports, state, tenant, now, at(schedule.window_ends_h), at(schedule.ends_h))
    # Less than a real second left: the hold would time out at once, so the review is over.
    if (schedule.ends_h - elapsed) * per_day / 24 < 1:
        return c.ReviewPlan(expired=True, next_s=1)
    return c.ReviewPlan(
        expired=False, next_s=real_seconds(schedule.next_h(elapsed) - elapsed, per_day)
    )


def _open_call_task(
    ports: Ports, state: OrderState, tenant: TenantSettings, call_by: datetime
) -> None:
    order = state.order
    assert order is not None
    screening = ports.records.screening(tenant.id, state.order_id) or {}
    task = {
        "phone": phone_of(state),
        "customer_name": order.customer.name,
        "customer_email": order.customer.email,
        "reasons": list(screening.get("reasons") or []),
        "score": screening.get("score"),
        "order_url": ports.review_links.order_url(tenant.id, state.order_id),
        "call_by": call_by.isoformat(),
        "opened_at": ports.clock.now().isoformat(),
    }
    if not ports.records.open_call_task(tenant.id, state.order_id, task):
        return  # a retried step: the task and its notice exist already
    from shared.notices.orders import CallCustomer

    ports.alerts.send(
        CallCustomer(
            tenant=tenant.id,
            order_id=state.order_id,
            call_by=call_by.isoformat(),
            phone=phone_of(state),
            customer_name=order.customer.name,
            reasons=tuple(screening.get("reasons") or ()),
            score=screening.get("score"),
        )
    )


def _alert_window(
    ports: Ports,
    state: OrderState,
    tenant: TenantSettings,
    now: datetime,
    window_ends: datetime,
    review_ends: datetime,
) -> None:
    if not ports.records.mark_window_alerted(tenant.id, state.order_id, now):
        return
    from shared.notices.orders import AuthorisationEnding

    ports.alerts.send(
        AuthorisationEnding(
            tenant=tenant.id,
            order_id=state.order_id,
            authorisation_ends_at=window_ends.isoformat(),
            review_ends_at=review_ends.isoformat(),
        )
    )


def record_call_outcome(
    ports: Ports, tenant_id: str, order_id: str, outcome: str, note: str, by: str
) -> dict[str, Any]:
    """An operator's call to a held order's customer: kept with the review and shown on the
    order's timeline. A customer who says they did not order is a reason to reject (the
    operator decides)."""
    try:
        kind = CallOutcome(outcome)
    except ValueError:
        known = ", ".join(o.value for o in CallOutcome)
        raise OperationRefused(f"outcome {outcome!r} is not one of {known}") from None
    state, version = ports.orders.load(tenant_id, order_id)
    if version == 0 or state.order is None:
        raise OperationRefused(f"order {order_id!r} is not known")
    if ports.records.review(tenant_id, order_id) is None:
        raise OperationRefused(f"order {order_id!r} was never held for review: no call to record")
    at = decided_at(ports.clock, state.order.occurred_at)
    record = {"outcome": kind.value, "note": note, "by": by, "at": at.isoformat()}
    ports.records.add_call_outcome(tenant_id, order_id, record)
    summary = f"customer called by {by}: {kind.value}" + (f" ({note})" if note else "")
    ports.orders.note(
        tenant_id,
        order_id,
        TimelineEntry(
            occurred_at=at,
            source="operator",
            event_id=f"call-{digest(f'{by}|{at.isoformat()}|{kind.value}|{note}')}",
            kind="CallOutcome",
            summary=summary,
        ),
    )
    still_held = ports.records.stage(tenant_id, order_id) == c.Stage.POTENTIAL_FRAUD
    advice = None
    if kind is CallOutcome.REACHED_DECLINED and still_held:
        advice = "the customer does not recognise the order: reject the review"
    return {"order_id": order_id, **record, "review_open": still_held, "advice": advice}


__all__ = ["checkpoint", "record_call_outcome"]
