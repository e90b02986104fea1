"""The front door against hostile traffic (security review, defects 1, 8, 9 and 13): the body
decides, bad input is a 4xx with a reason, and nothing acknowledged is unstorable."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from shared import signing
from shared.tenants import TenantDirectory, TenantSettings
from tests.component.conftest import TABLE
from tests.component.test_ingress import call, sign, stored, untouched
from tests.e2e.helpers import shop_order
from tests.unit.test_normalise_shop import shopify_order


def signed(source: str, body: bytes, secret: str) -> tuple[dict[str, str], dict[str, str]]:
    return sign(source, body, secret, int(time.time()))


def test_a_shopify_body_resent_under_another_topic_and_id_changes_nothing(
    aws_env: dict[str, Any],
) -> None:
    body = json.dumps(shopify_order()).encode()
    headers, _ = signed("shopify", body, "sfy_new")
    status, first = call("shopify", body, headers)
    assert (status, first["duplicate"]) == (200, False)
    swapped = {
        **headers,
        "x-shopify-topic": "orders/cancelled",
        "x-shopify-webhook-id": "another-delivery",
        "x-shopify-event-id": "another-event",
    }
    status, again = call("shopify", body, swapped)
    assert (status, again["duplicate"], again["event_id"]) == (200, True, first["event_id"])
    (item,) = stored(aws_env)
    # Kept for operators, as what the sender said: the first delivery's headers.
    hints = json.loads(item["hints"]["S"])
    assert hints["x-shopify-topic"] == "orders/create"
    assert item["event_type"]["S"] == "order"


def test_a_body_that_is_not_utf8_is_400_before_anything(aws_env: dict[str, Any]) -> None:
    body = b'{"id": "evt_1", "type": "x\xff\xfe"}'
    headers, _ = signed("stripe", body, "whsec_new")
    status, answer = call("stripe", body, headers, base64_body=True)
    assert (status, answer["error"]) == (400, "encoding")
    assert untouched(aws_env)


def test_utf16_json_is_400(aws_env: dict[str, Any]) -> None:
    body = json.dumps({"event_id": "x", "type": "order.created"}).encode("utf-16")
    headers, _ = signed("shop", body, "shop_new")
    status, _ = call("shop", body, headers, base64_body=True)
    assert status == 400
    assert untouched(aws_env)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nests deeper"),
        (b'{"id": "evt_1", "a": ' + b"[" * 70 + b"]" * 70 + b"}", "nests deeper"),
        (b'{"id": "evt_1", "n": ' + b"9" * 5000 + b"}", "not usable JSON"),
    ],
    ids=["100k-deep", "70-deep", "5000-digit-integer"],
)
def test_signed_but_unprocessable_json_is_400(
    aws_env: dict[str, Any], body: bytes, reason: str
) -> None:
    headers, _ = signed("stripe", body, "whsec_new")
    status, answer = call("stripe", body, headers)
    assert (status, answer["error"]) == (400, "malformed")
    assert reason in answer["message"]
    assert untouched(aws_env)


def test_an_order_too_big_for_its_item_is_413(aws_env: dict[str, Any]) -> None:
    document = shop_order("o-big", "e-big")
    document["order"]["customer"]["user_agent"] = "x" * 999
    line = document["order"]["lines"][0]
    document["order"]["lines"] = [
        {
            **line,
            "line_id": f"l{i:03d}" + "i" * 196,
            "name": "n" * 200,
            "sku": "s" * 200,
            "vendor_id": "v" * 200,
            "category": "c" * 200,
        }
        for i in range(500)
    ]
    body = json.dumps(document).encode()
    assert len(body) > 500_000  # within every limit of the schema
    headers, _ = signed("shop", body, "shop_new")
    status, answer = call("shop", body, headers)
    assert (status, answer["error"]) == (413, "too_large")
    assert untouched(aws_env)


def test_an_amount_no_payment_reaches_is_400(aws_env: dict[str, Any]) -> None:
    document = shop_order("o-huge", "e-huge", total="1" + "0" * 15)
    body = json.dumps(document).encode()
    headers, _ = signed("shop", body, "shop_new")
    status, answer = call("shop", body, headers)
    assert status == 400
    assert "larger than any amount" in answer["message"]
    assert untouched(aws_env)


def test_a_total_that_does_not_match_its_lines_is_400_with_the_figures(
    aws_env: dict[str, Any],
) -> None:
    document = shop_order("o-sum", "e-sum")
    document["order"]["total"] = "99.00"
    body = json.dumps(document).encode()
    headers, _ = signed("shop", body, "shop_new")
    status, answer = call("shop", body, headers)
    assert status == 400
    assert "USD 99.00 does not match its lines" in answer["message"]
    assert untouched(aws_env)


def test_an_order_in_a_currency_the_shop_does_not_take_is_400(aws_env: dict[str, Any]) -> None:
    TenantDirectory(TABLE).save(
        TenantSettings(
            id="acme",
            name="Acme",
            currency="EUR",
            other_currencies=("GBP",),
            customer_sender="shop@acme.example",
        )
    )
    before = len(stored(aws_env))
    body = json.dumps(shop_order("o-usd", "e-usd")).encode()
    headers, _ = signed("shop", body, "shop_new")
    status, answer = call("shop", body, headers)
    assert status == 400
    assert "USD is not one this shop takes orders in (EUR, GBP)" in answer["message"]
    assert len(stored(aws_env)) == before


def test_a_stripe_signature_from_the_future_is_refused(aws_env: dict[str, Any]) -> None:
    body = json.dumps({"id": "evt_f", "type": "charge.succeeded", "created": 1}).encode()
    future = int(time.time()) + 3600
    headers = {"stripe-signature": signing.sign_stripe(body, "whsec_new", future)}
    status, answer = call("stripe", body, headers)
    assert (status, answer["error"]) == (401, "stale_timestamp")
    assert "ahead of our clock" in answer["message"]
    assert untouched(aws_env)


@pytest.mark.parametrize(("token_only", "status"), [(False, 401), (True, 200)])
def test_the_shippo_url_token_alone_is_accepted_only_where_switched_on(
    aws_env: dict[str, Any], token_only: bool, status: int
) -> None:
    """Security review, 13: the URL token alone let its holder post a "delivered" scan."""
    from shared.tenant_secrets import put_tenant_secrets
    from tests.component.conftest import PREFIX

    shippo: dict[str, Any] = {"tokens": ["tok_only"], "webhook_secrets": []}
    if token_only:
        shippo["token_only"] = True
    put_tenant_secrets(aws_env["ssm"], "legacy", {"shippo": shippo}, PREFIX)
    body = json.dumps({"event": "track_updated", "data": {"tracking_number": "S1"}}).encode()
    got, answer = call("shippo", body, {}, {"token": "tok_only"}, tenant="legacy")
    assert got == status, answer
    if status == 401:
        assert "no Shippo signing secret" in answer["message"]
