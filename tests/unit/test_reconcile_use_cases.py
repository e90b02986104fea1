"""The daily run and the bank intake over fake ports (tests/unit/reconcile_fakes.py): what they
store, start, write, mail and alert, with no AWS. The same use cases over the real adapters on
moto: tests/component/test_reconcile_daily.py."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from functions.reconcile.domain.actions import refund_id_for
from functions.reconcile.domain.bank import preset
from functions.reconcile.domain.engine import ReconConfig, ReconResult, reconcile
from functions.reconcile.domain.model import (
    Break,
    BreakClass,
    DayInputs,
    OrderRecord,
    OrderStatus,
    Priority,
    break_id,
)
from functions.reconcile.ports import LoadWindow
from functions.reconcile.use_cases.bank_intake import Intake
from functions.reconcile.use_cases.daily import DailyReconciliation
from functions.reconcile.use_cases.schedule import days_to_run
from local.sandboxes.bank import Entry, Statement, write_csv
from local.sandboxes.recon_day import gateway_charge
from shared.notices.reconcile import BankFileProblem, ReconciliationBreaks
from shared.tenants import ReconciliationSettings, TenantSettings
from tests.alerts_fakes import FakeAlerts
from tests.unit.reconcile_fakes import (
    FakeBankFiles,
    FakeBreakLedger,
    FakeLoader,
    FakeMailer,
    FakeObjects,
    FakeRefunds,
    FakeReports,
    FakeTenants,
)

DAY = date(2026, 11, 20)
AT = datetime(2026, 11, 20, 9, tzinfo=UTC)
REFUNDING = ReconciliationSettings(auto_refund=True, dry_run=False, max_refund=10_000)
ACME = TenantSettings(
    id="acme",
    name="Acme",
    currency="EUR",
    customer_sender="shop@acme.example",
    alert_emails=("ops@acme.example",),
    finance_emails=("finance@acme.example",),
    timezone="Europe/Amsterdam",
    reconciliation=REFUNDING,
)


def order(order_id: str, amount: int, status: OrderStatus = "completed") -> OrderRecord:
    return OrderRecord("acme", order_id, status, amount, "EUR", AT)


def the_day() -> DayInputs:
    """One clean order, one paid twice, one cancelled and still charged."""
    return DayInputs(
        tenant="acme",
        day=DAY,
        orders=[order("o-ok", 5000), order("o-dup", 3000), order("o-cancel", 2000, "cancelled")],
        charges=[
            gateway_charge("ok", "o-ok", 5000, "EUR", AT),
            gateway_charge("d1", "o-dup", 3000, "EUR", AT + timedelta(minutes=1)),
            gateway_charge("d2", "o-dup", 3000, "EUR", AT + timedelta(minutes=2)),
            gateway_charge("c", "o-cancel", 2000, "EUR", AT),
        ],
    )


class Run:
    """A daily run wired to fakes, each kept for a look."""

    def __init__(self, inputs: DayInputs | None = None, refunds: FakeRefunds | None = None):
        self.loader = FakeLoader(inputs or the_day())
        self.breaks = FakeBreakLedger()
        self.refunds = refunds or FakeRefunds()
        self.reports = FakeReports()
        self.mailer = FakeMailer()
        self.alerts = FakeAlerts()
        self.daily = DailyReconciliation(
            loader=self.loader,
            breaks=self.breaks,
            start_refund=self.refunds,
            reports=self.reports,
            notifier=self.mailer,
            alerts=self.alerts,
        )


def test_the_day_is_loaded_with_the_tenants_window_and_its_open_breaks() -> None:
    run = Run()
    run.daily.run(ACME, DAY - timedelta(days=1))
    run.daily.run(ACME, DAY)
    first, second = run.loader.asked
    window = LoadWindow(grace_days=2, date_window_days=3)
    assert first == ("acme", DAY - timedelta(days=1), "Europe/Amsterdam", window, ())
    assert second[:4] == ("acme", DAY, "Europe/Amsterdam", window)
    assert {b.break_class for b in second[4]} == {
        BreakClass.DUPLICATE_PAYMENT,
        BreakClass.CANCELLED_NOT_REFUNDED,
    }


def test_the_loader_is_given_the_tenants_cancellation_window() -> None:
    run = Run()
    settings = ACME.reconciliation.model_copy(update={"cancellation_window_days": 45})
    run.daily.run(ACME.model_copy(update={"reconciliation": settings}), DAY)
    ((*_, window, _),) = run.loader.asked
    assert window.cancellation_window_days == 45
    assert ReconciliationSettings().cancellation_window_days == 30  # the documented default


def test_refunds_are_claimed_once_then_started_and_the_day_is_reported_mailed_and_alerted() -> None:
    run = Run()

    summary = run.daily.run(ACME, DAY)

    assert summary["by_class"] == {"duplicate_payment": 1, "cancelled_not_refunded": 1}
    assert summary["actions"] == {"requested": 2}
    started = {(r["order_id"], r["payment_id"], r["amount"]) for r in run.refunds.started}
    assert started == {("o-dup", "pi_d2", 3000), ("o-cancel", "pi_c", 2000)}
    # Each refund's id is the hash of its claim's key, and the claim says it was requested.
    assert {refund_id_for(key) for key in run.breaks.actions} == {
        r["refund_id"] for r in run.refunds.started
    }
    assert {a["status"] for a in run.breaks.actions.values()} == {"requested"}
    assert set(run.reports.objects) == {
        "reports/acme/reconciliation/2026/11/20/report.html",
        "reports/acme/reconciliation/2026/11/20/report.csv",
        "reports/acme/reconciliation/2026/11/20/summary.json",
    }
    body, content_type = run.reports.objects["reports/acme/reconciliation/2026/11/20/summary.json"]
    assert content_type == "application/json"
    assert json.loads(body)["counts"]["breaks_opened"] == 2
    assert run.mailer.sent == [
        ("acme", run.mailer.sent[0][1], "acme:reconciliation:2026-11-20"),
    ]
    assert summary["email_message_id"] == "msg-1"
    (notice,) = run.alerts.sent
    assert isinstance(notice, ReconciliationBreaks) and notice.tenant == "acme"
    assert notice.headline == "Reconciliation 2026-11-20: 2 new top-priority breaks"
    assert {b.break_class for b in notice.breaks} == {
        "duplicate_payment",
        "cancelled_not_refunded",
    }
    assert set(notice.break_ids) == {b.break_id for b in run.breaks.open_breaks("acme")}
    assert len(run.breaks.open_breaks("acme")) == 2
    assert run.breaks.runs[DAY] == summary


def test_running_the_day_again_refunds_nothing_twice() -> None:
    run = Run()
    run.daily.run(ACME, DAY)
    again = run.daily.run(ACME, DAY)
    assert again["actions"] == {"already_done": 2}
    assert len(run.refunds.started) == 2
    assert again["counts"]["breaks_opened"] == 0
    assert len(run.alerts.sent) == 1  # nothing new at the top priority


def test_a_refund_that_fails_to_start_is_recorded_and_tried_again_next_run() -> None:
    run = Run(refunds=FakeRefunds(failing="states throttled"))
    first = run.daily.run(ACME, DAY)
    assert first["actions"] == {"failed": 2}
    assert {a["status"] for a in run.breaks.actions.values()} == {"failed"}
    assert {a["error"] for a in run.breaks.actions.values()} == {"states throttled"}

    run.refunds.failing = None
    second = run.daily.run(ACME, DAY)
    assert second["actions"] == {"requested": 2}
    assert len(run.refunds.started) == 2


@pytest.mark.parametrize(
    ("settings", "actions"),
    [
        (ReconciliationSettings(), {"skipped_switch_off": 2}),
        (ReconciliationSettings(auto_refund=True), {"dry_run": 2}),
        (
            ReconciliationSettings(auto_refund=True, dry_run=False, max_refund=2500),
            {"requested": 1, "skipped_over_max": 1},
        ),
    ],
)
def test_refunds_follow_the_tenants_switches(
    settings: ReconciliationSettings, actions: dict[str, int]
) -> None:
    run = Run()
    tenant = ACME.model_copy(update={"reconciliation": settings})
    assert run.daily.run(tenant, DAY)["actions"] == actions
    started = [r["order_id"] for r in run.refunds.started]
    assert started == (["o-cancel"] if "requested" in actions else [])


def test_a_quiet_day_mails_the_report_and_alerts_nobody() -> None:
    quiet = DayInputs(
        tenant="acme",
        day=DAY,
        orders=[order("o-ok", 5000)],
        charges=[gateway_charge("ok", "o-ok", 5000, "EUR", AT)],
    )
    run = Run(quiet)
    summary = run.daily.run(ACME, DAY)
    assert summary["counts"]["breaks_open"] == 0
    assert len(run.mailer.sent) == 1
    assert run.alerts.sent == []


def test_earlier_breaks_close_when_resolved_and_age_when_out_of_scope() -> None:
    resolved = the_day()
    run = Run(replace(resolved, day=DAY - timedelta(days=2)))
    run.daily.run(ACME, DAY - timedelta(days=2))
    # A break about an order today's inputs do not hold: judged neither way, it just ages.
    stray = Break(
        break_id=break_id("acme", BreakClass.COMPLETED_NOT_PAID, (("order_id", "o-gone"),)),
        tenant="acme",
        break_class=BreakClass.COMPLETED_NOT_PAID,
        priority=Priority.P1,
        currency="EUR",
        amount=100,
        keys=(("order_id", "o-gone"),),
        explanation="",
        first_seen=DAY - timedelta(days=2),
    )
    run.breaks.save("acme", DAY - timedelta(days=2), [stray], [])
    # Meanwhile the duplicate charge went back in full.
    charges = [
        replace(c, refunded=c.captured) if c.charge_id == "ch_d2" else c for c in resolved.charges
    ]
    run.loader.inputs = replace(resolved, day=DAY, charges=charges)

    summary = run.daily.run(ACME, DAY)

    assert summary["counts"]["breaks_closed"] == 1
    assert [b.break_class for b in run.breaks.closed_breaks()] == [BreakClass.DUPLICATE_PAYMENT]
    still = {b.break_class: b for b in run.breaks.open_breaks("acme")}
    assert set(still) == {BreakClass.CANCELLED_NOT_REFUNDED, BreakClass.COMPLETED_NOT_PAID}
    assert still[BreakClass.CANCELLED_NOT_REFUNDED].age_days == 2
    assert still[BreakClass.COMPLETED_NOT_PAID].age_days == 2
    assert summary["counts"]["breaks_open"] == 2


def test_the_engine_can_be_replaced() -> None:
    seen: list[DayInputs] = []

    def engine(inputs: DayInputs, *, config: ReconConfig) -> ReconResult:
        seen.append(inputs)
        return reconcile(inputs, config=config)

    run = Run()
    daily = replace(run.daily, engine=engine)
    daily.run(ACME, DAY)
    assert seen == [run.loader.inputs]


# -- which days a run covers --------------------------------------------------------------------


def test_a_run_on_demand_covers_the_tenant_and_day_asked_and_refuses_an_unknown_tenant() -> None:
    tenants = FakeTenants({"acme": ACME})
    now = datetime(2026, 11, 21, 12, tzinfo=UTC)
    assert days_to_run(tenants, tenant="acme", day=DAY, now=now) == [(ACME, DAY)]
    with pytest.raises(LookupError, match="has no settings"):
        days_to_run(tenants, tenant="nobody", day=DAY, now=now)


def test_the_tick_covers_every_tenant_whose_run_hour_it_is() -> None:
    tokyo = ACME.model_copy(update={"id": "tokyo", "timezone": "Asia/Tokyo"})
    berlin = ACME.model_copy(update={"id": "berlin", "timezone": "Europe/Berlin"})
    tenants = FakeTenants({"tokyo": tokyo, "berlin": berlin})
    now = datetime(2026, 11, 23, 21, 5, tzinfo=UTC)  # 06:05 in Tokyo, 22:05 in Berlin
    assert days_to_run(tenants, tenant=None, day=None, now=now) == [(tokyo, date(2026, 11, 23))]


# -- the bank intake ---------------------------------------------------------------------------


BUCKET = "bank"


def statement_csv(*amounts: int) -> bytes:
    return write_csv(
        [
            Statement(
                account="NL91ABNA0417164300",
                currency="EUR",
                statement_id="2026-11-20",
                opening_balance=0,
                entries=[
                    Entry(amount=a, direction="credit", booking_date=DAY, remittance="STRIPE")
                    for a in amounts
                ],
            )
        ]
    )


class Drops:
    def __init__(self, tenant: TenantSettings = ACME) -> None:
        self.store = FakeBankFiles()
        self.objects = FakeObjects()
        self.alerts = FakeAlerts()
        self.intake = Intake(
            self.store, FakeTenants({tenant.id: tenant}), self.objects, self.alerts
        )

    def drop(self, key: str, data: bytes) -> dict[str, object]:
        self.objects.objects[(BUCKET, key)] = data
        return self.intake.receive(BUCKET, key)


def test_a_clean_file_lands_once_and_a_resent_copy_is_noted_as_a_duplicate() -> None:
    intake = Drops(
        ACME.model_copy(update={"reconciliation": ReconciliationSettings(bank_csv="generic")})
    )
    data = statement_csv(12_500, 700)

    first = intake.drop("bank-statements/acme/a.csv", data)
    again = intake.drop("bank-statements/acme/copy-of-a.csv", data)

    assert first == {"status": "stored", "format": "csv", "lines": 2, "quarantined_count": 0}
    assert again == {"status": "duplicate", "first_key": "bank-statements/acme/a.csv", "lines": 0}
    assert len(intake.store.lines) == 2
    assert intake.store.duplicates == [
        ("acme", "bank-statements/acme/copy-of-a.csv", "bank-statements/acme/a.csv")
    ]
    assert intake.alerts.sent == []


def test_a_file_of_an_unknown_tenant_is_rejected_with_an_alert_and_nothing_stored() -> None:
    intake = Drops()
    answer = intake.drop("bank-statements/nobody/a.csv", statement_csv(100))
    assert answer == {
        "status": "rejected",
        "reason": "no tenant 'nobody' for bank-statements/nobody/a.csv",
    }
    assert intake.store.lines == {} and intake.store.records == {}
    (notice,) = intake.alerts.sent
    assert notice.tenant is None
    assert notice.headline == "Bank file rejected: bank-statements/nobody/a.csv"


def test_an_unreadable_file_is_recorded_rejected_and_may_be_sent_again_fixed() -> None:
    intake = Drops()
    broken = intake.drop("bank-statements/acme/a.xml", b"<Document>not camt</Document>")
    assert broken["status"] == "rejected"
    assert "camt" in str(broken["reason"])
    ((record),) = intake.store.records.values()
    assert record["status"] == "rejected" and record["bytes"] == 29
    assert intake.alerts.sent[0].headline == "Bank file rejected: bank-statements/acme/a.xml"
    # The same bytes again are rejected again (not a duplicate); a fixed file lands.
    assert (
        intake.drop("bank-statements/acme/a2.xml", b"<Document>not camt</Document>")["status"]
        == "rejected"
    )
    assert intake.drop("bank-statements/acme/a.csv", statement_csv(100))["status"] == "stored"


def test_quarantined_lines_land_the_rest_and_alert_the_operators() -> None:
    intake = Drops()
    data = statement_csv(12_500, 700).replace(b"7.00", b"7.0O")
    answer = intake.drop("bank-statements/acme/a.csv", data)
    assert answer == {
        "status": "stored_with_quarantine",
        "format": "csv",
        "lines": 1,
        "quarantined_count": 1,
    }
    (notice,) = intake.alerts.sent
    assert isinstance(notice, BankFileProblem) and notice.tenant == "acme"
    assert (
        notice.headline
        == "Bank file bank-statements/acme/a.csv: 1 lines quarantined, 0 control checks failed"
    )
    assert notice.lines_stored == 1 and len(notice.examples) == 1


def test_the_tenants_csv_mapping_reads_its_banks_export() -> None:
    mapping = preset("uk_paid_in_out").with_account("GB29NWBK60161331926819")
    uk = ACME.model_copy(
        update={"reconciliation": ReconciliationSettings(bank_csv=mapping.model_dump())}
    )
    intake = Drops(uk)
    data = (
        b"Date,Type,Description,Paid out,Paid in,Balance\r\n"
        b"20/11/2026,BGC,STRIPE PAYOUT po_1,,125.00,125.00\r\n"
    )
    answer = intake.drop("bank-statements/acme/uk.csv", data)
    assert answer["status"] == "stored" and answer["lines"] == 1
    (line,) = intake.store.lines.values()
    assert (line.amount, line.currency, line.direction) == (12_500, "GBP", "credit")
    assert line.account == "GB29NWBK60161331926819"
