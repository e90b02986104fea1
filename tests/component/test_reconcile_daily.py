"""The daily reconciliation on moto: a bank file dropped in S3, orders, payments and a payout
written by the real write paths, the run, its breaks across days and its refunds."""

from __future__ import annotations

import email
import email.policy
import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3
import pytest

from functions.reconcile.adapters.bank_store import BankStore
from functions.reconcile.adapters.break_store import BreakStore
from functions.reconcile.adapters.loader import DayLoader
from functions.reconcile.adapters.s3 import S3Objects, S3Reports
from functions.reconcile.use_cases.bank_intake import Intake
from functions.reconcile.use_cases.daily import DailyReconciliation
from functions.reconcile.use_cases.schedule import due_tenants
from functions.webhooks.domain.normalise.stripe import balance_transaction_from_stripe
from local.sandboxes.bank import Entry, Statement, write_csv
from shared.events import (
    ChargeRefunded,
    OrderCancelled,
    PayoutPaid,
    Refund,
    ShipmentStatus,
    ShipmentUpdated,
    Source,
)
from shared.notices import Notice
from shared.notices.reconcile import ReconciliationBreaks
from shared.settlement_store import SettlementStore
from shared.tenants import ReconciliationSettings, TenantDirectory, TenantSettings
from tests.component import orders
from tests.component.conftest import TABLE

DAY = date(2026, 11, 20)
T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)
REPORTS = "ecomops-reports-test"
BANK = "ecomops-bank-test"
ACME = TenantSettings(
    id="acme",
    name="Acme",
    currency="EUR",
    customer_sender="shop@acme.example",
    alert_emails=("ops@acme.example",),
    reconciliation=ReconciliationSettings(
        auto_refund=True, dry_run=False, max_refund=10_000, bank_csv="generic"
    ),
)


class Recorder:
    def __init__(self) -> None:
        self.refunds: list[dict[str, Any]] = []
        self.emails: list[str] = []
        self.alerts: list[Notice] = []
        self.files: list[Notice] = []

    def start_refund(
        self,
        tenant: str,
        order_id: str,
        *,
        amount: int,
        payment_id: str,
        refund_id: str,
        cause: Any = None,
    ) -> dict[str, Any]:
        self.refunds.append(
            {
                "order_id": order_id,
                "amount": amount,
                "payment_id": payment_id,
                "id": refund_id,
                "cause": cause,
            }
        )
        return {"refund_id": refund_id, "started": True}

    def email(self, tenant: TenantSettings, subject: str, html: str, text: str, key: str) -> str:
        self.emails.append(subject)
        return f"msg-{len(self.emails)}"

    def send(self, notice: Notice) -> None:
        self.alerts.append(notice)


apply, eur = orders.apply, orders.eur


def order(order_id: str, amount: int, at: datetime) -> None:
    orders.place(order_id, at=at, amount=amount)


def paid(order_id: str, payment: str, amount: int, at: datetime) -> None:
    orders.pay(order_id, payment, amount, at)


def shipped(order_id: str, at: datetime) -> None:
    apply(
        ShipmentUpdated(
            tenant="acme",
            source=Source.EASYPOST,
            source_event_id=f"{order_id}-shipped",
            occurred_at=at,
            tracking_code=f"1Z{order_id}",
            status=ShipmentStatus.IN_TRANSIT,
            order_id=order_id,
        )
    )


class Gateway:
    def __init__(self, txns: list[dict[str, Any]]) -> None:
        self.txns = txns

    def balance_transactions_for_payout(self, payout_id: str) -> list[dict[str, Any]]:
        return self.txns


def txn(txn_id: str, source: str, amount: int, fee: int, category: str) -> dict[str, Any]:
    return {
        "object": "balance_transaction",
        "id": txn_id,
        "amount": amount,
        "fee": fee,
        "net": amount - fee,
        "currency": "eur",
        "type": category,
        "reporting_category": category,
        "source": source,
        "created": int(T0.timestamp()),
        "status": "available",
    }


