"""The webhook front door on moto: every source, every way a request can be refused.

On every refusal the table and the archive bucket are asserted untouched.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Callable
from typing import Any

import pytest

from shared import signing
from tests.e2e.helpers import shop_order

Signer = Callable[[bytes, str, int], tuple[dict[str, str], dict[str, str]]]

STRIPE_EVENT = {
    "id": "evt_1",
    "object": "event",
    "type": "payment_intent.succeeded",
    "created": 1763888400,
    "data": {"object": {"id": "pi_1", "object": "payment_intent"}},
}
BODIES = {
    "stripe": STRIPE_EVENT,
    "easypost": {
        "id": "evt_ep1",
        "object": "Event",
        "description": "tracker.updated",
        "result": {"tracking_code": "EZ1"},
    },
    "aftership": {"event": "tracking_update", "event_id": "as-1", "msg": {"tracking_number": "A"}},
    "shippo": {"event": "track_updated", "data": {"tracking_number": "S1"}},
    "shop": shop_order("o-1", "shop-1"),
    "shopify": {"id": 450789469, "email": "bob@example.com"},
}
PATHS = {
    "stripe": "stripe",
    "easypost": "carriers/easypost",
    "aftership": "carriers/aftership",
    "shippo": "carriers/shippo",
    "shop": "shop",
    "shopify": "shopify",
}


def sign(
    source: str, body: bytes, secret: str, timestamp: int
) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and query parameters a genuine sender would attach."""
    if source == "stripe":
        return {"stripe-signature": signing.sign_stripe(body, secret, timestamp)}, {}
    if source == "shop":
        return {k.lower(): v for k, v in signing.sign_shop(body, secret, timestamp).items()}, {}
    if source == "easypost":
        return {"x-hmac-signature": signing.sign_easypost(body, secret)}, {}
    if source == "aftership":
        return {"aftership-hmac-sha256": signing.sign_aftership(body, secret)}, {}
    if source == "shopify":
        return {
            "x-shopify-hmac-sha256": signing.sign_shopify(body, secret),
            "x-shopify-topic": "orders/create",
            "x-shopify-webhook-id": "wh-1",
        }, {}
    token = "tok_old" if secret.endswith("old") else "tok_new"
    return ({"x-shippo-signature": signing.sign_shippo(body, secret, timestamp)}, {"token": token})


SECRETS = {
    "stripe": "whsec_new",
    "easypost": "ep_new",
    "aftership": "as_new",
    "shippo": "sh_new",
    "shop": "shop_new",
    "shopify": "sfy_new",
}
TIMESTAMPED = ("stripe", "shop", "shippo")


def call(
    source: str,
    body: bytes,
    headers: dict[str, str],
    query: dict[str, str] | None = None,
    tenant: str = "acme",
    base64_body: bool = False,
    content_type: str = "application/json",
) -> tuple[int, dict[str, Any]]:
    from functions.webhooks import composition
    from functions.webhooks.handlers import ingress

    # Each test stores its own secrets and settings: start from uncached dependencies.
    composition.intake_for.cache_clear()
    event = {
        "version": "2.0",
        "routeKey": "POST /webhooks/{tenant}/...",
        "rawPath": f"/webhooks/{tenant}/{PATHS[source]}",
        "headers": {"content-type": content_type, **headers},
        "queryStringParameters": query or {},
        "pathParameters": {"tenant": tenant},
        "body": base64.b64encode(body).decode() if base64_body else body.decode(),
        "isBase64Encoded": base64_body,
        "requestContext": {"http": {"method": "POST"}},
    }
    answer = ingress.handler(event, _Context())
    return answer["statusCode"], json.loads(answer["body"])


class _Context:
    function_name = "ingress"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ingress"
    aws_request_id = "req-1"


def untouched(aws_env: dict[str, Any]) -> bool:
    from tests.component.conftest import ARCHIVE, TABLE

    items: int = aws_env["ddb"].scan(TableName=TABLE)["Count"]
    objects: int = aws_env["s3"].list_objects_v2(Bucket=ARCHIVE).get("KeyCount", 0)
    return items == 0 and objects == 0


