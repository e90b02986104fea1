"""The daily reconciliation report: figures, every break in the e-mail and the CSV, payouts
explained, escaping of what banks and shops send, three- and zero-decimal currencies.

Every result here comes from the engine on a small day with planted breaks, so that the report
is tested against what the engine really says rather than against hand-made fakes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from functions.reconcile.domain.actions import ActionStatus, ActionTaken
from functions.reconcile.domain.engine import CarryResult, ReconResult, carry_forward, reconcile
from functions.reconcile.domain.model import BreakClass, PayoutStatus, RefundInstruction
from functions.reconcile.domain.report.context import report_context, report_summary
from functions.reconcile.domain.report.csv_export import CSV_COLUMNS, report_csv
from functions.reconcile.domain.report.location import report_key
from functions.reconcile.domain.report.rendering import render_report
from local.sandboxes.recon_day import US_CARDS, ReconDay, StatementFile, refund_outcomes
from shared.tenants import Branding, TenantSettings

DAY = date(2026, 3, 16)
AT = datetime(2026, 3, 15, 10, 0, tzinfo=UTC)
HOSTILE = "<script>alert('x')</script> STRIPE"
STATEMENT = StatementFile("bank/2026-03-16.csv", "0" * 64, "csv", first_line=2)


def tenant(tenant_id: str = "northwind", currency: str = "USD") -> TenantSettings:
    return TenantSettings(
        id=tenant_id,
        name="Northwind Outfitters",
        currency=currency,
        timezone="America/New_York",
        customer_sender="orders@northwind.example",
        finance_emails=("finance@northwind.example",),
        branding=Branding(display_name="Northwind", primary_color="#1f4e79"),
    )


class Day(ReconDay):
    """A tenant's small day: orders with their charges, payouts sweeping charges (with fees,
    not their disputes) into the bank."""

    def __init__(self, tenant_id: str = "northwind", currency: str = "USD") -> None:
        super().__init__(tenant_id, DAY, currency, AT, fee=US_CARDS, statement=STATEMENT)

    def paid_order(self, oid: str, amount: int) -> None:
        self.order(oid, amount)
        self.charge(oid, oid, amount)

    def payout(
        self,
        payout_id: str,
        charge_keys: list[str],
        *,
        arrival: date = DAY - timedelta(days=1),
        status: PayoutStatus = "paid",
        extra: int = 0,
        bank: int | None = 0,
        remittance: str | None = None,
    ) -> int:
        """Sweep the charges into a payout; ``extra`` makes the payout disagree with its
        transactions; ``bank`` is added to the credit (None: no credit at all)."""
        charges = [self.charge_of(key) for key in charge_keys]
        paid = self.settle(
            payout_id, charges, arrival=arrival, status=status, extra=extra, with_disputes=False
        )
        if bank is not None:
            self.line(paid.amount + bank, arrival, remittance or f"STRIPE PAYOUT {payout_id}")
        return paid.amount


def usd_day(*, dispute_has_case: bool = False) -> Day:
    day = Day()
    for n in range(1, 6):
        day.paid_order(f"NW-{n}", 4_000 + n * 1_000)
    day.paid_order("NW-DUP", 12_900)
    day.charge("NW-DUP-2", "NW-DUP", 12_900)  # paid twice
    day.order("NW-UNPAID", 8_450)  # shipped, never charged
    day.order("NW-CANCEL", 3_000, "cancelled")
    day.charge("NW-CANCEL", "NW-CANCEL", 3_000)  # cancelled, money kept
    day.order("NW-SHORT", 9_900)
    day.charge("NW-SHORT", "NW-SHORT", 9_000)  # charged less than the order
    day.dispute("dp_1", day.charge_of("NW-1"), has_case=dispute_has_case)
    day.payout("po_clean", ["NW-1", "NW-2", "NW-3"])
    day.payout("po_short", ["NW-4", "NW-5"], bank=-1_500)  # the bank took a fee
    day.payout("po_missing", ["NW-DUP"], arrival=DAY - timedelta(days=5), bank=None)
    day.payout("po_odd", ["NW-DUP-2", "NW-CANCEL"], extra=700)  # disagrees with its txns
    day.line(55_500, DAY - timedelta(days=1), HOSTILE)  # settlement-looking, matches nothing
    return day


@pytest.fixture(scope="module")
def result() -> ReconResult:
    return reconcile(usd_day().inputs())


@pytest.fixture(scope="module")
def today() -> ReconResult:
    """The same day once the chargeback desk opened a case for the dispute."""
    return reconcile(usd_day(dispute_has_case=True).inputs())


@pytest.fixture(scope="module")
def carried(today: ReconResult) -> CarryResult:
    # Yesterday the dispute had no case yet, and the duplicate payment was already two days old.
    yesterday = reconcile(usd_day().inputs(DAY - timedelta(days=1)))
    earlier = [
        replace(brk, first_seen=DAY - timedelta(days=3))
        if brk.break_class == BreakClass.DUPLICATE_PAYMENT
        else brk
        for brk in yesterday.breaks
    ]
    return carry_forward(earlier, today.breaks, DAY)


def actions_for(result: ReconResult) -> list[ActionTaken]:
    statuses: Iterator[ActionStatus] = iter(("refunded", "failed", "skipped_over_max"))

    def outcome(_: RefundInstruction) -> tuple[ActionStatus, str]:
        status: ActionStatus = next(statuses, "dry_run")
        return status, "card_declined <b>now</b>" if status == "failed" else ""

    return refund_outcomes(result.breaks, outcome)


def test_the_planted_breaks_are_found(result: ReconResult) -> None:
    assert set(result.classes()) == {
        BreakClass.DUPLICATE_PAYMENT,
        BreakClass.COMPLETED_NOT_PAID,
        BreakClass.CANCELLED_NOT_REFUNDED,
        BreakClass.AMOUNT_MISMATCH,
        BreakClass.DISPUTE_WITHOUT_CASE,
        BreakClass.SHORT_PAYMENT,
        BreakClass.MISSING_SETTLEMENT,
        BreakClass.PAYOUT_COMPOSITION_MISMATCH,
        BreakClass.UNKNOWN_BANK_CREDIT,
    }


def test_figures_add_up_to_the_engine_totals(result: ReconResult) -> None:
    context = report_context(result, None, [], tenant())
    (usd,) = context["figures"]
    assert usd["currency"] == "USD"
    rows = {row["kind"]: row for row in usd["rows"]}
    totals = result.totals["USD"]
    assert rows["orders"]["count"] == totals["orders"].count == 9
    assert rows["orders"]["amount"] == {"amount": totals["orders"].amount, "currency": "USD"}
    assert rows["charges"]["amount"]["amount"] == totals["charged"].amount
    assert rows["payouts"]["count"] == totals["payouts"].count == 4
    assert rows["bank"]["amount"]["amount"] == totals["bank_credits"].amount
    # Matched and broken come from the engine's categories.
    assert rows["orders"]["matched"]["count"] == result.matches["orders.matched"]["USD"].count
    assert rows["orders"]["broken"]["count"] == result.matches["orders.with_break"]["USD"].count
    assert rows["payouts"]["matched"]["count"] == 2  # po_clean by id, po_odd by id
    assert rows["payouts"]["broken"]["count"] == 2  # po_short, po_missing
    short = next(p for p in result.payouts if p.payout_id == "po_short")
    # The unknown credit and the short one.
    assert rows["bank"]["broken"] == {
        "count": 2,
        "amount": {"amount": 55_500 + short.payout_amount - 1_500, "currency": "USD"},
    }
    for row in usd["rows"]:
        shares = [part["share"] for part in row["parts"]]
        assert sum(shares) in (0, 100)
        assert all(s >= 1 for s, part in zip(shares, row["parts"], strict=True) if part["amount"])
    # No refunds in these payouts.
    assert usd["refunds"]["count"] == 0

    headline = context["headline"]
    assert headline["open"] == len(result.breaks) == 9
    assert headline["by_priority"] == {"P1": 6, "P2": 3, "P3": 0}
    stake = sum(b.amount for b in result.breaks)
    assert headline["at_stake"] == [{"amount": stake, "currency": "USD"}]
    assert headline["new"] is None and headline["closed"] is None
    assert headline["payouts"] == 4 and headline["payouts_settled"] == 3


def test_breaks_are_grouped_by_priority_then_class(result: ReconResult) -> None:
    context = report_context(result, None, [], tenant())
    assert [g["priority"] for g in context["priorities"]] == ["P1", "P2"]
    p1 = context["priorities"][0]
    assert p1["count"] == 6
    assert [c["break_class"] for c in p1["classes"]] == sorted(
        c["break_class"] for c in p1["classes"]
    )
    listed = [
        b["break_id"] for g in context["priorities"] for c in g["classes"] for b in c["breaks"]
    ]
    assert sorted(listed) == sorted(b.break_id for b in result.breaks)


def test_every_break_appears_in_html_text_and_csv(result: ReconResult) -> None:
    actions = actions_for(result)
    subject, html, text = render_report(result, None, actions, tenant())
    rows = list(csv.DictReader(io.StringIO(report_csv(result, actions))))
    for brk in result.breaks:
        assert brk.break_id in html
        assert brk.break_id in text
        assert any(r["record_id"] == brk.break_id for r in rows)
    assert len(rows) == len(result.breaks) + len(result.settlements) + len(result.payouts)
    assert subject == "[Northwind] Reconciliation 2026-03-16: 9 open breaks (6 P1)"


def test_csv_has_one_row_per_line_with_every_key(result: ReconResult) -> None:
    actions = actions_for(result)
    text = report_csv(result, actions)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    kinds = [r["record_type"] for r in rows]
    assert kinds.count("break") == len(result.breaks)
    assert kinds.count("settlement") == len(result.settlements) == 3
    assert kinds.count("payout") == len(result.payouts) == 4

    by_id = {r["record_id"]: r for r in rows if r["record_type"] == "break"}
    for brk in result.breaks:
        row = by_id[brk.break_id]
        assert row["break_class"] == brk.break_class.value
        assert row["priority"] == brk.priority.value
        assert int(row["amount"]) == brk.amount
        for name, value in brk.keys:
            assert f"{name}={value}" in row["keys"]
    dup = next(b for b in result.breaks if b.break_class == BreakClass.DUPLICATE_PAYMENT)
    row = by_id[dup.break_id]
    assert row["order_id"] == "NW-DUP"
    assert row["charge_ids"] == "ch_NW-DUP ch_NW-DUP-2"
    assert row["amount_decimal"] == "129.00"
    assert row["amount_formatted"] == "USD 129.00"
    assert row["refund_instructions"].startswith("ch_NW-DUP-2 USD 129.00 key=recon:")
    assert row["actions_taken"] == "failed ch_NW-DUP-2 USD 129.00: card_declined <b>now</b>"

    odd = next(r for r in rows if r["record_type"] == "payout" and r["record_id"] == "po_odd")
    explained = next(p for p in result.payouts if p.payout_id == "po_odd")
    assert int(odd["difference"]) == 700 == explained.difference
    assert int(odd["gross_charges"]) == 12_900 + 3_000
    assert int(odd["fees"]) + int(odd["gross_charges"]) == int(odd["net"])
    assert odd["line_id"] and odd["booking_date"] == "2026-03-15"
    short = next(
        r for r in rows if r["record_type"] == "settlement" and r["payout_id"] == "po_short"
    )
    assert short["status"] == "short" and int(short["difference"]) == -1_500


def test_payouts_are_explained_with_the_bank_line_that_paid_them(result: ReconResult) -> None:
    context = report_context(result, None, [], tenant())
    payouts = {p["payout_id"]: p for p in context["payouts"]}
    clean = payouts["po_clean"]
    assert [c["label"] for c in clean["components"]] == ["gross charges", "fees"]
    assert clean["explained"] and clean["settlement"]["method"] == "id"
    assert clean["net"] == clean["amount"]
    assert payouts["po_missing"]["settlement"] is None
    assert [b["class_label"] for b in payouts["po_missing"]["breaks"]] == ["Missing settlement"]
    assert payouts["po_odd"]["difference"] == {"amount": 700, "currency": "USD"}
    # The troubled ones first.
    assert [p["payout_id"] for p in context["payouts"]][-1] == "po_clean"
    _, html, text = render_report(result, None, [], tenant())
    assert "Paid by the bank credit of $173.88 booked 2026-03-15 (matched by reference)" in html
    assert "Payout differs from its transactions by" in html and "$7.00" in html
    assert "= net" in text


def test_carry_forward_ages_new_and_closed(today: ReconResult, carried: CarryResult) -> None:
    context = report_context(today, carried, [], tenant())
    headline = context["headline"]
    assert headline["open"] == len(today.breaks) == 8
    assert headline["closed"] == 1
    assert headline["new"] == 0 and headline["still_open"] == 8
    rows = {
        b["break_class"]: b
        for g in context["priorities"]
        for c in g["classes"]
        for b in c["breaks"]
    }
    assert rows["duplicate_payment"]["age_days"] == 3
    assert rows["completed_not_paid"]["age_days"] == 1
    assert rows["completed_not_paid"]["status"] == "still_open"
    (closed,) = context["closed"]
    assert closed["break_class"] == "dispute_without_case" and closed["age_days"] == 1
    subject, html, text = render_report(today, carried, [], tenant())
    assert subject == "[Northwind] Reconciliation 2026-03-16: 8 open breaks (5 P1)"
    assert "Closed since yesterday" in html and "CLOSED SINCE YESTERDAY" in text
    assert closed["break_id"] in html and closed["break_id"] in text
    assert "3 days" in html and "open 3 days" in text
    rows_csv = list(csv.DictReader(io.StringIO(report_csv(today, [], carried=carried))))
    dup = next(r for r in rows_csv if r["break_class"] == "duplicate_payment")
    assert dup["status"] == "still_open" and dup["age_days"] == "3"
    assert dup["first_seen"] == "2026-03-13"


def test_actions_taken_are_shown_with_their_outcome(result: ReconResult) -> None:
    actions = actions_for(result)
    # The cancelled order's refund went through, the duplicate's failed.
    assert [(a.charge_id, a.status) for a in actions] == [
        ("ch_NW-CANCEL", "refunded"),
        ("ch_NW-DUP-2", "failed"),
    ]
    context = report_context(result, None, actions, tenant())
    assert context["headline"]["refunded"] == [{"amount": 3_000, "currency": "USD"}]
    assert context["headline"]["refunds_failed"] == 1
    _, html, text = render_report(result, None, actions, tenant())
    assert "Actions taken" in html and "ACTIONS TAKEN" in text
    assert "Refunded" in html and "Failed" in html
    # The gateway's error text is outside input too.
    assert "card_declined &lt;b&gt;now&lt;/b&gt;" in html
    assert "card_declined <b>now</b>" in text


def test_hostile_bank_text_is_escaped(result: ReconResult) -> None:
    _, html, text = render_report(result, None, [], tenant())
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; STRIPE" in html
    assert "<script>alert('x')</script>" in text  # plain text is not HTML: shown as sent
    unknown = next(b for b in result.breaks if b.break_class == BreakClass.UNKNOWN_BANK_CREDIT)
    assert unknown.break_id in html


def test_csv_cells_cannot_become_formulas() -> None:
    day = Day()
    day.order('=HYPERLINK("http://evil")', 1_000)  # a shop's order id, shipped, never paid
    result = reconcile(day.inputs())
    (row,) = csv.DictReader(io.StringIO(report_csv(result, [])))
    assert row["order_id"] == '\'=HYPERLINK("http://evil")'
    assert not row["explanation"].startswith("=")


def test_no_breaks_reads_as_all_matched() -> None:
    day = Day()
    day.paid_order("NW-1", 5_000)
    day.payout("po_1", ["NW-1"])
    result = reconcile(day.inputs())
    assert result.breaks == []
    subject, html, text = render_report(result, None, [], tenant())
    assert subject == "[Northwind] Reconciliation 2026-03-16: all matched"
    assert "No breaks" in html and "No breaks" in text
    assert "100% matched" in html


@pytest.mark.parametrize(
    ("currency", "order", "html_money", "csv_decimal", "csv_formatted"),
    [
        ("KWD", 12_750, "KWD\u00a012.750", "12.750", "KWD 12.750"),
        ("JPY", 15_800, "¥15,800", "15800", "JPY 15,800"),
    ],
)
def test_three_and_zero_decimal_currencies(
    currency: str, order: int, html_money: str, csv_decimal: str, csv_formatted: str
) -> None:
    day = Day("souq", currency)
    day.paid_order("SQ-1", 4_250)
    day.order("SQ-2", order)  # completed, never paid
    day.payout("po_1", ["SQ-1"])
    result = reconcile(day.inputs())
    (brk,) = result.breaks
    _, html, text = render_report(result, None, [], tenant("souq", currency))
    assert html_money in html and html_money in text
    (row,) = [
        r
        for r in csv.DictReader(io.StringIO(report_csv(result, [])))
        if r["record_type"] == "break"
    ]
    assert row["amount"] == str(order)
    assert row["amount_decimal"] == csv_decimal
    assert row["amount_formatted"] == csv_formatted
    assert brk.break_id in html


def test_long_days_are_cut_in_the_email_but_not_in_the_csv() -> None:
    day = Day()
    for n in range(30):
        day.order(f"NW-{n:03d}", 1_000 + n)  # thirty shipped orders never paid
    result = reconcile(day.inputs())
    _, html, text = render_report(result, None, [], tenant(), max_breaks=10)
    shown = [b for b in result.breaks if b.break_id in html]
    assert len(shown) == 10
    assert "20 more" in html and "20 more" in text
    rows = list(csv.DictReader(io.StringIO(report_csv(result, []))))
    assert len(rows) == 30


def test_summary_is_json_and_keys_are_per_day(result: ReconResult) -> None:
    context = report_context(result, None, actions_for(result), tenant())
    summary = json.loads(json.dumps(report_summary(context)))
    assert summary["headline"]["open"] == 9
    assert "priorities" not in summary
    json.dumps(context)  # the whole context is JSON-ready too
    assert report_key("northwind", DAY) == "reports/northwind/reconciliation/2026/03/16/report.html"
    assert report_key(tenant(), date(2026, 1, 5), "report.csv") == (
        "reports/northwind/reconciliation/2026/01/05/report.csv"
    )
    assert report_key("northwind", DAY, "summary.json").endswith("/16/summary.json")
    with pytest.raises(ValueError, match="tenant id"):
        report_key("../other", DAY)


def test_a_result_of_another_tenant_is_refused(result: ReconResult) -> None:
    with pytest.raises(ValueError, match="northwind"):
        report_context(result, None, [], tenant("southwind"))


def test_html_is_a_self_contained_email(result: ReconResult) -> None:
    _, html, _ = render_report(result, None, actions_for(result), tenant())
    assert "<script" not in html.lower()
    assert not re.search(r"<img\b", html)  # no images: the chart is table cells
    assert "http://" not in html and "https://" not in html
    assert "reports/northwind/reconciliation/2026/03/16/report.csv" in html