@pytest.fixture
def day(aws_env: dict[str, Any]) -> dict[str, Any]:
    """A day with one clean order, a duplicate payment, a cancelled order still charged, and
    a payout the bank credited short."""
    s3 = aws_env["s3"]
    for bucket in (REPORTS, BANK):
        s3.create_bucket(Bucket=bucket)
    TenantDirectory(TABLE).save(ACME)
    order("o-ok", 5000, T0)
    paid("o-ok", "pi_ok", 5000, T0 + timedelta(minutes=1))
    shipped("o-ok", T0 + timedelta(hours=3))
    order("o-dup", 3000, T0 + timedelta(hours=1))
    paid("o-dup", "pi_d1", 3000, T0 + timedelta(hours=1, minutes=1))
    paid("o-dup", "pi_d2", 3000, T0 + timedelta(hours=1, minutes=2))
    shipped("o-dup", T0 + timedelta(hours=4))
    order("o-cancel", 2000, T0 + timedelta(hours=2))
    paid("o-cancel", "pi_c", 2000, T0 + timedelta(hours=2, minutes=1))
    apply(
        OrderCancelled(
            tenant="acme",
            source=Source.SHOP,
            source_event_id="o-cancel-cancelled",
            occurred_at=T0 + timedelta(hours=5),
            order_id="o-cancel",
            reason="customer changed their mind",
        )
    )
    txns = [
        txn("txn_ok", "ch_pi_ok", 5000, 175, "charge"),
        txn("txn_d1", "ch_pi_d1", 3000, 117, "charge"),
        txn("txn_d2", "ch_pi_d2", 3000, 117, "charge"),
        txn("txn_c", "ch_pi_c", 2000, 88, "charge"),
    ]
    net = sum(t["net"] for t in txns)
    settlements = SettlementStore(TABLE)
    settlements.apply(
        PayoutPaid(
            tenant="acme",
            source=Source.STRIPE,
            source_event_id="evt-po1",
            occurred_at=T0 + timedelta(hours=20),
            payout_id="po_1",
            amount=eur(net),
            arrival_date=datetime(2026, 11, 20, tzinfo=UTC),
            status="paid",
            statement_descriptor="STRIPE PAYOUT",
        )
    )
    settlements.file_balance_transactions(
        "acme",
        "po_1",
        (
            balance_transaction_from_stripe(raw, payout_id="po_1")
            for raw in Gateway(txns).balance_transactions_for_payout("po_1")
        ),
    )
    return {"s3": s3, "net": net}


def drop_bank_file(env: dict[str, Any], credit: int, name: str = "stmt-20.csv") -> dict[str, Any]:
    statement = Statement(
        account="NL91ABNA0417164300",
        currency="EUR",
        statement_id="2026-11-20",
        opening_balance=0,
        entries=[
            Entry(
                amount=credit,
                direction="credit",
                booking_date=DAY,
                value_date=DAY,
                counterparty="STRIPE",
                remittance="STRIPE PAYOUT po_1",
            )
        ],
    )
    key = f"bank-statements/acme/{name}"
    env["s3"].put_object(Bucket=BANK, Key=key, Body=write_csv([statement]))
    intake = Intake(
        BankStore(TABLE), TenantDirectory(TABLE), S3Objects(), recorder_alerts(Recorder())
    )
    return intake.receive(BANK, key)


def recorder_alerts(recorder: Recorder) -> Any:
    class Alerts:
        def send(self, notice: Notice) -> None:
            recorder.files.append(notice)

    return Alerts()


def reconciliation(recorder: Recorder) -> DailyReconciliation:
    return DailyReconciliation(
        loader=DayLoader(TABLE),
        breaks=BreakStore(TABLE),
        start_refund=recorder.start_refund,
        reports=S3Reports(REPORTS),
        notifier=recorder,
        alerts=recorder,
    )


def test_a_bank_file_is_stored_once_however_often_it_is_dropped(day: dict[str, Any]) -> None:
    first = drop_bank_file(day, day["net"] - 150)
    again = drop_bank_file(day, day["net"] - 150, name="stmt-20-copy.csv")
    assert first["status"] == "stored" and first["lines"] == 1
    assert again["status"] == "duplicate"
    assert len(list(BankStore(TABLE).lines_between("acme", DAY, DAY))) == 1


