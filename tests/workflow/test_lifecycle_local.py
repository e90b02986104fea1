"""The order lifecycle state machine, executed by moto from the synthesized template.

A lifecycle "day" lasts one second in the local stack, so review timeouts, dispatch SLAs and
return windows pass in seconds. Orders come in through the webhook front door, carrier updates
resume the waits, and decisions go through the steps function as the operator API does.
"""

from __future__ import annotations

import email
import email.policy
import json
import time
import urllib.request
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from shared import signing
from shared.lifecycle_store import LifecycleStore
from shared.workflows import execution_name
from tests.component.test_task_heartbeat import DEFINITION as WAIT_FOR_A_TOKEN
from tests.e2e.helpers import post, post_shop, shop_order, tenant_file
from tests.stack.test_workflow_paths_stack import HAPPY_PATH, REVIEWED

pytestmark = pytest.mark.local


def make_tenant(stack: Any, tmp_path: Path, tenant: str, **settings: Any) -> None:
    path = tenant_file(tmp_path, tenant)
    document = json.loads(path.read_text())
    # Waits long enough (20 s, 30 s, 40 s here) that a loaded machine never times a test out
    # by accident; the tests about timeouts shorten the one they are about.
    document["tenants"][0]["settings"].update(
        {
            "review_timeout_hours": 480,
            "payment_timeout_hours": 480,
            "dispatch_sla_days": 30,
            "delivery_timeout_days": 40,
            "return_window_days": 1,
            "alert_emails": [f"ops@{tenant}.example"],
            **settings,
        }
    )
    document["tenants"][0]["secrets"]["links"] = {"signing_keys": ["links-key-1"]}
    path.write_text(json.dumps(document))
    stack.install_tenants(path)


def place(
    stack: Any, tenant: str, order_id: str, placed_at: datetime | None = None, **order: Any
) -> None:
    """The shop's order (placed on 2026-11-23 unless ``placed_at`` says when)."""
    document = shop_order(order_id, f"{order_id}-placed")
    document["order"].update(order)
    if placed_at is not None:
        document["occurred_at"] = placed_at.isoformat()
    status, answer = post_shop(stack.base_url, tenant, document)
    assert status == 200, answer


def pay(stack: Any, tenant: str, order_id: str, amount: int = 3000) -> None:
    """The gateway says the order's payment succeeded (automatic capture confirms only then)."""
    intent = {
        "id": f"pi_{order_id}",
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": "usd",
        "metadata": {"order_id": order_id},
        "status": "succeeded",
    }
    event = {
        "id": f"evt_{tenant}_{order_id}_paid",
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1_795_428_000,  # 2026-11-23T10:00:00Z, when tests.e2e.helpers places orders
        "type": "payment_intent.succeeded",
        "data": {"object": intent},
    }
    body = json.dumps(event).encode()
    status, answer = post(
        stack.base_url,
        f"/webhooks/{tenant}/stripe",
        body,
        {
            "content-type": "application/json",
            "Stripe-Signature": signing.sign_stripe(body, "whsec_e2e"),
        },
    )
    assert status == 200, answer


def place_paid(stack: Any, tenant: str, order_id: str) -> None:
    place(stack, tenant, order_id)
    pay(stack, tenant, order_id)


def fulfil(stack: Any, tenant: str, order_id: str, tracking: str) -> None:
    status, answer = post_shop(
        stack.base_url,
        tenant,
        {
            "event_id": f"{order_id}-fulfilled",
            "type": "order.fulfilled",
            "occurred_at": "2026-11-23T11:00:00Z",
            "order": {"order_id": order_id},
            "fulfillment": {"tracking_code": tracking, "carrier": "UPS"},
        },
    )
    assert status == 200, answer


