"""The reports' operator API routes on moto: tenant-scoped, the summary and the tables of the
planted week, a customer's orders, and the history e-mail with its rate limit."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from shared.tenants import TenantDirectory
from tests.clocks import FixedClock
from tests.component.conftest import TABLE
from tests.component.test_operator_api import _Context, http_event
from tests.component.test_reports_store import NOW, store_planted
from tests.unit.test_reports_summary import TENANT

ANN = {"sub": "u-ann", "email": "ann@multi.example", "ecomops:tenants": "multi-shop"}
OTHER = {"sub": "u-bob", "email": "bob@else.example", "ecomops:tenants": "acme"}


@pytest.fixture
def planted(aws_env: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from functions.api.composition import services

    os.environ["MAIL_DIR"] = str(tmp_path)
    TenantDirectory(TABLE).save(TENANT)
    store_planted(FixedClock(NOW))
    # The operator asks on the day the planted facts were stored: whether a period has ended
    # ("so far") depends on it, never on the machine's date.
    monkeypatch.setattr(services(), "clock", FixedClock(NOW))
    return tmp_path


def call(method: str, path: str, claims: dict[str, Any] = ANN, **query: str) -> tuple[int, Any]:
    from functions.api.handlers import operator

    answer = operator.handler(
        http_event(method, path, claims=claims, query=query or None),
        _Context(),  # type: ignore[arg-type]
    )
    body = answer.get("body") or ""
    kind = answer.get("headers", {}).get("Content-Type", "")
    return answer["statusCode"], json.loads(body) if "json" in kind else body


def test_the_weekly_summary_as_json(planted: Path) -> None:
    status, body = call(
        "GET", "/ops/tenants/multi-shop/reports/summary", period="weekly", day="2026-10-21"
    )
    assert status == 200
    eur = {f["key"]: f["current"] for f in body["currencies"]["EUR"]["figures"]}
    assert (eur["total"], body["so_far"]) == (6600, False)


def test_another_tenants_token_sees_nothing(planted: Path) -> None:
    status, _ = call(
        "GET", "/ops/tenants/multi-shop/reports/summary", OTHER, period="weekly", day="2026-10-21"
    )
    assert status == 403


def test_a_bad_period_names_every_mistake(planted: Path) -> None:
    status, body = call(
        "GET", "/ops/tenants/multi-shop/reports/crm", period="fortnightly", day="21/10"
    )
    assert status == 400
    assert "fortnightly" in body["message"] and "21/10" in body["message"]


def test_tables_as_json_and_csv(planted: Path) -> None:
    status, body = call(
        "GET", "/ops/tenants/multi-shop/reports/crm", period="weekly", day="2026-10-21"
    )
    assert status == 200 and body["count"] == 5
    assert {r["order_id"]: r["class"] for r in body["rows"]}["E"] == "failed"
    status, text = call(
        "GET",
        "/ops/tenants/multi-shop/reports/logistics",
        period="weekly",
        day="2026-10-21",
        format="csv",
    )
    assert status == 200 and text.startswith("order_id,tracking_code,carrier")
    assert (
        call("GET", "/ops/tenants/multi-shop/reports/nope", period="weekly", day="2026-10-21")[0]
        == 404
    )


def test_a_customers_orders_and_nothing_found(planted: Path) -> None:
    status, body = call("GET", "/ops/tenants/multi-shop/reports/customers/ann%40example.com")
    assert status == 200 and body["count"] == 8
    status, body = call("GET", "/ops/tenants/multi-shop/reports/customers/zed%40example.com")
    assert (
        status == 404
        and "nothing found" in body["message"]
        and "zed@example.com" in body["message"]
    )


def test_history_email_to_the_orders_address_then_too_soon(planted: Path) -> None:
    status, body = call("POST", "/ops/tenants/multi-shop/orders/A/history-email")
    assert status == 202 and body["orders"] == 8
    assert len(list(planted.glob("order_history-*.eml"))) == 1
    status, body = call("POST", "/ops/tenants/multi-shop/orders/A/history-email")
    assert status == 429 and "at most once" in body["message"]
    assert call("POST", "/ops/tenants/multi-shop/orders/nope/history-email")[0] == 404
