"""Automatic capture confirms an order only once it is paid (issue 13, item 7): the payment
wait, over fakes of the orders ports."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.orders import contracts as c
from functions.orders.domain import is_paid, waits_for
from functions.orders.use_cases import changes, lifecycle
from shared.events import OrderPlaced, PaymentAuthorized, PaymentFailed, Source
from shared.money import Money
from shared.order_aggregate import CancelReason
from tests.clocks import FixedClock
from tests.orders_fakes import FakePorts, FakeTenants
from tests.unit.test_orders_use_cases import ACME, T0, fake, paid, placed, step

__all__ = ["fake"]  # the fixture, shared with the use cases' tests


def wait_for_payment(fake: FakePorts, token: str = "tok") -> dict[str, Any]:
    return lifecycle.wait(
        fake.ports(),
        step(c.WaitInput, c.LifecycleAction.WAIT, wait=c.WaitKind.PAYMENT, task_token=token),
    )


def gateway(kind: type[Any], amount: int = 5000) -> Any:
    """A payment event other than success (authorised, failed) for o-1."""
    return kind(
        tenant="acme",
        source=Source.STRIPE,
        source_event_id=f"evt-{kind.__name__}",
        occurred_at=T0,
        order_id="o-1",
        payment_id="pi_1",
        amount=Money.of(amount, "EUR"),
    )


def test_an_unpaid_order_waits_for_its_payment(fake: FakePorts) -> None:
    fake.orders.add(placed())
    assert wait_for_payment(fake) == {"waiting": "payment"}
    assert fake.records.waits[("acme", "o-1", "payment")] == "tok"
    assert fake.records.stage("acme", "o-1") == c.Stage.AWAITING_PAYMENT
    assert fake.workflows.resumed == []


def test_a_payment_that_arrived_first_resumes_the_wait_at_once(fake: FakePorts) -> None:
    fake.orders.add(paid(), placed())
    wait_for_payment(fake)
    assert fake.workflows.resumed == [("tok", {"outcome": "paid", "shipment": None})]
    assert ("acme", "o-1", "payment") not in fake.records.waits


def test_the_processor_resumes_the_wait_when_the_payment_succeeds(fake: FakePorts) -> None:
    fake.orders.add(placed())
    wait_for_payment(fake)
    event = paid()
    fake.orders.add(event)
    changes.order_changed(fake.ports(), event, "o-1", "applied")
    assert fake.workflows.resumed == [("tok", {"outcome": "paid", "shipment": None})]
    # The order is open: its money stays.
    assert fake.workflows.started == {} and fake.payments.of("void") == []


@pytest.mark.parametrize(
    "events",
    [
        pytest.param([gateway(PaymentAuthorized)], id="authorised only"),
        pytest.param([paid(amount=4000)], id="underpaid"),
        pytest.param([gateway(PaymentFailed)], id="failed"),
    ],
)
def test_what_does_not_pay_the_order_keeps_it_waiting(fake: FakePorts, events: list[Any]) -> None:
    fake.orders.add(placed(), *events)
    wait_for_payment(fake)
    for event in events:
        changes.order_changed(fake.ports(), event, "o-1", "applied")
    assert fake.workflows.resumed == []


def test_a_payment_in_another_currency_does_not_pay_the_order(fake: FakePorts) -> None:
    foreign = paid().model_copy(update={"amount": Money.of(5000, "USD")})
    assert not is_paid(fake.orders.add(placed(), foreign))
    assert is_paid(fake.orders.add(paid("pi_2")))


def test_an_order_never_paid_is_cancelled_as_unpaid_and_told_so(fake: FakePorts) -> None:
    fake.orders.add(placed())
    result = lifecycle.cancel(
        fake.ports(),
        step(c.CancelInput, c.LifecycleAction.CANCEL, reason=CancelReason.PAYMENT_NOT_RECEIVED),
    )
    assert (result["refund_due"], result["refunds"], result["voided"]) == (0, [], 0)
    assert fake.records.stages[("acme", "o-1")] == ("cancelled", "payment_not_received")
    assert fake.screening.fraud_decisions == []  # not paying is not fraud
    (mail,) = fake.mailer.sent
    assert "did not receive the payment" in mail.text


def test_the_payment_timeout_is_the_tenants_setting_on_the_deployments_scale() -> None:
    assert ACME.payment_timeout_hours == 24  # the documented default
    assert waits_for(ACME, 86_400).payment_s == 24 * 3600
    assert waits_for(ACME.model_copy(update={"payment_timeout_hours": 36}), 2).payment_s == 3


def test_a_payment_after_the_unpaid_cancellation_is_given_back(fake: FakePorts) -> None:
    fake.orders.add(placed())
    lifecycle.cancel(
        fake.ports(),
        step(c.CancelInput, c.LifecycleAction.CANCEL, reason=CancelReason.PAYMENT_NOT_RECEIVED),
    )
    late_authorisation = gateway(PaymentAuthorized)
    fake.orders.add(late_authorisation)
    changes.order_changed(fake.ports(), late_authorisation, "o-1", "applied")
    assert [v["payment_id"] for v in fake.payments.of("void")] == ["pi_1"]
    late = paid("pi_2")
    fake.orders.add(late)
    for _ in range(2):  # the same event again starts nothing new
        changes.order_changed(fake.ports(), late, "o-1", "applied")
    (identity,) = [identity for _, identity in fake.workflows.started]
    assert identity == ("acme", "o-1", "refund", "cancellation-pi_2")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    amounts=st.lists(st.integers(min_value=500, max_value=3000), min_size=0, max_size=3),
    order=st.randoms(use_true_random=False),
    wait_at=st.integers(min_value=0, max_value=4),
)
def test_the_wait_ends_once_exactly_when_the_order_is_paid_whatever_came_first(
    amounts: list[int], order: Any, wait_at: int
) -> None:
    """The order, its payments and the wait's start in any order: the wait is resumed once if
    the payments cover the total (5000), never otherwise."""
    fake = FakePorts(clock=FixedClock(T0), tenants=FakeTenants(ACME))
    events = [placed(), *(paid(f"pi_{i}", amount) for i, amount in enumerate(amounts))]
    order.shuffle(events)
    # The lifecycle waits only after screening, so after the order arrived.
    placed_at = next(i for i, e in enumerate(events) if isinstance(e, OrderPlaced))
    wait_at = min(max(wait_at, placed_at + 1), len(events))
    for index, event in enumerate([*events, None]):
        if index == wait_at:
            wait_for_payment(fake)
        if event is not None:
            fake.orders.add(event)
            changes.order_changed(fake.ports(), event, "o-1", "applied")
    resumed = [token for token, _ in fake.workflows.resumed if token == "tok"]
    assert resumed == (["tok"] if sum(amounts) >= 5000 else [])
