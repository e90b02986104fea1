"""Parcels end to end on the local stack (issue 13.1, 13.2): the carrier sandbox posts each
provider's real webhooks for a parcel's journey, the processor applies them, the lifecycle
(executed by moto from the synthesized template) waits for every parcel.

- AfterShip: an attempt that failed and a delivery the next day end Closed with a delivered
  e-mail; the customer heard of the attempt; no claim was opened.
- EasyPost: two parcels, one delivered and one still in transit: not delivered until the
  second arrives.
- Shippo: a parcel the carrier declares lost opens a claim; delivered after all, the claim is
  withdrawn and the order reaches Closed.
"""

from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from local.sandboxes.carriers import (
    HUBS,
    CarrierSecrets,
    Journey,
    Outcome,
    Provider,
    journey_deliveries,
    plan_journey,
)
from local.sandboxes.delivery import Deliverer
from shared.lifecycle_store import LifecycleStore
from tests.e2e.helpers import post_shop
from tests.workflow.test_lifecycle_local import (
    execution,
    final_state,
    finished,
    make_tenant,
    pay,
    place,
    sent_mail,
    wait_for_mail,
    wait_for_stage,
)

pytestmark = pytest.mark.local

SECRETS = CarrierSecrets(
    easypost="easypost_e2e",
    aftership="aftership_e2e",
    shippo_token="shippo_e2e",
    shippo_secret="shippo_e2e_secret",
)
SHIPPED_AT = datetime(2026, 11, 23, 11, tzinfo=UTC)
# Long "days" of no movement and claims: these tests are about scans, not about timeouts.
DELIVERY = {"delivery": {"no_movement_days": 60, "claims_days": 60}}


def journey(order_id: str, provider: Provider, outcome: Outcome, seed: int) -> Journey:
    return plan_journey(
        random.Random(seed),
        order_id=order_id,
        provider=provider,
        shipped_at=SHIPPED_AT,
        destination=HUBS[3],
        outcome=outcome,
        hops=3,
    )


def fulfil(stack: Any, tenant: str, order_id: str, parcel: Journey, *lines: str) -> None:
    status, answer = post_shop(
        stack.base_url,
        tenant,
        {
            "event_id": f"{order_id}-fulfilled-{parcel.tracking_code}",
            "type": "order.fulfilled",
            "occurred_at": "2026-11-23T11:00:00Z",
            "order": {"order_id": order_id},
            "fulfillment": {
                "tracking_code": parcel.tracking_code,
                "carrier": parcel.carrier_name,
                **({"line_ids": list(lines)} if lines else {}),
            },
        },
    )
    assert status == 200, answer


def post_scans(stack: Any, tenant: str, parcel: Journey, updates: range) -> None:
    """The provider's webhooks for checkpoints ``updates`` (each a distinct event id: all of
    the journey's are made at once, then the chosen ones sent)."""
    deliveries = journey_deliveries(
        parcel,
        rng=random.Random(parcel.tracking_code),
        base_url=stack.base_url,
        tenant=tenant,
        secrets=SECRETS,
    )
    report = Deliverer(concurrency=1).deliver([deliveries[i] for i in updates])
    assert report.all_acknowledged, report.summary()
    stack.wait_idle(30)


def index_of(parcel: Journey, status: str) -> int:
    return next(i for i, point in enumerate(parcel.checkpoints) if point.status == status)


def running(stack: Any, tenant: str, order_id: str) -> bool:
    described = stack.client("stepfunctions").describe_execution(
        executionArn=execution(stack, tenant, order_id)
    )
    return bool(described["status"] == "RUNNING")


def claims(stack: Any, tenant: str, order_id: str) -> list[dict[str, Any]]:
    return LifecycleStore(stack.deployment.outputs["TableName"]).claims(tenant, order_id)


def stage(stack: Any, tenant: str, order_id: str) -> str | None:
    return LifecycleStore(stack.deployment.outputs["TableName"]).stage(tenant, order_id)


