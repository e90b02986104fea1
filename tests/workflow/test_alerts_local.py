"""Notices crossing services on the local stack: a lifecycle step raises one, SNS carries a line
people read with attributes a team's subscription filters on, and the rendered e-mail reaches
the client team from the operations sender, never from the shop's customer sender."""

from __future__ import annotations

import email
import email.policy
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from functions.orders.use_cases.operations import request_refund
from local.sandboxes.stripe_sandbox import StripeSandbox
from shared.order_store import OrderStore
from tests.workflow.alerts import TopicInbox
from tests.workflow.orders_api import orders
from tests.workflow.test_lifecycle_local import (
    mails,
    make_tenant,
    place,
    place_paid,
    sent_mail,
    wait_for_mail,
    wait_for_stage,
)

pytestmark = pytest.mark.local

# The deployment's operations sender where none is configured (infra/config.py, README).
OPS_SENDER = "Ecom OPS <ops@ecomops.example>"


def test_an_order_not_dispatched_in_time_is_told_to_its_team_in_words_and_by_e_mail(
    local_stack: Any, tmp_path: Path
) -> None:
    tenant = "alert-late"
    # A team that wants each one at once (the default holds it for the hour's digest: below).
    make_tenant(local_stack, tmp_path, tenant, dispatch_sla_days=1, notices={"digest": "off"})
    # The client team's subscription: its own tenant's dispatch notices only.
    team = TopicInbox(local_stack, filter_policy={"tenant": [tenant], "kind": ["not_dispatched"]})
    # A finance subscription on the same topic hears nothing of it.
    finance = TopicInbox(local_stack, filter_policy={"tenant": [tenant], "team": ["finance"]})
    place_paid(local_stack, tenant, "o-1")
    wait_for_stage(local_stack, tenant, "o-1", "not_dispatched", "awaiting_shipment")

    notice = team.wait_for(tenant, "not_dispatched")
    assert notice["message"].startswith("Order o-1 not dispatched after 1 day\n")
    assert f"ecomops orders show --tenant {tenant} o-1" in notice["message"]
    assert f"/ops/tenants/{tenant}/orders/o-1" in notice["message"]
    assert {k: notice[k] for k in ("tenant", "kind", "order_id", "severity", "team")} == {
        "tenant": tenant,
        "kind": "not_dispatched",
        "order_id": "o-1",
        "severity": "warning",
        "team": "operations",
    }
    assert finance.messages(tenant) == []

    wait_for_mail(local_stack, tenant, "o-1", "not_dispatched")
    mail = sent_mail(local_stack, tenant, "o-1")["not_dispatched"]
    assert mail["From"] == OPS_SENDER
    assert mail["To"] == f"ops@{tenant}.example"
    assert mail["Subject"] == f"[Tenant {tenant}] Order o-1 not dispatched after 1 day"
    text = mail.get_body(preferencelist=("plain",))
    assert text is not None and f"ecomops orders show --tenant {tenant} o-1" in text.get_content()
    # The order's story says what its team was told (noted just after the e-mail went out).
    told = "e-mail notice:not_dispatched: Order o-1 not dispatched after 1 day"
    store = OrderStore(local_stack.deployment.outputs["TableName"])
    deadline = time.monotonic() + 15
    while told not in (summaries := {e["summary"] for e in store.timeline(tenant, "o-1")}):
        assert time.monotonic() < deadline, summaries
        time.sleep(0.2)
    # The lifecycle waits on and ships; the notice went out once.
    wait_for_stage(local_stack, tenant, "o-1", "awaiting_shipment", timeout_s=10)
    assert team.messages(tenant) == []


