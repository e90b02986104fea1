"""The business summary against a planted period whose figures are worked out here by hand.

The tenant sells in EUR and USD from Amsterdam. The week planted, Monday 2026-10-19 to Sunday
2026-10-25, holds the end of summer time (25 October, 03:00 CEST → 02:00 CET): it is 169
hours long, and an order at 00:30 local on its Monday is 22:30 UTC on the Sunday before. A
refund of an earlier week's sale falls in it; a refund of its own sale falls in the next.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from functions.reports.domain.periods import Period, PeriodKind, periods_closing_on
from functions.reports.domain.summary import BusinessSummary
from functions.reports.domain.tally import Tally, combine, tally_day
from functions.reports.use_cases.schedule import due
from functions.reports.use_cases.summary import (
    TenantsFailed,
    business_summary,
    morning,
    tick,
)
from shared.events import ShipmentStatus
from shared.tenants import TenantSettings
from tests.reports_fakes import Order, reports_ports

TZ = "Europe/Amsterdam"
TENANT = TenantSettings(
    id="multi-shop",
    name="Multi Shop",
    currency="EUR",
    other_currencies=("USD",),
    timezone=TZ,
    customer_sender="shop@example.com",
    finance_emails=("finance@example.com",),
    dispatch_sla_days=3,
)
WEEK = Period.containing(PeriodKind.WEEKLY, date(2026, 10, 21))
AFTER_WEEK = datetime(2026, 11, 9, 12, tzinfo=UTC)


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def planted() -> list[Order]:
    t = TENANT.id
    p = Order(t, "P", z("2026-10-14T10:00"), [("mug", "v-north", 2, 1500)], shipping=500)
    p.paid(z("2026-10-14T10:01")).refunded(z("2026-10-20T09:00"), "re_P", 1000)
    g = Order(t, "G", z("2026-10-16T10:00"), [("lamp", "v-east", 1, 4000)])
    g.paid(z("2026-10-16T10:01")).shipped(z("2026-10-17T10:00"), "G1")
    g.scanned(z("2026-10-19T22:00"), "G1", ShipmentStatus.DELIVERED)
    g.disputed(z("2026-10-23T15:00"), 4000).dispute_lost(z("2026-10-30T15:00"), 4000)
    a = Order(
        t,
        "A",
        z("2026-10-18T22:30"),
        [("mug", "v-north", 1, 1500), ("tee", "v-south", 2, 2000)],
        discount=500,
        shipping=400,
        tax=700,
    )
    a.paid(z("2026-10-18T22:35")).shipped(z("2026-10-20T08:00"), "A1")
    a.scanned(z("2026-10-22T08:00"), "A1", ShipmentStatus.DELIVERED)
    a.refunded(z("2026-10-27T10:00"), "re_A", 2000)
    b = Order(t, "B", z("2026-10-21T12:00"), [("cap", "v-west", 3, 1000)], currency="USD", tax=300)
    b.paid(z("2026-10-21T12:05")).shipped(z("2026-10-25T12:00"), "B1")
    b.scanned(z("2026-10-24T08:00"), "B1", ShipmentStatus.EXCEPTION)
    b.scanned(z("2026-10-25T20:00"), "B1", ShipmentStatus.DAMAGED)
    c = Order(t, "C", z("2026-10-25T23:30"), [("tee", "v-south", 1, 2000)])
    c.paid(z("2026-10-25T23:31"))
    d = Order(t, "D", z("2026-10-25T22:59"), [("mug", "v-north", 1, 1500)], screening="review")
    d.paid(z("2026-10-25T22:59:30"))
    e = Order(t, "E", z("2026-10-22T09:00"), [("tee", "v-south", 1, 2000)], screening="block")
    e.failed(z("2026-10-22T09:01"), "pi_E1").cancelled(
        z("2026-10-22T09:02"), "blocked_by_screening"
    )
    f = Order(
        t,
        "F",
        z("2026-10-23T10:00"),
        [("cap", "v-west", 1, 1000)],
        currency="USD",
        screening="review",
    )
    f.cancelled(z("2026-10-24T10:00"), "rejected_in_review")
    return [p, g, a, b, c, d, e, f]


def figures(summary: BusinessSummary, currency: str | None = None) -> dict[str, object]:
    if currency is None:
        return {f.key: f.current for f in summary.figures}
    section = next(s for s in summary.sections if s.currency == currency)
    return {f.key: f.current for f in section.figures}


def previous(summary: BusinessSummary, currency: str) -> dict[str, object]:
    section = next(s for s in summary.sections if s.currency == currency)
    return {f.key: f.previous for f in section.figures}


@pytest.fixture
def week() -> BusinessSummary:
    ports = reports_ports(TENANT, planted(), AFTER_WEEK)
    return business_summary(ports, TENANT.id, PeriodKind.WEEKLY, date(2026, 10, 21))


def test_the_week_holding_the_change_to_winter_time_is_169_hours() -> None:
    start, end = WEEK.bounds(TZ)
    assert (WEEK.first, WEEK.last) == (date(2026, 10, 19), date(2026, 10, 25))
    assert start == z("2026-10-18T22:00") and end == z("2026-10-25T23:00")
    assert end - start == timedelta(hours=169)


def test_euro_sales_of_the_week_by_shopifys_definitions(week: BusinessSummary) -> None:
    eur = figures(week, "EUR")
    # Paid in the week (local): A (22:35 UTC Sunday = 00:35 Monday) and D (23:59 Sunday CET);
    # not C (23:30 UTC Sunday = 00:30 the Monday after).
    gross = (1500 + 2 * 2000) + 1500
    discounts, shipping, tax = 500, 400, 700
    returns = 1000  # P's refund, sold the week before; A's refund falls in the next week
    net = gross - discounts - returns
    assert eur["orders"] == 2
    assert (eur["gross"], eur["discounts"], eur["returns"]) == (gross, discounts, returns)
    assert (eur["shipping"], eur["tax"]) == (shipping, tax)
    assert eur["net"] == net == 5500
    assert eur["total"] == net + tax + shipping == 6600
    assert eur["average_order_value"] == (gross - discounts) // 2 == 3250
    assert (eur["refunds"], eur["failed_payments"], eur["failed_amount"]) == (1, 1, 2000)
    assert (eur["chargebacks"], eur["chargeback_amount"], eur["chargebacks_lost"]) == (1, 4000, 0)


def test_dollars_stand_apart_from_euros(week: BusinessSummary) -> None:
    assert [s.currency for s in week.sections] == ["EUR", "USD"]
    usd = figures(week, "USD")
    assert (usd["orders"], usd["gross"], usd["tax"], usd["net"], usd["total"]) == (
        1,
        3000,
        300,
        3000,
        3300,
    )
    assert usd["returns"] == 0 and usd["failed_payments"] == 0


def test_each_figure_beside_the_previous_week(week: BusinessSummary) -> None:
    before = previous(week, "EUR")
    # P (3000 + 500 shipping) and G (4000), paid 14 and 16 October; nothing refunded then.
    assert (before["orders"], before["gross"], before["shipping"], before["net"]) == (
        2,
        7000,
        500,
        7000,
    )
    assert before["total"] == 7500
    total = next(f for f in week.sections[0].figures if f.key == "total")
    assert total.change == pytest.approx((6600 - 7500) / 7500)
    # Top products and vendors beside theirs the week before (P: 2 mugs, G: a lamp).
    tee, mug = week.sections[0].top_products
    assert (tee.name, tee.gross, tee.previous_gross) == ("Tee", 4000, 0)
    assert (mug.name, mug.quantity, mug.gross, mug.previous_gross) == ("Mug", 2, 3000, 3000)
    vendors = {v.name: (v.gross, v.previous_gross) for v in week.sections[0].top_vendors}
    assert vendors == {"v-south": (4000, 0), "v-north": (3000, 3000)}


def test_orders_screening_and_fulfilment_of_the_week(week: BusinessSummary) -> None:
    general = figures(week)
    # Placed in the week: A, B, D, E, F; paid of those: A, B, D.
    assert general["placed"] == 5
    assert general["conversion"] == pytest.approx(3 / 5)
    # The week before: P and G placed, both paid. A share changes by points, not by percent.
    conversion = next(f for f in week.figures if f.key == "conversion")
    assert conversion.previous == 1.0 and conversion.change_text() == "-40.0 pt"
    assert (general["screening_allow"], general["screening_review"]) == (2, 2)
    assert general["screening_block"] == 1
    assert (general["review_approved"], general["review_rejected"]) == (1, 1)
    assert general["review_pending"] == 0
    # A went within its 3 days, B on its fourth day.
    assert general["dispatched"] == 2 and general["dispatched_in_sla"] == pytest.approx(0.5)
    # A in 48 h, G in 60 h: the median is 54 h.
    assert general["delivered"] == 2
    assert general["median_days_to_deliver"] == pytest.approx(54 / 24)
    assert (general["exceptions"], general["claims"]) == (2, 1)


def test_a_refund_counts_in_its_own_later_period_not_its_sales() -> None:
    ports = reports_ports(TENANT, planted(), AFTER_WEEK)
    following = business_summary(ports, TENANT.id, PeriodKind.WEEKLY, date(2026, 10, 28))
    eur = figures(following, "EUR")
    assert eur["returns"] == 2000 and eur["refunds"] == 1  # A's, sold the week before
    assert eur["orders"] == 1 and eur["gross"] == 2000  # C
    assert (eur["chargebacks_lost"], eur["chargeback_lost_amount"]) == (1, 4000)
    assert eur["net"] == 2000 - 2000


def test_the_month_is_the_sum_of_its_days_and_stores_each_once() -> None:
    ports = reports_ports(TENANT, planted(), AFTER_WEEK)
    month = business_summary(ports, TENANT.id, PeriodKind.MONTHLY, date(2026, 10, 5))
    eur = figures(month, "EUR")
    # Every EUR sale of October: P, G, A, D and C (00:30 on Monday 26 October, local).
    assert eur["orders"] == 5
    assert eur["returns"] == 1000 + 2000
    saved = ports.tallies.saved  # type: ignore[attr-defined]
    assert len([d for (_, d) in saved if d.month == 10]) == 31
    reads = ports.orders.reads  # type: ignore[attr-defined]
    business_summary(ports, TENANT.id, PeriodKind.MONTHLY, date(2026, 10, 5))
    # The second time, October's days come from the stored tallies (only September's
    # missing days are read, and they were stored the first time too).
    assert ports.orders.reads == reads  # type: ignore[attr-defined]


def test_a_period_not_ended_says_so_far_and_counts_nothing_to_come() -> None:
    now = z("2026-10-22T12:00")
    ports = reports_ports(TENANT, planted(), now)
    summary = business_summary(ports, TENANT.id, PeriodKind.WEEKLY, date(2026, 10, 21))
    assert summary.so_far and summary.title.endswith("(so far)")
    eur = figures(summary, "EUR")
    assert eur["orders"] == 1  # A; D is paid on Sunday, after now
    # Today (22 October) is tallied live and not stored.
    assert (TENANT.id, date(2026, 10, 22)) not in ports.tallies.saved  # type: ignore[attr-defined]
    assert (TENANT.id, date(2026, 10, 21)) in ports.tallies.saved  # type: ignore[attr-defined]


def test_a_day_tally_keeps_only_the_facts_of_its_own_day() -> None:
    orders = planted()
    days = [tally_day(d, TZ, [o.view for o in orders], 3) for d in WEEK.days()]
    whole = combine(days)
    assert whole.currencies["EUR"].orders == 2 and whole.placed == 5
    again = Tally.model_validate_json(whole.model_dump_json())
    assert again == whole


def test_periods_close_on_their_last_day() -> None:
    assert periods_closing_on(date(2026, 10, 25)) == [PeriodKind.DAILY, PeriodKind.WEEKLY]
    assert periods_closing_on(date(2026, 10, 31)) == [PeriodKind.DAILY, PeriodKind.MONTHLY]
    assert periods_closing_on(date(2026, 12, 31))[-1] == PeriodKind.YEARLY


def test_the_tick_publishes_each_tenant_at_its_hour() -> None:
    # 07:00 CET on Monday 26 October is 06:00 UTC.
    ports = reports_ports(TENANT, planted(), z("2026-10-26T06:00"))
    assert due([TENANT], z("2026-10-26T05:00")) == []
    results = tick(ports, z("2026-10-26T06:00"))
    assert [r["day"] for r in results] == ["2026-10-25"]
    published = results[0]["published"]
    assert [p["kind"] for p in published] == ["daily", "weekly"]
    objects = ports.reports.objects  # type: ignore[attr-defined]
    prefix = "reports/multi-shop/summary/weekly/2026-W43/"
    assert {prefix + n for n in ("summary.html", "summary.csv", "summary.json")} <= set(objects)
    stored = json.loads(objects[prefix + "summary.json"][0])
    eur = {f["key"]: f["current"] for f in stored["currencies"]["EUR"]["figures"]}
    assert eur["total"] == 6600 and stored["so_far"] is False
    csv_text = objects[prefix + "summary.csv"][0].decode()
    assert "2026-W43,no,EUR,total,Total sales,66.00,75.00,-0.1200" in csv_text
    mails = ports.mailer.sent  # type: ignore[attr-defined]
    assert [m["to"] for m in mails] == [("finance@example.com",)] * 2
    assert "Weekly summary" in mails[1]["subject"] and "EUR 6,600.00" not in mails[1]["html"]
    assert "EUR 66.00" in mails[1]["html"] and "USD 33.00" in mails[1]["html"]
    # The restated days were tallied again: 22 to 25 October.
    saved = {d for (_, d) in ports.tallies.saved}  # type: ignore[attr-defined]
    assert {date(2026, 10, 22), date(2026, 10, 25)} <= saved


def test_a_period_older_than_the_records_kept_says_what_is_covered() -> None:
    # Seven years of records (the default) back from 9 November 2026.
    ports = reports_ports(TENANT, planted(), AFTER_WEEK)
    old = business_summary(ports, TENANT.id, PeriodKind.YEARLY, date(2019, 6, 1))
    assert old.covered_from is not None and date(2019, 1, 1) < old.covered_from
    # Days before it are neither read nor stored.
    saved = {d for (_, d) in ports.tallies.saved}  # type: ignore[attr-defined]
    assert saved and min(saved) >= old.covered_from
    assert (
        business_summary(ports, TENANT.id, PeriodKind.WEEKLY, date(2026, 10, 21)).covered_from
        is None
    )


def test_a_year_adds_up_its_months_and_each_month_its_days() -> None:
    ports = reports_ports(TENANT, planted(), AFTER_WEEK)
    year = business_summary(ports, TENANT.id, PeriodKind.YEARLY, date(2026, 3, 1))
    assert year.so_far  # 9 November 2026
    # Every EUR sale of the planted orders (P, G, A, D, C) and the one in USD (B).
    assert figures(year, "EUR")["orders"] == 5 and figures(year, "USD")["orders"] == 1
    assert figures(year, "EUR")["returns"] == 1000 + 2000
    months = ports.tallies.saved_months  # type: ignore[attr-defined]
    assert sorted(m.month for (_, m) in months if m.year == 2026) == list(range(1, 11))
    # The chart of a year has a bar a month: November so far, December still to come.
    (eur, _usd) = year.sections
    assert [d.month for d, _ in eur.daily_net] == list(range(1, 13))
    # October in EUR: P, G, A, D and C sold (16,000 gross), 500 off, 3,000 refunded.
    october_net = (3000 + 4000 + 5500 + 1500 + 2000) - 500 - (1000 + 2000)
    assert eur.daily_net[9][1] == october_net and eur.daily_net[11][1] is None
    # Once the months are stored the year reads them, not their days.
    reads = ports.orders.reads  # type: ignore[attr-defined]
    again = business_summary(ports, TENANT.id, PeriodKind.YEARLY, date(2026, 3, 1))
    assert again.sections == year.sections
    live = ports.orders.reads - reads  # type: ignore[attr-defined]
    assert live == 1  # today, tallied live


def test_a_late_fact_of_an_ended_month_reaches_its_month_when_its_day_is_restated() -> None:
    orders = planted()
    ports = reports_ports(TENANT, orders, z("2026-11-01T06:20"))
    morning(ports, TENANT, date(2026, 10, 31), z("2026-11-01T06:20"))
    months = ports.tallies.saved_months  # type: ignore[attr-defined]
    assert months[(TENANT.id, date(2026, 10, 1))].currencies["EUR"].returns == 3000
    # A refund made on 30 October reaches us late; the next morning restates the 30th.
    late = next(o for o in orders if o.order_id == "D")
    late.refunded(z("2026-10-30T10:00"), "re_D", 500)
    morning(ports, TENANT, date(2026, 11, 1), z("2026-11-02T06:20"))
    assert months[(TENANT.id, date(2026, 10, 1))].currencies["EUR"].returns == 3500


def test_one_tenants_failed_morning_does_not_keep_the_others_from_theirs() -> None:
    broken = TENANT.model_copy(update={"id": "broken-shop"})
    ports = reports_ports(TENANT, planted(), z("2026-10-26T06:20"))
    ports.tenants.tenants[broken.id] = broken  # type: ignore[attr-defined]
    reader = ports.orders
    changed = reader.changed_between

    def failing(tenant: str, start: datetime, end: datetime) -> Any:
        if tenant == broken.id:
            raise RuntimeError("throttled")
        return changed(tenant, start, end)

    reader.changed_between = failing  # type: ignore[method-assign]
    with pytest.raises(
        TenantsFailed, match=r"broken-shop: RuntimeError: throttled \(done: multi-shop\)"
    ):
        tick(ports, z("2026-10-26T06:20"))
    published = ports.reports.objects  # type: ignore[attr-defined]
    assert "reports/multi-shop/summary/weekly/2026-W43/summary.json" in published
    assert not [key for key in published if key.startswith("reports/broken-shop/")]
