"""The lifecycle's leaner definition (issue 17): screening and the payment wait in one state,
and the delivery wait answered by success only when every parcel is delivered, by the task
failure ``DeliveryProblem`` otherwise. Tokens parked by the definitions before are answered as
they always were (a Standard execution finishes on the definition it started with)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from functions.orders import contracts as c
from functions.orders.domain import wait_outcome
from functions.orders.handlers.lifecycle import STEPS
from functions.orders.use_cases import changes, lifecycle
from shared.notices.orders import OrderNotDelivered
from tests.clocks import FixedClock
from tests.orders_fakes import FakePorts, FakeTenants
from tests.unit.test_orders_use_cases import ACME, T0, paid, placed, shipment, step


@pytest.fixture
def fake() -> FakePorts:
    return FakePorts(clock=FixedClock(T0 + timedelta(hours=1)), tenants=FakeTenants(ACME))


def screen_and_wait(
    fake: FakePorts, capture_mode: str = "automatic", route: str = "choice"
) -> dict[str, Any]:
    return lifecycle.screen_and_wait(
        fake.ports(),
        step(
            c.ScreenAndWaitInput,
            c.LifecycleAction.SCREEN_AND_WAIT,
            task_token="tok",
            capture_mode=capture_mode,
            route=route,
        ),
    )


def screened(decision: str) -> dict[str, Any]:
    """The answer the Choice after the state reads: ``ScreenResult``, as ``Screen`` gave."""
    return c.ScreenResult.model_validate(
        {
            "decision": decision,
            "score": 5 if decision == "allow" else 80,
            "reasons": [] if decision == "allow" else ["planted"],
            "ruleset_version": "test/1",
        }
    ).model_dump(mode="json")


def test_the_steps_function_knows_the_new_action() -> None:
    assert STEPS[c.LifecycleAction.SCREEN_AND_WAIT] is lifecycle.screen_and_wait


# -- screening and the payment wait --------------------------------------------------------------


def test_an_accepted_order_paid_before_screening_ends_is_answered_at_once(
    fake: FakePorts,
) -> None:
    fake.orders.add(placed(), paid())
    screen_and_wait(fake)
    assert fake.workflows.resumed == [("tok", screened("allow"))]
    assert fake.records.parked("acme", "o-1") == {}


def test_an_accepted_unpaid_order_waits_and_the_payment_answers_with_the_screening(
    fake: FakePorts,
) -> None:
    fake.orders.add(placed())
    assert screen_and_wait(fake) == {"waiting": "payment"}
    assert fake.workflows.resumed == []
    assert fake.records.parked("acme", "o-1") == {"payment": "tok"}
    assert fake.records.answers[("acme", "o-1", "payment")] == c.WaitAnswer.SCREENING
    assert fake.records.stage("acme", "o-1") == c.Stage.AWAITING_PAYMENT
    event = paid()
    fake.orders.add(event)
    changes.order_changed(fake.ports(), event, "o-1", "applied")
    assert fake.workflows.resumed == [("tok", screened("allow"))]
    assert fake.records.parked("acme", "o-1") == {}


@pytest.mark.parametrize(
    ("decision", "capture_mode"),
    [("block", "automatic"), ("review", "automatic"), ("allow", "manual"), ("review", "manual")],
)
def test_what_does_not_wait_for_the_payment_is_answered_at_once_with_the_screening(
    fake: FakePorts, decision: str, capture_mode: str
) -> None:
    fake.orders.add(placed())
    fake.screening.decision = decision
    assert screen_and_wait(fake, capture_mode) == {"screened": decision}
    assert fake.workflows.resumed == [("tok", screened(decision))]
    assert fake.records.parked("acme", "o-1") == {}
    # Nothing is recorded as awaited: the review hold or the capture comes next.
    assert fake.records.stage("acme", "o-1") is None


@pytest.mark.parametrize(
    ("decision", "capture_mode", "route"),
    [
        ("block", "automatic", c.ScreeningRoute.BLOCKED),
        ("block", "manual", c.ScreeningRoute.BLOCKED),
        ("review", "automatic", c.ScreeningRoute.REVIEW),
        ("review", "manual", c.ScreeningRoute.REVIEW),
        ("allow", "manual", c.ScreeningRoute.CAPTURE),
    ],
)
def test_the_definition_that_routes_by_errors_fails_the_wait_with_the_route_at_once(
    fake: FakePorts, decision: str, capture_mode: str, route: c.ScreeningRoute
) -> None:
    """No Choice after the state: the route is the task's error, the screening its cause."""
    fake.orders.add(placed())
    fake.screening.decision = decision
    assert screen_and_wait(fake, capture_mode, route="errors") == {"screened": decision}
    assert fake.workflows.resumed == []
    ((token, error, cause),) = fake.workflows.failed
    assert (token, error) == ("tok", route)
    assert json.loads(cause) == screened(decision)
    assert fake.records.parked("acme", "o-1") == {}


