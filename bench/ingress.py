"""Webhook ingress: cold import next to ``import boto3``, and warm per-event handler time.

Cold: the ingress module imported in a fresh interpreter, median of several runs, beside
``import boto3`` alone in the same run (goal: at most 1.3 times). Warm: ``accept`` (the intake
use case) per source with in-memory adapters (the verification and parsing the handler adds),
and the whole handler against moto in-process (DynamoDB conditional put and Secrets Manager
included, so moto's own cost is in that number; AWS answers a PutItem in single-digit
milliseconds).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import import_ms, result_line

from functions.webhooks.adapters.intake import check_stripe_header
from functions.webhooks.use_cases.accept import IntakeDependencies, WebhookRequest, accept
from shared import signing

SECRETS = {
    "stripe": {"webhook_secrets": ["whsec_bench"]},
    "shop": {"webhook_secrets": ["shop_bench"]},
    "easypost": {"webhook_secrets": ["ep_bench"]},
    "aftership": {"webhook_secrets": ["as_bench"]},
    "shopify": {"webhook_secrets": ["sfy_bench"]},
    "shippo": {"tokens": ["tok"], "webhook_secrets": []},
}


class _Secrets:
    def get(self, tenant: str) -> dict[str, Any]:
        return SECRETS


class _Store:
    def __init__(self) -> None:
        self.keys: set[str] = set()

    def put_new(self, **item: Any) -> bool:
        key = f"{item['source']}#{item['event_id']}"
        if key in self.keys:
            return False
        self.keys.add(key)
        return True


def _shop_order(i: int) -> dict[str, Any]:
    """A realistic order (three lines, addresses): the front door validates orders now."""
    lines = [
        {
            "line_id": f"l{n}",
            "sku": f"SKU-{n}",
            "name": f"Item {n}",
            "quantity": n,
            "unit_price": "12.50",
            "vendor_id": f"v{n}",
        }
        for n in (1, 2, 3)
    ]
    return {
        "event_id": f"s{i}",
        "type": "order.created",
        "occurred_at": "2026-11-23T10:00:00Z",
        "order": {
            "order_id": f"o{i}",
            "currency": "USD",
            "total": "79.99",
            "shipping": "4.99",
            "lines": lines,
            "customer": {"email": f"buyer{i}@example.com", "ip": "203.0.113.9"},
            "billing_address": {"country": "NL"},
            "shipping_address": {"country": "NL"},
        },
    }


def _request(source: str, i: int) -> WebhookRequest:
    now = int(time.time())
    if source == "stripe":
        body = json.dumps(
            {
                "id": f"evt_{i}",
                "type": "charge.succeeded",
                "object": "event",
                "data": {"object": {"id": f"ch_{i}", "amount": 1999}},
            }
        ).encode()
        headers = {"stripe-signature": signing.sign_stripe(body, "whsec_bench", now)}
    elif source == "shop":
        body = json.dumps(_shop_order(i)).encode()
        headers = {k.lower(): v for k, v in signing.sign_shop(body, "shop_bench", now).items()}
    else:
        body = json.dumps(
            {
                "id": f"evt_ep{i}",
                "description": "tracker.updated",
                "result": {"tracking_code": f"EZ{i}"},
            }
        ).encode()
        headers = {"x-hmac-signature": signing.sign_easypost(body, "ep_bench")}
        source = "easypost"
    return WebhookRequest("bench", source, body, {"content-type": "application/json", **headers})


def warm_accept_us(source: str, n: int = 3000) -> float:
    deps = IntakeDependencies(_Secrets(), _Store(), check_stripe_header)
    requests = [_request(source, i) for i in range(n)]
    accept(requests[0], deps)  # first call imports stripe for the Stripe route
    started = time.perf_counter()
    for request in requests[1:]:
        accept(request, deps)
    return (time.perf_counter() - started) / (n - 1) * 1e6


def warm_handler_on_moto_ms(n: int = 300) -> float:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_DEFAULT_REGION": "us-east-1",
            "TABLE_NAME": "bench",
            "TENANT_SECRET_PREFIX": "/bench/tenants/",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        }
    )
    import boto3
    from moto import mock_aws

    from shared.tenant_secrets import put_tenant_secrets
    from tests.component.conftest import create_table

    with mock_aws():
        create_table(boto3.client("dynamodb"), "bench")
        put_tenant_secrets(boto3.client("ssm"), "bench", SECRETS, "/bench/tenants/")
        from functions.webhooks.handlers import ingress

        class Context:
            function_name = "ingress"
            memory_limit_in_mb = 512
            invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ingress"
            aws_request_id = "bench"

        def event(i: int) -> dict[str, Any]:
            request = _request("shop", i)
            return {
                "rawPath": "/webhooks/bench/shop",
                "pathParameters": {"tenant": "bench"},
                "headers": request.headers,
                "body": request.body.decode(),
                "isBase64Encoded": False,
            }

        ingress.handler(event(0), Context())
        samples = []
        for i in range(1, n):
            started = time.perf_counter()
            answer = ingress.handler(event(i), Context())
            samples.append((time.perf_counter() - started) * 1000)
            assert answer["statusCode"] == 200, answer
        return statistics.median(samples)


def main() -> None:
    baseline = import_ms("boto3")
    ingress = import_ms("functions.webhooks.handlers.ingress")
    stripe_first = import_ms("stripe")
    print(f"{'cold import (fresh interpreter, median)':45} {'ms':>8}")
    print(f"{'import boto3 (baseline)':45} {baseline:8.1f}")
    ratio = ingress / baseline
    print(f"{'import functions.webhooks.handlers.ingress':45} {ingress:8.1f}   ratio {ratio:.2f}")
    print(f"{'import stripe (paid on the first Stripe call)':45} {stripe_first:8.1f}")
    print()
    per_source = {s: warm_accept_us(s) for s in ("stripe", "shop", "easypost")}
    for source, micros in per_source.items():
        print(f"warm accept() {source:10} {micros:8.1f} µs/event (in-memory adapters)")
    on_moto = warm_handler_on_moto_ms()
    print(f"warm handler on moto (shop)  {on_moto:8.2f} ms/event (median; moto's cost included)")
    print(
        result_line(
            ingress_import_ms=ingress,
            boto3_import_ms=baseline,
            import_ratio=ingress / baseline,
            warm_accept_stripe_us=per_source["stripe"],
            warm_accept_shop_us=per_source["shop"],
            warm_handler_moto_ms=on_moto,
        )
    )


if __name__ == "__main__":
    main()