def carrier_update(
    stack: Any,
    tenant: str,
    tracking: str,
    status: str,
    minute: int,
    detail: str | None = None,
    event_id: str | None = None,
) -> None:
    at = f"2026-11-23T12:{minute:02d}:00Z"
    body = json.dumps(
        {
            "id": event_id or f"evt_{tracking}_{status}",
            "object": "Event",
            "description": "tracker.updated",
            "created_at": at,
            "result": {
                "object": "Tracker",
                "id": f"trk_{tracking}",
                "tracking_code": tracking,
                "status": status,
                "status_detail": detail,
                "carrier": "UPS",
                "updated_at": at,
                "tracking_details": [{"status": status, "datetime": at, "message": status}],
            },
        },
    ).encode()
    request = urllib.request.Request(
        f"{stack.base_url}/webhooks/{tenant}/carriers/easypost",
        data=body,
        method="POST",
        headers={
            "content-type": "application/json",
            "x-hmac-signature": signing.sign_easypost(body, "easypost_e2e"),
        },
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200


def execution(stack: Any, tenant: str, order_id: str) -> str:
    arn = stack.deployment.outputs["LifecycleStateMachine"]
    return str(
        arn.replace(":stateMachine:", ":execution:") + ":" + execution_name(tenant, order_id)
    )


def wait_for_stage(
    stack: Any, tenant: str, order_id: str, *stages: str, timeout_s: float = 60
) -> str:
    # 60 s: a step that takes a second on a quiet machine once took over 30 s on a loaded
    # one (every worker of the suite plus other jobs); a stage that never comes fails anyway.
    store = LifecycleStore(stack.deployment.outputs["TableName"])
    deadline = time.monotonic() + timeout_s
    stage = None
    while time.monotonic() < deadline:
        stack.wait_idle(30)
        stage = store.stage(tenant, order_id)
        if stage in stages:
            return stage
        time.sleep(0.2)
    raise AssertionError(f"{order_id} stayed in {stage!r}, expected one of {stages}")


def finished(stack: Any, tenant: str, order_id: str, timeout_s: float = 30) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")
    stack.wait_idle(30)  # the processor starts the execution
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            described: dict[str, Any] = sfn.describe_execution(
                executionArn=execution(stack, tenant, order_id)
            )
        except sfn.exceptions.ExecutionDoesNotExist:
            described = {"status": "NOT_STARTED"}
        if described["status"] not in ("RUNNING", "NOT_STARTED") or time.monotonic() > deadline:
            return described
        time.sleep(0.2)


def history(stack: Any, tenant: str, order_id: str) -> list[dict[str, Any]]:
    """The execution's events, oldest first (by id: moto's order whatever reverseOrder says)."""
    pages = stack.client("stepfunctions").get_paginator("get_execution_history")
    events = [
        e
        for page in pages.paginate(executionArn=execution(stack, tenant, order_id))
        for e in page["events"]
    ]
    return sorted(events, key=lambda e: int(e["id"]))


def entered(events: list[dict[str, Any]]) -> list[str]:
    """The states an execution entered, in order: what Step Functions bills."""
    return [
        str(e["stateEnteredEventDetails"]["name"])
        for e in events
        if e["type"].endswith("StateEntered")
    ]


def after_shipping(events: list[dict[str, Any]]) -> list[str]:
    """The states entered from the delivery wait on."""
    states = entered(events)
    return states[states.index("ShippedAndWaitForDelivery") :]


def final_state(stack: Any, tenant: str, order_id: str) -> str:
    """The state a succeeded execution ended in (its end state: a step, or a Succeed state
    where no step ends the path)."""
    events = history(stack, tenant, order_id)
    assert events and events[-1]["type"] == "ExecutionSucceeded", "the execution did not succeed"
    return entered(events)[-1]


def sent_mail(stack: Any, tenant: str, order_id: str) -> dict[str, EmailMessage]:
    """This tenant's order's e-mails by kind (other tests use the same order ids)."""
    found: dict[str, EmailMessage] = {}
    for path in Path(stack.mail_dir).glob(f"*-{order_id}-*.eml"):
        with path.open("rb") as handle:
            message = email.message_from_binary_file(handle, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        if message["X-EcomOps-Tenant"] == tenant:
            found[str(message["X-EcomOps-Kind"])] = message
    return found


def mails(stack: Any, tenant: str, order_id: str) -> set[str]:
    return set(sent_mail(stack, tenant, order_id))


def wait_for_mail(
    stack: Any, tenant: str, order_id: str, kind: str, timeout_s: float = 30
) -> set[str]:
    """The step records its stage before it sends the e-mail: wait for the e-mail itself."""
    deadline = time.monotonic() + timeout_s
    while kind not in (sent := mails(stack, tenant, order_id)):
        if time.monotonic() > deadline:
            raise AssertionError(f"{tenant}/{order_id} was sent {sorted(sent)}, not {kind}")
        time.sleep(0.1)
    return sent


def lifecycle_steps(stack: Any) -> str:
    """The lifecycle steps function's name."""
    return str(
        next(
            name
            for lid, name in stack.deployment.physical.items()
            if lid.startswith("OrdersLifecycleSteps")
            and stack.deployment.types[lid] == "AWS::Lambda::Function"
        )
    )


def decide(stack: Any, tenant: str, order_id: str, decision: str) -> dict[str, Any]:
    answer: dict[str, Any] = stack.invoke(
        lifecycle_steps(stack),
        {"action": "decide", "tenant": tenant, "order_id": order_id, "decision": decision},
    )
    return answer


def test_happy_path_runs_to_close_and_releases_funds(local_stack: Any, tmp_path: Path) -> None:
    make_tenant(local_stack, tmp_path, "life-happy")
    place_paid(local_stack, "life-happy", "o-1")
    wait_for_stage(local_stack, "life-happy", "o-1", "awaiting_shipment")
    fulfil(local_stack, "life-happy", "o-1", "1ZHAPPY")
    wait_for_stage(local_stack, "life-happy", "o-1", "awaiting_delivery")
    carrier_update(local_stack, "life-happy", "1ZHAPPY", "in_transit", 1)
    carrier_update(local_stack, "life-happy", "1ZHAPPY", "delivered", 30)
    assert finished(local_stack, "life-happy", "o-1")["status"] == "SUCCEEDED"
    # Paid as it was screened: the screening's state waited for the payment (one state).
    assert entered(history(local_stack, "life-happy", "o-1")) == HAPPY_PATH
    assert (
        LifecycleStore(local_stack.deployment.outputs["TableName"]).stage("life-happy", "o-1")
        == "closed"
    )
    sent = wait_for_mail(local_stack, "life-happy", "o-1", "order_delivered")
    assert {"order_confirmation", "order_shipped", "order_delivered"} <= sent


def test_a_second_start_for_the_same_order_is_a_no_op(local_stack: Any, tmp_path: Path) -> None:
    from shared.workflows import start_once

    make_tenant(local_stack, tmp_path, "life-once")
    place_paid(local_stack, "life-once", "o-1")
    wait_for_stage(local_stack, "life-once", "o-1", "awaiting_shipment")
    assert not start_once(
        local_stack.deployment.outputs["LifecycleStateMachine"],
        execution_name("life-once", "o-1"),
        {"tenant": "life-once", "order_id": "o-1"},
    )


def test_blocked_order_is_cancelled_before_anything_ships(local_stack: Any, tmp_path: Path) -> None:
    make_tenant(
        local_stack, tmp_path, "life-block", risk={"block": {"email_domains": ["example.com"]}}
    )
    place(local_stack, "life-block", "o-1")
    assert finished(local_stack, "life-block", "o-1")["status"] == "SUCCEEDED"
    assert entered(history(local_stack, "life-block", "o-1")) == [
        "ScreenAndWaitForPayment",
        "CancelBlocked",
    ]
    assert final_state(local_stack, "life-block", "o-1") == "CancelBlocked"
    wait_for_mail(local_stack, "life-block", "o-1", "order_cancelled")


@pytest.mark.parametrize(("decision", "end"), [("approve", None), ("reject", "CancelRejected")])
def test_review_decision(local_stack: Any, tmp_path: Path, decision: str, end: str | None) -> None:
    tenant = f"life-review-{decision}"
    make_tenant(local_stack, tmp_path, tenant, risk={"review_over": 1000})
    place_paid(local_stack, tenant, "o-1")
    wait_for_stage(local_stack, tenant, "o-1", "potential_fraud")
    wait_for_mail(local_stack, tenant, "o-1", "payment_verification")
    wait_for_mail(local_stack, tenant, "o-1", "review_needed")
    review_mail = sent_mail(local_stack, tenant, "o-1")["review_needed"].as_string()
    assert "/links/" in review_mail  # signed approve/reject links for the client team
    assert decide(local_stack, tenant, "o-1", decision) == {"resumed": True}
    if end is None:
        wait_for_stage(local_stack, tenant, "o-1", "awaiting_shipment")
    else:
        assert finished(local_stack, tenant, "o-1")["status"] == "SUCCEEDED"
        assert final_state(local_stack, tenant, "o-1") == end
    # A second decision finds nothing waiting.
    assert decide(local_stack, tenant, "o-1", decision)["resumed"] is False


def test_review_that_times_out_cancels(local_stack: Any, tmp_path: Path) -> None:
    make_tenant(
        local_stack, tmp_path, "life-timeout", risk={"review_over": 1000}, review_timeout_hours=24
    )
    place(local_stack, "life-timeout", "o-1")
    assert finished(local_stack, "life-timeout", "o-1")["status"] == "SUCCEEDED"
    assert final_state(local_stack, "life-timeout", "o-1") == "CancelReviewTimedOut"


def test_lost_package_claim_rejected_takes_the_exception_path(
    local_stack: Any, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from cli.main import main

    make_tenant(local_stack, tmp_path, "life-lost")
    place_paid(local_stack, "life-lost", "o-1")
    fulfil(local_stack, "life-lost", "o-1", "1ZLOST")
    wait_for_stage(local_stack, "life-lost", "o-1", "awaiting_delivery")
    carrier_update(local_stack, "life-lost", "1ZLOST", "failure", 5, detail="lost")
    wait_for_mail(local_stack, "life-lost", "o-1", "delivery_problem")
    store = LifecycleStore(local_stack.deployment.outputs["TableName"])
    (claim,) = store.claims("life-lost", "o-1")
    assert (claim["tracking_code"], claim["status"]) == ("1ZLOST", "filed")
    # The order waits while the claim is open; the carrier's answer settles the parcel.
    assert store.stage("life-lost", "o-1") == "awaiting_delivery"
    # The operator records the carrier's answers with the CLI (versioned, who and when).
    runner = CliRunner()
    claim_cli = ["orders", "claim", "--tenant", "life-lost", "o-1", "1ZLOST"]
    where = ["--by", "ops@example.com", "--local", local_stack.base_url]
    refused = runner.invoke(main, [*claim_cli, "accepted", *where])
    assert refused.exit_code == 1 and "reference" in refused.output
    accepted = runner.invoke(main, [*claim_cli, "accepted", "--reference", "UPS-77", *where])
    assert accepted.exit_code == 0, accepted.output
    assert "accepted  reference UPS-77" in accepted.output
    assert store.stage("life-lost", "o-1") == "awaiting_delivery"
    rejected = runner.invoke(main, [*claim_cli, "rejected", "--note", "no proof", *where])
    assert rejected.exit_code == 0, rejected.output
    shown = runner.invoke(
        main, ["orders", "claims", "--tenant", "life-lost", "o-1", "--local", local_stack.base_url]
    )
    assert [line.split()[1] for line in shown.output.splitlines()[1:]] == [
        "filed",
        "accepted",
        "rejected",
    ]
    assert finished(local_stack, "life-lost", "o-1")["status"] == "SUCCEEDED"
    # The decided claim fails the delivery wait (``DeliveryProblem``): no Choice before the
    # problem's step.
    assert after_shipping(history(local_stack, "life-lost", "o-1")) == [
        "ShippedAndWaitForDelivery",
        "DeliveryProblem",
        "AnyDelivered",
        "DeliveryException",
    ]
    assert store.stage("life-lost", "o-1") == "delivery_problem"


def test_a_returned_parcel_fails_the_delivery_wait_into_the_problem_path(
    local_stack: Any, tmp_path: Path
) -> None:
    """The processor fails the delivery wait with ``DeliveryProblem`` (the outcome its cause);
    the wait's catch runs the problem step, which reads the parcels' end from the cause."""
    tenant = "life-returned"
    make_tenant(local_stack, tmp_path, tenant)
    place_paid(local_stack, tenant, "o-1")
    fulfil(local_stack, tenant, "o-1", "1ZBACK")
    wait_for_stage(local_stack, tenant, "o-1", "awaiting_delivery")
    carrier_update(local_stack, tenant, "1ZBACK", "return_to_sender", 20)
    assert finished(local_stack, tenant, "o-1")["status"] == "SUCCEEDED"
    events = history(local_stack, tenant, "o-1")
    assert entered(events) == [
        *HAPPY_PATH[:3],
        "DeliveryProblem",
        "AnyDelivered",
        "DeliveryException",
    ]
    (failed,) = [e for e in events if e["type"] == "TaskFailed"]
    assert failed["taskFailedEventDetails"]["error"] == "DeliveryProblem"
    cause = json.loads(failed["taskFailedEventDetails"]["cause"])
    assert (cause["outcome"], cause["shipment"]) == ("problem", "return_to_sender")
    (problem,) = [
        json.loads(e["stateExitedEventDetails"]["output"])["problem"]
        for e in events
        if e["type"] == "TaskStateExited"
        and e["stateExitedEventDetails"]["name"] == "DeliveryProblem"
    ]
    assert problem == {"stage": "delivery_problem", "delivered_lines": 0}
    store = LifecycleStore(local_stack.deployment.outputs["TableName"])
    assert store.stage(tenant, "o-1") == "delivery_problem"


def test_a_delivery_wait_parked_by_the_previous_definition_gets_the_outcome(
    local_stack: Any, tmp_path: Path
) -> None:
    """A Standard execution finishes on the definition it started with: a delivery wait parked
    by the previous definition (its payload names no answer) is still resumed with success and
    the outcome when a parcel comes back, never failed."""
    tenant = "life-previous"
    make_tenant(local_stack, tmp_path, tenant)
    place_paid(local_stack, tenant, "o-1")
    fulfil(local_stack, tenant, "o-1", "1ZPREV")
    wait_for_stage(local_stack, tenant, "o-1", "awaiting_delivery")
    sfn = local_stack.client("stepfunctions")
    # This execution's wait is replaced by the previous definition's.
    sfn.stop_execution(executionArn=execution(local_stack, tenant, "o-1"))
    sqs = local_stack.client("sqs")
    queue = sqs.create_queue(QueueName="life-previous-tokens")["QueueUrl"]
    # A wait whose token goes to a queue, where the test reads it and hands it to the steps
    # function as the previous definition's delivery wait did: success goes to ``Delivered``
    # with the outcome (that definition's ``DeliveryOutcome`` routed it), ``DeliveryProblem``
    # to ``Problem``.
    machine = sfn.create_state_machine(
        name="life-previous-delivery-wait",
        definition=json.dumps(WAIT_FOR_A_TOKEN),
        roleArn="arn:aws:iam::123456789012:role/steps",
    )["stateMachineArn"]
    waits = {"no_movement_s": 60}
    previous = sfn.start_execution(
        stateMachineArn=machine, input=json.dumps({"queue": queue, "waits": waits})
    )
    token = None
    deadline = time.monotonic() + 30
    while token is None and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages")
        if messages:
            token = json.loads(messages[0]["Body"])["token"]
    assert token is not None, "the wait never sent its token"
    # The previous definition's ``ShippedAndWaitForDelivery`` payload, exactly.
    local_stack.invoke(
        lifecycle_steps(local_stack),
        {
            "tenant": tenant,
            "order_id": "o-1",
            "action": "wait",
            "wait": "delivery",
            "stage": "shipped",
            "task_token": token,
        },
    )
    carrier_update(local_stack, tenant, "1ZPREV", "return_to_sender", 20)
    local_stack.wait_idle(30)
    arn = previous["executionArn"]
    deadline = time.monotonic() + 30
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the previous definition's wait was never answered"
        time.sleep(0.2)
    events = sfn.get_execution_history(executionArn=arn)["events"]
    names = [
        e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")
    ]
    assert names == ["Wait", "Delivered"]
    output = json.loads(sfn.describe_execution(executionArn=arn)["output"])
    assert (output["delivery"]["outcome"], output["delivery"]["shipment"]) == (
        "problem",
        "return_to_sender",
    )


def test_not_dispatched_within_the_sla_alerts_then_still_ships(
    local_stack: Any, tmp_path: Path
) -> None:
    make_tenant(local_stack, tmp_path, "life-late", dispatch_sla_days=1)
    place_paid(local_stack, "life-late", "o-1")
    wait_for_stage(local_stack, "life-late", "o-1", "not_dispatched", "awaiting_shipment")
    wait_for_stage(local_stack, "life-late", "o-1", "awaiting_shipment", timeout_s=10)
    fulfil(local_stack, "life-late", "o-1", "1ZLATE")
    wait_for_stage(local_stack, "life-late", "o-1", "awaiting_delivery")


def test_an_order_is_confirmed_only_once_its_payment_arrives(
    local_stack: Any, tmp_path: Path
) -> None:
    """Issue 13, item 7: automatic capture confirmed an order the gateway had not paid."""
    make_tenant(local_stack, tmp_path, "life-pay-later")
    place(local_stack, "life-pay-later", "o-1")
    wait_for_stage(local_stack, "life-pay-later", "o-1", "awaiting_payment")
    time.sleep(2)  # two lifecycle days: still waiting, nobody told the order is confirmed
    assert wait_for_stage(local_stack, "life-pay-later", "o-1", "awaiting_payment")
    assert "order_confirmation" not in mails(local_stack, "life-pay-later", "o-1")
    pay(local_stack, "life-pay-later", "o-1")
    wait_for_stage(local_stack, "life-pay-later", "o-1", "awaiting_shipment")
    wait_for_mail(local_stack, "life-pay-later", "o-1", "order_confirmation")
    # The payment answered the screening's own state: no state of its own for the wait.
    assert entered(history(local_stack, "life-pay-later", "o-1")) == HAPPY_PATH[:2]


def test_an_order_approved_in_review_is_confirmed_once_paid(
    local_stack: Any, tmp_path: Path
) -> None:
    tenant = "life-approve-unpaid"
    make_tenant(local_stack, tmp_path, tenant, risk={"review_over": 1000})
    place(local_stack, tenant, "o-1")
    wait_for_stage(local_stack, tenant, "o-1", "potential_fraud")
    assert decide(local_stack, tenant, "o-1", "approve") == {"resumed": True}
    wait_for_stage(local_stack, tenant, "o-1", "awaiting_payment")
    pay(local_stack, tenant, "o-1")
    wait_for_stage(local_stack, tenant, "o-1", "awaiting_shipment")
    # After a review the payment is still waited for in a state of its own.
    assert entered(history(local_stack, tenant, "o-1")) == [*REVIEWED, "ConfirmAndWaitForShipment"]


def test_a_payment_that_came_before_the_order_confirms_it_without_waiting(
    local_stack: Any, tmp_path: Path
) -> None:
    make_tenant(local_stack, tmp_path, "life-pay-first", payment_timeout_hours=240)
    pay(local_stack, "life-pay-first", "o-1")
    local_stack.wait_idle(30)
    place(local_stack, "life-pay-first", "o-1")
    wait_for_stage(local_stack, "life-pay-first", "o-1", "awaiting_shipment")
    assert entered(history(local_stack, "life-pay-first", "o-1")) == HAPPY_PATH[:2]


def test_an_order_never_paid_is_cancelled_at_the_payment_timeout(
    local_stack: Any, tmp_path: Path
) -> None:
    make_tenant(local_stack, tmp_path, "life-unpaid", payment_timeout_hours=48)
    place(local_stack, "life-unpaid", "o-1")
    assert finished(local_stack, "life-unpaid", "o-1")["status"] == "SUCCEEDED"
    assert final_state(local_stack, "life-unpaid", "o-1") == "CancelUnpaid"
    # The screening's state timed out at the payment timeout: straight to the cancellation.
    assert entered(history(local_stack, "life-unpaid", "o-1")) == [
        "ScreenAndWaitForPayment",
        "CancelUnpaid",
    ]
    store = LifecycleStore(local_stack.deployment.outputs["TableName"])
    assert store.stage("life-unpaid", "o-1") == "cancelled"
    sent = wait_for_mail(local_stack, "life-unpaid", "o-1", "order_cancelled")
    assert "order_confirmation" not in sent
    cancelled = sent_mail(local_stack, "life-unpaid", "o-1")["order_cancelled"].as_string()
    assert "did not receive the payment" in cancelled and "refund" not in cancelled.lower()


def test_before_a_review_times_out_the_client_team_is_asked_to_call_the_customer(
    local_stack: Any, tmp_path: Path
) -> None:
    """Issue 13, item 10: the call task comes at the tenant's point before the timeout (here
    48 h into a 480 h review: 2 s then 18 s on the local stack), with the customer's phone, and
    the call's outcome lands on the order's timeline."""
    from click.testing import CliRunner

    from cli.main import main
    from functions.risk.use_cases.review_queue import review_queue
    from shared.order_store import OrderStore
    from tests.workflow.alerts import TopicInbox

    tenant = "life-call"
    make_tenant(
        local_stack,
        tmp_path,
        tenant,
        risk={"review_over": 1000},
        review_timeout_hours=480,
        review_call_before_timeout_hours=432,
    )
    alerts = TopicInbox(local_stack)
    place(
        local_stack,
        tenant,
        "o-1",
        billing_address={"country": "NL", "phone": "+31 20 555 0100"},
    )
    wait_for_stage(local_stack, tenant, "o-1", "potential_fraud")
    table = local_stack.deployment.outputs["TableName"]
    store = LifecycleStore(table)
    deadline = time.monotonic() + 20
    while (store.review(tenant, "o-1") or {}).get("call_task") is None:
        assert time.monotonic() < deadline, "no call task before the review's end"
        time.sleep(0.2)
    (entry,) = review_queue(store, OrderStore(table), tenant, datetime.now(UTC))
    assert entry["call"]["phone"] == "+31 20 555 0100"
    assert entry["call"]["reasons"] == entry["reasons"] and entry["call"]["score"] is not None
    assert entry["call"]["order_url"].endswith(f"/ops/tenants/{tenant}/orders/o-1")
    (notice,) = [m for m in alerts.messages(tenant) if m["kind"] == "call_customer"]
    assert notice["order_id"] == "o-1" and "Phone: +31 20 555 0100" in notice["message"]
    # What an operator runs: the queue shows the call task, the outcome is recorded.
    runner = CliRunner()
    local = ["--tenant", tenant, "--local", local_stack.base_url]
    queue = runner.invoke(main, ["risk", "queue", *local])
    assert queue.exit_code == 0 and "call +31 20 555 0100" in queue.output, queue.output
    declined = ["--outcome", "reached-declined", "--note", "never ordered", "--by", "alice"]
    answer = runner.invoke(main, ["reviews", "call-outcome", *local, "o-1", *declined])
    assert answer.exit_code == 0, answer.output
    assert "reject the review" in answer.output
    timeline = OrderStore(table).timeline(tenant, "o-1")
    assert any(e["summary"].startswith("customer called by alice") for e in timeline)
    assert decide(local_stack, tenant, "o-1", "reject") == {"resumed": True}
    assert finished(local_stack, tenant, "o-1")["status"] == "SUCCEEDED"
    assert final_state(local_stack, tenant, "o-1") == "CancelRejected"


def test_no_movement_past_the_tenants_limit_opens_a_claim(local_stack: Any, tmp_path: Path) -> None:
    tenant = "life-still"
    make_tenant(local_stack, tmp_path, tenant, delivery={"no_movement_days": 3, "claims_days": 3})
    place_paid(local_stack, tenant, "o-1")
    fulfil(local_stack, tenant, "o-1", "1ZSTILL")
    wait_for_stage(local_stack, tenant, "o-1", "awaiting_delivery")
    carrier_update(local_stack, tenant, "1ZSTILL", "in_transit", 1)
    # Nothing moves for three "days": a claim for the parcel, then the operator decides.
    assert finished(local_stack, tenant, "o-1")["status"] == "SUCCEEDED"
    assert after_shipping(history(local_stack, tenant, "o-1")) == [
        "ShippedAndWaitForDelivery",
        "NoMovementAndWaitForClaims",
        "DeliveryException",
    ]
    (claim,) = LifecycleStore(local_stack.deployment.outputs["TableName"]).claims(tenant, "o-1")
    assert (claim["tracking_code"], claim["problem"], claim["status"]) == (
        "1ZSTILL",
        "no_movement",
        "filed",
    )
    wait_for_mail(local_stack, tenant, "o-1", "delivery_problem")


# The no-movement limit of the heartbeat tests, in lifecycle days (a second each here): long
# enough that a scan a second keeps it alive on a loaded machine.
STILL_DAYS = 5


def shipped_and_waiting(
    stack: Any, tmp_path: Path, tenant: str, tracking: str, claims_days: int
) -> None:
    """Order ``o-1`` of a tenant whose no-movement limit is ``STILL_DAYS``, shipped in one
    parcel, its lifecycle waiting for the delivery."""
    make_tenant(
        stack,
        tmp_path,
        tenant,
        delivery={"no_movement_days": STILL_DAYS, "claims_days": claims_days},
    )
    place_paid(stack, tenant, "o-1")
    fulfil(stack, tenant, "o-1", tracking)
    wait_for_stage(stack, tenant, "o-1", "awaiting_delivery")


def keep_scanning(stack: Any, tenant: str, tracking: str, seconds: float) -> int:
    """A parcel scanned in transit about every second for ``seconds``, each scan later than
    the last (so each moves it); the last scan's minute."""
    began = time.monotonic()
    minute = 0
    while time.monotonic() - began < seconds:
        minute += 1
        carrier_update(
            stack, tenant, tracking, "in_transit", minute, event_id=f"evt_{tracking}_{minute}"
        )
        time.sleep(1)
    return minute


def waited(events: list[dict[str, Any]], state: str) -> float:
    """How long the execution stayed in ``state`` (entered once), in seconds."""
    (began,) = [
        e["timestamp"]
        for e in events
        if e["type"].endswith("StateEntered") and e["stateEnteredEventDetails"]["name"] == state
    ]
    (ended,) = [
        e["timestamp"]
        for e in events
        if e["type"].endswith("StateExited") and e["stateExitedEventDetails"]["name"] == state
    ]
    return float((ended - began).total_seconds())


def test_scans_keep_the_delivery_wait_alive_past_the_no_movement_limit(
    local_stack: Any, tmp_path: Path
) -> None:
    """Each scan that moves the parcel sends the delivery wait a heartbeat: the wait outlasts
    the tenant's no-movement limit as one state, where it used to time out, check for movement
    and wait again (three more states each limit)."""
    tenant = "life-moving"
    shipped_and_waiting(local_stack, tmp_path, tenant, "1ZMOVING", claims_days=30)
    last = keep_scanning(local_stack, tenant, "1ZMOVING", 2.5 * STILL_DAYS)
    carrier_update(local_stack, tenant, "1ZMOVING", "delivered", last + 1)
    assert finished(local_stack, tenant, "o-1")["status"] == "SUCCEEDED"
    events = history(local_stack, tenant, "o-1")
    assert entered(events) == HAPPY_PATH
    assert waited(events, "ShippedAndWaitForDelivery") > 2 * STILL_DAYS
    store = LifecycleStore(local_stack.deployment.outputs["TableName"])
    assert store.claims(tenant, "o-1") == []
    assert "delivery_problem" not in mails(local_stack, tenant, "o-1")


def test_scans_that_stop_for_the_limit_open_claims(local_stack: Any, tmp_path: Path) -> None:
    """A parcel scanned for a while past one limit, then no more: its claim opens once a whole
    limit passed without a scan, straight from the wait."""
    tenant = "life-stalled"
    shipped_and_waiting(local_stack, tmp_path, tenant, "1ZSTALLED", claims_days=2)
    keep_scanning(local_stack, tenant, "1ZSTALLED", 1.5 * STILL_DAYS)
    store = LifecycleStore(local_stack.deployment.outputs["TableName"])
    assert store.claims(tenant, "o-1") == []  # still moving a limit after the wait began
    assert finished(local_stack, tenant, "o-1", timeout_s=60)["status"] == "SUCCEEDED"
    events = history(local_stack, tenant, "o-1")
    assert after_shipping(events) == [
        "ShippedAndWaitForDelivery",
        "NoMovementAndWaitForClaims",
        "DeliveryException",
    ]
    assert waited(events, "ShippedAndWaitForDelivery") > 1.5 * STILL_DAYS
    (claim,) = store.claims(tenant, "o-1")
    assert (claim["tracking_code"], claim["problem"], claim["status"]) == (
        "1ZSTALLED",
        "no_movement",
        "filed",
    )
    wait_for_mail(local_stack, tenant, "o-1", "delivery_problem")
