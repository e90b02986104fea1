"""The chargeback desk's operator routes on moto (issue 15, item 7): the list (open first, by
deadline), one case with its evidence, suggestion and timeline, edits refused with every
reason, the register CSV, the monthly ratio report, and another tenant's cases out of reach."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest

from functions.disputes.adapters.case_store import DynamoCaseStore
from functions.disputes.use_cases.cases import record_dispute_event
from shared.tenants import TenantDirectory
from tests.component.conftest import TABLE
from tests.component.test_operator_api import (  # noqa: F401 - the module's fixtures
    ALICE,
    _Context,
    env,
    http_event,
    moto,
)
from tests.disputes_fakes import OPENED_AT, dispute_event, ports, tenant

# The operator API's module-wide moto and its per-test empty table.
pytestmark = pytest.mark.usefixtures("env")


def call(
    method: str,
    path: str,
    body: Any = None,
    claims: dict[str, Any] = ALICE,
    query: dict[str, str] | None = None,
) -> tuple[int, Any, dict[str, str]]:
    from functions.api.handlers import operator

    raw = None if body is None else json.dumps(body)
    event = http_event(method, path, claims=claims, body=raw, query=query)
    answer = operator.handler(event, _Context())  # type: ignore[arg-type]
    headers = answer.get("headers") or {}
    text = answer["body"]
    document = (
        json.loads(text) if headers.get("Content-Type", "").startswith("application/json") else text
    )
    return answer["statusCode"], document, headers


def cases() -> None:
    TenantDirectory(TABLE).save(tenant())
    p = ports()
    p.cases = DynamoCaseStore(TABLE)
    for dispute_id, due_days, status in (
        ("dp_late", 9, "needs_response"),
        ("dp_soon", 3, "needs_response"),
        ("dp_won", 5, "won"),
    ):
        record_dispute_event(
            p,
            dispute_event(
                dispute_id=dispute_id,
                event_id=f"evt_{dispute_id}",
                status=status,
                due_by=OPENED_AT + timedelta(days=due_days),
            ),
            None,
        )


def test_cases_are_listed_open_first_by_deadline() -> None:
    cases()
    status, body, _ = call("GET", "/ops/tenants/acme/disputes")
    assert status == 200
    assert [c["dispute_id"] for c in body["cases"]] == ["dp_soon", "dp_late", "dp_won"]
    assert body["cases"][0]["amount_text"] == "EUR 25.00"
    status, body, _ = call("GET", "/ops/tenants/acme/disputes", query={"status": "closed"})
    assert [c["dispute_id"] for c in body["cases"]] == ["dp_won"]


def test_a_case_shows_its_evidence_suggestion_and_timeline() -> None:
    cases()
    status, body, _ = call("GET", "/ops/tenants/acme/disputes/dp_soon")
    assert status == 200
    assert body["state"] == "new" and body["flags"] == ["charge_unknown"]
    assert body["suggestion"]["action"] == "accept"
    assert [e["what"] for e in body["timeline"]] == ["opened"]
    status, body, _ = call("GET", "/ops/tenants/acme/disputes/dp_none")
    assert status == 404


def test_edits_are_applied_or_refused_with_every_reason() -> None:
    cases()
    path = "/ops/tenants/acme/disputes/dp_soon"
    status, body, _ = call(
        "PATCH", path, {"fields": {"uncategorized_text": "Called the customer"}, "assignee": "sam"}
    )
    assert status == 200, body
    assert body["evidence"]["fields"]["uncategorized_text"] == "Called the customer"
    assert body["assignee"] == "sam"
    assert [e["what"] for e in body["timeline"]][-2:] == ["evidence edited", "assigned"]
    assert body["timeline"][-1]["by"] == "alice@acme.example"
    status, body, _ = call("PATCH", path, {"fields": {"receipt": "x", "colour": "red"}})
    assert status == 400
    assert "colour: not one of Stripe's text evidence fields" in body["message"]
    assert "receipt: a file field" in body["message"]
    status, body, _ = call("PATCH", path, {"state": "won"})
    assert status == 400  # not a state an operator moves to
    status, body, _ = call("POST", "/ops/tenants/acme/disputes/dp_won/accept")
    assert status == 409 and "the case is won: it cannot be accepted" in body["message"]


def test_the_register_csv_and_the_ratio_report() -> None:
    cases()
    status, text, headers = call("GET", "/ops/tenants/acme/disputes/register.csv")
    assert status == 200 and headers["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["dispute_id"] for r in rows] == ["dp_soon", "dp_late", "dp_won"]
    assert (rows[0]["amount"], rows[0]["fee"], rows[0]["currency"]) == ("25.00", "15.00", "EUR")
    status, body, _ = call("GET", "/ops/tenants/acme/disputes/ratios", query={"month": "2026-11"})
    assert status == 200, body
    (visa,) = body["ratios"]  # chargebacks only, no card payments stored: Visa's line
    assert (visa["programme"], visa["count"], visa["denominator"]) == ("visa_vamp", 3, 0)
    status, body, _ = call("GET", "/ops/tenants/acme/disputes/ratios", query={"month": "11-2026"})
    assert status == 400


def test_another_tenants_cases_are_out_of_reach() -> None:
    cases()
    globex = {"sub": "u-g", "email": "g@globex.example", "ecomops:tenants": "globex"}
    status, _, _ = call("GET", "/ops/tenants/acme/disputes/dp_soon", claims=globex)
    assert status == 403
    status, _, _ = call("POST", "/ops/tenants/acme/disputes/dp_soon/accept", claims=globex)
    assert status == 403
