"""The operator API and the signed-link landing route, called as API Gateway (v2) calls them.

Orders are built by applying domain events, exactly as the processor does; Step Functions is
faked at ``shared.workflows`` (start / resume) so each test sees what would have been sent.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.webhooks.use_cases.apply import route
from shared import aws, workflows
from shared.events import (
    Customer,
    LineItem,
    OrderPlaced,
    PaymentSucceeded,
    ShipmentStatus,
    ShipmentUpdated,
    Source,
)
from shared.lifecycle_store import LifecycleStore
from shared.money import Money
from shared.order_store import OrderStore
from shared.signed_links import sign_decision_links, sign_link
from shared.tenant_secrets import put_tenant_secrets
from tests.component.conftest import PREFIX, TABLE, TENANT_SECRETS, create_table

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
ACME_KEYS = ["links-acme-new", "links-acme-old"]
GLOBEX_KEYS = ["links-globex"]
ALICE = {"sub": "u-alice", "email": "alice@acme.example", "ecomops:tenants": "acme"}
OPS = {"sub": "u-ops", "email": "noc@ecomops.example", "ecomops:tenants": "*"}
ORDER = "/ops/tenants/{tenant}/orders/{order_id}"
EASYPOST_KEY = "ezk_test_acme"


class _Context:
    function_name = "operator"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:operator"
    aws_request_id = "req-1"


@pytest.fixture(scope="module")
def moto() -> Iterator[dict[str, Any]]:
    """One moto for the module (``aws_env`` per test would cost most of the run in set-up); the
    table is emptied before each test instead. Secrets carry link signing keys for two tenants.
    """
    saved = dict(os.environ)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "TABLE_NAME": TABLE,
            "TENANT_SECRET_PREFIX": PREFIX,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    aws.reset()
    try:
        with mock_aws():
            ddb = boto3.client("dynamodb")
            create_table(ddb)
            ssm = boto3.client("ssm")
            for tenant, document in (
                (
                    "acme",
                    {
                        **TENANT_SECRETS,
                        "easypost": {"webhook_secrets": ["ep_new"], "api_key": EASYPOST_KEY},
                        "links": {"signing_keys": ACME_KEYS},
                    },
                ),
                ("globex", {"links": {"signing_keys": GLOBEX_KEYS}}),
            ):
                put_tenant_secrets(ssm, tenant, document, PREFIX)
            yield {"ddb": ddb}
    finally:
        aws.reset()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def env(moto: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """An empty table, and Step Functions faked: what would be started or resumed is recorded."""
    from functions.api.composition import services

    ddb = moto["ddb"]
    for item in ddb.scan(TableName=TABLE, ProjectionExpression="PK, SK")["Items"]:
        ddb.delete_item(TableName=TABLE, Key=item)
    services().link_secrets.forget()
    monkeypatch.setenv("REFUND_STATE_MACHINE", "arn:aws:states:us-east-1:1:stateMachine:refunds")
    monkeypatch.delenv("LIFECYCLE_STATE_MACHINE", raising=False)
    started: list[tuple[str, str, dict[str, Any]]] = []
    resumed: list[tuple[str, dict[str, Any]]] = []

    def start_once(arn: str, name: str, document: dict[str, Any], identity: Any = None) -> bool:
        started.append((arn, name, document))
        return True

    def resume(token: str, output: dict[str, Any]) -> bool:
        resumed.append((token, output))
        return True

    monkeypatch.setattr(workflows, "start_once", start_once)
    monkeypatch.setattr(workflows, "resume", resume)
    return {**moto, "started": started, "resumed": resumed}


# -- building orders -----------------------------------------------------------------------------


def _eur(amount: int) -> Money:
    return Money(amount=amount, currency="EUR")


def place(tenant: str, order_id: str, *, paid: bool = True, shipment: str | None = None) -> None:
    store = OrderStore(TABLE)
    events: list[Any] = [
        OrderPlaced(
            tenant=tenant,
            source=Source.SHOP,
            source_event_id=f"{order_id}-placed",
            occurred_at=T0,
            order_id=order_id,
            currency="EUR",
            total=_eur(2500),
            lines=(
                LineItem(
                    line_id="l1", name="Mug", quantity=2, unit_price=_eur(1250), vendor_id="v1"
                ),
            ),
            customer=Customer(email="bob@example.com", name="Bob"),
        )
    ]
    if paid:
        events.append(
            PaymentSucceeded(
                tenant=tenant,
                source=Source.STRIPE,
                source_event_id=f"{order_id}-paid",
                occurred_at=T0 + timedelta(minutes=1),
                order_id=order_id,
                payment_id=f"pi_{order_id}",
                charge_id=f"ch_{order_id}",
                amount=_eur(2500),
            )
        )
    if shipment:
        events.append(
            ShipmentUpdated(
                tenant=tenant,
                source=Source.EASYPOST,
                source_event_id=f"{order_id}-{shipment}",
                occurred_at=T0 + timedelta(days=1),
                carrier="ups",
                tracking_code=f"1Z{order_id}",
                status=ShipmentStatus(shipment),
                order_id=order_id,
            )
        )
    for event in events:
        assert route(event, store) == "applied"


# -- calling the handlers ------------------------------------------------------------------------


def http_event(
    method: str,
    path: str,
    *,
    claims: dict[str, Any] | None = None,
    body: str | None = None,
    query: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    content_type: str = "application/json",
    base64_body: bool = False,
) -> dict[str, Any]:
    request_context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "api",
        "domainName": "api.example.invalid",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "10.0.0.1"},
        "requestId": "req-1",
        "routeKey": f"{method} {path}",
        "stage": "$default",
        "timeEpoch": 0,
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": {"content-type": content_type, "host": "api.example.invalid"},
        "requestContext": request_context,
        "isBase64Encoded": base64_body,
    }
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        event["body"] = base64.b64encode(body.encode()).decode() if base64_body else body
    return event


def ops(
    method: str,
    tenant: str,
    order_id: str,
    action: str = "",
    body: Any = None,
    claims: dict[str, Any] | None = ALICE,
) -> tuple[int, dict[str, Any]]:
    from functions.api.handlers import operator

    path = ORDER.format(tenant=tenant, order_id=order_id) + (f"/{action}" if action else "")
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    answer = operator.handler(http_event(method, path, claims=claims, body=raw), _Context())  # type: ignore[arg-type]
    return answer["statusCode"], json.loads(answer["body"])


def link(
    method: str,
    tenant: str,
    order_id: str,
    decision: str,
    token: str | None,
    *,
    base64_body: bool = False,
) -> tuple[int, str]:
    from functions.api.handlers import links

    path = f"/links/{tenant}/{order_id}/{decision}"
    params = {"tenant": tenant, "order_id": order_id, "decision": decision}
    if method == "GET":
        event = http_event(
            "GET", path, query={"token": token} if token else None, path_parameters=params
        )
    else:
        event = http_event(
            "POST",
            path,
            body=f"token={token}" if token else "",
            path_parameters=params,
            content_type="application/x-www-form-urlencoded",
            base64_body=base64_body,
        )
    answer = links.handler(event, _Context())
    assert answer["headers"]["content-type"].startswith("text/html")
    assert "Traceback" not in answer["body"]
    return answer["statusCode"], answer["body"]


def table_items(env: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = env["ddb"].scan(TableName=TABLE, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda i: (i["PK"]["S"], i["SK"]["S"]))


def hold_for_review(tenant: str, order_id: str, token: str = "task-token-1") -> None:
    LifecycleStore(TABLE).put_wait(tenant, order_id, "review", token)


def links_for(tenant: str, order_id: str, *, key: str = ACME_KEYS[0], ttl: int = 3600) -> Any:
    return sign_decision_links(
        key=key, tenant=tenant, order_id=order_id, expires_at=int(time.time()) + ttl
    )


# -- operator API: who may do what ---------------------------------------------------------------


def test_an_operator_sees_the_order_with_its_stage_and_screening(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    LifecycleStore(TABLE).set_stage("acme", "o-1", "potential_fraud")
    LifecycleStore(TABLE).save_screening("acme", "o-1", {"decision": "review", "score": 71})

    status, body = ops("GET", "acme", "o-1")

    assert status == 200
    assert body["order_id"] == "o-1"
    assert body["status"] == "paid"
    assert body["paid"] == 2500
    assert body["stage"] == "potential_fraud"
    assert body["screening"] == {"decision": "review", "score": 71}
    assert [e["kind"] for e in body["timeline"]] == ["OrderPlaced", "PaymentSucceeded"]


def test_another_tenants_order_is_403_and_says_why(env: dict[str, Any]) -> None:
    place("globex", "o-1")
    status, body = ops("GET", "globex", "o-1")
    assert status == 403
    assert "globex" in body["message"]
    assert "ecomops:tenants" in body["message"]
    # Not even whether the order exists: the same answer for one that does not.
    assert ops("GET", "globex", "nope") == (403, body)


def test_a_refusal_for_another_tenant_changes_nothing(env: dict[str, Any]) -> None:
    place("globex", "o-1")
    hold_for_review("globex", "o-1")
    before = table_items(env)
    for action, body in (
        ("cancel", {"reason": "customer asked"}),
        ("refunds", {"amount": 100}),
        ("returns", {"lines": [{"line_id": "l1"}], "reason": "broken"}),
        ("review", {"decision": "approve"}),
    ):
        assert ops("POST", "globex", "o-1", action, body)[0] == 403
    assert table_items(env) == before
    assert env["started"] == env["resumed"] == []


@pytest.mark.parametrize(
    "claims",
    [None, {}, {"ecomops:tenants": "acme"}],
    ids=["no authorizer", "no claims", "nobody named"],
)
def test_without_claims_naming_the_caller_it_is_401(
    env: dict[str, Any], claims: dict[str, Any] | None
) -> None:
    place("acme", "o-1")
    status, body = ops("GET", "acme", "o-1", claims=claims)
    assert status == 401
    assert "token" in body["message"]


def test_a_token_granting_no_tenant_is_403(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    assert ops("GET", "acme", "o-1", claims={"sub": "u-bob"})[0] == 403


def test_the_managed_services_team_reaches_every_tenant(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    place("globex", "o-2")
    assert ops("GET", "acme", "o-1", claims=OPS)[0] == 200
    assert ops("GET", "globex", "o-2", claims=OPS)[0] == 200


@pytest.mark.parametrize(
    ("claim", "allowed"),
    [
        ("acme", {"acme"}),
        ("globex acme", {"globex", "acme"}),
        ("globex,acme", {"globex", "acme"}),
        ("globex, acme", {"globex", "acme"}),
        ("[globex acme]", {"globex", "acme"}),  # a JWT array, as API Gateway flattens it
        (["globex", "acme"], {"globex", "acme"}),
        ("*", {"*"}),
        ("", set()),
        (None, set()),
        (42, set()),
    ],
)
def test_tenant_claim_spellings(claim: Any, allowed: set[str]) -> None:
    from functions.api.handlers.operator import allowed_tenants

    assert allowed_tenants(claim) == allowed


def test_the_claim_as_api_gateway_flattens_an_array_grants_each_tenant(
    env: dict[str, Any],
) -> None:
    place("acme", "o-1")
    claims = {**ALICE, "ecomops:tenants": "[globex acme]"}
    assert ops("GET", "acme", "o-1", claims=claims)[0] == 200


def test_an_unknown_order_is_404(env: dict[str, Any]) -> None:
    status, body = ops("GET", "acme", "nope")
    assert status == 404
    assert "nope" in body["message"]
    assert ops("POST", "acme", "nope", "cancel", {"reason": "x"})[0] == 404
    assert ops("POST", "acme", "nope", "refunds", {"amount": 100})[0] == 404
    assert ops("POST", "acme", "nope", "review", {"decision": "approve"})[0] == 404
    assert env["started"] == []


# -- operator API: refunds -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({}, "exactly one of 'amount'"),
        ({"amount": 100, "lines": [{"line_id": "l1"}]}, "exactly one of 'amount'"),
        ({"amount": 0}, "amount: Input should be greater than 0"),
        ({"amount": -5}, "amount: Input should be greater than 0"),
        ({"amount": "100"}, "amount: Input should be a valid integer"),
        ({"amount": 10.5}, "amount: Input should be a valid integer"),
        ({"lines": []}, "lines: List should have at least 1 item"),
        ({"lines": [{"quantity": 1}]}, "lines.0.line_id: Field required"),
        ({"lines": [{"line_id": "l1", "quantity": 0}]}, "lines.0.quantity"),
        ({"amount": 100, "colour": "blue"}, "colour: Extra inputs are not permitted"),
        ({"amount": 100, "reason": "because"}, "reason: Input should be"),
        ({"amount": 100, "refund_id": "has space"}, "refund_id: String should match pattern"),
        ("not json", "the body must be a JSON object"),
        ("[1, 2]", "the body must be a JSON object"),
        (None, "the body must be a JSON object"),
    ],
)
def test_refund_bodies_are_validated_with_a_clear_400(
    env: dict[str, Any], body: Any, says: str
) -> None:
    place("acme", "o-1")
    status, answer = ops("POST", "acme", "o-1", "refunds", body)
    assert status == 400
    assert says in answer["message"]
    assert env["started"] == []


def test_a_refund_of_an_amount_starts_the_refund_workflow_and_answers_202(
    env: dict[str, Any],
) -> None:
    place("acme", "o-1")
    status, body = ops(
        "POST", "acme", "o-1", "refunds", {"amount": 500, "refund_id": "r-1", "reason": "duplicate"}
    )
    assert status == 202
    assert body == {"refund_id": "r-1", "started": True}
    ((arn, name, document),) = env["started"]
    assert arn.endswith(":refunds")
    assert name == workflows.execution_name("acme", "o-1", "refund", "r-1")
    assert document["amount"] == 500
    assert document["lines"] is None
    # The operator's "duplicate" is a duplicate charge: the gateway will hear "duplicate".
    assert document["cause"] == "duplicate_charge"


def test_a_refund_of_lines_passes_them_on_and_names_a_refund_id(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    status, body = ops("POST", "acme", "o-1", "refunds", {"lines": [{"line_id": "l1"}]})
    assert status == 202
    assert body["refund_id"]
    ((_, _, document),) = env["started"]
    assert document["lines"] == [{"line_id": "l1"}]
    assert document["amount"] is None


# -- operator API: cancel, returns, review -------------------------------------------------------


def test_cancelling_a_shipped_order_is_409(env: dict[str, Any]) -> None:
    place("acme", "o-1", shipment="in_transit")
    status, body = ops("POST", "acme", "o-1", "cancel", {"reason": "customer asked"})
    assert status == 409
    assert "shipped" in body["message"]
    assert LifecycleStore(TABLE).stage("acme", "o-1") is None
    assert env["started"] == []


def test_cancelling_before_shipment_records_who_and_refunds_what_was_paid(
    env: dict[str, Any],
) -> None:
    place("acme", "o-1")
    status, body = ops("POST", "acme", "o-1", "cancel", {"reason": "customer asked"})
    assert status == 200
    assert body["cancelled"] is True
    assert body["refund_due"] == 2500
    item = env["ddb"].get_item(
        TableName=TABLE, Key={"PK": {"S": "T#acme#ORDER#o-1"}, "SK": {"S": "WORKFLOW"}}
    )["Item"]
    assert item["stage"]["S"] == "cancelled"
    assert item["detail"]["S"] == "customer asked (by alice@acme.example)"
    ((_, name, document),) = env["started"]
    assert name.startswith("acme--o-1--refund--cancellation-")
    assert document["refund_id"] == f"cancellation-{document['payment_id']}"


def test_an_operator_cancellation_tells_the_customer_and_leaves_no_wait_behind(
    env: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Security review, 13: the customer got no e-mail and the review wait stayed."""
    monkeypatch.setenv("MAIL_DIR", str(tmp_path))
    install_acme()
    place("acme", "o-1")
    waits = LifecycleStore(TABLE)
    waits.put_wait("acme", "o-1", "review", "token-of-a-stopped-execution")
    status, _ = ops("POST", "acme", "o-1", "cancel", {"reason": "customer asked"})
    assert status == 200
    (mail,) = tmp_path.glob("order_cancelled-o-1-*.eml")
    assert "bob@example.com" in mail.read_text()
    assert waits.take_wait("acme", "o-1", "review") is None
    # Cancelled again (the shop's webhook after the operator): still one e-mail.
    assert ops("POST", "acme", "o-1", "cancel", {"reason": "again"})[0] == 200
    assert len(list(tmp_path.glob("order_cancelled-*.eml"))) == 1