def test_an_accepted_order_of_the_errors_definition_waits_and_is_answered_with_success(
    fake: FakePorts,
) -> None:
    """Paid, it goes on to be confirmed: the processor's answer is the screening, as before."""
    fake.orders.add(placed())
    assert screen_and_wait(fake, route="errors") == {"waiting": "payment"}
    event = paid()
    fake.orders.add(event)
    changes.order_changed(fake.ports(), event, "o-1", "applied")
    assert fake.workflows.resumed == [("tok", screened("allow"))]
    assert fake.workflows.failed == []


def test_an_accepted_order_with_automatic_capture_has_no_route_of_its_own() -> None:
    result = c.ScreenResult(decision=c.Decision.ALLOW, score=1, reasons=[])
    with pytest.raises(ValueError, match="waits for its payment"):
        lifecycle.screening_route(result, "automatic")


@pytest.mark.parametrize("decision", ["allow", "block"])
def test_a_retried_invocation_screens_once(fake: FakePorts, decision: str) -> None:
    fake.orders.add(placed())
    fake.screening.decision = decision
    screen_and_wait(fake)
    fake.screening.decision = "review"  # a second screening would decide otherwise
    screen_and_wait(fake)
    assert fake.screening.screened == ["o-1"]
    assert fake.records.screening("acme", "o-1")["decision"] == decision  # type: ignore[index]
    assert fake.mailer.kinds() == []


def test_a_payment_wait_after_a_review_is_answered_with_the_outcome_as_before(
    fake: FakePorts,
) -> None:
    """``WaitForPayment`` (after an approved review, and on the definitions before) parks
    without saying: the payment answers it with the outcome."""
    fake.orders.add(placed())
    fake.records.save_screening("acme", "o-1", {"decision": "review", "score": 80})
    lifecycle.wait(
        fake.ports(),
        step(c.WaitInput, c.LifecycleAction.WAIT, wait=c.WaitKind.PAYMENT, task_token="tok"),
    )
    assert ("acme", "o-1", "payment") not in fake.records.answers
    event = paid()
    fake.orders.add(event)
    changes.order_changed(fake.ports(), event, "o-1", "applied")
    assert fake.workflows.resumed == [("tok", {"outcome": "paid", "shipment": None})]


# -- the delivery wait's answer ------------------------------------------------------------------


def wait_for_delivery(fake: FakePorts, **fields: Any) -> None:
    lifecycle.wait(
        fake.ports(),
        step(
            c.WaitInput,
            c.LifecycleAction.WAIT,
            wait=c.WaitKind.DELIVERY,
            task_token="tok-d",
            **fields,
        ),
    )


def carrier(fake: FakePorts, status: str) -> None:
    event = shipment(status, minute=40)
    fake.orders.add(event)
    changes.order_changed(fake.ports(), event, "o-1", "applied")


NEW = {"answer": c.WaitAnswer.DELIVERED_OR_PROBLEM}