def stored(aws_env: dict[str, Any]) -> list[dict[str, Any]]:
    from tests.component.conftest import TABLE

    items: list[dict[str, Any]] = aws_env["ddb"].scan(TableName=TABLE)["Items"]
    return items


SOURCES = list(BODIES)


@pytest.mark.parametrize("source", SOURCES)
def test_valid_request_is_stored_once_and_a_duplicate_writes_nothing(
    aws_env: dict[str, Any], source: str
) -> None:
    body = json.dumps(BODIES[source]).encode()
    headers, query = sign(source, body, SECRETS[source], int(time.time()))
    status, answer = call(source, body, headers, query)
    assert (status, answer["duplicate"]) == (200, False)
    (item,) = stored(aws_env)
    assert item["source"]["S"] == source and item["tenant"]["S"] == "acme"
    assert stored_body(item) == body
    status, answer = call(source, body, headers, query)
    assert (status, answer["duplicate"]) == (200, True)
    assert len(stored(aws_env)) == 1


@pytest.mark.parametrize("source", SOURCES)
def test_tampered_body_is_refused(aws_env: dict[str, Any], source: str) -> None:
    body = json.dumps(BODIES[source]).encode()
    headers, query = sign(source, body, SECRETS[source], int(time.time()))
    status, answer = call(source, body.replace(b"}", b', "x": 1}', 1), headers, query)
    assert status == 401 and answer["error"] == "bad_signature"
    assert untouched(aws_env)


@pytest.mark.parametrize("source", SOURCES)
def test_wrong_secret_is_refused(aws_env: dict[str, Any], source: str) -> None:
    body = json.dumps(BODIES[source]).encode()
    headers, query = sign(source, body, "not-the-secret", int(time.time()))
    if source == "shippo":
        query = {"token": "tok_new"}  # right URL token, wrong HMAC
    status, answer = call(source, body, headers, query)
    assert status == 401 and answer["error"] == "bad_signature", answer
    assert untouched(aws_env)


def test_shippo_without_or_with_a_wrong_url_token_is_refused(aws_env: dict[str, Any]) -> None:
    body = json.dumps(BODIES["shippo"]).encode()
    headers, _ = sign("shippo", body, SECRETS["shippo"], int(time.time()))
    for query in ({}, {"token": "guess"}):
        status, answer = call("shippo", body, headers, query)
        assert status == 401 and "token" in answer["message"]
    assert untouched(aws_env)


@pytest.mark.parametrize("source", TIMESTAMPED)
def test_stale_timestamp_is_refused(aws_env: dict[str, Any], source: str) -> None:
    body = json.dumps(BODIES[source]).encode()
    headers, query = sign(source, body, SECRETS[source], int(time.time()) - 3600)
    status, answer = call(source, body, headers, query)
    assert status == 401 and answer["error"] == "stale_timestamp", answer
    assert untouched(aws_env)


@pytest.mark.parametrize("source", SOURCES)
def test_previous_secret_still_verifies_during_rotation(
    aws_env: dict[str, Any], source: str
) -> None:
    body = json.dumps(BODIES[source]).encode()
    old = SECRETS[source].replace("_new", "_old").replace("whsec_new", "whsec_old")
    headers, query = sign(source, body, old, int(time.time()))
    status, _ = call(source, body, headers, query)
    assert status == 200
    assert len(stored(aws_env)) == 1


def test_stripe_header_with_one_v1_per_secret_during_rotation(aws_env: dict[str, Any]) -> None:
    body = json.dumps(STRIPE_EVENT).encode()
    t = int(time.time())
    first = signing.sign_stripe(body, "whsec_unknown", t)
    second = signing.sign_stripe(body, "whsec_new", t).split(",")[1]
    status, _ = call("stripe", body, {"stripe-signature": f"{first},{second}"})
    assert status == 200


@pytest.mark.parametrize("source", SOURCES)
def test_base64_encoded_body_is_verified_on_the_decoded_bytes(
    aws_env: dict[str, Any], source: str
) -> None:
    body = json.dumps(BODIES[source]).encode()
    headers, query = sign(source, body, SECRETS[source], int(time.time()))
    status, _ = call(source, body, headers, query, base64_body=True)
    assert status == 200
    assert stored_body(stored(aws_env)[0]) == body


