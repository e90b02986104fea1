"""Hostile traffic against the local stack, over HTTP (security review, defects 1, 3, 8 to 10 and
13): replays with swapped unsigned headers for every source, ids built to collide, bodies
built to break the parser — nothing moves money twice, skips screening, or is acknowledged
and then lost."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import stripe

from functions.orders.use_cases.operations import request_refund
from shared import aws, signing
from shared.lifecycle_store import LifecycleStore
from shared.order_store import OrderStore
from shared.workflows import execution_arn, execution_name
from tests.e2e.helpers import SHOP_SECRET, post, shop_order
from tests.unit.test_normalise_shop import shopify_order
from tests.workflow.orders_api import orders
from tests.workflow.test_lifecycle_local import make_tenant, wait_for_stage
from tests.workflow.test_money_safety_local import pay
from tests.workflow.test_refunds_local import STRIPE_KEY, forward

pytestmark = pytest.mark.local

SHOPIFY_SECRET = "shopify_e2e"


def shopify_headers(body: bytes, topic: str, webhook_id: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-shopify-hmac-sha256": signing.sign_shopify(body, SHOPIFY_SECRET),
        "x-shopify-topic": topic,
        "x-shopify-webhook-id": webhook_id,
        "x-shopify-event-id": webhook_id,
        "x-shopify-triggered-at": "2026-11-23T10:00:00Z",
    }


def shop_headers(body: bytes) -> dict[str, str]:
    return {"content-type": "application/json", **signing.sign_shop(body, SHOP_SECRET)}


def raw_events(stack: Any, tenant: str) -> int:
    ddb = stack.client("dynamodb")
    count = 0
    for source in ("stripe", "easypost", "aftership", "shippo", "shop", "shopify"):
        count += ddb.query(
            TableName=stack.deployment.outputs["TableName"],
            IndexName="ByStatus",
            KeyConditionExpression="GSI2PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"T#{tenant}#RAW#{source}"}},
            Select="COUNT",
        )["Count"]
    return int(count)


def test_a_captured_shopify_order_resent_as_a_cancellation_moves_no_money(
    local_stack: Any, sandbox: Any, tmp_path: Path
) -> None:
    """Defect 1: the signed orders/create body re-sent with X-Shopify-Topic: orders/cancelled
    and a new webhook id cancelled the paid order and refunded it in full."""
    tenant = "hostile-shopify"
    make_tenant(local_stack, tmp_path, tenant)
    order = shopify_order()
    order_id = str(order["id"])
    body = json.dumps(order).encode()
    status, first = post(
        local_stack.base_url,
        f"/webhooks/{tenant}/shopify",
        body,
        shopify_headers(body, "orders/create", "wh-1"),
    )
    assert (status, first["duplicate"]) == (200, False)
    client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": sandbox.base_url})
    intent = pay(sandbox, order_id, 40300)
    forward(local_stack, sandbox, tenant)
    wait_for_stage(local_stack, tenant, order_id, "awaiting_shipment")
    status, replay = post(
        local_stack.base_url,
        f"/webhooks/{tenant}/shopify",
        body,
        shopify_headers(body, "orders/cancelled", "wh-attacker"),
    )
    assert (status, replay["duplicate"]) == (200, True)
    local_stack.wait_idle(30)
    table = local_stack.deployment.outputs["TableName"]
    state, _ = OrderStore(table).load(tenant, order_id)
    assert state.cancelled_at is None and state.status() == "paid"
    assert LifecycleStore(table).stage(tenant, order_id) == "awaiting_shipment"
    assert client.v1.refunds.list({"payment_intent": intent}).data == []


def _signed_requests(tenant: str) -> dict[str, tuple[str, bytes, dict[str, str]]]:
    """One genuine request per source: path, body, headers (query in the path)."""
    t = int(time.time())
    stripe_body = json.dumps(
        {"id": f"evt_{uuid.uuid4().hex}", "type": "customer.created", "created": t}
    ).encode()
    easypost = json.dumps(
        {"id": f"evt_{uuid.uuid4().hex}", "description": "tracker.updated", "result": {}}
    ).encode()
    aftership = json.dumps({"event": "tracking_update", "event_id": uuid.uuid4().hex}).encode()
    shippo = json.dumps({"event": "track_updated", "data": {"n": uuid.uuid4().hex}}).encode()
    shop = json.dumps(shop_order(f"o-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex)).encode()
    shopify = json.dumps({**shopify_order(), "id": int(time.time() * 1000)}).encode()
    json_type = {"content-type": "application/json"}
    return {
        "stripe": (
            f"/webhooks/{tenant}/stripe",
            stripe_body,
            {**json_type, "stripe-signature": signing.sign_stripe(stripe_body, "whsec_e2e", t)},
        ),
        "easypost": (
            f"/webhooks/{tenant}/carriers/easypost",
            easypost,
            {**json_type, "x-hmac-signature": signing.sign_easypost(easypost, "easypost_e2e")},
        ),
        "aftership": (
            f"/webhooks/{tenant}/carriers/aftership",
            aftership,
            {
                **json_type,
                "aftership-hmac-sha256": signing.sign_aftership(aftership, "aftership_e2e"),
            },
        ),
        "shippo": (
            f"/webhooks/{tenant}/carriers/shippo?token=shippo_e2e",
            shippo,
            {
                **json_type,
                "x-shippo-signature": signing.sign_shippo(shippo, "shippo_e2e_secret", t),
            },
        ),
        "shop": (f"/webhooks/{tenant}/shop", shop, shop_headers(shop)),
        "shopify": (
            f"/webhooks/{tenant}/shopify",
            shopify,
            shopify_headers(shopify, "orders/create", "wh-2"),
        ),
    }


# Every header a sender can change without its signature noticing.
UNSIGNED = {
    "user-agent": "attacker/1.0",
    "x-shopify-topic": "orders/cancelled",
    "x-shopify-webhook-id": "wh-swapped",
    "x-shopify-event-id": "ev-swapped",
    "x-shopify-triggered-at": "2030-01-01T00:00:00Z",
    "x-shopify-shop-domain": "other.myshopify.com",
    "idempotency-key": "swapped",
    "x-request-id": "swapped",
}


def test_replays_with_swapped_unsigned_headers_store_nothing_new_for_any_source(
    local_stack: Any, tmp_path: Path
) -> None:
    tenant = "hostile-headers"
    make_tenant(local_stack, tmp_path, tenant)
    for source, (path, body, headers) in _signed_requests(tenant).items():
        status, first = post(local_stack.base_url, path, body, headers)
        assert status == 200, (source, first)
        stored = raw_events(local_stack, tenant)
        for name, value in UNSIGNED.items():
            status, again = post(local_stack.base_url, path, body, {**headers, name: value})
            assert (status, again.get("duplicate")) == (200, True), (source, name, again)
            assert again["event_id"] == first["event_id"], (source, name)
        assert raw_events(local_stack, tenant) == stored, source


LONG_TENANT = "hostile-a-very-long-client-shop-name"  # 36 characters


def test_orders_with_colliding_ids_each_get_their_own_lifecycle_and_screening(
    local_stack: Any, tmp_path: Path
) -> None:
    """Defect 3: X.1, X_1 and X/1 shared one lifecycle; the second and third were never
    screened or given a lifecycle of their own."""
    make_tenant(local_stack, tmp_path, LONG_TENANT)
    ids = ["X.1", "X_1", "X/1", "X 1", f"{uuid.uuid4()}"]
    for index, order_id in enumerate(ids):
        document = shop_order(order_id, f"placed-{order_id}")
        document["order"]["customer"]["email"] = f"buyer{index}@example.com"
        body = json.dumps(document).encode()
        status, answer = post(
            local_stack.base_url, f"/webhooks/{LONG_TENANT}/shop", body, shop_headers(body)
        )
        assert status == 200, answer
    table = local_stack.deployment.outputs["TableName"]
    lifecycle = LifecycleStore(table)
    machine = local_stack.deployment.outputs["LifecycleStateMachine"]
    sfn = local_stack.client("stepfunctions")
    for order_id in ids:
        # Unpaid: each is screened and waits for its own payment.
        wait_for_stage(local_stack, LONG_TENANT, order_id, "awaiting_payment")
        assert lifecycle.screening(LONG_TENANT, order_id) is not None, order_id
        described = sfn.describe_execution(
            executionArn=execution_arn(machine, execution_name(LONG_TENANT, order_id))
        )
        assert json.loads(described["input"])["order_id"] == order_id


def test_two_refunds_of_a_long_id_order_are_two_workflows(
    local_stack: Any, sandbox: Any, tmp_path: Path
) -> None:
    """Defect 3: with a 30+ character tenant and a UUID order every refund of the order got
    the same name, and only the first ran while the operator saw 202."""
    make_tenant(local_stack, tmp_path, LONG_TENANT)
    order_id = str(uuid.uuid4())
    body = json.dumps(shop_order(order_id, f"placed-{order_id}", total="50.00")).encode()
    # shop_order's one line carries the whole total.
    assert (
        post(local_stack.base_url, f"/webhooks/{LONG_TENANT}/shop", body, shop_headers(body))[0]
        == 200
    )
    client = stripe.StripeClient(STRIPE_KEY, base_addresses={"api": sandbox.base_url})
    intent = pay(sandbox, order_id, 5000)
    forward(local_stack, sandbox, LONG_TENANT)
    for refund_id in ("first-partial-refund", "second-partial-refund"):
        answer = request_refund(
            orders(local_stack),
            LONG_TENANT,
            order_id,
            amount=1000,
            refund_id=refund_id,
        )
        assert answer["started"] is True
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        forward(local_stack, sandbox, LONG_TENANT)
        if len(client.v1.refunds.list({"payment_intent": intent}).data) == 2:
            break
        time.sleep(0.2)
    amounts = [r.amount for r in client.v1.refunds.list({"payment_intent": intent}).data]
    assert amounts == [1000, 1000]


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b'{"event_id": "x\xff", "type": "order.created"}', 400, "not UTF-8"),
        ('{"event_id": "x", "type": "order.created"}'.encode("utf-16"), 400, "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "nests deeper"),
        (b'{"n": ' + b"9" * 5000 + b"}", 400, "not usable JSON"),
    ],
    ids=["latin-1 byte", "utf-16", "100k deep", "5000-digit number"],
)
def test_unprocessable_bodies_are_400_and_store_nothing(
    local_stack: Any, tmp_path: Path, body: bytes, status: int, reason: str
) -> None:
    """Defect 8: these were 500s, so senders would retry them for ever."""
    tenant = "hostile-bodies"
    make_tenant(local_stack, tmp_path, tenant)
    before = raw_events(local_stack, tenant)
    got, answer = post(local_stack.base_url, f"/webhooks/{tenant}/shop", body, shop_headers(body))
    assert got == status and reason in answer["message"], answer
    assert raw_events(local_stack, tenant) == before


def test_orders_no_item_could_hold_or_no_payment_reaches_are_refused_at_the_door(
    local_stack: Any, tmp_path: Path
) -> None:
    """Defect 9: 10^40 amounts were acknowledged (and broke every read after), a 550 KB order
    was acknowledged and could never be stored."""
    tenant = "hostile-bulky"
    make_tenant(local_stack, tmp_path, tenant)
    huge = shop_order("o-huge", "e-huge", total="1" + "0" * 40)
    body = json.dumps(huge).encode()
    status, answer = post(
        local_stack.base_url, f"/webhooks/{tenant}/shop", body, shop_headers(body)
    )
    assert status == 400, answer
    bulky = shop_order("o-bulky", "e-bulky")
    line = bulky["order"]["lines"][0]
    bulky["order"]["lines"] = [
        {**line, "line_id": f"l{i}" + "i" * 190, "name": "n" * 200, "sku": "s" * 200}
        for i in range(500)
    ]
    body = json.dumps(bulky).encode()
    status, answer = post(
        local_stack.base_url, f"/webhooks/{tenant}/shop", body, shop_headers(body)
    )
    assert status == 413, answer
    assert raw_events(local_stack, tenant) == 0


def test_unknown_tenants_are_refused_cheaply(local_stack: Any) -> None:
    """Defect 10: every request for an unknown tenant cost a secrets call, and a tenant id
    with a trailing newline passed the pattern."""
    calls: list[str] = []
    ssm = aws.client("ssm")

    def count(**kwargs: Any) -> None:
        calls.append(kwargs.get("event_name", ""))

    ssm.meta.events.register("before-call.ssm.*", count)
    try:
        body = json.dumps(shop_order("o-1", "e-1")).encode()
        for _ in range(20):
            status, answer = post(
                local_stack.base_url, "/webhooks/nobody-here/shop", body, shop_headers(body)
            )
            assert status == 400 and "unknown tenant" in answer["message"]
        status, _ = post(local_stack.base_url, "/webhooks/demo%0A/shop", body, shop_headers(body))
        assert status in (400, 404)
    finally:
        ssm.meta.events.unregister("before-call.ssm.*", count)
    assert len(calls) <= 1, calls