def test_a_delivered_order_answers_the_new_delivery_wait_with_success(fake: FakePorts) -> None:
    fake.orders.add(placed(), paid(), shipment("in_transit"))
    wait_for_delivery(fake, **NEW)
    carrier(fake, "delivered")
    ((token, answer),) = fake.workflows.resumed
    assert (token, answer["outcome"]) == ("tok-d", "delivered")
    assert fake.workflows.failed == []


def test_a_returned_parcel_fails_the_new_delivery_wait_with_the_outcome_as_cause(
    fake: FakePorts,
) -> None:
    fake.orders.add(placed(), paid(), shipment("in_transit"))
    wait_for_delivery(fake, **NEW)
    carrier(fake, "return_to_sender")
    assert fake.workflows.resumed == []
    ((token, error, cause),) = fake.workflows.failed
    assert (token, error) == ("tok-d", c.DELIVERY_PROBLEM)
    outcome = c.WaitOutcome.model_validate_json(cause)
    assert (outcome.outcome, outcome.shipment) == (c.WaitOutcomeKind.PROBLEM, "return_to_sender")
    assert [(p.tracking_code, p.state) for p in outcome.parcels] == [("1Z1", "return_to_sender")]
    assert fake.records.parked("acme", "o-1") == {}


def test_a_parcel_returned_before_the_new_wait_parks_fails_it_at_once(fake: FakePorts) -> None:
    fake.orders.add(placed(), paid(), shipment("return_to_sender"))
    wait_for_delivery(fake, **NEW)
    ((token, error, _),) = fake.workflows.failed
    assert (token, error) == ("tok-d", c.DELIVERY_PROBLEM)


def test_an_old_definitions_delivery_wait_is_still_answered_with_the_outcome(
    fake: FakePorts,
) -> None:
    """A token parked by the definition before (its payload names no answer): the problem
    resumes it with success, the outcome ``problem``, which its ``DeliveryOutcome`` routes."""
    fake.orders.add(placed(), paid(), shipment("in_transit"))
    wait_for_delivery(fake)
    carrier(fake, "return_to_sender")
    assert fake.workflows.failed == []
    ((token, answer),) = fake.workflows.resumed
    assert (token, answer["outcome"], answer["shipment"]) == (
        "tok-d",
        "problem",
        "return_to_sender",
    )


def test_an_old_token_parked_before_the_store_kept_answers_is_answered_with_the_outcome(
    fake: FakePorts,
) -> None:
    fake.orders.add(placed(), paid(), shipment("in_transit"))
    fake.records.put_wait("acme", "o-1", "delivery", "tok-old")
    carrier(fake, "return_to_sender")
    ((token, answer),) = fake.workflows.resumed
    assert (token, answer["outcome"]) == ("tok-old", "problem")


def delivery_problem(fake: FakePorts, **fields: Any) -> dict[str, Any]:
    return lifecycle.stage(
        fake.ports(),
        step(c.StageInput, c.LifecycleAction.STAGE, stage=c.Stage.DELIVERY_PROBLEM, **fields),
    )


def test_the_problem_step_reads_the_outcome_from_the_failures_cause(fake: FakePorts) -> None:
    """The new definition passes the caught cause; the old one passed the shipment: both tell
    the client team the same and find as many delivered lines."""
    fake.orders.add(placed(), paid(), shipment("return_to_sender"))
    outcome = wait_outcome(fake.orders.load("acme", "o-1")[0], c.WaitKind.DELIVERY)
    assert outcome is not None
    cause = json.dumps(outcome.model_dump(mode="json"))
    from_cause = delivery_problem(fake, cause=cause)
    alerted = list(fake.alerts.sent)
    fake.alerts.sent.clear()
    from_shipment = delivery_problem(fake, shipment="return_to_sender")
    assert from_cause == from_shipment == {"stage": "delivery_problem", "delivered_lines": 0}
    assert [type(n) for n in alerted] == [OrderNotDelivered]
    assert alerted == fake.alerts.sent
    assert fake.records.stage("acme", "o-1") == c.Stage.DELIVERY_PROBLEM