def test_the_day_names_each_break_refunds_once_and_closes_what_resolved(
    day: dict[str, Any],
) -> None:
    drop_bank_file(day, day["net"] - 150)
    recorder = Recorder()

    summary = reconciliation(recorder).run(ACME, DAY)

    assert summary["by_class"] == {
        "duplicate_payment": 1,
        "cancelled_not_refunded": 1,
        "short_payment": 1,
    }
    refunded = sorted((r["order_id"], r["payment_id"], r["amount"]) for r in recorder.refunds)
    assert [r[0] for r in refunded] == ["o-cancel", "o-dup"]
    assert ("o-cancel", "pi_c", 2000) in refunded
    assert summary["actions"] == {"requested": 2}
    assert len(recorder.emails) == 1
    notice = recorder.alerts[0]
    assert isinstance(notice, ReconciliationBreaks)
    assert notice.headline.startswith("Reconciliation 2026-11-20")
    assert notice.tenant == "acme"
    assert {b.break_class for b in notice.breaks} == {
        "duplicate_payment",
        "cancelled_not_refunded",
        "short_payment",
    }
    keys = {o["Key"] for o in day["s3"].list_objects_v2(Bucket=REPORTS)["Contents"]}
    assert keys == {
        "reports/acme/reconciliation/2026/11/20/report.html",
        "reports/acme/reconciliation/2026/11/20/report.csv",
        "reports/acme/reconciliation/2026/11/20/summary.json",
    }
    first_ids = {b.break_id for b in BreakStore(TABLE).open_breaks("acme")}
    assert len(first_ids) == 3

    # The same day again: the same breaks, no second refund.
    again = reconciliation(recorder).run(ACME, DAY)
    assert len(recorder.refunds) == 2
    assert again["actions"] == {"already_done": 2}
    assert {b.break_id for b in BreakStore(TABLE).open_breaks("acme")} == first_ids
    assert again["counts"]["breaks_opened"] == 0

    # The duplicate is refunded at the gateway; the next day sees it resolved.
    apply(
        ChargeRefunded(
            tenant="acme",
            source=Source.STRIPE,
            source_event_id="evt-re-d2",
            occurred_at=T0 + timedelta(days=1),
            order_id="o-dup",
            payment_id="pi_d2",
            charge_id="ch_pi_d2",
            amount_refunded=eur(3000),
            refunds=(Refund(refund_id="re_d2", amount=eur(3000), status="succeeded"),),
        )
    )
    next_day = reconciliation(recorder).run(ACME, DAY + timedelta(days=1))
    assert next_day["counts"]["breaks_closed"] == 1
    still = {b.break_class.value: b for b in BreakStore(TABLE).open_breaks("acme")}
    assert set(still) == {"cancelled_not_refunded", "short_payment"}
    assert all(b.age_days == 1 for b in still.values())
    assert len(recorder.refunds) == 2


def test_refunds_wait_for_the_switch_and_respect_the_maximum(day: dict[str, Any]) -> None:
    drop_bank_file(day, day["net"])
    recorder = Recorder()
    dry = ACME.model_copy(
        update={"reconciliation": ReconciliationSettings(auto_refund=True, dry_run=True)}
    )
    off = ACME.model_copy(update={"reconciliation": ReconciliationSettings()})
    capped = ACME.model_copy(
        update={
            "reconciliation": ReconciliationSettings(
                auto_refund=True, dry_run=False, max_refund=2500
            )
        }
    )
    assert reconciliation(recorder).run(dry, DAY)["actions"] == {"dry_run": 2}
    assert reconciliation(recorder).run(off, DAY)["actions"] == {"skipped_switch_off": 2}
    assert reconciliation(recorder).run(capped, DAY)["actions"] == {
        "requested": 1,
        "skipped_over_max": 1,
    }
    assert [r["order_id"] for r in recorder.refunds] == ["o-cancel"]


def test_the_hourly_tick_picks_tenants_at_their_local_run_hour() -> None:
    tokyo = ACME.model_copy(update={"id": "tokyo", "timezone": "Asia/Tokyo"})
    berlin = ACME.model_copy(update={"id": "berlin", "timezone": "Europe/Berlin"})
    now = datetime(2026, 11, 23, 21, 5, tzinfo=UTC)  # 06:05 in Tokyo, 22:05 in Berlin
    assert [(t.id, d) for t, d in due_tenants([tokyo, berlin], now)] == [
        ("tokyo", date(2026, 11, 23))
    ]


def _ticks(start: datetime, hours: int) -> list[datetime]:
    return [start + timedelta(hours=h) for h in range(hours)]


@pytest.mark.parametrize(
    "zone", ["Europe/Amsterdam", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]
)
@pytest.mark.parametrize("run_hour", [0, 2, 3, 6, 23])
def test_every_tenant_is_due_once_per_local_day_across_a_year_of_ticks(
    zone: str, run_hour: int
) -> None:
    """Both DST nights, 29 February and zones with half-hour offsets: one run per local day,
    always for the local day before."""
    tenant = ACME.model_copy(
        update={
            "timezone": zone,
            "reconciliation": ACME.reconciliation.model_copy(update={"run_hour": run_hour}),
        }
    )
    runs: Counter[date] = Counter()
    for tick in _ticks(datetime(2027, 6, 1, tzinfo=UTC), 24 * 366):
        for _, day in due_tenants([tenant], tick):
            runs[day] += 1
    days = sorted(runs)
    assert all(count == 1 for count in runs.values())
    assert days == [days[0] + timedelta(days=i) for i in range(len(days))]
    assert date(2028, 2, 29) in runs
    assert len(days) >= 365


