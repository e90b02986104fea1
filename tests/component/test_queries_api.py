"""The queries' operator API routes, called as API Gateway calls them: tenant-scoped, bad input
answered with every reason, nothing found said plainly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.tenants import TenantDirectory, TenantSettings
from tests.component.conftest import TABLE
from tests.component.queries_orders import paid, placed
from tests.component.test_operator_api import ALICE, _Context, http_event

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
Q = "/ops/tenants/{tenant}/queries"


def call(
    method: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    body: Any = None,
    claims: dict[str, Any] | None = ALICE,
    tenant: str = "acme",
) -> tuple[int, dict[str, Any]]:
    from functions.api.handlers import operator

    event = http_event(
        method,
        Q.format(tenant=tenant) + path,
        claims=claims,
        query=query,
        body=None if body is None else json.dumps(body),
    )
    answer = operator.handler(event, _Context())  # type: ignore[arg-type]
    return answer["statusCode"], json.loads(answer["body"])


@pytest.fixture
def shop(aws_env: dict[str, Any]) -> None:
    TenantDirectory(TABLE).save(
        TenantSettings(id="acme", name="Acme", currency="EUR", customer_sender="s@acme.example")
    )
    placed("1001", T0)
    paid("1001", "pi_a", 2500, T0 + timedelta(minutes=1))
    paid("1001", "pi_b", 2500, T0 + timedelta(minutes=2))


def test_find_a_customers_orders_by_email(shop: None) -> None:
    status, answer = call("GET", "/orders", query={"email": "ann.smith@example.com"})
    assert status == 200 and [o["order_id"] for o in answer["orders"]] == ["1001"]
    assert answer["searched"] == {"tenant": "acme", "kind": "email", "value": "a***@example.com"}


def test_a_lookup_needs_exactly_one_identifier_and_a_searchable_one(shop: None) -> None:
    status, answer = call("GET", "/orders", query={"email": "a@b.c", "card": "4242"})
    assert status == 400 and "give exactly one of email, phone, card" in answer["message"]
    status, answer = call("GET", "/orders", query={"phone": "020 7946 0958"})
    assert status == 400 and "no country code" in answer["message"]


def test_another_tenants_orders_are_not_even_looked_up(shop: None) -> None:
    status, _ = call("GET", "/orders", query={"email": "ann.smith@example.com"}, tenant="globex")
    assert status == 403


def test_charged_twice_through_the_api(shop: None) -> None:
    status, answer = call("GET", "/orders/1001/charged-twice")
    assert status == 200 and answer["finding"] == "charged_twice"
    assert answer["action"].startswith("Refund payment pi_b")
    status, answer = call("GET", "/orders/1001/was-it-raining")
    assert status == 400 and "unknown question" in answer["message"]


def test_an_unknown_payout_is_nothing_found(shop: None) -> None:
    status, answer = call("GET", "/payouts/po_nope")
    assert status == 404 and "nothing found" in answer["message"]


def test_paid_for_days_needs_a_sensible_range(shop: None) -> None:
    status, answer = call("GET", "/paid", query={"from": "2026-11-20"})
    assert status == 400 and answer["message"] == "to (YYYY-MM-DD) is required"
    status, answer = call("GET", "/paid", query={"from": "2026-11-20", "to": "2026-11-19"})
    assert status == 400 and "before it starts" in answer["message"]


def test_open_list_and_close_a_query_case(shop: None) -> None:
    status, case = call("POST", "/cases", body={"question": "Where is po_9?", "payout_id": "po_9"})
    assert status == 201 and case["asked_by"] == "alice@acme.example"
    assert case["links"]["payout_id"] == "po_9"
    status, listed = call("GET", "/cases")
    assert [c["case_id"] for c in listed["cases"]] == [case["case_id"]]
    status, closed = call(
        "POST", f"/cases/{case['case_id']}/close", body={"resolution": "Stripe: arrives Monday"}
    )
    assert status == 200 and closed["status"] == "closed"
    status, answer = call("POST", "/cases/qc-nope/close", body={"resolution": "x"})
    assert status == 404
    status, answer = call("POST", "/cases", body={"question": "", "payout_id": 7})
    assert status == 400 and "question" in answer["message"] and "payout_id" in answer["message"]