def stored_body(item: dict[str, Any]) -> bytes:
    """What the table keeps of a body, read back as the processor reads it."""
    from shared.raw_events import RawEvent, RawEventStore

    return RawEventStore("unused").body_of(RawEvent.from_item(item))


def test_unknown_tenant_is_refused_with_a_reason(aws_env: dict[str, Any]) -> None:
    body = json.dumps(STRIPE_EVENT).encode()
    headers, _ = sign("stripe", body, "whsec_new", int(time.time()))
    status, answer = call("stripe", body, headers, tenant="nobody")
    assert status == 400 and "unknown tenant" in answer["message"]
    assert untouched(aws_env)


def test_malformed_json_with_a_valid_signature_is_refused(aws_env: dict[str, Any]) -> None:
    body = b'{"id": "evt_1", '
    headers, _ = sign("stripe", body, "whsec_new", int(time.time()))
    status, answer = call("stripe", body, headers)
    assert status == 400 and answer["error"] == "malformed"
    assert untouched(aws_env)


def test_wrong_content_type_is_refused(aws_env: dict[str, Any]) -> None:
    body = json.dumps(STRIPE_EVENT).encode()
    headers, _ = sign("stripe", body, "whsec_new", int(time.time()))
    status, answer = call("stripe", body, headers, content_type="text/plain")
    assert status == 400 and answer["error"] == "content_type"
    assert untouched(aws_env)


def test_body_over_the_limit_is_413(aws_env: dict[str, Any]) -> None:
    body = json.dumps({**STRIPE_EVENT, "pad": "x" * 1_100_000}).encode()
    headers, _ = sign("stripe", body, "whsec_new", int(time.time()))
    status, answer = call("stripe", body, headers)
    assert status == 413 and answer["error"] == "too_large"
    assert untouched(aws_env)


def test_large_body_goes_to_the_archive_first(aws_env: dict[str, Any]) -> None:
    from tests.component.conftest import ARCHIVE

    # Incompressible: even zlib-packed, the body is over the inline limit.
    noise = base64.b64encode(random.Random(1).randbytes(200_000)).decode()
    body = json.dumps({**STRIPE_EVENT, "pad": noise}).encode()
    headers, _ = sign("stripe", body, "whsec_new", int(time.time()))
    assert call("stripe", body, headers)[0] == 200
    (item,) = stored(aws_env)
    assert "body" not in item and "body_z" not in item
    archived = aws_env["s3"].get_object(Bucket=ARCHIVE, Key=item["archive_key"]["S"])
    assert archived["Body"].read() == body
    # The duplicate neither writes the item nor the archive again.
    assert call("stripe", body, headers)[1]["duplicate"] is True
    versions = aws_env["s3"].list_objects_v2(Bucket=ARCHIVE)["KeyCount"]
    assert versions == 1


def test_a_large_body_that_packs_small_stays_in_the_item(aws_env: dict[str, Any]) -> None:
    from tests.component.conftest import ARCHIVE

    body = json.dumps({**STRIPE_EVENT, "pad": "x" * 200_000}).encode()
    headers, _ = sign("stripe", body, "whsec_new", int(time.time()))
    assert call("stripe", body, headers)[0] == 200
    (item,) = stored(aws_env)
    assert len(item["body_z"]["B"]) < 2_000
    assert stored_body(item) == body
    assert aws_env["s3"].list_objects_v2(Bucket=ARCHIVE)["KeyCount"] == 0


def test_unknown_event_type_is_stored(aws_env: dict[str, Any]) -> None:
    body = json.dumps({**STRIPE_EVENT, "id": "evt_odd", "type": "customer.created"}).encode()
    headers, _ = sign("stripe", body, "whsec_new", int(time.time()))
    assert call("stripe", body, headers)[0] == 200
    (item,) = stored(aws_env)
    assert item["event_type"]["S"] == "customer.created"