def ship(stack: Any, tmp_path: Path, tenant: str, order_id: str, **order: Any) -> None:
    make_tenant(stack, tmp_path, tenant, **DELIVERY)
    place(stack, tenant, order_id, **order)
    pay(stack, tenant, order_id)  # 30.00, what every order here costs
    wait_for_stage(stack, tenant, order_id, "awaiting_shipment")


def test_an_attempt_then_a_delivery_next_day_ends_closed_with_a_delivered_email(
    local_stack: Any, tmp_path: Path
) -> None:
    tenant, order_id = "parcel-attempt", "o-1"
    ship(local_stack, tmp_path, tenant, order_id)
    parcel = journey(order_id, Provider.AFTERSHIP, Outcome.ATTEMPTED, seed=11)
    fulfil(local_stack, tenant, order_id, parcel)
    wait_for_stage(local_stack, tenant, order_id, "awaiting_delivery")
    attempt = index_of(parcel, "attempt_failed")
    post_scans(local_stack, tenant, parcel, range(attempt + 1))
    wait_for_mail(local_stack, tenant, order_id, "delivery_problem")
    told = sent_mail(local_stack, tenant, order_id)["delivery_problem"].get_body(("plain",))
    assert told is not None and "still on its way" in told.get_content()
    # Not a lost parcel: no claim, and the order goes on waiting for its delivery.
    assert claims(local_stack, tenant, order_id) == []
    assert running(local_stack, tenant, order_id)
    assert stage(local_stack, tenant, order_id) == "awaiting_delivery"
    # The next day the carrier delivers.
    post_scans(local_stack, tenant, parcel, range(attempt + 1, len(parcel.checkpoints)))
    assert finished(local_stack, tenant, order_id)["status"] == "SUCCEEDED"
    assert final_state(local_stack, tenant, order_id) == "ReleaseFunds"
    sent = wait_for_mail(local_stack, tenant, order_id, "order_delivered")
    assert {"order_shipped", "delivery_problem", "order_delivered"} <= sent
    assert claims(local_stack, tenant, order_id) == []


def test_two_parcels_are_delivered_only_when_the_second_arrives(
    local_stack: Any, tmp_path: Path
) -> None:
    tenant, order_id = "parcel-two", "o-1"
    lines = [
        {
            "line_id": "l1",
            "sku": "S-1",
            "name": "Shirt",
            "quantity": 1,
            "unit_price": "10.00",
            "vendor_id": "v1",
        },
        {
            "line_id": "l2",
            "sku": "B-2",
            "name": "Boots",
            "quantity": 1,
            "unit_price": "20.00",
            "vendor_id": "v2",
        },
    ]
    ship(local_stack, tmp_path, tenant, order_id, total="30.00", lines=lines)
    first = journey(order_id, Provider.EASYPOST, Outcome.DELIVERED, seed=21)
    second = journey(order_id, Provider.EASYPOST, Outcome.DELIVERED, seed=22)
    fulfil(local_stack, tenant, order_id, first, "l1")
    fulfil(local_stack, tenant, order_id, second, "l2")
    wait_for_stage(local_stack, tenant, order_id, "awaiting_delivery")
    post_scans(local_stack, tenant, first, range(len(first.checkpoints)))
    post_scans(local_stack, tenant, second, range(index_of(second, "out_for_delivery")))
    time.sleep(2)  # two lifecycle "days": time enough for a wrong resume to show
    local_stack.wait_idle(30)
    assert running(local_stack, tenant, order_id)
    assert stage(local_stack, tenant, order_id) == "awaiting_delivery"
    assert "order_delivered" not in sent_mail(local_stack, tenant, order_id)
    post_scans(local_stack, tenant, second, range(len(second.checkpoints)))
    assert finished(local_stack, tenant, order_id)["status"] == "SUCCEEDED"
    assert final_state(local_stack, tenant, order_id) == "ReleaseFunds"
    wait_for_mail(local_stack, tenant, order_id, "order_delivered")