def test_the_run_hour_skipped_by_the_clocks_going_forward_runs_at_the_end_of_the_gap() -> None:
    amsterdam = ACME.model_copy(
        update={
            "timezone": "Europe/Amsterdam",
            "reconciliation": ACME.reconciliation.model_copy(update={"run_hour": 2}),
        }
    )
    # 28 March 2027: 02:00 CET is 03:00 CEST, at 01:00 UTC.
    assert due_tenants([amsterdam], datetime(2027, 3, 28, 0, tzinfo=UTC)) == []
    assert due_tenants([amsterdam], datetime(2027, 3, 28, 1, tzinfo=UTC)) == [
        (amsterdam, date(2027, 3, 27))
    ]
    # 31 October 2027: 02:00 happens twice; the first (CEST, 00:00 UTC) runs, the second not.
    assert due_tenants([amsterdam], datetime(2027, 10, 31, 0, tzinfo=UTC)) == [
        (amsterdam, date(2027, 10, 30))
    ]
    assert due_tenants([amsterdam], datetime(2027, 10, 31, 1, tzinfo=UTC)) == []


# -- the handlers, wired by the composition root --------------------------------------------------


class _Context:
    function_name = "reconciliation"
    memory_limit_in_mb = 4096
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:reconciliation"
    aws_request_id = "req-1"


def _subscribed_queue(
    env: dict[str, Any], topic_name: str, filter_policy: dict[str, Any] | None = None
) -> tuple[str, str]:
    """A topic and an SQS queue subscribed to it (with a filter policy on the message
    attributes, as a client team's subscription has): (topic arn, queue url)."""
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic = sns.create_topic(Name=topic_name)["TopicArn"]
    queue = sqs.create_queue(QueueName=f"{topic_name}-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]
    attributes = {"FilterPolicy": json.dumps(filter_policy)} if filter_policy else {}
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn["QueueArn"], Attributes=attributes)
    return topic, queue


def _published(queue: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    answer = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in answer.get("Messages", [])]


