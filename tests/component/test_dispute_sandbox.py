"""Representment against the Stripe sandbox (issue 15, item 3), on moto: the sandbox's dispute
events open the case through the processor, the desk uploads the packet and submits it
(idempotency key, ``submit=true``), the network's outcome closes the case; accepting closes the
dispute at Stripe; a submission after the deadline is refused and the case says so."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from functions.disputes.composition import DisputesSettings, build_ports
from functions.disputes.domain.case import CaseFlag, CaseState
from functions.disputes.use_cases.representment import (
    SubmissionRefused,
    accept_case,
    submit_case,
)
from local.sandboxes.stripe_sandbox import StripeSandbox
from tests.clocks import FixedClock
from tests.component import orders
from tests.component.conftest import TABLE
from tests.component.dispute_sandbox import START, deliver, pay, stripe_sandbox  # noqa: F401


def deliver_all(box: StripeSandbox) -> None:
    deliver(box.drain_events())


def disputed_order(box: StripeSandbox, order_id: str, reason: str) -> str:
    orders.place(order_id, at=START - timedelta(hours=1), amount=8000)
    pi = pay(box, order_id)
    dispute = box.open_dispute(str(pi.latest_charge), reason=reason)
    deliver_all(box)
    return str(dispute["id"])


def desk(at: datetime) -> Any:
    return build_ports(DisputesSettings(table_name=TABLE), FixedClock(at))


def test_submit_then_the_network_decides(sandbox: StripeSandbox) -> None:
    dispute_id = disputed_order(sandbox, "o-1", "product_not_received")
    ports = desk(START)
    case = ports.cases.get("acme", dispute_id)
    assert case is not None and case.state == CaseState.COLLECTING and case.order_id == "o-1"
    assert case.fee == 1500 and case.card_brand == "visa" and case.network_reason_code == "13.1"
    submit_case(ports, "acme", dispute_id, by="sam")
    at_stripe = sandbox.request("GET", f"/v1/disputes/{dispute_id}").json()
    assert at_stripe["status"] == "under_review"
    assert at_stripe["evidence"]["customer_email_address"] == "o-1@example.com"
    packet = at_stripe["evidence"]["uncategorized_file"]
    assert packet.startswith("file_")
    uploads = [r for r in sandbox.requests() if r.path == "/v1/files"]
    assert uploads and all(r.idempotency_key for r in uploads)
    (submission,) = [
        r
        for r in sandbox.requests()
        if r.method == "POST" and r.path == f"/v1/disputes/{dispute_id}"
    ]
    assert submission.idempotency_key and submission.status == 200
    deliver_all(sandbox)  # charge.dispute.updated: under_review
    sandbox.close_dispute(dispute_id, won=True)
    deliver_all(sandbox)
    case = ports.cases.get("acme", dispute_id)
    assert case is not None
    assert (case.state, case.stripe_status, case.funds_reinstated) == (CaseState.WON, "won", True)
    assert [e.what for e in case.timeline][-3:] == ["updated", "funds reinstated", "closed"]


def test_accept_closes_the_dispute_at_stripe(sandbox: StripeSandbox) -> None:
    dispute_id = disputed_order(sandbox, "o-2", "fraudulent")
    accept_case(desk(START), "acme", dispute_id, by="lee")
    assert sandbox.request("GET", f"/v1/disputes/{dispute_id}").json()["status"] == "lost"
    deliver_all(sandbox)
    case = desk(START).cases.get("acme", dispute_id)
    assert case is not None and (case.state, case.stripe_status) == (CaseState.ACCEPTED, "lost")


def test_a_submission_after_the_deadline_is_refused_and_the_case_says_so(
    sandbox: StripeSandbox,
) -> None:
    dispute_id = disputed_order(sandbox, "o-3", "product_not_received")
    sandbox.advance(9 * 86_400)
    late = START + timedelta(days=9)
    with pytest.raises(SubmissionRefused):
        submit_case(desk(late), "acme", dispute_id, by="sam")
    case = desk(late).cases.get("acme", dispute_id)
    assert case is not None and case.state == CaseState.COLLECTING
    assert CaseFlag.SUBMISSION_REFUSED in case.flags
    assert case.refusal is not None
    assert "after the deadline" in case.refusal and "can no longer be submitted" in case.refusal


def test_an_inquiry_is_kept_apart_and_closes_without_a_chargeback(
    sandbox: StripeSandbox,
) -> None:
    orders.place("o-4", at=START - timedelta(hours=1), amount=8000)
    pi = pay(sandbox, "o-4")
    inquiry = sandbox.open_dispute(str(pi.latest_charge), reason="fraudulent", inquiry=True)
    deliver_all(sandbox)
    case = desk(START).cases.get("acme", inquiry["id"])
    assert case is not None
    assert (case.kind, case.stripe_status, case.fee) == ("inquiry", "warning_needs_response", 0)
    sandbox.close_dispute(inquiry["id"], won=True)
    deliver_all(sandbox)
    case = desk(START).cases.get("acme", inquiry["id"])
    assert case is not None and (case.kind, case.state) == ("inquiry", CaseState.WON)
    assert case.stripe_status == "warning_closed"
