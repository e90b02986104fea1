"""An early fraud warning through the processor on moto (issue 15, item 5): the Stripe
sandbox raises it on a paid, unshipped order; the desk cancels the order through the orders
context's public cancellation once, whatever number of times the warning is delivered, its
refund started once; the warning counts in the month's fraud reports."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from functions.disputes.adapters.case_store import DynamoCaseStore, TableRatioCounts
from functions.orders import contracts as c
from local.sandboxes.stripe_sandbox import StripeSandbox
from shared import workflows
from shared.lifecycle_store import LifecycleStore
from shared.tenants import TenantDirectory
from tests.component import orders
from tests.component.conftest import TABLE
from tests.component.dispute_sandbox import START, deliver, pay, stripe_sandbox  # noqa: F401
from tests.disputes_fakes import tenant


def test_a_warning_on_an_unshipped_order_cancels_it_once(
    sandbox: StripeSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []

    def start_once(arn: str, name: str, document: dict[str, Any], identity: Any = None) -> bool:
        started.append(name)
        return True

    monkeypatch.setattr(workflows, "start_once", start_once)
    monkeypatch.setenv("REFUND_STATE_MACHINE", "arn:aws:states:us-east-1:1:stateMachine:refunds")
    TenantDirectory(TABLE).save(tenant())
    orders.place("o-9", at=START - timedelta(minutes=5), amount=8000)
    pi = pay(sandbox, "o-9")
    sandbox.early_fraud_warning(str(pi.latest_charge))
    (warned,) = sandbox.drain_events()
    assert warned["type"] == "radar.early_fraud_warning.created"
    deliver([warned, warned])  # Stripe redelivers
    assert LifecycleStore(TABLE).stage("acme", "o-9") == c.Stage.CANCELLED
    # One refund, for the one payment, however often the warning came.
    assert len(started) == 1 and "cancellation" in started[0]
    counts = TableRatioCounts(TABLE, DynamoCaseStore(TABLE))
    assert counts.fraud_reports("acme", date(2026, 11, 1)) == {"visa": 1}
