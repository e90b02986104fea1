"""A chargeback during the return window, on the local stack (issue 15, item 4): the
lifecycle's release step finds the order disputed and holds the vendors' funds (stage
``funds_held``, nothing released) instead of closing; the desk opened the case meanwhile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from functions.disputes.adapters.case_store import DynamoCaseStore
from shared import keys, signing
from shared.lifecycle_store import LifecycleStore
from tests.e2e.helpers import post
from tests.workflow.test_lifecycle_local import (
    carrier_update,
    finished,
    fulfil,
    make_tenant,
    place_paid,
    wait_for_stage,
)

pytestmark = pytest.mark.local

TENANT = "life-disputed"


def dispute_webhook(stack: Any, tenant: str, order_id: str) -> None:
    event = {
        "id": f"evt_{tenant}_{order_id}_dispute",
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1_795_431_600,  # 2026-11-23T11:00:00Z
        "type": "charge.dispute.created",
        "data": {
            "object": {
                "id": f"dp_{order_id}",
                "object": "dispute",
                "amount": 3000,
                "currency": "usd",
                "charge": f"ch_{order_id}",
                "payment_intent": f"pi_{order_id}",
                "reason": "product_not_received",
                "status": "needs_response",
                "evidence_details": {"due_by": 1_796_169_599},
                "payment_method_details": {
                    "type": "card",
                    "card": {"brand": "visa", "network_reason_code": "13.1"},
                },
            }
        },
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


def test_a_disputed_order_keeps_its_vendor_funds(local_stack: Any, tmp_path: Path) -> None:
    make_tenant(local_stack, tmp_path, TENANT, return_window_days=15)
    place_paid(local_stack, TENANT, "o-1")
    wait_for_stage(local_stack, TENANT, "o-1", "awaiting_shipment")
    fulfil(local_stack, TENANT, "o-1", "1ZDISPUTED")
    wait_for_stage(local_stack, TENANT, "o-1", "awaiting_delivery")
    carrier_update(local_stack, TENANT, "1ZDISPUTED", "delivered", 30)
    wait_for_stage(local_stack, TENANT, "o-1", "delivered")
    dispute_webhook(local_stack, TENANT, "o-1")  # within the return window
    assert finished(local_stack, TENANT, "o-1", timeout_s=60)["status"] == "SUCCEEDED"
    table = local_stack.deployment.outputs["TableName"]
    store = LifecycleStore(table)
    assert store.stage(TENANT, "o-1") == "funds_held"
    released = local_stack.client("dynamodb").get_item(
        TableName=table,
        Key={"PK": {"S": keys.order_pk(TENANT, "o-1")}, "SK": {"S": keys.RELEASE_SK}},
    )
    assert "Item" not in released
    case = DynamoCaseStore(table).get(TENANT, "dp_o-1")
    assert case is not None and case.order_id == "o-1"
