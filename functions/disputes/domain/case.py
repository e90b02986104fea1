"""A case per dispute: what Stripe says of it, where our answer stands, and what happened.

One case per Stripe dispute id, opened by the first of its events we process (normally
``charge.dispute.created``) and changed by every later one. Inquiries (Stripe's ``warning_*``
statuses: the issuer asks before it charges back) are kept apart from chargebacks: a case is an
``inquiry`` until Stripe reports a status of a chargeback, and its timeline says when it was
escalated.

Our answer's state runs new → collecting → ready → submitted, and ends won, lost or accepted.
Operators move the first steps (``move``); Stripe's outcome ends it; a case we accepted stays
accepted when Stripe then reports it lost (that is what accepting means at Stripe).

Every change is a new case with the event's id in ``applied`` and one timeline entry; an event
already applied changes nothing, so the same event delivered many times gives one case and one
entry. Stripe's status is kept by (rank, time), so events arriving out of order end the same.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from functions.disputes.errors import CaseRefused
from shared.events import (
    DisputeClosed,
    DisputeFundsReinstated,
    DisputeFundsWithdrawn,
    DisputeOpened,
    DisputeUpdated,
)
from shared.money import Money
from shared.order_aggregate import DISPUTE_RANK

__all__ = ["CaseRefused"]

DisputeEvent = (
    DisputeOpened | DisputeUpdated | DisputeClosed | DisputeFundsWithdrawn | DisputeFundsReinstated
)
DISPUTE_EVENTS = (
    DisputeOpened,
    DisputeUpdated,
    DisputeClosed,
    DisputeFundsWithdrawn,
    DisputeFundsReinstated,
)


class CaseKind(StrEnum):
    INQUIRY = "inquiry"
    CHARGEBACK = "chargeback"


class CaseState(StrEnum):
    NEW = "new"
    COLLECTING = "collecting"
    READY = "ready"
    SUBMITTED = "submitted"
    WON = "won"
    LOST = "lost"
    ACCEPTED = "accepted"


OPEN_STATES = frozenset({CaseState.NEW, CaseState.COLLECTING, CaseState.READY, CaseState.SUBMITTED})
# Where an operator may move a case by hand; submitting and accepting have their own use cases
# (they talk to Stripe first).
OPERATOR_MOVES: dict[CaseState, frozenset[CaseState]] = {
    CaseState.NEW: frozenset({CaseState.COLLECTING, CaseState.READY}),
    CaseState.COLLECTING: frozenset({CaseState.READY}),
    CaseState.READY: frozenset({CaseState.COLLECTING}),
}


class CaseFlag(StrEnum):
    # A dispute on a charge no event of ours named yet: the case holds what Stripe says only.
    CHARGE_UNKNOWN = "charge_unknown"
    # Stripe refused our submission (after the deadline, most often): see ``refusal``.
    SUBMISSION_REFUSED = "submission_refused"


# Stripe's statuses that end a case, and how.
_OUTCOMES = {
    "won": CaseState.WON,
    "lost": CaseState.LOST,
    # An inquiry closed without a chargeback: nothing was taken.
    "warning_closed": CaseState.WON,
    # The charge was refunded while the inquiry was open: the customer has the money back.
    "charge_refunded": CaseState.ACCEPTED,
}
# Statuses saying Stripe holds evidence already (submitted from the dashboard, say).
_UNDER_REVIEW = frozenset({"under_review", "warning_under_review"})

_WHAT = {
    "DisputeOpened": "opened",
    "DisputeUpdated": "updated",
    "DisputeClosed": "closed",
    "DisputeFundsWithdrawn": "funds withdrawn",
    "DisputeFundsReinstated": "funds reinstated",
}


class TimelineEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at: datetime
    what: str
    detail: str = ""
    event_id: str | None = None
    by: str = Field(default="stripe", description="stripe, or the operator who acted")


class DisputeCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant: str
    dispute_id: str
    charge_id: str
    payment_id: str | None = None
    order_id: str | None = None
    kind: CaseKind
    state: CaseState = CaseState.NEW
    stripe_status: str
    status_rank: int = 0
    status_at: datetime
    reason: str | None = None
    network_reason_code: str | None = None
    card_brand: str | None = None
    amount: int
    currency: str
    charge_amount: int | None = Field(
        default=None, description="what the charge took, when we know it (partial disputes)"
    )
    fee: int = 0
    evidence_due_by: datetime | None = None
    opened_at: datetime
    funds_withdrawn: bool = False
    funds_reinstated: bool = False
    assignee: str | None = None
    flags: list[CaseFlag] = Field(default_factory=list)
    refusal: str | None = None
    applied: list[str] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    # The evidence draft (Stripe's field names) and the fields an operator wrote by hand, which
    # a new draft from our records does not overwrite.
    evidence: dict[str, Any] = Field(default_factory=dict)
    edited_fields: list[str] = Field(default_factory=list)
    submitted_at: datetime | None = None
    closed_at: datetime | None = None
    # Deadline reminders already sent (days before due_by), and the notices that went out.
    reminders_sent: list[int] = Field(default_factory=list)
    version: int = 0

    # -- reading -------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def money(self) -> Money:
        return Money.of(self.amount, self.currency)

    @property
    def fee_money(self) -> Money:
        return Money.of(self.fee, self.currency)

    @property
    def partial(self) -> bool:
        """The customer disputes less than the charge took."""
        return self.charge_amount is not None and self.amount < self.charge_amount

    @property
    def charge_unknown(self) -> bool:
        return CaseFlag.CHARGE_UNKNOWN in self.flags

    def with_entry(self, entry: TimelineEntry) -> "DisputeCase":
        return self.model_copy(update={"timeline": [*self.timeline, entry]}, deep=True)


def kind_of(status: str) -> CaseKind:
    return CaseKind.INQUIRY if status.startswith("warning_") else CaseKind.CHARGEBACK


def _detail(event: Any) -> str:
    parts = [event.status, Money.of(event.amount.amount, event.amount.currency).format()]
    if event.reason:
        parts.append(f"reason {event.reason}")
    if event.network_reason_code:
        parts.append(f"network code {event.network_reason_code}")
    if event.evidence_due_by is not None:
        parts.append(f"evidence due {event.evidence_due_by.isoformat()}")
    return ", ".join(parts)


def open_case(event: Any, order_id: str | None, charge_amount: int | None = None) -> DisputeCase:
    """The case a dispute's first event (whichever arrives first) opens."""
    case = DisputeCase(
        tenant=event.tenant,
        dispute_id=event.dispute_id,
        charge_id=event.charge_id,
        payment_id=event.payment_id,
        order_id=order_id,
        kind=kind_of(event.status),
        stripe_status=event.status,
        status_rank=DISPUTE_RANK.get(event.status, 0),
        status_at=event.occurred_at,
        reason=event.reason,
        network_reason_code=event.network_reason_code,
        card_brand=event.card_brand,
        amount=event.amount.amount,
        currency=event.amount.currency,
        charge_amount=charge_amount,
        fee=event.fee.amount if event.fee else 0,
        evidence_due_by=event.evidence_due_by,
        opened_at=event.occurred_at,
        flags=[] if order_id else [CaseFlag.CHARGE_UNKNOWN],
    )
    return _merge(case, event, order_id, charge_amount, first=True)


