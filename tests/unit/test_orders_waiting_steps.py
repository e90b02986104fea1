"""Steps that record a stage and then wait in the same state (issue 17: fewer state
transitions): the stage's e-mail or alert goes once however often Step Functions delivers the
invocation, and a wait that only goes on waiting redoes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from functions.orders import contracts as c
from functions.orders.use_cases import lifecycle
from tests.clocks import FixedClock
from tests.orders_fakes import FakePorts, FakeTenants
from tests.unit.test_orders_use_cases import ACME, T0, paid, placed, shipment


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
    # A parcel moved, on the definitions before the heartbeat (``KeepWaitingForDelivery``,
    # which executions started on them still reach): the same wait again, without the stage.
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