def test_a_cancel_without_a_reason_is_400(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    status, body = ops("POST", "acme", "o-1", "cancel", {"reason": "  "})
    assert status == 400
    assert body["message"].startswith("reason:")


def test_a_return_calls_open_return_with_the_lines_and_who_asked(
    env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.orders.use_cases import operations

    calls: list[tuple[Any, ...]] = []

    def open_return(
        ports: Any, tenant: str, order_id: str, lines: list[dict[str, Any]], reason: str, by: str
    ) -> dict[str, Any]:
        calls.append((ports.orders.table_name, tenant, order_id, lines, reason, by))
        return {"return_id": "ret-1", "tracking_code": "RET1", "amount": 1250}

    monkeypatch.setattr(operations, "open_return", open_return)
    place("acme", "o-1", shipment="delivered")
    status, body = ops(
        "POST",
        "acme",
        "o-1",
        "returns",
        {"lines": [{"line_id": "l1", "quantity": 1}], "reason": "broken"},
    )
    assert status == 201
    assert body == {"return_id": "ret-1", "tracking_code": "RET1", "amount": 1250}
    assert calls == [
        (
            TABLE,
            "acme",
            "o-1",
            [{"line_id": "l1", "quantity": 1}],
            "broken",
            "alice@acme.example",
        )
    ]


def test_a_return_of_an_undelivered_order_is_409(env: dict[str, Any]) -> None:
    place("acme", "o-1", shipment="in_transit")
    status, body = ops(
        "POST", "acme", "o-1", "returns", {"lines": [{"line_id": "l1"}], "reason": "broken"}
    )
    assert status == 409
    assert "delivered" in body["message"]


def test_a_review_with_nothing_waiting_is_409(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    status, body = ops("POST", "acme", "o-1", "review", {"decision": "approve"})
    assert status == 409
    assert "no review is waiting" in body["message"]
    assert env["resumed"] == []


def test_a_review_resumes_the_lifecycle_naming_the_operator(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    hold_for_review("acme", "o-1", "task-token-7")
    status, body = ops("POST", "acme", "o-1", "review", {"decision": "reject"})
    assert status == 200
    assert body["resumed"] is True
    assert env["resumed"] == [("task-token-7", {"decision": "reject", "by": "alice@acme.example"})]
    # The token was taken: a second decision finds nothing waiting.
    assert ops("POST", "acme", "o-1", "review", {"decision": "approve"})[0] == 409


def test_a_review_decision_other_than_approve_or_reject_is_400(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    hold_for_review("acme", "o-1")
    status, body = ops("POST", "acme", "o-1", "review", {"decision": "maybe"})
    assert status == 400
    assert body["message"].startswith("decision:")
    assert env["resumed"] == []


# -- signed links --------------------------------------------------------------------------------


def test_get_shows_a_confirmation_form_and_changes_nothing(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    hold_for_review("acme", "o-1")
    tokens = links_for("acme", "o-1")
    before = table_items(env)

    status, page = link("GET", "acme", "o-1", "approve", tokens["approve"])

    assert status == 200
    assert "o-1" in page
    assert '<form method="post" action="approve">' in page
    assert f'name="token" value="{tokens["approve"]}"' in page
    assert "Confirm approve" in page
    assert table_items(env) == before
    assert env["resumed"] == []
    # Fetching it again (a mail scanner, then the person) is just as harmless.
    assert link("GET", "acme", "o-1", "approve", tokens["approve"])[0] == 200
    assert table_items(env) == before


def test_post_with_a_valid_token_resumes_the_review_once(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    hold_for_review("acme", "o-1", "task-token-3")
    tokens = links_for("acme", "o-1")

    status, page = link("POST", "acme", "o-1", "reject", tokens["reject"])

    assert status == 200
    assert "Order o-1 rejected" in page
    assert env["resumed"] == [("task-token-3", {"decision": "reject", "by": "signed-link"})]
    assert LifecycleStore(TABLE).take_wait("acme", "o-1", "review") is None


def test_a_base64_encoded_form_body_is_read(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    hold_for_review("acme", "o-1")
    tokens = links_for("acme", "o-1", key=ACME_KEYS[1])  # the older key still verifies
    status, page = link("POST", "acme", "o-1", "approve", tokens["approve"], base64_body=True)
    assert status == 200
    assert "Order o-1 approved" in page


def test_a_replayed_link_and_its_companion_are_already_used(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    hold_for_review("acme", "o-1")
    tokens = links_for("acme", "o-1")
    assert link("POST", "acme", "o-1", "approve", tokens["approve"])[0] == 200
    hold_for_review("acme", "o-1", "task-token-2")  # even were something waiting again

    for method, decision in (("POST", "approve"), ("POST", "reject"), ("GET", "approve")):
        status, page = link(method, "acme", "o-1", decision, tokens[decision])
        assert status == 409, (method, decision)
        assert "already been used" in page
    assert len(env["resumed"]) == 1


def _assert_refused(
    env: dict[str, Any], path: tuple[str, str, str], token: str, status: int, says: str
) -> None:
    before = table_items(env)
    for method in ("GET", "POST"):
        answer = link(method, *path, token)
        assert answer[0] == status, (method, answer)
        assert says in answer[1], (method, answer[1])
    assert table_items(env) == before
    assert env["resumed"] == []


def test_a_forged_token_is_refused(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    hold_for_review("acme", "o-1")
    path = ("acme", "o-1", "approve")
    # Signed with a key that is not the tenant's.
    forged = links_for("acme", "o-1", key="attacker-key")["approve"]
    _assert_refused(env, path, forged, 403, "no longer accepts")
    # The tenant's key id, but a signature that does not match.
    genuine = links_for("acme", "o-1")["approve"]
    head, _, _ = genuine.rpartition(".")
    tampered = f"{head}.{base64.urlsafe_b64encode(b'x' * 32).decode().rstrip('=')}"
    _assert_refused(env, path, tampered, 403, "altered")
    _assert_refused(env, path, "v1.nope", 400, "incomplete or damaged")


def test_an_expired_token_is_refused(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    hold_for_review("acme", "o-1")
    expired = links_for("acme", "o-1", ttl=-1)["approve"]
    _assert_refused(env, ("acme", "o-1", "approve"), expired, 403, "expired")


def test_a_token_for_another_order_or_tenant_is_refused(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    place("acme", "o-2")
    place("globex", "o-1")
    for tenant, order_id in (("acme", "o-2"), ("globex", "o-1")):
        hold_for_review(tenant, order_id)
    token = links_for("acme", "o-1")["approve"]
    _assert_refused(env, ("acme", "o-2", "approve"), token, 403, "another order")
    # Another tenant's route verifies with that tenant's keys, which never signed this.
    _assert_refused(env, ("globex", "o-1", "approve"), token, 403, "no longer accepts")
    # Even where a key is shared, the token names its tenant.
    shared = sign_link(
        key=GLOBEX_KEYS[0],
        tenant="acme",
        order_id="o-1",
        decision="approve",
        expires_at=int(time.time()) + 60,
    )
    _assert_refused(env, ("globex", "o-1", "approve"), shared, 403, "another shop")


def test_the_other_decisions_route_refuses_the_token(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    hold_for_review("acme", "o-1")
    approve = links_for("acme", "o-1")["approve"]
    _assert_refused(env, ("acme", "o-1", "reject"), approve, 403, "other decision")


def test_a_link_without_token_unknown_tenant_or_decision_gets_a_page(env: dict[str, Any]) -> None:
    assert link("GET", "acme", "o-1", "approve", None)[0] == 400
    assert link("POST", "acme", "o-1", "approve", None)[0] == 400
    token = links_for("acme", "o-1")["approve"]
    assert link("GET", "initech", "o-1", "approve", token)[0] == 404
    assert link("GET", "acme", "o-1", "escalate", token)[0] == 404


def test_a_spent_link_with_nothing_waiting_says_so(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    tokens = links_for("acme", "o-1")
    status, page = link("POST", "acme", "o-1", "approve", tokens["approve"])
    assert status == 409
    assert "No review is waiting" in page


def test_pages_escape_what_the_url_carries(env: dict[str, Any]) -> None:
    order_id = "<script>alert(1)</script>"
    token = links_for("acme", order_id)["approve"]
    status, page = link("GET", "acme", order_id, "approve", token)
    assert status == 200
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_a_failure_behind_the_link_is_a_plain_page(
    env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.orders.use_cases import operations

    def broken(*args: Any) -> dict[str, Any]:
        raise RuntimeError("states throttled")

    monkeypatch.setattr(operations, "decide_review", broken)
    place("acme", "o-1")
    hold_for_review("acme", "o-1")
    status, page = link("POST", "acme", "o-1", "approve", links_for("acme", "o-1")["approve"])
    assert status == 500
    assert "states throttled" not in page
    assert "back office" in page


def test_the_ledger_keeps_the_spent_nonce_until_the_link_expires(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    hold_for_review("acme", "o-1")
    expires_at = int(time.time()) + 3600
    tokens = sign_decision_links(
        key=ACME_KEYS[0], tenant="acme", order_id="o-1", expires_at=expires_at
    )
    assert link("POST", "acme", "o-1", "approve", tokens["approve"])[0] == 200
    (item,) = [i for i in table_items(env) if i.get("kind") == {"S": "link"}]
    assert item["expires_at"] == {"N": str(expires_at)}
    assert item["PK"]["S"].startswith("T#acme#LINK#")


# -- the local runtime's JWT routes --------------------------------------------------------------


def _jwt(payload: dict[str, Any]) -> str:
    def part(document: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(payload)}.c2lnbmF0dXJl"


def test_local_runtime_reads_the_bearer_jwt_claims_as_api_gateway_passes_them() -> None:
    from local.http_api import jwt_claims

    token = _jwt({"sub": "u-1", "ecomops:tenants": ["acme", "globex"], "exp": 1, "x": True})
    assert jwt_claims({"authorization": f"Bearer {token}"}) == {
        "sub": "u-1",
        "ecomops:tenants": "[acme globex]",
        "exp": "1",
        "x": "true",
    }
    assert jwt_claims({}) is None
    assert jwt_claims({"authorization": f"Basic {token}"}) is None
    assert jwt_claims({"authorization": "Bearer not-a-jwt"}) is None
    assert jwt_claims({"authorization": "Bearer a.!!!.c"}) is None
    assert jwt_claims({"authorization": "Bearer a.W10.c"}) is None  # a payload of "[]"


def test_local_front_door_needs_a_bearer_token_on_jwt_routes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from local import template as tpl
    from local.http_api import HttpFrontDoor

    door = object.__new__(HttpFrontDoor)  # no stack, no socket: only the routing is exercised
    door.routes = [tpl.Route("GET", "/ops/tenants/{tenant}/orders/{order_id}", "Fn", "JWT")]
    seen: list[dict[str, Any]] = []

    def call(route: tpl.Route, event: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        seen.append(event)
        return 200, {}, b"{}"

    monkeypatch.setattr(door, "_call", call)
    path = "/ops/tenants/acme/orders/o-1"
    assert door.handle("GET", path, {}, b"", "127.0.0.1")[0] == 401
    assert door.handle("GET", path, {"authorization": "Bearer x"}, b"", "127.0.0.1")[0] == 401
    assert seen == []

    token = _jwt({"sub": "u-1", "ecomops:tenants": "acme"})
    assert door.handle("GET", path, {"authorization": f"Bearer {token}"}, b"", "1.2.3.4")[0] == 200
    (event,) = seen
    assert event["requestContext"]["authorizer"] == {
        "jwt": {"claims": {"sub": "u-1", "ecomops:tenants": "acme"}, "scopes": None}
    }


# -- risk management and the review queue ---------------------------------------------------------

RULES = {
    "rules": [
        {
            "id": "block-disposable",
            "action": "block",
            "when": "email_disposable",
            "reason": "disposable e-mail ({email_domain})",
        },
        {"id": "review-big", "action": "review", "when": "amount > 50000", "reason": "big order"},
    ]
}


def risk(
    method: str,
    tenant: str,
    path: str,
    body: Any = None,
    claims: dict[str, Any] | None = ALICE,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    from functions.api.handlers import operator

    path, _, query = path.partition("?")
    event = http_event(
        method,
        f"/ops/tenants/{tenant}/{path}",
        claims=claims,
        body=None if body is None else json.dumps(body),
        query=dict(pair.split("=", 1) for pair in query.split("&")) if query else None,
    )
    event["headers"].update(headers or {})
    answer = operator.handler(event, _Context())  # type: ignore[arg-type]
    return answer["statusCode"], json.loads(answer["body"])


def install_acme() -> None:
    from shared.tenants import TenantDirectory, TenantSettings

    TenantDirectory(TABLE).save(
        TenantSettings(
            id="acme",
            name="Acme",
            currency="EUR",
            customer_sender="shop@acme.example",
            risk={"block": {"countries": ["KP"]}},
        )
    )


def test_a_valid_ruleset_is_saved_as_the_next_version_by_the_caller(env: dict[str, Any]) -> None:
    status, body = risk("PUT", "acme", "risk/rules/electronics", RULES)
    assert (status, body["version"], body["saved_by"]) == (201, 1, "alice@acme.example")
    status, body = risk("PUT", "acme", "risk/rules/electronics", RULES)
    assert body["version"] == 2

    status, body = risk("GET", "acme", "risk/rules/electronics")
    assert status == 200
    assert body["version"] == 2
    assert body["ruleset"]["version"] == "electronics-v2"
    assert [r["id"] for r in body["ruleset"]["rules"]] == ["block-disposable", "review-big"]


def test_a_ruleset_naming_an_unknown_attribute_is_refused_and_nothing_is_stored(
    env: dict[str, Any],
) -> None:
    bad = {"rules": [{"id": "r1", "action": "block", "when": "shoe_size > 3", "reason": "x"}]}
    status, body = risk("PUT", "acme", "risk/rules/*", bad)
    assert status == 400
    assert "unknown attribute 'shoe_size'" in body["message"]
    status, body = risk(
        "PUT",
        "acme",
        "risk/rules/*",
        {"rules": [{"id": "r", "action": "block", "when": "amount >", "reason": "x"}]},
    )
    assert status == 400
    assert "does not compile" in body["message"]
    assert risk("GET", "acme", "risk/rules/*")[0] == 404
    assert not [i for i in table_items(env) if i["PK"]["S"] == "T#acme#RISK"]


def test_a_change_based_on_a_stale_version_is_409(env: dict[str, Any]) -> None:
    risk("PUT", "acme", "risk/rules/*", RULES)
    status, body = risk("PUT", "acme", "risk/rules/*", RULES, headers={"if-match": "0"})
    assert status == 409
    assert "version 1, not 0" in body["message"]
    assert risk("PUT", "acme", "risk/rules/*", RULES, headers={"if-match": "1"})[0] == 201


def test_rules_of_another_tenant_are_403(env: dict[str, Any]) -> None:
    assert risk("PUT", "globex", "risk/rules/*", RULES)[0] == 403
    assert risk("GET", "globex", "risk/audit")[0] == 403
    assert risk("GET", "globex", "reviews")[0] == 403


def test_lists_start_from_the_tenant_settings_and_entries_are_validated(
    env: dict[str, Any],
) -> None:
    install_acme()
    status, body = risk("GET", "acme", "risk/lists")
    assert (status, body["version"], body["block"]["countries"]) == (200, 0, ["KP"])

    status, body = risk(
        "POST",
        "acme",
        "risk/lists",
        [
            {"action": "add", "list": "block", "kind": "ips", "values": ["203.0.113.7/24"]},
            {"action": "add", "list": "block", "kind": "bins", "values": ["424242"]},
        ],
    )
    assert status == 200
    assert body["version"] == 1
    assert body["block"]["ips"] == ["203.0.113.0/24"]
    assert body["block"]["countries"] == ["KP"]

    status, body = risk(
        "POST",
        "acme",
        "risk/lists",
        [
            {"action": "add", "list": "block", "kind": "emails", "values": ["fine@x.example"]},
            {"action": "add", "list": "block", "kind": "bins", "values": ["42"]},
        ],
    )
    assert status == 400
    assert "'42' is not a card BIN" in body["message"]
    assert risk("GET", "acme", "risk/lists")[1]["block"]["emails"] == []  # all or nothing

    status, body = risk(
        "POST",
        "acme",
        "risk/lists",
        {"action": "remove", "list": "block", "kind": "countries", "values": ["kp"]},
    )
    assert (status, body["block"]["countries"]) == (200, [])


def test_the_audit_says_who_when_before_and_after(env: dict[str, Any]) -> None:
    install_acme()
    risk("PUT", "acme", "risk/rules/*", RULES)
    risk(
        "POST",
        "acme",
        "risk/lists",
        {"action": "add", "list": "allow", "kind": "emails", "values": ["VIP@acme.example"]},
        claims=OPS,
    )
    risk("PUT", "acme", "risk/rules/*", {"rules": RULES["rules"][:1]})

    status, body = risk("GET", "acme", "risk/audit")
    assert status == 200
    newest, lists, first = body["changes"]
    assert (newest["subject"], newest["version"], newest["who"]) == ("rules:*", 2, ALICE["email"])
    assert [r["id"] for r in newest["before"]["rules"]] == ["block-disposable", "review-big"]
    assert [r["id"] for r in newest["after"]["rules"]] == ["block-disposable"]
    assert (lists["subject"], lists["who"]) == ("lists", OPS["email"])
    assert lists["after"]["allow"]["emails"] == ["vip@acme.example"]
    assert lists["change"]["changes"][0]["action"] == "add"
    assert first["before"] is None
    assert newest["when"] >= lists["when"] >= first["when"]


def test_the_review_queue_lists_held_orders_with_reasons_and_age(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    place("acme", "o-2")
    store = LifecycleStore(TABLE)
    store.set_stage("acme", "o-1", "potential_fraud")
    store.save_screening(
        "acme",
        "o-1",
        {
            "decision": "review",
            "score": 75,
            "reasons": ["IP in NG, billing in DE, shipping to US"],
            "matched_rules": ["review-geo-mismatch"],
            "signals": {"ip_country": "NG", "billing_country": "DE", "shipping_country": "US"},
        },
    )
    store.set_stage("acme", "o-2", "confirmed")

    status, body = risk("GET", "acme", "reviews")

    assert status == 200
    assert body["count"] == 1
    (held,) = body["orders"]
    assert held["order_id"] == "o-1"
    assert held["reasons"] == ["IP in NG, billing in DE, shipping to US"]
    assert held["rules"] == ["review-geo-mismatch"]
    assert (held["amount"], held["currency"], held["ip_country"]) == (2500, "EUR", "NG")
    assert 0 <= held["age_hours"] < 1


def test_a_call_to_a_held_orders_customer_is_recorded_shown_in_the_queue_and_timeline(
    env: dict[str, Any],
) -> None:
    """Issue 13, item 10: the call task in the queue, its outcome through the operator API."""
    from datetime import UTC, datetime

    place("acme", "o-1", paid=False)
    store = LifecycleStore(TABLE)
    store.set_stage("acme", "o-1", "potential_fraud")
    store.start_review("acme", "o-1", datetime(2026, 11, 23, 10, tzinfo=UTC))
    assert store.open_call_task(
        "acme", "o-1", {"phone": "+31 20 555 0100", "call_by": "2026-11-25T10:00:00+00:00"}
    )
    assert not store.open_call_task("acme", "o-1", {"phone": "again"})

    assert ops("POST", "acme", "o-1", "review/call", {"outcome": "answered"})[0] == 400
    status, body = ops(
        "POST", "acme", "o-1", "review/call", {"outcome": "reached-declined", "note": "not me"}
    )
    assert status == 201
    assert (body["outcome"], body["by"], body["note"]) == (
        "reached-declined",
        ALICE["email"],
        "not me",
    )
    assert body["advice"] == "the customer does not recognise the order: reject the review"

    (held,) = risk("GET", "acme", "reviews")[1]["orders"]
    assert held["call"]["phone"] == "+31 20 555 0100"
    assert [o["outcome"] for o in held["call"]["outcomes"]] == ["reached-declined"]
    order = ops("GET", "acme", "o-1")[1]
    assert [e["kind"] for e in order["timeline"] if e["source"] == "operator"] == ["CallOutcome"]
    assert order["review"]["call_task"]["phone"] == "+31 20 555 0100"
    assert order["review"]["outcomes"][0]["note"] == "not me"


def test_a_call_for_an_order_never_held_is_409(env: dict[str, Any]) -> None:
    place("acme", "o-1")
    status, body = ops("POST", "acme", "o-1", "review/call", {"outcome": "no-answer"})
    assert status == 409 and "never held for review" in body["message"]


# -- reconciliation -----------------------------------------------------------------------------


def test_operators_see_open_breaks_p1_first_and_bank_files(env: dict[str, Any]) -> None:
    from datetime import date

    from functions.reconcile.adapters.bank_store import BankStore
    from functions.reconcile.adapters.break_store import BreakStore
    from functions.reconcile.domain.model import Break, BreakClass, Priority, break_id

    def brk(cls: BreakClass, priority: Priority, key: str) -> Break:
        keys = (("order_id", key),)
        return Break(
            break_id=break_id("acme", cls, keys),
            tenant="acme",
            break_class=cls,
            priority=priority,
            currency="EUR",
            amount=1000,
            keys=keys,
            explanation=f"{cls.value} on {key}",
            first_seen=date(2026, 11, 20),
        )

    minor = brk(BreakClass.AMOUNT_MISMATCH, Priority.P2, "o-2")
    urgent = brk(BreakClass.DUPLICATE_PAYMENT, Priority.P1, "o-1")
    gone = brk(BreakClass.CANCELLED_NOT_REFUNDED, Priority.P1, "o-3")
    BreakStore(TABLE).save("acme", date(2026, 11, 21), [minor, urgent], [gone])
    BankStore(TABLE).put_file_record(
        "acme", "ab" * 32, "bank-statements/acme/x.sta", {"status": "rejected", "reason": "empty"}
    )

    status, body = risk("GET", "acme", "reconciliation/breaks")
    assert status == 200
    assert [b["break_class"] for b in body["breaks"]] == ["duplicate_payment", "amount_mismatch"]
    status, body = risk("GET", "acme", "reconciliation/breaks?status=closed")
    assert [b["break_id"] for b in body["breaks"]] == [gone.break_id]
    status, body = risk("GET", "acme", "reconciliation/bank-files")
    assert (status, body["files"][0]["status"], body["files"][0]["reason"]) == (
        200,
        "rejected",
        "empty",
    )
    assert risk("GET", "globex", "reconciliation/breaks")[0] == 403


# -- returns: window, lines, label from the carrier, inspection ---------------------------------


@pytest.fixture
def returns_env(
    env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    """Acme inspecting its returns within 14 days, the carrier sandbox issuing labels, and the
    operator's clock three days after the delivery (``place(..., shipment=...)``: T0 + 1 day)."""
    from functions.api.composition import services
    from local.moto_fidelity import serialize_dynamodb_writes
    from local.sandboxes.carrier_api import CarrierSandbox
    from shared.tenants import TenantDirectory, TenantSettings
    from tests.clocks import FixedClock

    serialize_dynamodb_writes()  # as DynamoDB: a conditional write is one atomic step
    TenantDirectory(TABLE).save(
        TenantSettings.model_validate(
            {
                "id": "acme",
                "name": "Acme",
                "currency": "EUR",
                "customer_sender": "shop@acme.example",
                "returns": {"inspection": True},
            }
        )
    )
    clock = FixedClock(T0 + timedelta(days=4))
    monkeypatch.setattr(services(), "clock", clock)
    monkeypatch.setenv("MAIL_DIR", str(tmp_path))
    with CarrierSandbox(seed=3, api_keys=frozenset({EASYPOST_KEY})) as carrier:
        assert carrier.base_url is not None
        monkeypatch.setenv("CARRIER_API_BASE", carrier.base_url)
        yield {**env, "carrier": carrier, "clock": clock}


def _returned_parcel(tracking: str, status: str, at: datetime) -> None:
    """The carrier's scan of the return parcel, applied and handed to the orders context as the
    processor would."""
    from functions.orders.composition import order_changes

    event = ShipmentUpdated(
        tenant="acme",
        source=Source.EASYPOST,
        source_event_id=f"{tracking}-{status}",
        occurred_at=at,
        carrier="usps",
        tracking_code=tracking,
        status=ShipmentStatus(status),
    )
    store = OrderStore(TABLE)
    assert route(event, store) == "applied"
    order_changes(TABLE, None, 86_400, orders=store).order_changed(event, "o-1", "applied")


def _return(quantity: int) -> tuple[int, dict[str, Any]]:
    """A delivered order o-1 and the operator's return of ``quantity`` of its line l1."""
    place("acme", "o-1", shipment="delivered")
    lines = {"lines": [{"line_id": "l1", "quantity": quantity}], "reason": "x"}
    return ops("POST", "acme", "o-1", "returns", lines)


def test_a_return_inside_the_window_gets_a_label_and_tracking_code_from_the_carrier(
    returns_env: dict[str, Any],
) -> None:
    status, body = _return(1)
    assert status == 201, body
    (shipment,) = returns_env["carrier"].returns()
    assert shipment["reference"] == body["return_id"]
    assert (body["tracking_code"], body["label_url"]) == (
        shipment["tracking_code"],
        shipment["postage_label"]["label_url"],
    )
    assert (body["status"], body["amount"], body["lines"]) == ("label_issued", 1250, {"l1": 1})
    with urllib.request.urlopen(body["label_url"], timeout=10) as label:
        assert label.read().startswith(b"%PDF")
    status, listed = ops("GET", "acme", "o-1", "returns")
    assert status == 200
    (record,) = listed["returns"]
    assert (record["status"], record["requested_by"]) == ("label_issued", "alice@acme.example")
    # The return parcel's scans find the order through the carrier's tracking code.
    assert OrderStore(TABLE).resolve("acme", f"tracking:{body['tracking_code']}") == "o-1"


def test_a_return_outside_the_window_is_409_and_writes_nothing(
    returns_env: dict[str, Any],
) -> None:
    place("acme", "o-1", shipment="delivered")
    returns_env["clock"].set(T0 + timedelta(days=15, seconds=1))
    before = table_items(returns_env)
    status, body = ops(
        "POST", "acme", "o-1", "returns", {"lines": [{"line_id": "l1"}], "reason": "x"}
    )
    assert status == 409
    assert "return window of 14 days closed" in body["message"]
    assert table_items(returns_env) == before
    assert returns_env["carrier"].returns() == []


def test_a_line_already_returned_is_409_and_an_unknown_line_400_naming_the_line(
    returns_env: dict[str, Any],
) -> None:
    assert _return(2)[0] == 201
    lines = {"lines": [{"line_id": "l1"}], "reason": "x"}
    before = table_items(returns_env)
    status, body = ops("POST", "acme", "o-1", "returns", lines)
    assert (status, body["line"]) == (409, "l1")
    assert body["reason"] == "already returned or refunded: 2 of 2, 0 left to return"
    status, body = ops("POST", "acme", "o-1", "returns", {**lines, "lines": [{"line_id": "l7"}]})
    assert (status, body["line"], body["reason"]) == (400, "l7", "the order has no such line")
    assert table_items(returns_env) == before
    assert len(returns_env["carrier"].returns()) == 1


def test_concurrent_returns_of_the_same_line_let_exactly_one_through(
    returns_env: dict[str, Any],
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    place("acme", "o-1", shipment="delivered")
    lines = {"lines": [{"line_id": "l1", "quantity": 2}], "reason": "x"}
    barrier = threading.Barrier(6)

    def attempt(_: int) -> int:
        barrier.wait(timeout=30)
        return ops("POST", "acme", "o-1", "returns", lines)[0]

    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(pool.map(attempt, range(6)))
    assert statuses == [201] + [409] * 5
    assert len(returns_env["carrier"].returns()) == 1
    returned = returns_env["ddb"].get_item(
        TableName=TABLE,
        Key={"PK": {"S": "T#acme#ORDER#o-1"}, "SK": {"S": "RETURNED"}},
        ConsistentRead=True,
    )["Item"]
    assert returned["line:l1"] == {"N": "2"}


def test_an_inspection_records_who_and_when_and_refunds_what_it_accepts(
    returns_env: dict[str, Any],
) -> None:
    _, opened = _return(2)
    inspection = f"returns/{opened['return_id']}/inspection"
    partial = {"outcome": "partial", "lines": [{"line_id": "l1", "quantity": 1}], "reason": "worn"}
    status, body = ops("POST", "acme", "o-1", inspection, partial)
    assert status == 409 and "not received yet" in body["message"]
    _returned_parcel(opened["tracking_code"], "in_transit", T0 + timedelta(days=3))
    _returned_parcel(opened["tracking_code"], "delivered", T0 + timedelta(days=4))
    assert returns_env["started"] == []  # the tenant inspects: no refund on receipt
    status, body = ops("POST", "acme", "o-1", inspection, {"outcome": "partial", "reason": "worn"})
    assert (status, body["reason"]) == (
        400,
        "a partial inspection accepts either lines or an amount",
    )
    status, body = ops("POST", "acme", "o-1", inspection, partial)
    assert status == 200, body
    assert body["inspection"] == {
        "outcome": "partial",
        "lines": {"l1": 1},
        "amount": 1250,
        "reason": "worn",
        "by": "alice@acme.example",
        "at": (T0 + timedelta(days=4)).isoformat(),
    }
    ((_, _, document),) = returns_env["started"]
    assert (document["refund_id"], document["lines"]) == (
        f"return-{opened['return_id']}",
        [{"line_id": "l1", "quantity": 1}],
    )
    _, listed = ops("GET", "acme", "o-1", "returns")
    (record,) = listed["returns"]
    assert record["status"] == "refunded"
    assert [h["status"] for h in record["history"]] == [
        "requested", "label_issued", "in_transit", "received", "inspected", "refunded"
    ]  # fmt: skip


def test_a_label_the_carrier_refuses_cancels_the_return_and_frees_its_lines(
    returns_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from local.sandboxes.carrier_api import CarrierSandbox

    with CarrierSandbox(seed=4, api_keys=frozenset({"another account"})) as stranger:
        monkeypatch.setenv("CARRIER_API_BASE", stranger.base_url or "")
        status, body = _return(2)
    assert status == 409
    assert body["message"].startswith("the carrier refused the return label (401)")
    _, listed = ops("GET", "acme", "o-1", "returns")
    assert [r["status"] for r in listed["returns"]] == ["cancelled"]
    # Its lines are free again: with the carrier answering, the same return goes through.
    monkeypatch.setenv("CARRIER_API_BASE", returns_env["carrier"].base_url)
    lines = {"lines": [{"line_id": "l1", "quantity": 2}], "reason": "x"}
    assert ops("POST", "acme", "o-1", "returns", lines)[0] == 201


# -- carrier claims ------------------------------------------------------------------------------


def test_an_operator_records_a_claims_life_with_its_reference(env: dict[str, Any]) -> None:
    from functions.orders.domain import new_claim

    place("acme", "o-1", shipment="lost")
    state, _ = OrderStore(TABLE).load("acme", "o-1")
    # What the processor files for the lost scan (functions/orders/use_cases/parcels.py).
    claim = new_claim(state, "1Zo-1", "lost", T0, "ecomops")
    assert LifecycleStore(TABLE).open_claim("acme", "o-1", claim)
    assert not LifecycleStore(TABLE).open_claim("acme", "o-1", claim)  # once per parcel
    status, body = ops("GET", "acme", "o-1", "claims")
    assert status == 200
    assert ops("GET", "acme", "o-1")[1]["claims"] == body["claims"]  # on the order too
    ((claim),) = body["claims"]
    assert (claim["tracking_code"], claim["status"], claim["version"]) == ("1Zo-1", "filed", 1)

    status, body = ops("POST", "acme", "o-1", "claims/1Zo-1", {"status": "accepted"})
    assert status == 409 and "reference" in body["message"]
    status, body = ops("POST", "acme", "o-1", "claims/1Zo-1", {"status": "lost"})
    assert status == 400 and body["message"].startswith("status:")
    status, body = ops(
        "POST", "acme", "o-1", "claims/1Zo-1", {"status": "accepted", "reference": "UPS-9"}
    )
    assert status == 200
    assert (body["status"], body["reference"], body["version"]) == ("accepted", "UPS-9", 2)
    assert body["history"][-1]["by"] == "alice@acme.example"

    from functions.api.handlers import operator

    answer = operator.handler(
        http_event("GET", "/ops/tenants/acme/claims", claims=ALICE),
        _Context(),  # type: ignore[arg-type]
    )
    assert [c["order_id"] for c in json.loads(answer["body"])["claims"]] == ["o-1"]
    status, body = ops(
        "POST",
        "acme",
        "o-1",
        "claims/1Zo-1",
        {"status": "paid", "reference": "UPS-9", "amount_paid": 2500},
    )
    assert status == 200 and body["amount_paid"] == 2500
    answer = operator.handler(
        http_event("GET", "/ops/tenants/acme/claims", claims=ALICE),
        _Context(),  # type: ignore[arg-type]
    )
    assert json.loads(answer["body"])["claims"] == []  # paid: no longer open
    status, body = ops("GET", "globex", "o-1", "claims")
    assert status == 403


def test_a_claim_for_a_parcel_without_one_is_409(env: dict[str, Any]) -> None:
    place("acme", "o-1", shipment="in_transit")
    status, body = ops("POST", "acme", "o-1", "claims/1Zo-1", {"status": "rejected"})
    assert status == 409 and "no claim" in body["message"]
