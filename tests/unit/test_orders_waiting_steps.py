"""Steps that record a stage and then wait in the same state (issue 17: fewer state
transitions): the stage's e-mail or alert goes once however often Step Functions delivers the
invocation, a wait that only goes on waiting redoes nothing, and a refund submitted and
awaited in one state is still one refund at the gateway."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from functions.orders import contracts as c
from functions.orders.use_cases import lifecycle, refunds
from shared.events import ChargeRefunded, Refund, Source
from tests.clocks import FixedClock
from tests.orders_fakes import FakePorts, FakeTenants
from tests.unit.test_orders_use_cases import ACME, T0, eur, paid, placed, prepare, shipment


@pytest.fixture
def fake() -> FakePorts:
    return FakePorts(clock=FixedClock(T0 + timedelta(hours=1)), tenants=FakeTenants(ACME))


def wait(fake: FakePorts, kind: c.WaitKind, token: str, **fields: Any) -> None:
    lifecycle.wait(
        fake.ports(),
        c.WaitInput(
            tenant="acme",
            order_id="o-1",
            action=c.LifecycleAction.WAIT,
            wait=kind,
            task_token=token,
            **fields,
        ),
    )


def test_confirming_and_waiting_for_the_shipment_sends_the_confirmation_once(
    fake: FakePorts,
) -> None:
    fake.orders.add(placed(), paid())
    for token in ("tok-1", "tok-2"):  # a redelivered invocation
        wait(fake, c.WaitKind.SHIPMENT, token, stage=c.Stage.CONFIRMED)
    assert fake.mailer.kinds() == ["order_confirmation"]
    assert fake.records.stage("acme", "o-1") == "awaiting_shipment"
    assert fake.records.waits[("acme", "o-1", "shipment")] == "tok-2"
    assert fake.workflows.resumed == []


def test_the_late_shipment_wait_alerts_the_client_team_and_confirms_nothing_again(
    fake: FakePorts,
) -> None:
    fake.orders.add(placed(), paid())
    wait(fake, c.WaitKind.SHIPMENT, "tok-1", stage=c.Stage.CONFIRMED)
    wait(fake, c.WaitKind.SHIPMENT, "tok-2", stage=c.Stage.NOT_DISPATCHED)
    assert fake.mailer.kinds() == ["order_confirmation", "not_dispatched"]
    assert fake.records.stage("acme", "o-1") == "awaiting_shipment"


def test_shipped_then_waiting_tells_the_customer_once_and_a_rewait_tells_nobody(
    fake: FakePorts,
) -> None:
    fake.orders.add(placed(), paid(), shipment("in_transit"))
    for token in ("tok-1", "tok-2"):  # a redelivered invocation
        wait(fake, c.WaitKind.DELIVERY, token, stage=c.Stage.SHIPPED)
    assert fake.mailer.kinds() == ["order_shipped"]
    assert fake.records.stage("acme", "o-1") == "awaiting_delivery"
    # A parcel moved: the same wait again, without the stage.
    stages: list[str] = []
    recorded = fake.records.set_stage

    def record(tenant: str, order_id: str, stage: str, detail: str = "") -> None:
        stages.append(stage)
        recorded(tenant, order_id, stage, detail)

    fake.records.set_stage = record  # type: ignore[method-assign]
    wait(fake, c.WaitKind.DELIVERY, "tok-3")
    assert stages == ["awaiting_delivery"]
    assert fake.mailer.kinds() == ["order_shipped"]
    assert fake.records.waits[("acme", "o-1", "delivery")] == "tok-3"


def test_no_movement_then_waiting_for_the_claims_opens_one_claim(fake: FakePorts) -> None:
    fake.orders.add(placed(), paid(), shipment("in_transit"))
    for token in ("tok-1", "tok-2"):
        wait(
            fake,
            c.WaitKind.DELIVERY,
            token,
            stage=c.Stage.DELIVERY_PROBLEM,
            shipment="no_movement",
        )
    (claim,) = fake.records.claims("acme", "o-1")
    assert (claim["problem"], claim["status"]) == ("no_movement", "filed")
    assert fake.mailer.kinds().count("delivery_problem") == 1
    assert fake.records.stage("acme", "o-1") == "awaiting_delivery"


def test_a_wait_cannot_record_a_stage_that_is_not_a_waits_beginning() -> None:
    with pytest.raises(ValueError, match="stage"):
        c.WaitInput(
            tenant="acme",
            order_id="o-1",
            action=c.LifecycleAction.WAIT,
            wait=c.WaitKind.DELIVERY,
            task_token="tok",
            stage=c.Stage.DELIVERED,
        )


# -- a refund submitted and awaited in one state --------------------------------------------------


def submit(fake: FakePorts, prepared: c.Prepared, token: str | None) -> c.Submitted:
    return refunds.submit(
        fake.ports(),
        c.SubmitInput(
            tenant="acme",
            order_id="o-1",
            refund_id="r1",
            action=c.RefundAction.SUBMIT,
            prepared=prepared,
            task_token=token,
        ),
    )


def test_submitting_and_waiting_makes_one_refund_and_parks_the_latest_token(
    fake: FakePorts,
) -> None:
    fake.orders.add(placed(), paid())
    prepared = prepare(fake, "r1", amount=1000)
    for token in ("tok-1", "tok-2"):  # Step Functions retries the state
        submitted = submit(fake, prepared, token)
    assert len(fake.payments.of("re")) == 1
    assert fake.records.waits[("acme", "o-1", f"refund:{submitted.gateway_refund_id}")] == "tok-2"
    assert fake.workflows.resumed == []


def test_a_refund_the_gateway_confirmed_already_resumes_at_once(fake: FakePorts) -> None:
    fake.orders.add(placed(), paid())
    prepared = prepare(fake, "r1", amount=1000)
    confirmed = ChargeRefunded(
        tenant="acme",
        source=Source.STRIPE,
        source_event_id="evt-refunded",
        occurred_at=T0 + timedelta(minutes=5),
        order_id="o-1",
        payment_id="pi_1",
        charge_id="ch-pi_1",
        amount_refunded=eur(1000),
        # FakePayments names its first call's refund ``re_1``.
        refunds=(Refund(refund_id="re_1", amount=eur(1000), status="succeeded"),),
    )
    fake.orders.add(confirmed)
    assert submit(fake, prepared, "tok").gateway_refund_id == "re_1"
    assert fake.workflows.resumed == [("tok", {"confirmed": "re_1"})]


def test_a_wait_that_fails_after_the_gateway_took_the_refund_is_not_a_refusal(
    fake: FakePorts,
) -> None:
    fake.orders.add(placed(), paid())
    prepared = prepare(fake, "r1", amount=1000)

    def broken(tenant: str, order_id: str, wait: str, token: str) -> None:
        raise ConnectionError("table unreachable")

    fake.records.put_wait = broken  # type: ignore[method-assign]
    with pytest.raises(refunds.ConfirmationNotAwaited, match="re_1: table unreachable"):
        submit(fake, prepared, "tok")
    assert fake.refunds.requests("acme", "o-1")[0]["status"] == "submitted"


def test_a_submit_without_a_token_only_submits(fake: FakePorts) -> None:
    """Executions started before the two were one state submit, then wait in a state."""
    fake.orders.add(placed(), paid())
    prepared = prepare(fake, "r1", amount=1000)
    submit(fake, prepared, None)
    assert len(fake.payments.of("re")) == 1
    assert fake.records.waits == {}