def test_a_lost_parcel_opens_a_claim_and_its_delivery_closes_it_and_the_order(
    local_stack: Any, tmp_path: Path
) -> None:
    tenant, order_id = "parcel-found", "o-1"
    ship(local_stack, tmp_path, tenant, order_id)
    parcel = journey(order_id, Provider.SHIPPO, Outcome.FOUND, seed=31)
    fulfil(local_stack, tenant, order_id, parcel)
    wait_for_stage(local_stack, tenant, order_id, "awaiting_delivery")
    lost = index_of(parcel, "lost")
    post_scans(local_stack, tenant, parcel, range(lost + 1))
    (claim,) = claims(local_stack, tenant, order_id)
    assert (claim["tracking_code"], claim["problem"], claim["status"]) == (
        parcel.tracking_code,
        "lost",
        "filed",
    )
    assert claim["lines"] == ["l1"]
    wait_for_mail(local_stack, tenant, order_id, "delivery_problem")
    assert running(local_stack, tenant, order_id)
    post_scans(local_stack, tenant, parcel, range(lost + 1, len(parcel.checkpoints)))
    assert finished(local_stack, tenant, order_id)["status"] == "SUCCEEDED"
    assert final_state(local_stack, tenant, order_id) == "ReleaseFunds"
    (claim,) = claims(local_stack, tenant, order_id)
    assert claim["status"] == "withdrawn"
    assert [h["status"] for h in claim["history"]] == ["filed", "withdrawn"]
    wait_for_mail(local_stack, tenant, order_id, "order_delivered")


def test_one_parcel_delivered_and_one_lost_pays_the_delivered_lines_only(
    local_stack: Any, tmp_path: Path
) -> None:
    from functions.orders.use_cases.operations import record_claim
    from shared import aws, keys
    from tests.workflow.orders_api import orders

    tenant, order_id = "parcel-half", "o-1"
    lines = [
        {"line_id": "l1", "sku": "S-1", "name": "Shirt", "quantity": 1, "unit_price": "10.00",
         "vendor_id": "v1"},
        {"line_id": "l2", "sku": "B-2", "name": "Boots", "quantity": 1, "unit_price": "20.00",
         "vendor_id": "v2"},
    ]  # fmt: skip
    ship(local_stack, tmp_path, tenant, order_id, total="30.00", lines=lines)
    arrived = journey(order_id, Provider.AFTERSHIP, Outcome.DELIVERED, seed=41)
    lost = journey(order_id, Provider.AFTERSHIP, Outcome.FOUND, seed=42)
    fulfil(local_stack, tenant, order_id, arrived, "l1")
    fulfil(local_stack, tenant, order_id, lost, "l2")
    wait_for_stage(local_stack, tenant, order_id, "awaiting_delivery")
    post_scans(local_stack, tenant, arrived, range(len(arrived.checkpoints)))
    post_scans(local_stack, tenant, lost, range(index_of(lost, "lost") + 1))
    (claim,) = claims(local_stack, tenant, order_id)
    assert (claim["tracking_code"], claim["lines"]) == (lost.tracking_code, ["l2"])
    assert running(local_stack, tenant, order_id)
    # The carrier rejects the claim: every parcel is settled, one of them not delivered.
    record_claim(orders(local_stack), tenant, order_id, lost.tracking_code, "rejected", by="ops")
    assert finished(local_stack, tenant, order_id)["status"] == "SUCCEEDED"
    assert final_state(local_stack, tenant, order_id) == "ReleaseDeliveredFunds"
    assert stage(local_stack, tenant, order_id) == "delivery_problem"
    release = aws.client("dynamodb").get_item(
        TableName=local_stack.deployment.outputs["TableName"],
        Key={"PK": {"S": keys.order_pk(tenant, order_id)}, "SK": {"S": keys.RELEASE_SK}},
    )["Item"]
    assert [line["line_id"] for line in json.loads(release["lines"]["S"])] == ["l1"]
