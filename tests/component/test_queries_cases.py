"""Query cases on moto: opened once per source, listed by when they are due, closed with the
answer, reminded from the hourly tick; the reconciliation's "chase the settlement" opens one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from functions.reconcile.adapters.break_store import BreakStore
from functions.reconcile.adapters.loader import DayLoader
from functions.reconcile.adapters.s3 import S3Reports
from functions.reconcile.composition import QueryCaseOpener, ReconcileSettings
from functions.reconcile.use_cases.daily import DailyReconciliation
from functions.reports.queries.composition import build_queries
from functions.reports.queries.domain.cases import CaseLinks, CaseRefused, CaseStatus
from shared.notices import Notice
from shared.notices.queries import QueryCaseDue
from shared.tenants import QuerySettings, TenantDirectory, TenantSettings
from tests.clocks import FixedClock
from tests.component.conftest import TABLE
from tests.component.queries_orders import payout, txn

ACME = TenantSettings(
    id="acme",
    name="Acme",
    currency="EUR",
    customer_sender="shop@acme.example",
    finance_emails=("finance@acme.example",),
    queries=QuerySettings(sla_hours=48, reminder_hours=24),
)
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class Sent:
    def __init__(self) -> None:
        self.notices: list[Notice] = []

    def send(self, notice: Notice) -> None:
        self.notices.append(notice)

    def email(self, *_: Any) -> str:
        return "msg-1"


@pytest.fixture
def cases(aws_env: dict[str, Any]) -> tuple[Any, FixedClock, Sent]:
    TenantDirectory(TABLE).save(ACME)
    clock, sent = FixedClock(T0), Sent()
    return build_queries(TABLE, clock, alerts=sent).cases(), clock, sent


def test_a_case_opened_twice_from_one_source_is_one_case(cases: Any) -> None:
    service, _, _ = cases
    links = CaseLinks(payout_id="po_9", bank_line_id="L1")
    first, new = service.open("acme", "Where is po_9?", "fin@acme", links, key="break:b1")
    again, new_again = service.open("acme", "Where is po_9?", "fin@acme", links, key="break:b1")
    assert new and not new_again and again == first
    assert first.due_at == T0 + timedelta(hours=48)
    assert [c.case_id for c in service.listed("acme")] == [first.case_id]


def test_open_cases_are_listed_by_when_they_are_due_and_closing_moves_them(cases: Any) -> None:
    service, clock, _ = cases
    early, _ = service.open("acme", "Bank line L7 names no payout", "auditor@acme")
    clock.advance(timedelta(hours=1))
    late, _ = service.open("acme", "Fee on po_3 looks high", "fin@acme")
    assert [c.case_id for c in service.listed("acme")] == [early.case_id, late.case_id]
    closed = service.close("acme", early.case_id, "ops@us", "Stripe confirmed: a top-up")
    assert closed.status is CaseStatus.CLOSED and closed.resolution == "Stripe confirmed: a top-up"
    assert [c.case_id for c in service.listed("acme")] == [late.case_id]
    assert [c.case_id for c in service.listed("acme", CaseStatus.CLOSED)] == [early.case_id]
    with pytest.raises(CaseRefused, match=r"already closed; the answer \(resolution\) is empty"):
        service.close("acme", early.case_id, "ops@us", " ")


def test_a_case_needs_a_question_and_who_asked(cases: Any) -> None:
    service, _, _ = cases
    with pytest.raises(CaseRefused, match="the question is empty; who asked is not said"):
        service.open("acme", "  ", "")


def test_the_hourly_tick_reminds_each_open_case_once_per_reminder(cases: Any) -> None:
    service, _, sent = cases
    case, _ = service.open("acme", "Where is po_9?", "fin@acme", CaseLinks(payout_id="po_9"))
    assert service.remind(["acme"], T0 + timedelta(hours=23)) == []
    assert service.remind(["acme"], T0 + timedelta(hours=24)) == [case.case_id]
    assert service.remind(["acme"], T0 + timedelta(hours=25)) == []
    assert service.remind(["acme"], T0 + timedelta(hours=49)) == [case.case_id]
    first, second = sent.notices
    assert isinstance(first, QueryCaseDue) and isinstance(second, QueryCaseDue)
    assert (first.reminder, first.overdue) == (1, False)
    assert (second.reminder, second.overdue) == (2, True)
    assert second.headline == f"Query case {case.case_id} is overdue: Where is po_9?"
    service.close("acme", case.case_id, "ops@us", "arrived late")
    assert service.remind(["acme"], T0 + timedelta(hours=80)) == []


def test_chasing_a_missing_settlement_opens_a_query_case(aws_env: dict[str, Any]) -> None:
    aws_env["s3"].create_bucket(Bucket="reports")
    TenantDirectory(TABLE).save(ACME)
    clock, sent = FixedClock(T0), Sent()
    # Paid by the gateway for 2026-11-24; no bank line by the 30th: past the grace days.
    payout(
        "po_9",
        [txn("txn_9", "charge", 5000, 150, T0 - timedelta(days=8), "ch_x")],
        date(2026, 11, 24),
    )
    daily = DailyReconciliation(
        loader=DayLoader(TABLE, clock),
        breaks=BreakStore(TABLE, clock),
        start_refund=lambda *a, **k: {},
        reports=S3Reports("reports"),
        notifier=sent,
        alerts=sent,
        open_case=QueryCaseOpener(ReconcileSettings(table_name=TABLE), clock),
    )
    summary = daily.run(ACME, date(2026, 11, 29))
    ((break_id, case_id),) = summary["query_cases"].items()
    case = build_queries(TABLE, clock).cases().get("acme", case_id)
    assert case is not None and case.asked_by == "reconciliation"
    assert case.links.payout_id == "po_9" and case.links.break_id == break_id
    assert case.question.startswith("Where is payout po_9?")
    # The next day's run finds the same case.
    again = daily.run(ACME, date(2026, 11, 30))
    assert again["query_cases"] == {break_id: case_id}


def test_the_hourly_tick_of_the_reconciliation_sends_the_reminders(
    aws_env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """The tick's state machine ends with the reminders step (``handlers.tick``, ``remind``)."""
    from functions.reconcile.handlers import tick as tick_steps
    from tests.component.test_reconcile_daily import _Context

    TenantDirectory(TABLE).save(ACME)
    service = build_queries(TABLE, FixedClock(T0)).cases()
    case, _ = service.open("acme", "Where is po_9?", "fin@acme", CaseLinks(payout_id="po_9"))
    monkeypatch.setenv("MAIL_DIR", str(tmp_path))
    # 12:05 UTC: no tenant's reconciliation is due (acme runs at 06 local), reminders are.
    tick = (T0 + timedelta(days=1, hours=3, minutes=5)).isoformat()
    assert tick_steps.handler({"action": "due", "time": tick}, _Context()) == {
        "tick": tick,
        "due": [],
    }
    answer = tick_steps.handler({"action": "remind", "tick": tick}, _Context())
    assert answer == {"query_case_reminders": [case.case_id]}
    mails = [p.read_text() for p in tmp_path.rglob("*.eml")]
    assert len(mails) == 1 and "finance@acme.example" in mails[0]
    assert f"Query case {case.case_id} is open: Where is po_9?" in mails[0]
    again = tick_steps.handler({"action": "remind", "tick": tick}, _Context())
    assert again["query_case_reminders"] == []
