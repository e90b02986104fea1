"""The card network's reference (ARN) and refund-or-reversal reach the order from Stripe's
refund ``destination_details.card``, and merge order-free."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from functions.webhooks.domain.normalise.stripe import _refund
from shared.events import RefundUpdated, Source
from shared.money import Money
from shared.order_aggregate import OrderState, apply


def _stripe_refund(**card: Any) -> dict[str, Any]:
    return {
        "id": "re_1",
        "object": "refund",
        "amount": 2500,
        "currency": "eur",
        "status": "succeeded",
        "created": 1763632800,
        "destination_details": {"type": "card", "card": card},
    }


def test_the_arn_is_taken_when_stripe_has_it() -> None:
    refund = _refund(
        _stripe_refund(
            reference="74987006123456789012345",
            reference_status="available",
            reference_type="acquirer_reference_number",
            type="refund",
        ),
        "EUR",
        "test",
    )
    assert refund.network_reference == "74987006123456789012345"
    assert refund.destination_type == "refund"


def test_a_pending_reference_is_not_an_arn_yet() -> None:
    refund = _refund(_stripe_refund(reference_status="pending", type="pending"), "EUR", "test")
    assert refund.network_reference is None and refund.destination_type == "pending"


def test_a_refund_without_destination_details_has_neither() -> None:
    payload = _stripe_refund()
    del payload["destination_details"]
    refund = _refund(payload, "EUR", "test")
    assert refund.network_reference is None and refund.destination_type is None


def _event(event_id: str, at: datetime, **refund: Any) -> RefundUpdated:
    from shared.events import Refund

    return RefundUpdated(
        tenant="acme",
        source=Source.STRIPE,
        source_event_id=event_id,
        occurred_at=at,
        order_id="o1",
        payment_id="pi_1",
        refund=Refund(refund_id="re_1", amount=Money.of(2500, "EUR"), **refund),
    )


def test_the_reference_survives_any_order_of_events() -> None:
    early = _event(
        "e1", datetime(2026, 11, 1, tzinfo=UTC), status="pending", destination_type="pending"
    )
    late = _event(
        "e2",
        datetime(2026, 11, 3, tzinfo=UTC),
        status="succeeded",
        destination_type="refund",
        network_reference="ARN1",
    )
    for events in ((early, late), (late, early)):
        state = OrderState(tenant="acme", order_id="o1")
        for event in events:
            state = apply(state, event)
        facts = state.payments["pi_1"].refunds["re_1"]
        assert facts.network_reference is not None and facts.network_reference.value == "ARN1"
        assert facts.destination_type is not None and facts.destination_type.value == "refund"
