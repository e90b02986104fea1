"""The Stripe sandbox for the chargeback desk's component tests: started at a fixed time,
its events processed with the desk, and a paid order to dispute."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe

from functions.disputes.composition import dispute_desk
from local.sandboxes.stripe_sandbox import StripeSandbox
from tests.component import orders
from tests.component.conftest import TABLE

START = datetime(2026, 11, 20, 9, tzinfo=UTC)


@pytest.fixture(name="sandbox")
def stripe_sandbox(
    monkeypatch: pytest.MonkeyPatch, aws_env: dict[str, Any]
) -> Iterator[StripeSandbox]:
    box = StripeSandbox(seed=11)
    box.set_time(START.timestamp())
    box.start()
    assert box.base_url is not None
    monkeypatch.setenv("STRIPE_API_BASE", box.base_url)
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.01)
    try:
        yield box
    finally:
        box.stop()


def deliver(events: list[dict[str, Any]]) -> list[str]:
    """Stripe events through the processor, with the desk."""
    return [
        orders.process_stripe(e, START, disputes=lambda store: dispute_desk(TABLE, store))
        for e in events
    ]


def pay(box: StripeSandbox, order_id: str, amount: int = 8000) -> Any:
    """The order paid by card at the sandbox, its events processed."""
    client = stripe.StripeClient("sk_test_x", base_addresses={"api": box.base_url})
    pi = client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "eur",
            "confirm": True,
            "payment_method": "pm_card_visa",
            "metadata": {"order_id": order_id},
        }
    )
    deliver(box.drain_events())
    return pi