def test_the_intake_handler_stores_a_dropped_file_and_alerts_the_operators_on_a_bad_one(
    day: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.reconcile.handlers import bank_intake

    topic, queue = _subscribed_queue(day, "ops-alerts")
    monkeypatch.setenv("OPS_ALERTS_TOPIC", topic)
    good = "bank-statements/acme/stmt%2020.csv"  # S3 notifications quote the key
    statement = Statement(
        account="NL91ABNA0417164300",
        currency="EUR",
        statement_id="2026-11-20",
        opening_balance=0,
        entries=[Entry(amount=day["net"], direction="credit", booking_date=DAY)],
    )
    day["s3"].put_object(
        Bucket=BANK, Key="bank-statements/acme/stmt 20.csv", Body=write_csv([statement])
    )
    day["s3"].put_object(Bucket=BANK, Key="bank-statements/acme/broken.xml", Body=b"<Document")

    answer = bank_intake.handler(
        {
            "Records": [
                {"s3": {"bucket": {"name": BANK}, "object": {"key": good}}},
                {
                    "s3": {
                        "bucket": {"name": BANK},
                        "object": {"key": "bank-statements/acme/broken.xml"},
                    }
                },
            ]
        },
        _Context(),
    )

    stored, rejected = answer["files"]
    assert stored == {
        "key": "bank-statements/acme/stmt 20.csv",
        "status": "stored",
        "format": "csv",
        "lines": 1,
        "quarantined_count": 0,
    }
    assert rejected["status"] == "rejected"
    (alert,) = _published(queue)
    assert alert["Subject"] == "Bank file rejected: bank-statements/acme/broken.xml"
    # A line people read, then why, then how to look: no JSON.
    assert alert["Message"].startswith("Bank file rejected: bank-statements/acme/broken.xml\n")
    assert "Reason: " in alert["Message"] and "ecomops bank files --tenant acme" in alert["Message"]
    attributes = {k: v["Value"] for k, v in alert["MessageAttributes"].items()}
    assert attributes == {
        "kind": "bank_file_problem",
        "tenant": "acme",
        "severity": "warning",
        "team": "finance",
    }
    assert len(list(BankStore(TABLE).lines_between("acme", DAY, DAY))) == 1


def test_the_daily_handler_reconciles_the_day_it_is_given_reports_mails_and_alerts(
    day: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from functions.reconcile.handlers import daily

    drop_bank_file(day, day["net"] - 150)
    dry = ACME.model_copy(
        update={"reconciliation": ReconciliationSettings(auto_refund=True, dry_run=True)}
    )
    dry = dry.model_copy(update={"finance_emails": ("finance@acme.example",)})
    TenantDirectory(TABLE).save(dry)
    # A finance subscriber that wants only this tenant's critical reconciliation notices.
    topic, queue = _subscribed_queue(
        day,
        "client-alerts",
        {"tenant": ["acme"], "kind": ["reconciliation_breaks"], "severity": ["critical"]},
    )
    # Another tenant's team, on the same topic, hears nothing of it.
    sqs = boto3.client("sqs", region_name="us-east-1")
    others = sqs.create_queue(QueueName="other-team")["QueueUrl"]
    boto3.client("sns", region_name="us-east-1").subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=sqs.get_queue_attributes(QueueUrl=others, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"],
        Attributes={"FilterPolicy": json.dumps({"tenant": ["globex"]})},
    )
    monkeypatch.setenv("REPORTS_BUCKET", REPORTS)
    monkeypatch.setenv("CLIENT_ALERTS_TOPIC", topic)
    monkeypatch.setenv("MAIL_DIR", str(tmp_path))
    monkeypatch.setenv("OPS_SENDER", "Ecom OPS <ops@ecomops.test>")
    monkeypatch.setenv("PUBLIC_API_URL", "https://api.ecomops.test")

    answer = daily.handler({"tenant": "acme", "day": DAY.isoformat()}, _Context())

    (summary,) = answer["reconciled"]
    # What the tick's Map keeps of the run, at the top of the answer.
    assert (answer["tenant"], answer["day"], answer["breaks_open"]) == ("acme", "2026-11-20", 3)
    assert summary["by_class"] == {
        "duplicate_payment": 1,
        "cancelled_not_refunded": 1,
        "short_payment": 1,
    }
    assert summary["actions"] == {"dry_run": 2}
    assert summary["email_message_id"]
    (alert,) = _published(queue)
    assert _published(others) == []
    assert alert["Subject"] == "Reconciliation 2026-11-20: 3 new top-priority breaks"
    assert alert["Message"].startswith("Reconciliation 2026-11-20: 3 new top-priority breaks\n")
    assert (
        "GET https://api.ecomops.test/ops/tenants/acme/reconciliation/breaks" in (alert["Message"])
    )
    attributes = alert["MessageAttributes"]
    assert attributes["tenant"]["Value"] == "acme"
    assert attributes["severity"]["Value"] == "critical"
    assert len(json.loads(attributes["break_ids"]["Value"])) == 3
    # The report and the notice go to finance, from operations, never from the shop.
    mails = {m["X-EcomOps-Kind"]: m for m in map(_eml, tmp_path.glob("*.eml"))}
    assert set(mails) == {"reconciliation_report", "team_notice"}
    for mail in mails.values():
        assert mail["From"] == "Ecom OPS <ops@ecomops.test>"
        assert mail["To"] == "finance@acme.example"
    assert "ecomops reconcile breaks --tenant acme" in mails["team_notice"].as_string()
    keys = {o["Key"] for o in day["s3"].list_objects_v2(Bucket=REPORTS)["Contents"]}
    assert "reports/acme/reconciliation/2026/11/20/summary.json" in keys


def _eml(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        message = email.message_from_binary_file(handle, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_the_daily_handler_refuses_a_tenant_without_settings(
    day: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.reconcile.handlers import daily

    monkeypatch.setenv("REPORTS_BUCKET", REPORTS)
    with pytest.raises(LookupError, match="has no settings"):
        daily.handler({"tenant": "nobody", "day": DAY.isoformat()}, _Context())


def test_the_daily_handler_wants_a_tenant_and_a_day_the_tick_fans_out_elsewhere(
    day: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.reconcile.handlers import daily

    monkeypatch.setenv("REPORTS_BUCKET", REPORTS)
    for event in ({"time": "2026-11-21T05:05:00+00:00"}, {"tenant": "acme"}, {"day": "2026-11-20"}):
        with pytest.raises(ValueError, match="the tenant and the day"):
            daily.handler(event, _Context())
