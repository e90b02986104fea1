"""Helpers for driving the local stack like a webhook sender would."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from shared import signing

SHOP_SECRET = "shop_e2e_secret"


def tenant_file(tmp: Path, tenant: str) -> Path:
    path = tmp / f"{tenant}.json"
    path.write_text(
        json.dumps(
            {
                "tenants": [
                    {
                        "settings": {
                            "id": tenant,
                            "name": f"Tenant {tenant}",
                            "currency": "USD",
                            "customer_sender": f"orders@{tenant}.example",
                        },
                        "secrets": {
                            "stripe": {"webhook_secrets": ["whsec_e2e"], "api_key": "sk_test_e2e"},
                            "easypost": {
                                "webhook_secrets": ["easypost_e2e"],
                                "api_key": "ezk_test_e2e",
                            },
                            "aftership": {"webhook_secrets": ["aftership_e2e"]},
                            "shippo": {
                                "tokens": ["shippo_e2e"],
                                "webhook_secrets": ["shippo_e2e_secret"],
                            },
                            "shop": {"webhook_secrets": [SHOP_SECRET]},
                            "shopify": {"webhook_secrets": ["shopify_e2e"]},
                        },
                    }
                ]
            }
        )
    )
    return path


def shop_order(order_id: str, event_id: str, total: str = "30.00") -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "order.created",
        "occurred_at": "2026-11-23T10:00:00Z",
        "order": {
            "order_id": order_id,
            "currency": "USD",
            "total": total,
            "lines": [
                {
                    "line_id": "l1",
                    "sku": "SKU-1",
                    "name": "Shirt",
                    "quantity": 1,
                    "unit_price": total,
                    "vendor_id": "v1",
                }
            ],
            "customer": {"email": f"{order_id}@example.com", "ip": "203.0.113.9"},
            "billing_address": {"country": "NL"},
            "shipping_address": {"country": "NL"},
        },
    }


def post_shop(base_url: str, tenant: str, document: dict[str, Any]) -> tuple[int, Any]:
    body = json.dumps(document).encode()
    request = urllib.request.Request(
        f"{base_url}/webhooks/{tenant}/shop",
        data=body,
        method="POST",
        headers={"content-type": "application/json", **signing.sign_shop(body, SHOP_SECRET)},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def post(
    base_url: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    """POST raw bytes with exactly these headers; (status, JSON answer)."""
    request = urllib.request.Request(f"{base_url}{path}", data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