def apply_dispute_event(
    case: DisputeCase | None,
    event: Any,
    order_id: str | None,
    charge_amount: int | None = None,
) -> DisputeCase | None:
    """The case after ``event``; None when the event was applied to it already."""
    if case is None:
        return open_case(event, order_id, charge_amount)
    if event.source_event_id in case.applied:
        return None
    return _merge(case.model_copy(deep=True), event, order_id, charge_amount, first=False)


def _merge(
    case: DisputeCase,
    event: Any,
    order_id: str | None,
    charge_amount: int | None,
    *,
    first: bool,
) -> DisputeCase:
    entries: list[TimelineEntry] = []
    kind = _WHAT.get(event.kind, event.kind)
    if not first:
        rank = DISPUTE_RANK.get(event.status, 0)
        if (rank, event.occurred_at) >= (case.status_rank, case.status_at):
            case.stripe_status, case.status_rank, case.status_at = (
                event.status,
                rank,
                event.occurred_at,
            )
        case.amount = max(case.amount, event.amount.amount)
        case.reason = case.reason or event.reason
        case.network_reason_code = case.network_reason_code or event.network_reason_code
        case.card_brand = case.card_brand or event.card_brand
        case.payment_id = case.payment_id or event.payment_id
        if event.fee is not None:
            case.fee = max(case.fee, event.fee.amount)
        if event.evidence_due_by is not None:
            case.evidence_due_by = max(
                case.evidence_due_by or event.evidence_due_by, event.evidence_due_by
            )
        if isinstance(event, DisputeOpened):
            case.opened_at = min(case.opened_at, event.occurred_at)
        if case.kind == CaseKind.INQUIRY and kind_of(event.status) == CaseKind.CHARGEBACK:
            case.kind = CaseKind.CHARGEBACK
            entries.append(
                TimelineEntry(
                    at=event.occurred_at,
                    what="escalated",
                    detail="the inquiry became a chargeback",
                    event_id=event.source_event_id,
                )
            )
        if order_id and case.order_id is None:
            case.order_id = order_id
            case.flags = [f for f in case.flags if f != CaseFlag.CHARGE_UNKNOWN]
            entries.append(
                TimelineEntry(
                    at=event.occurred_at,
                    what="linked",
                    detail=f"the charge is order {order_id}'s",
                    event_id=event.source_event_id,
                )
            )
    if charge_amount is not None:
        case.charge_amount = charge_amount
    case.funds_withdrawn |= isinstance(event, DisputeFundsWithdrawn)
    case.funds_reinstated |= isinstance(event, DisputeFundsReinstated)
    _follow_stripe(case, event)
    entries.insert(
        0,
        TimelineEntry(
            at=event.occurred_at,
            what=kind,
            detail=_detail(event),
            event_id=event.source_event_id,
        ),
    )
    case.applied = [*case.applied, event.source_event_id]
    case.timeline = [*case.timeline, *entries]
    return case


