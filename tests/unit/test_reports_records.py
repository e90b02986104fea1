"""The tabular reports over fakes: the sale and refund mapping, the CRM history, the logistics
log, and the order history mailed to the customer."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from functions.reports.domain.crm import crm_class
from functions.reports.domain.periods import Period, PeriodKind
from functions.reports.use_cases.history_mail import HistoryRefused, TooSoon, mail_order_history
from functions.reports.use_cases.records import (
    crm_history,
    customer_history,
    logistics_log,
    refund_mapping,
    store,
)
from tests.reports_fakes import FakeHistoryMail, Order, reports_ports
from tests.unit.test_reports_summary import AFTER_WEEK, TENANT, WEEK, planted, z


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_every_refund_is_tied_to_its_sale_with_who_started_it_and_where_the_money_went() -> None:
    t = TENANT.id
    sale = Order(
        t, "S1", z("2026-10-10T10:00"), [("mug", "v-north", 2, 1500), ("tee", "v-south", 1, 2000)]
    )
    sale.paid(z("2026-10-10T10:01"))
    sale.refunded(z("2026-10-21T09:00"), "re_1", 1500)  # a return of one mug
    sale.refunded(z("2026-10-22T09:00"), "re_2", 500)  # made in Stripe's dashboard
    dup = Order(t, "S2", z("2026-10-20T10:00"), [("cap", "v-west", 1, 1000)], currency="USD")
    dup.paid(z("2026-10-20T10:01")).paid(z("2026-10-20T10:02"), payment="pi_S2b")
    dup.refunded(z("2026-10-23T08:00"), "re_3", 1000)
    blocked = Order(t, "S3", z("2026-10-24T10:00"), [("tee", "v-south", 1, 2000)])
    blocked.paid(z("2026-10-24T10:01")).cancelled(z("2026-10-24T10:05"), "blocked_by_screening")
    late = Order(t, "S4", z("2026-10-20T10:00"), [("tee", "v-south", 1, 2000)])
    late.paid(z("2026-10-20T10:01")).refunded(z("2026-10-27T10:00"), "re_4", 2000)
    ports = reports_ports(TENANT, [sale, dup, blocked, late], AFTER_WEEK)
    ports.orders.requests = {  # type: ignore[attr-defined]
        "S1": [
            {
                "refund_id": "ret-1",
                "gateway_refund_id": "re_1",
                "status": "completed",
                "request": {"cause": "return", "lines": [{"line_id": "S1-0", "quantity": 1}]},
            }
        ],
        "S2": [
            {
                "refund_id": "recon-1",
                "gateway_refund_id": "re_3",
                "status": "completed",
                "payment_id": "pi_S2",
                "request": {"cause": "reconciliation_duplicate"},
            }
        ],
        "S3": [
            {
                "refund_id": "scr-1",
                "status": "failed",
                "failure": "card expired",
                "failed_at": "2026-10-24T11:00:00+00:00",
                "amount": 2000,
                "currency": "EUR",
                "request": {"cause": "screening_block"},
            }
        ],
    }
    report = refund_mapping(ports, TENANT.id, WEEK)
    rows = {r["gateway_refund_id"] or r["refund_id"]: r for r in rows_of(report.csv)}
    assert set(rows) == {"re_1", "re_2", "re_3", "scr-1"}  # re_4 is the next week's
    one = rows["re_1"]
    assert (one["order_id"], one["sold_on"], one["sale_total"]) == ("S1", "2026-10-10", "50.00")
    assert (one["refund_id"], one["amount"], one["currency"]) == ("ret-1", "15.00", "EUR")
    assert (one["cause"], one["started_by"], one["lines"]) == ("return", "return", "1 x Mug")
    assert one["money_to"] == "back to Card •4242 (payment pi_S1)"
    assert rows["re_2"]["started_by"].startswith("outside Ecom OPS")
    assert rows["re_3"]["started_by"] == "reconciliation" and rows["re_3"]["currency"] == "USD"
    failed = rows["scr-1"]
    assert (failed["started_by"], failed["status"], failed["failure"]) == (
        "screening",
        "failed",
        "card expired",
    )
    assert failed["money_to"] == "not returned"
    assert report.counts == {
        "return": 1,
        "outside Ecom OPS (gateway or shop)": 1,
        "reconciliation": 1,
        "screening": 1,
    }
    assert "Refunds and their sales" in report.html and "1 x Mug" in report.html


def test_crm_classes_each_order_once_in_order_of_gravity() -> None:
    orders = {o.order_id: o for o in planted()}
    classes = {k: crm_class(o.state) for k, o in orders.items()}
    assert classes == {
        "P": "refund",
        "G": "chargeback",
        "A": "refund",
        "B": "success",
        "C": "success",
        "D": "success",
        "E": "failed",
        "F": "dropout",
    }
    expired = Order(TENANT.id, "H", z("2026-10-21T10:00"), [("mug", "v", 1, 100)])
    assert crm_class(expired.expired(z("2026-10-21T11:00")).state) == "dropout"


def test_crm_history_per_period_and_per_customer() -> None:
    orders = planted()
    bob = Order(
        TENANT.id, "K", z("2026-10-21T10:00"), [("mug", "v", 1, 100)], email="Bob@Example.com"
    )
    bob.paid(z("2026-10-21T10:01"))
    ports = reports_ports(TENANT, [*orders, bob], AFTER_WEEK)
    week = crm_history(ports, TENANT.id, WEEK)
    placed = {r["order_id"]: r["class"] for r in rows_of(week.csv)}
    assert placed == {
        "A": "refund",
        "B": "success",
        "D": "success",
        "E": "failed",
        "F": "dropout",
        "K": "success",
    }
    assert week.counts == {"dropout": 1, "failed": 1, "success": 3, "refund": 1, "chargeback": 0}
    bobs = customer_history(ports, TENANT.id, "BOB@example.com")
    assert [(r["customer_email"], r["order_id"]) for r in rows_of(bobs.csv)] == [
        ("bob@example.com", "K")
    ]
    assert customer_history(ports, TENANT.id, "nobody@example.com").rows == 0


def test_logistics_log_of_the_week_per_carrier_with_delays_and_claims() -> None:
    ports = reports_ports(TENANT, planted(), AFTER_WEEK)
    ports.orders.claimed = {"B": [{"tracking_code": "B1", "status": "filed"}]}  # type: ignore[attr-defined]
    log = logistics_log(ports, TENANT.id, WEEK)
    rows = {r["tracking_code"]: r for r in rows_of(log.csv)}
    assert set(rows) == {"A1", "B1", "G1"}
    # B was paid 21 Oct 12:05 UTC and went 25 Oct 12:00: 95.9 h, 23.9 h past its 3 days.
    assert (rows["B1"]["dispatch_hours"], rows["B1"]["late_by_hours"]) == ("95.9", "23.9")
    assert rows["B1"]["claim"] == "filed" and rows["B1"]["exceptions"].count("|") == 1
    assert rows["A1"]["late_by_hours"] == "" and rows["A1"]["transit_days"] == "2.0"
    assert rows["G1"]["transit_days"] == "2.5"
    assert log.breakdown == [
        {
            "carrier": "dhl",
            "dispatched": 2,
            "delivered": 2,
            "late": 1,
            "exceptions": 2,
            "claims": 1,
            "median_transit_days": 2.25,
        }
    ]
    assert log.counts == {"dispatched": 2, "delivered": 2, "late": 1, "exceptions": 2, "claims": 1}
    # People read local times: B went at 13:00 on Sunday in Amsterdam (12:00 UTC, winter time).
    assert "Sun 25 Oct 13:00" in log.html and "claim filed" in log.html
    keys = store(ports, TENANT.id, WEEK, log)
    assert keys["csv"] == "reports/multi-shop/logistics/weekly/2026-W43/logistics.csv"
    assert keys["html"] in ports.reports.objects  # type: ignore[attr-defined]


def test_order_history_goes_only_to_the_orders_address_once_a_day() -> None:
    now = datetime(2026, 11, 2, 9, tzinfo=UTC)
    other = Order(
        TENANT.id, "Z", z("2026-10-30T10:00"), [("mug", "v", 1, 100)], email="zed@example.com"
    )
    ports = reports_ports(TENANT, [*planted(), other], now)
    answer = mail_order_history(ports, TENANT.id, "A", by="op@example.com")
    mails = ports.history_mail
    assert isinstance(mails, FakeHistoryMail)
    assert answer["orders"] == 8 and mails.sent == [("ann@example.com", "A", sorted("PGABCDEF"))]
    assert mails.notes == [
        ("A", "Order history (8 orders) e-mailed to the customer, asked by op@example.com")
    ]
    with pytest.raises(TooSoon, match="at most once"):
        mail_order_history(ports, TENANT.id, "A", by="op@example.com")
    ports.clock.advance(timedelta(hours=24))  # type: ignore[attr-defined]
    mail_order_history(ports, TENANT.id, "A", by="op@example.com")
    assert len(mails.sent) == 2
    with pytest.raises(LookupError, match="nothing found: no order 'nope'"):
        mail_order_history(ports, TENANT.id, "nope", by="op@example.com")


def test_a_failed_history_mail_gives_its_slot_back() -> None:
    ports = reports_ports(TENANT, planted(), datetime(2026, 11, 2, 9, tzinfo=UTC))
    ports.history_mail = FakeHistoryMail(fail=True)
    with pytest.raises(RuntimeError):
        mail_order_history(ports, TENANT.id, "A", by="op")
    assert ports.history_mail.last == {} and ports.history_mail.notes == []


def test_history_needs_an_address_on_the_order() -> None:
    anonymous = Order(TENANT.id, "N", z("2026-10-30T10:00"), [("mug", "v", 1, 100)], email="")
    ports = reports_ports(TENANT, [anonymous], datetime(2026, 11, 2, 9, tzinfo=UTC))
    with pytest.raises(HistoryRefused, match="no customer e-mail address"):
        mail_order_history(ports, TENANT.id, "N", by="op")


def test_a_period_of_one_day() -> None:
    assert Period.containing(PeriodKind.DAILY, date(2026, 10, 25)).bounds("Europe/Amsterdam")[1] - (
        Period.containing(PeriodKind.DAILY, date(2026, 10, 25)).bounds("Europe/Amsterdam")[0]
    ) == timedelta(hours=25)
