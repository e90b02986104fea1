"""Audit retention (issue 13.12) on moto: every financial record is written with a TTL of its
tenant's ``retention.financial_years`` from the clock, never shorter than the raw webhooks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from functions.orders.adapters.notification_log import DynamoNotificationLog
from functions.orders.adapters.refund_ledger import DynamoRefundLedger
from functions.reconcile.adapters.bank_store import BankStore
from functions.reconcile.adapters.break_store import BreakStore
from functions.reconcile.domain.bank.model import BankLine, SourcePosition
from functions.reconcile.domain.model import Break, BreakClass, Priority
from functions.webhooks.use_cases.apply import route
from shared import keys
from shared.events import PaymentSucceeded, PayoutPaid, Source
from shared.lifecycle_store import LifecycleStore
from shared.order_changes import OrderChanges
from shared.order_store import OrderStore
from shared.retention import RAW_EVENT_DAYS, keep_until
from shared.settlement_store import SettlementStore
from shared.settlements import BalanceTransaction
from shared.tenants import TenantDirectory, TenantSettings
from tests.clocks import FixedClock
from tests.component.conftest import TABLE
from tests.component.orders import eur

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)
DAY = date(2026, 11, 22)
# Kept ten years, longer than the default; "plain" has no settings record (the default, 7).
LONG = TenantSettings(
    id="long",
    name="Long",
    currency="EUR",
    customer_sender="shop@long.example",
    retention={"financial_years": 10},
)


def write_every_financial_record(tenant: str, clock: FixedClock) -> None:
    """One write through each store that keeps a financial record for ``tenant``."""
    orders = OrderStore(TABLE, clock)
    paid = PaymentSucceeded(
        tenant=tenant,
        source=Source.STRIPE,
        source_event_id=f"evt-{tenant}",
        occurred_at=NOW - timedelta(hours=1),
        order_id="o-1",
        payment_id="pi_1",
        charge_id="ch_1",
        amount=eur(5000),
    )
    assert route(paid, orders) == "applied"  # the aggregate, its timeline, its references
    # An e-mail the order was sent, and its entry on the order's timeline.
    DynamoNotificationLog(TABLE, clock).record(
        tenant, "o-1", "order_confirmed", "sent", "m-1", "Your order o-1 is confirmed"
    )
    lifecycle = LifecycleStore(TABLE, clock)
    lifecycle.set_stage(tenant, "o-1", "confirmed")
    lifecycle.release_funds(tenant, "o-1", [{"line_id": "l1", "gross": 5000}])
    refunds = DynamoRefundLedger(TABLE, clock)
    refunds.claim(tenant, "o-1", "r1", {"amount": 1000})
    assert refunds.reserve(tenant, "o-1", "pi_1", "r1", 1000, 5000)
    refunds.record(tenant, "o-1", "r1", status="requested", amount=1000)
    refunds.completed(tenant, "o-1", "r1", 1000, "EUR")
    refunds.claim(tenant, "o-1", "r2", {"amount": 500})
    assert refunds.reserve(tenant, "o-1", "pi_1", "r2", 500, 5000)
    assert refunds.release(tenant, "o-1", "r2") == 500
    assert refunds.note_gateway_failure(tenant, "o-1", "re_1", {"reason": "declined"})
    # What the daily reconciliation re-examines: changed and cancelled orders of a day.
    lifecycle.set_stage(tenant, "o-1", "cancelled")
    assert OrderChanges(TABLE, clock).note(tenant, "o-1", [DAY - timedelta(days=1)]) == 1
    settlements = SettlementStore(TABLE, clock)
    settlements.apply(
        PayoutPaid(
            tenant=tenant,
            source=Source.STRIPE,
            source_event_id=f"evt-po-{tenant}",
            occurred_at=NOW - timedelta(hours=2),
            payout_id="po_1",
            amount=eur(4825),
            arrival_date=NOW,
            status="paid",
        )
    )
    settlements.file_balance_transactions(
        tenant,
        "po_1",
        [
            BalanceTransaction(
                id="txn_1",
                type="charge",
                reporting_category="charge",
                amount=eur(5000),
                fee=eur(175),
                net=eur(4825),
                source_id="ch_1",
                created=NOW - timedelta(hours=3),
                payout_id="po_1",
            )
        ],
    )
    bank = BankStore(TABLE, clock)
    source = SourcePosition(
        file=f"bank-statements/{tenant}/a.csv",
        file_sha256="f" * 64,
        format="csv",
        line_no=2,
        entry_index=0,
    )
    line = BankLine(
        tenant=tenant,
        account="NL91ABNA0417164300",
        currency="EUR",
        amount=4825,
        direction="credit",
        booking_date=DAY,
        value_date=DAY,
        source=source,
        remittance="STRIPE PAYOUT po_1",
    )
    assert bank.put_lines([line]) == 1
    bank.put_file_record(tenant, "f" * 64, source.file, {"status": "stored", "lines": 1})
    bank.note_duplicate(tenant, "f" * 64, f"bank-statements/{tenant}/b.csv", source.file)
    breaks = BreakStore(TABLE, clock)
    brk = Break(
        break_id="b1",
        tenant=tenant,
        break_class=BreakClass.SHORT_PAYMENT,
        priority=Priority.P1,
        currency="EUR",
        amount=150,
        keys=(("payout_id", "po_1"),),
        explanation="short",
        first_seen=DAY,
    )
    breaks.save(tenant, DAY, [brk], [])
    assert breaks.claim_action(tenant, "recon:b1", {"status": "claimed"}) is None
    breaks.update_action(tenant, "recon:b1", {"status": "requested"})
    breaks.save_run(tenant, DAY, {"counts": {}})


def items_of(ddb: Any, tenant: str) -> list[dict[str, Any]]:
    found = []
    for page in ddb.get_paginator("scan").paginate(TableName=TABLE):
        found += [i for i in page["Items"] if i["PK"]["S"].startswith(f"T#{tenant}#")]
    return found


@pytest.mark.parametrize(("tenant", "years"), [("long", 10), ("plain", 7)])
def test_every_financial_record_is_kept_the_tenants_period_from_its_write(
    aws_env: dict[str, Any], tenant: str, years: int
) -> None:
    TenantDirectory(TABLE).save(LONG)
    write_every_financial_record(tenant, FixedClock(NOW))
    items = items_of(aws_env["ddb"], tenant)
    kinds = {i.get("kind", {}).get("S") for i in items}
    assert {
        "order",
        "timeline",
        "notification",
        "ref",
        "workflow",
        "funds_releasable",
        "refund_request",
        "refund_reservations",
        "RefundCompleted",
        "payout",
        "balance_transaction",
        "payout_summary",
        "bank_line",
        "bank_file",
        "bank_file_drop",
        "recon_break",
        "recon_action",
        "recon_run",
        "refund_failed_at_gateway",
        "order_changed",
    } <= kinds
    expected = keep_until(NOW, years)
    ttl = keys.TABLE.ttl_attribute
    missing = sorted(
        (i["PK"]["S"], i["SK"]["S"]) for i in items if i.get(ttl, {}).get("N") != str(expected)
    )
    assert missing == []
    assert expected - NOW.timestamp() >= RAW_EVENT_DAYS * 86_400


def test_a_later_write_keeps_the_record_longer(aws_env: dict[str, Any]) -> None:
    clock = FixedClock(NOW)
    breaks = BreakStore(TABLE, clock)
    breaks.save_run("plain", DAY, {"counts": {}})
    clock.advance(timedelta(days=30))
    breaks.save_run("plain", DAY, {"counts": {"again": 1}})
    (run,) = [i for i in items_of(aws_env["ddb"], "plain") if i["SK"]["S"] == "RUN"]
    assert run[keys.TABLE.ttl_attribute]["N"] == str(keep_until(NOW + timedelta(days=30), 7))
