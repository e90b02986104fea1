"""How many states an order's lifecycle and a refund enter, walked through the synthesized
definitions: Step Functions bills every state entered, so a state added to the happy path shows
here (issue 17: the lifecycle's happy path went from 13 states to 9, then 7, then 5; a refund's
from 5 to 4).

The walk evaluates each Choice's rules against what the steps would have written into the
execution's state, takes a task's catch where the path says the wait timed out (or failed with
an error), and stops at the end state."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from functions.orders import contracts as c

pytestmark = pytest.mark.stack


def definition(template: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The ASL of the one state machine whose logical id starts with ``prefix``."""
    (machine,) = [
        r
        for lid, r in template["Resources"].items()
        if r["Type"] == "AWS::StepFunctions::StateMachine" and lid.startswith(prefix)
    ]
    body = machine["Properties"]["DefinitionString"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    # A reference (a function's Arn) stands inside a JSON string of the definition.
    text = "".join(p if isinstance(p, str) else "<ref>" for p in parts)
    parsed: dict[str, Any] = json.loads(text)
    return parsed


def _read(data: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    value: Any = data
    for part in path.removeprefix("$.").split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _holds(rule: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    if "And" in rule:
        return all(_holds(r, data) for r in rule["And"])
    if "Or" in rule:
        return any(_holds(r, data) for r in rule["Or"])
    if "Not" in rule:
        return not _holds(rule["Not"], data)
    present, value = _read(data, rule["Variable"])
    if "IsPresent" in rule:
        return present is rule["IsPresent"]
    if not present:
        return False
    if "StringEquals" in rule:
        return bool(value == rule["StringEquals"])
    if "BooleanEquals" in rule:
        return bool(value is rule["BooleanEquals"])
    if "NumericGreaterThan" in rule:
        return bool(value > rule["NumericGreaterThan"])
    raise AssertionError(f"the walk does not know the rule {rule}")


def walk(
    asl: Mapping[str, Any],
    data: Mapping[str, Any],
    timeouts: Sequence[str | tuple[str, str]] = (),
    results: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> list[str]:
    """The states an execution enters, in order. ``data`` is what the steps have written by
    the time a Choice reads it; ``results[name]`` what the state ``name`` writes on each of
    its visits (a checkpoint's plan); ``timeouts`` the waits that time out (a heartbeat's limit
    included), or ``(name, error)`` the tasks that fail with ``error``, in the order they do."""
    state: dict[str, Any] = json.loads(json.dumps(data))
    pending = [(t, "States.Timeout") if isinstance(t, str) else t for t in timeouts]
    written = {name: list(values) for name, values in (results or {}).items()}
    entered: list[str] = []
    name = asl["StartAt"]
    while True:
        assert len(entered) < 100, f"the walk loops: {entered}"
        entered.append(name)
        spec = asl["States"][name]
        if written.get(name):
            state.update(written[name].pop(0))
        if spec["Type"] in ("Succeed", "Fail"):
            return entered
        if spec["Type"] == "Choice":
            name = next(
                (rule["Next"] for rule in spec["Choices"] if _holds(rule, state)),
                spec.get("Default"),
            )
            assert name is not None, f"no rule of {entered[-1]} holds for {state}"
            continue
        if pending and pending[0][0] == name:
            _, error = pending.pop(0)
            # The first catcher that names the error takes it, as Step Functions does.
            name = next(
                catch["Next"] for catch in spec.get("Catch", []) if error in catch["ErrorEquals"]
            )
            continue
        if spec.get("End"):
            assert not pending, f"the waits {pending} never came: {entered}"
            return entered
        name = spec["Next"]


# The states of the happy path, however many scans come between shipped and delivered.
HAPPY_PATH = [
    "ScreenAndWaitForPayment",
    "ConfirmAndWaitForShipment",
    "ShippedAndWaitForDelivery",
    "DeliveredAndReturnWindow",
    "ReleaseFunds",
]
# An approved review, up to where the happy path goes on (its payment waited for apart).
REVIEWED = [
    "ScreenAndWaitForPayment",
    "ReviewCheckpoint",
    "ReviewTimeLeft",
    "HoldForReview",
    "ReviewDecision",
    "WaitForPayment",
]
# The screening is what the screen-and-wait state is answered with, paid or not.
HAPPY = {"screening": {"decision": c.Decision.ALLOW}}
# A delivery wait's answer when a parcel was not delivered: the task fails with this error.
PROBLEM = c.DELIVERY_PROBLEM
# What the screening's wait fails with when the order does not go straight on to be confirmed.
BLOCKED, REVIEW, CAPTURE = c.ScreeningRoute


@pytest.fixture(scope="module")
def lifecycle(template: dict[str, Any]) -> dict[str, Any]:
    return definition(template, "OrdersLifecycleStateMachine")


@pytest.fixture(scope="module")
def refund(template: dict[str, Any]) -> dict[str, Any]:
    return definition(template, "OrdersRefundsStateMachine")


def test_the_happy_path_enters_five_states(lifecycle: dict[str, Any]) -> None:
    assert walk(lifecycle, HAPPY) == HAPPY_PATH


def test_the_return_window_is_sat_out_in_the_delivered_state(lifecycle: dict[str, Any]) -> None:
    """The delivered stage waits out the return window in its own state, as each stage before
    it waits in its own: a token nobody answers, timed out by the tenant's window; its end
    (or an answer, were one sent) is the release. No Wait state is left on the happy path."""
    states = lifecycle["States"]
    delivered = states["DeliveredAndReturnWindow"]
    assert delivered["Resource"].endswith("lambda:invoke.waitForTaskToken")
    assert delivered["TimeoutSecondsPath"] == c.path("$.waits", c.Waits, "return_window_s")
    assert "HeartbeatSeconds" not in delivered and "HeartbeatSecondsPath" not in delivered
    payload = delivered["Parameters"]["Payload"]
    assert (payload["action"], payload["stage"]) == (c.LifecycleAction.STAGE, c.Stage.DELIVERED)
    assert payload["task_token.$"] == "$$.Task.Token"
    (timed_out,) = [k for k in delivered["Catch"] if k["ErrorEquals"] == ["States.Timeout"]]
    assert (timed_out["Next"], timed_out["ResultPath"]) == ("ReleaseFunds", "$.error")
    assert delivered["Next"] == "ReleaseFunds"
    assert delivered["ResultPath"] is None
    assert not {"Delivered", "ReturnWindow"} & set(states)
    assert walk(lifecycle, HAPPY, timeouts=["DeliveredAndReturnWindow"]) == HAPPY_PATH


def test_screening_and_the_payment_wait_are_one_state(lifecycle: dict[str, Any]) -> None:
    """The screening step waits for the payment itself (automatic capture, accepted): its
    timeout is the payment's, and an order unpaid by then is cancelled as before."""
    states = lifecycle["States"]
    screen = states["ScreenAndWaitForPayment"]
    assert lifecycle["StartAt"] == "ScreenAndWaitForPayment"
    assert screen["Resource"].endswith("lambda:invoke.waitForTaskToken")
    assert screen["TimeoutSecondsPath"] == c.path("$.waits", c.Waits, "payment_s")
    assert screen["ResultPath"] == c.SCREENING_RESULT
    payload = screen["Parameters"]["Payload"]
    assert payload["action"] == c.LifecycleAction.SCREEN_AND_WAIT
    assert payload["capture_mode.$"] == "$.capture_mode"
    assert "Screen" not in states
    unpaid = walk(lifecycle, HAPPY, timeouts=["ScreenAndWaitForPayment"])
    assert unpaid == ["ScreenAndWaitForPayment", "CancelUnpaid"]
    blocked = walk(lifecycle, HAPPY, timeouts=[("ScreenAndWaitForPayment", BLOCKED)])
    assert blocked == ["ScreenAndWaitForPayment", "CancelBlocked"]


def test_the_screening_routes_by_its_waits_errors_with_no_choice_after_it(
    lifecycle: dict[str, Any],
) -> None:
    """An accepted order with automatic capture goes on to be confirmed when the wait is
    answered (paid); blocked, held for review or to be captured by hand, the step fails the
    wait with the route at once, and a catch takes it, keeping the cause (the screening) where
    the result would be. No state is spent on a Choice."""
    states = lifecycle["States"]
    screen = states["ScreenAndWaitForPayment"]
    assert screen["Parameters"]["Payload"]["route"] == "errors"
    assert screen["Next"] == "ConfirmAndWaitForShipment"
    caught = {k["ErrorEquals"][0]: (k["Next"], k["ResultPath"]) for k in screen["Catch"]}
    assert caught == {
        "States.Timeout": ("CancelUnpaid", "$.error"),
        BLOCKED: ("CancelBlocked", c.SCREENING_RESULT),
        REVIEW: ("ReviewCheckpoint", c.SCREENING_RESULT),
        CAPTURE: ("Capture", c.SCREENING_RESULT),
    }
    assert all(len(k["ErrorEquals"]) == 1 for k in screen["Catch"])
    assert "RiskDecision" not in states


def test_manual_capture_enters_as_many_states_as_automatic_and_one_more(
    lifecycle: dict[str, Any],
) -> None:
    """Manual capture has no payment to wait for but takes the money in a state of its own."""
    path = walk(
        lifecycle,
        {**HAPPY, "capture_mode": "manual"},
        timeouts=[("ScreenAndWaitForPayment", CAPTURE)],
    )
    assert path[:3] == [
        "ScreenAndWaitForPayment",
        "Capture",
        "ConfirmAndWaitForShipment",
    ]
    assert len(path) == len(HAPPY_PATH) + 1


def test_an_approved_review_adds_only_the_review_states(lifecycle: dict[str, Any]) -> None:
    """After a review the payment is waited for in ``WaitForPayment``, as before."""
    approved = {
        **HAPPY,
        "screening": {"decision": c.Decision.REVIEW},
        "review_plan": {"expired": False, "next_s": 60},
        "review": {"decision": c.ReviewDecision.APPROVE, "by": "ops"},
    }
    path = walk(lifecycle, approved, timeouts=[("ScreenAndWaitForPayment", REVIEW)])
    assert path[:6] == REVIEWED
    assert path[6:] == HAPPY_PATH[1:]
    unpaid = walk(
        lifecycle, approved, timeouts=[("ScreenAndWaitForPayment", REVIEW), "WaitForPayment"]
    )
    assert unpaid[-2:] == ["WaitForPayment", "CancelUnpaid"]


def test_a_delivery_problem_fails_the_wait_into_the_problem_path(
    lifecycle: dict[str, Any],
) -> None:
    """No Choice after the delivery waits: success is delivered, the ``DeliveryProblem``
    failure is caught into the problem step, which reads the outcome from the cause."""
    states = lifecycle["States"]
    assert "DeliveryOutcome" not in states
    for name in ("ShippedAndWaitForDelivery", "NoMovementAndWaitForClaims"):
        wait = states[name]
        assert wait["Next"] == "DeliveredAndReturnWindow"
        assert wait["Parameters"]["Payload"]["answer"] == c.WaitAnswer.DELIVERED_OR_PROBLEM
        (caught,) = [k for k in wait["Catch"] if PROBLEM in k["ErrorEquals"]]
        assert (caught["Next"], caught["ResultPath"]) == ("DeliveryProblem", c.DELIVERY_RESULT)
    problem = states["DeliveryProblem"]["Parameters"]
    assert problem["cause.$"] == f"{c.DELIVERY_RESULT}.Cause"
    nothing_arrived = {**HAPPY, "problem": {"stage": "delivery_problem", "delivered_lines": 0}}
    returned = walk(lifecycle, nothing_arrived, timeouts=[("ShippedAndWaitForDelivery", PROBLEM)])
    assert returned == [
        *HAPPY_PATH[:3],
        "DeliveryProblem",
        "AnyDelivered",
        "DeliveryException",
    ]
    some_arrived = {**HAPPY, "problem": {"stage": "delivery_problem", "delivered_lines": 1}}
    claimed = walk(
        lifecycle,
        some_arrived,
        timeouts=["ShippedAndWaitForDelivery", ("NoMovementAndWaitForClaims", PROBLEM)],
    )
    assert claimed[3:] == [
        "NoMovementAndWaitForClaims",
        "DeliveryProblem",
        "AnyDelivered",
        "ReturnWindowDelivered",
        "ReleaseDeliveredFunds",
    ]


def test_the_steps_that_wait_record_their_stage_and_the_rewaits_do_not(
    lifecycle: dict[str, Any],
) -> None:
    """A wait after the dispatch deadline must not send the confirmation e-mail again: only
    the first wait of each names a stage."""
    states = lifecycle["States"]

    def staged(name: str) -> str | None:
        stage: str | None = states[name]["Parameters"]["Payload"].get("stage")
        return stage

    assert staged("ConfirmAndWaitForShipment") == c.Stage.CONFIRMED
    assert staged("NotDispatchedAndWaitForShipment") == c.Stage.NOT_DISPATCHED
    assert staged("ShippedAndWaitForDelivery") == c.Stage.SHIPPED
    assert staged("NoMovementAndWaitForClaims") == c.Stage.DELIVERY_PROBLEM
    late = walk(lifecycle, HAPPY, timeouts=["ConfirmAndWaitForShipment"])
    assert late[1:4] == [
        "ConfirmAndWaitForShipment",
        "NotDispatchedAndWaitForShipment",
        "ShippedAndWaitForDelivery",
    ]


def test_the_delivery_wait_is_one_state_kept_alive_by_heartbeats(
    lifecycle: dict[str, Any],
) -> None:
    """Parcels that keep moving cost no state: the processor's heartbeats restart the wait's
    limit, the tenant's no-movement limit; the wait as a whole may last as long as the
    execution. No polling states are left: a stretch of no movement goes straight to the
    claims."""
    states = lifecycle["States"]
    shipped = states["ShippedAndWaitForDelivery"]
    assert shipped["HeartbeatSecondsPath"] == c.path("$.waits", c.Waits, "no_movement_s")
    assert shipped["TimeoutSeconds"] == 120 * 86_400
    assert "TimeoutSecondsPath" not in shipped
    (catch,) = [k for k in shipped["Catch"] if "States.Timeout" in k["ErrorEquals"]]
    assert (catch["ErrorEquals"], catch["Next"]) == (
        ["States.Timeout"],
        "NoMovementAndWaitForClaims",
    )
    assert not {"CheckMovement", "Moved", "KeepWaitingForDelivery"} & set(states)
    stalled = walk(
        lifecycle,
        {**HAPPY, "problem": {"stage": "delivery_problem", "delivered_lines": 0}},
        timeouts=["ShippedAndWaitForDelivery", "NoMovementAndWaitForClaims"],
    )
    assert stalled[2:] == [
        "ShippedAndWaitForDelivery",
        "NoMovementAndWaitForClaims",
        "DeliveryException",
    ]
    late_delivery = walk(lifecycle, HAPPY, timeouts=["ShippedAndWaitForDelivery"])
    assert late_delivery[2:] == [
        "ShippedAndWaitForDelivery",
        "NoMovementAndWaitForClaims",
        "DeliveredAndReturnWindow",
        "ReleaseFunds",
    ]


def test_a_refund_enters_four_states(refund: dict[str, Any]) -> None:
    assert walk(refund, {}) == ["Prepare", "Submit", "AwaitConfirmation", "Complete"]
    assert walk(refund, {}, timeouts=["AwaitConfirmation"])[-1] == "Unconfirmed"
