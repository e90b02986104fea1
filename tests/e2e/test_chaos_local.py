"""Chaos on the local stack: a business day's webhooks with duplicates and any order.

At least 2,000 deliveries for 200 orders from the three sandboxes (shop and Shopify, Stripe,
EasyPost/AfterShip/Shippo), 30% of events sent again and the whole stream shuffled, against
the deployed template on moto. The final order states must equal one in-order pass; the stored
events must be exactly the unique events sent; each order's timeline must hold exactly one
entry per unique event applied to it.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from local.sandboxes.delivery import Deliverer
from local.sandboxes.scenario import ScenarioConfig, business_day
from local.sandboxes.stripe_sandbox import StripeSandbox
from shared import keys
from shared.order_store import OrderStore
from tests.e2e.ingestion_passes import in_order_pass
from tests.e2e.test_ingestion_local import install_scenario_tenant

pytestmark = [pytest.mark.local, pytest.mark.long]

TENANT = "chaos"
ORDERS = int(os.environ.get("CHAOS_ORDERS", "200"))  # fewer only to iterate by hand


def _stored_event_ids(stack: Any, tenant: str) -> set[tuple[str, str]]:
    ddb = stack.client("dynamodb")
    found: set[tuple[str, str]] = set()
    for source in ("stripe", "easypost", "aftership", "shippo", "shop", "shopify"):
        for page in ddb.get_paginator("query").paginate(
            TableName=stack.deployment.outputs["TableName"],
            IndexName="ByStatus",
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"T#{tenant}#RAW#{source}"}},
            ProjectionExpression="PK",  # the index keeps keys: the event id ends the key
        ):
            prefix = keys.raw_pk(tenant, source, "")
            found |= {(source, item["PK"]["S"].removeprefix(prefix)) for item in page["Items"]}
    return found


def test_duplicates_and_reordering_end_as_one_in_order_pass(
    local_stack: Any, tmp_path: Path
) -> None:
    with StripeSandbox(seed=11) as stripe_sandbox:
        assert stripe_sandbox.base_url is not None
        scenario = business_day(
            ScenarioConfig(base_url=local_stack.base_url, tenant=TENANT, orders=ORDERS, seed=5),
            stripe=stripe_sandbox,
        )
        install_scenario_tenant(local_stack, tmp_path, TENANT, scenario)
        local_stack.dispatcher.overrides["STRIPE_API_BASE"] = stripe_sandbox.base_url
        # Ingestion alone: the orders' lifecycles are the workflow tests' subject, and 200 of
        # them running at once would only slow this test down.
        local_stack.dispatcher.overrides["LIFECYCLE_STATE_MACHINE"] = ""
        try:
            assert scenario.unique_deliveries() >= 10 * ORDERS
            assert len(scenario.orders) >= ORDERS
            expected_orders, unique_events, applied = in_order_pass(scenario.deliveries)

            started = time.monotonic()
            report = Deliverer(
                duplicate_rate=0.3, reorder="full", concurrency=4, seed=3, deadline=600
            ).deliver(scenario.deliveries)
            assert report.all_acknowledged, report.summary()
            assert report.duplicates >= 0.25 * report.unique
            delivered_s = time.monotonic() - started
            local_stack.wait_idle(600)
            print(
                f"chaos: {report.summary()}; delivered in {delivered_s:.1f}s, "
                f"processed by {time.monotonic() - started:.1f}s"
            )
        finally:
            local_stack.dispatcher.overrides.pop("STRIPE_API_BASE", None)
            local_stack.dispatcher.overrides.pop("LIFECYCLE_STATE_MACHINE", None)

    # Stored events are exactly the unique events sent.
    stored = _stored_event_ids(local_stack, TENANT)
    assert stored == unique_events, (
        sorted(unique_events - stored)[:5],
        sorted(stored - unique_events)[:5],
    )

    store = OrderStore(local_stack.deployment.outputs["TableName"])
    differences = []
    timeline_total = 0
    for (tenant, order_id), (expected, _) in expected_orders.orders.items():
        actual, _ = store.load(tenant, order_id)
        if actual.model_dump() != expected.model_dump():
            differences.append((order_id, expected.status(), actual.status()))
        # Only the events' entries: the lifecycle adds its e-mails to the timeline too.
        timeline = [e for e in store.timeline(tenant, order_id) if e["source"] != "notify"]
        timeline_total += len(timeline)
        assert len(timeline) == len(expected_orders.timelines[(tenant, order_id)]), order_id
        assert len({e["SK"] for e in timeline}) == len(timeline)
    assert differences == []
    # Events parked for an order that never came (a payment without an order) are in no timeline.
    assert timeline_total == sum(len(t) for t in expected_orders.timelines.values())
    assert applied >= timeline_total
    statuses = Counter(state.status() for state, _ in expected_orders.orders.values())
    # The day reaches the states a real one does.
    assert {"delivered", "refunded", "cancelled", "payment_failed"} <= set(statuses), statuses