def _follow_stripe(case: DisputeCase, event: Any) -> None:
    """Our state where Stripe's status decides it."""
    outcome = _OUTCOMES.get(case.stripe_status)
    if outcome is not None:
        if case.state == CaseState.ACCEPTED and outcome == CaseState.LOST:
            return  # accepting is losing on purpose: the case says we chose it
        if case.state != outcome:
            case.state = outcome
            case.closed_at = case.closed_at or event.occurred_at
        return
    if case.stripe_status in _UNDER_REVIEW and case.state in (
        CaseState.NEW,
        CaseState.COLLECTING,
        CaseState.READY,
    ):
        case.state = CaseState.SUBMITTED
        case.submitted_at = case.submitted_at or event.occurred_at


def move(case: DisputeCase, to: CaseState, by: str, at: datetime) -> DisputeCase:
    """An operator's move along new → collecting → ready (and back to collecting)."""
    allowed = OPERATOR_MOVES.get(case.state, frozenset())
    if to not in allowed:
        raise CaseRefused(
            case.dispute_id,
            [
                f"a {case.state.value} case cannot be moved to {to.value} by hand"
                + (f" (allowed: {', '.join(sorted(s.value for s in allowed))})" if allowed else "")
            ],
        )
    moved = case.model_copy(update={"state": to}, deep=True)
    return moved.with_entry(
        TimelineEntry(at=at, what="moved", detail=f"{case.state.value} → {to.value}", by=by)
    )


def assign(case: DisputeCase, assignee: str | None, by: str, at: datetime) -> DisputeCase:
    assigned = case.model_copy(update={"assignee": assignee}, deep=True)
    return assigned.with_entry(
        TimelineEntry(
            at=at,
            what="assigned",
            detail=f"to {assignee}" if assignee else "unassigned",
            by=by,
        )
    )


def link(case: DisputeCase, order_id: str, at: datetime) -> DisputeCase:
    """The order of a charge the case was opened without, found after the payment's events."""
    if case.order_id is not None:
        return case.model_copy(deep=True)
    linked = case.model_copy(
        update={
            "order_id": order_id,
            "flags": [f for f in case.flags if f != CaseFlag.CHARGE_UNKNOWN],
        },
        deep=True,
    )
    return linked.with_entry(
        TimelineEntry(at=at, what="linked", detail=f"the charge is order {order_id}'s", by="desk")
    )
