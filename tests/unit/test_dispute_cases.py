"""A case per dispute (issue 15, item 1): opened by the first dispute event, inquiries apart
from chargebacks, updated by every event once, flagged when the charge is unknown."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.disputes.domain.case import CaseFlag, CaseKind, CaseRefused, CaseState
from functions.disputes.use_cases.cases import (
    DUPLICATE,
    OPENED,
    UPDATED,
    assign_case,
    move_case,
    record_dispute_event,
)
from shared.events import PaymentSucceeded, Source
from shared.money import Money
from shared.order_aggregate import OrderState, apply
from tests.disputes_fakes import DUE_BY, OPENED_AT, dispute_event, ports


def paid_order(amount: int = 4000) -> OrderState:
    state = OrderState(tenant="acme", order_id="o-1")
    return apply(
        state,
        PaymentSucceeded(
            tenant="acme",
            source=Source.STRIPE,
            source_event_id="evt_paid",
            occurred_at=OPENED_AT - timedelta(days=30),
            order_id="o-1",
            payment_id="pi_1",
            charge_id="ch_pi_1",
            amount=Money.of(amount, "EUR"),
            amount_captured=Money.of(amount, "EUR"),
        ),
    )


def test_created_opens_a_case_with_what_stripe_says() -> None:
    p = ports(paid_order())
    assert record_dispute_event(p, dispute_event(), "o-1") == OPENED
    case = p.cases.get("acme", "dp_1")
    assert case is not None
    assert (case.kind, case.state, case.stripe_status) == (
        CaseKind.CHARGEBACK,
        CaseState.NEW,
        "needs_response",
    )
    assert (case.order_id, case.charge_id, case.card_brand, case.network_reason_code) == (
        "o-1",
        "ch_pi_1",
        "visa",
        "10.4",
    )
    assert (case.reason, case.amount, case.currency, case.fee) == ("fraudulent", 2500, "EUR", 1500)
    assert case.evidence_due_by == DUE_BY
    # A partial dispute: 25.00 of the 40.00 the charge took.
    assert (case.charge_amount, case.partial) == (4000, True)
    assert case.flags == []
    assert [e.what for e in case.timeline] == ["opened"]
    assert case.version == 1


def test_the_same_event_many_times_is_one_case_and_one_entry() -> None:
    p = ports(paid_order())
    results = [record_dispute_event(p, dispute_event(), "o-1") for _ in range(5)]
    assert results == [OPENED] + [DUPLICATE] * 4
    case = p.cases.get("acme", "dp_1")
    assert case is not None and len(case.timeline) == 1 and case.applied == ["evt_dp_created"]
    assert p.cases.writes == 1  # type: ignore[attr-defined]


def test_inquiries_are_kept_apart_and_escalation_is_recorded() -> None:
    p = ports(paid_order())
    record_dispute_event(p, dispute_event(status="warning_needs_response", fee=None), "o-1")
    case = p.cases.get("acme", "dp_1")
    assert case is not None and case.kind == CaseKind.INQUIRY
    record_dispute_event(
        p,
        dispute_event(
            "charge.dispute.updated",
            event_id="evt_up",
            status="needs_response",
            at=OPENED_AT + timedelta(days=3),
        ),
        "o-1",
    )
    case = p.cases.get("acme", "dp_1")
    assert case is not None and case.kind == CaseKind.CHARGEBACK
    assert [e.what for e in case.timeline] == ["opened", "updated", "escalated"]


EVENTS = [
    dispute_event(),
    dispute_event(
        "charge.dispute.funds_withdrawn",
        event_id="evt_fw",
        at=OPENED_AT + timedelta(minutes=1),
    ),
    dispute_event(
        "charge.dispute.updated",
        event_id="evt_ur",
        status="under_review",
        at=OPENED_AT + timedelta(days=2),
    ),
    dispute_event(
        "charge.dispute.closed", event_id="evt_won", status="won", at=OPENED_AT + timedelta(days=40)
    ),
    dispute_event(
        "charge.dispute.funds_reinstated",
        event_id="evt_fr",
        status="won",
        at=OPENED_AT + timedelta(days=40, minutes=1),
    ),
]


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(EVENTS))))[::7])
def test_every_event_updates_the_case_in_any_order(order: tuple[int, ...]) -> None:
    p = ports(paid_order())
    for i in order:
        record_dispute_event(p, EVENTS[i], "o-1")
    case = p.cases.get("acme", "dp_1")
    assert case is not None
    assert (case.state, case.stripe_status) == (CaseState.WON, "won")
    assert case.funds_withdrawn and case.funds_reinstated
    assert case.opened_at == OPENED_AT
    assert sorted(case.applied) == sorted(e.source_event_id for e in EVENTS)
    assert len(case.timeline) == len(EVENTS)


def test_a_lost_dispute_we_accepted_stays_accepted() -> None:
    p = ports(paid_order())
    record_dispute_event(p, dispute_event(), "o-1")
    stored = p.cases.get("acme", "dp_1")
    assert stored is not None
    accepted = stored.model_copy(update={"state": CaseState.ACCEPTED, "version": 2})
    assert p.cases.save(accepted, 1)
    record_dispute_event(
        p, dispute_event("charge.dispute.closed", event_id="evt_lost", status="lost"), "o-1"
    )
    case = p.cases.get("acme", "dp_1")
    assert case is not None and (case.state, case.stripe_status) == (CaseState.ACCEPTED, "lost")


def test_a_dispute_on_a_charge_we_never_saw_is_flagged_then_linked() -> None:
    p = ports()
    assert record_dispute_event(p, dispute_event(charge_id="ch_unknown"), None) == OPENED
    case = p.cases.get("acme", "dp_1")
    assert case is not None and case.flags == [CaseFlag.CHARGE_UNKNOWN] and case.order_id is None
    assert (case.amount, case.reason, case.card_brand) == (2500, "fraudulent", "visa")
    # The order's events arrive; the next dispute event finds it.
    assert (
        record_dispute_event(
            p, dispute_event("charge.dispute.updated", event_id="evt_up"), "o-late"
        )
        == UPDATED
    )
    case = p.cases.get("acme", "dp_1")
    assert case is not None and case.flags == [] and case.order_id == "o-late"
    assert [e.what for e in case.timeline] == ["opened", "updated", "linked"]


def test_operators_move_and_assign_and_bad_moves_are_refused() -> None:
    p = ports(paid_order())
    record_dispute_event(p, dispute_event(), "o-1")
    case = assign_case(p, "acme", "dp_1", "sam", by="lee")
    assert case.assignee == "sam"
    case = move_case(p, "acme", "dp_1", "collecting", by="sam")
    assert case.state == CaseState.COLLECTING
    with pytest.raises(CaseRefused, match="cannot be moved to won"):
        move_case(p, "acme", "dp_1", "won", by="sam")
    with pytest.raises(CaseRefused, match="not a case state"):
        move_case(p, "acme", "dp_1", "fighting", by="sam")
    stored = p.cases.get("acme", "dp_1")
    assert stored is not None and stored.state == CaseState.COLLECTING and stored.version == 3
    assert [e.what for e in stored.timeline] == ["opened", "assigned", "moved"]


def test_stripe_dispute_payload_gives_brand_network_code_and_fee() -> None:
    from datetime import UTC, datetime

    from functions.webhooks.domain.normalise import normalise
    from shared.events import DisputeOpened
    from tests.disputes_fakes import stripe_dispute_document

    (event,) = normalise(
        Source.STRIPE,
        "acme",
        stripe_dispute_document(),
        event_id="evt_dp_created",
        received_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
    )
    assert isinstance(event, DisputeOpened)
    assert (event.card_brand, event.network_reason_code) == ("visa", "10.4")
    assert event.fee == Money.of(1500, "EUR")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(range(len(EVENTS))), min_size=1, max_size=12).filter(
        lambda picks: 0 in picks
    )
)
def test_any_order_and_any_repetition_end_in_the_same_case(picks: list[int]) -> None:
    """Stripe sends in any order and redelivers: the case is a function of the distinct events
    it saw, one timeline entry each."""
    p = ports(paid_order())
    for i in picks:
        record_dispute_event(p, EVENTS[i], "o-1")
    once = ports(paid_order())
    for i in sorted(set(picks), key=lambda i: EVENTS[i].occurred_at):
        record_dispute_event(once, EVENTS[i], "o-1")
    case, expected = p.cases.get("acme", "dp_1"), once.cases.get("acme", "dp_1")
    assert case is not None and expected is not None
    same = ("state", "stripe_status", "amount", "fee", "funds_withdrawn", "funds_reinstated")
    assert {k: getattr(case, k) for k in same} == {k: getattr(expected, k) for k in same}
    assert sorted(case.applied) == sorted(expected.applied)
    assert len(case.timeline) == len(set(picks))