def test_by_default_the_late_order_reaches_its_team_in_the_hours_digest(
    local_stack: Any, tmp_path: Path
) -> None:
    tenant = "alert-digest"
    make_tenant(local_stack, tmp_path, tenant, dispatch_sla_days=1)
    team = TopicInbox(local_stack, filter_policy={"tenant": [tenant], "kind": ["not_dispatched"]})
    place_paid(local_stack, tenant, "o-1")
    place_paid(local_stack, tenant, "o-2")
    for order in ("o-1", "o-2"):
        wait_for_stage(local_stack, tenant, order, "not_dispatched", "awaiting_shipment")
    # SNS has each at once; the order's story says it waits for the digest.
    notices = team.wait_for_each(tenant, "not_dispatched", 2)
    assert sorted(n["order_id"] for n in notices) == ["o-1", "o-2"]
    store = OrderStore(local_stack.deployment.outputs["TableName"])
    for order in ("o-1", "o-2"):
        held = (
            f"held for the team's digest notice:not_dispatched: "
            f"Order {order} not dispatched after 1 day"
        )
        deadline = time.monotonic() + 15
        while held not in (summaries := {e["summary"] for e in store.timeline(tenant, order)}):
            assert time.monotonic() < deadline, summaries
            time.sleep(0.2)
        assert "not_dispatched" not in mails(local_stack, tenant, order)

    # The reports function's next hourly tick mails the team both, in one e-mail.
    next_tick = datetime.now(UTC) + timedelta(hours=1)
    result = local_stack.invoke(
        local_stack.deployment.outputs["ReportsFunction"],
        {"digests": True, "time": next_tick.isoformat()},
    )
    (digest,) = [d for d in result["digests"] if d["tenant"] == tenant]
    assert (digest["team"], digest["notices"]) == ("operations", 2)
    (mail,) = [m for m in digest_mails(local_stack) if m["X-EcomOps-Tenant"] == tenant]
    assert mail["From"] == OPS_SENDER and mail["To"] == f"ops@{tenant}.example"
    assert mail["Subject"] == f"[Tenant {tenant}] 2 notices to follow up from the last hour"
    text = mail.get_body(preferencelist=("plain",))
    assert text is not None
    for order in ("o-1", "o-2"):
        assert f"ecomops orders show --tenant {tenant} {order}" in text.get_content()


def digest_mails(stack: Any) -> list[EmailMessage]:
    found = []
    for path in Path(stack.mail_dir).glob("team_digest-*.eml"):
        with path.open("rb") as handle:
            message = email.message_from_binary_file(handle, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def test_an_order_held_for_review_asks_the_team_from_operations_with_its_links(
    local_stack: Any, tmp_path: Path
) -> None:
    tenant = "alert-review"
    make_tenant(local_stack, tmp_path, tenant, risk={"review_over": 1000})
    team = TopicInbox(local_stack, filter_policy={"tenant": [tenant], "severity": ["warning"]})
    place(local_stack, tenant, "o-1")
    wait_for_stage(local_stack, tenant, "o-1", "potential_fraud")

    notice = team.wait_for(tenant, "potential_fraud")
    assert notice["message"].startswith("Potential fraud: order o-1 is held for review\n")
    assert f"/links/{tenant}/o-1/approve" in notice["message"]
    assert f"ecomops risk queue --tenant {tenant}" in notice["message"]

    wait_for_mail(local_stack, tenant, "o-1", "review_needed")
    mail = sent_mail(local_stack, tenant, "o-1")["review_needed"]
    assert mail["From"] == OPS_SENDER != f"orders@{tenant}.example"
    assert "/links/" in mail.as_string()


def test_a_refund_the_gateway_never_confirms_is_told_with_its_amount(
    local_stack: Any, sandbox: StripeSandbox, tmp_path: Path
) -> None:
    from tests.workflow.test_refunds_local import paid_order, refund_execution

    tenant = "alert-unconfirmed"
    make_tenant(local_stack, tmp_path, tenant)
    paid_order(local_stack, sandbox, tenant, "o-1")
    team = TopicInbox(
        local_stack, filter_policy={"tenant": [tenant], "kind": ["refund_unconfirmed"]}
    )
    # The gateway's confirmation is never forwarded, and the wait for it is 2 s.
    ports = replace(orders(local_stack), seconds_per_day=1)
    assert request_refund(ports, tenant, "o-1", amount=1500, refund_id="r1")["started"]
    assert refund_execution(local_stack, tenant, "o-1", "r1")["status"] == "SUCCEEDED"

    notice = team.wait_for(tenant, "refund_unconfirmed")
    assert notice["message"].startswith("Refund r1 for order o-1 not confirmed by the gateway\n")
    assert "Amount: USD 15.00" in notice["message"]
    assert (notice["refund_id"], notice["order_id"]) == ("r1", "o-1")
    wait_for_mail(local_stack, tenant, "o-1", "refund_stuck")
    mail = sent_mail(local_stack, tenant, "o-1")["refund_stuck"]
    assert mail["From"] == OPS_SENDER and mail["To"] == f"ops@{tenant}.example"
    assert mail["Subject"] == f"[Tenant {tenant}] Refund of $15.00 for o-1 not confirmed"
