"""The tabular reports: the sale and refund mapping, the CRM order history (per period and per
customer) and the logistics log, each as rows, CSV and HTML, optionally stored in S3 beside
the summaries (``reports/{tenant}/{report}/{period}/…``).

A period's rows come from the orders the processor noted changed in it (the change index),
each row kept only when its own fact is dated in the period."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from functions.reports.domain import crm, logistics, refund_map
from functions.reports.domain.periods import Period
from functions.reports.domain.rendering import render_table
from functions.reports.domain.tables import money_cell, time_cell
from functions.reports.ports import Ports
from shared.order_aggregate import OrderState
from shared.tenants import TenantSettings


@dataclass(frozen=True)
class TableReport:
    name: str
    title: str
    csv: str
    html: str
    rows: int
    counts: dict[str, int]
    # Per carrier (the logistics log): what the counts are made of.
    breakdown: list[dict[str, object]] = field(default_factory=list)


def _changed(ports: Ports, tenant: TenantSettings, period: Period) -> Iterator[OrderState]:
    start, end = period.bounds(tenant.timezone)
    for view in ports.orders.changed_between(tenant.id, start, end):
        yield view.state


def refund_mapping(ports: Ports, tenant_id: str, period: Period) -> TableReport:
    tenant = ports.tenant(tenant_id)
    rows: list[refund_map.RefundRow] = []
    for state in _changed(ports, tenant, period):
        has_refunds = any(p.refunds for p in state.payments.values())
        if not has_refunds and state.cancelled_at is None:
            continue  # no refund to map: spare the query of its requests
        requests = ports.orders.refund_requests(tenant.id, state.order_id)
        rows += refund_map.refund_rows(state, requests, tenant.timezone)
    rows = refund_map.in_period(rows, period.first, period.last)
    by_starter: dict[str, int] = {}
    for row in rows:
        by_starter[row.started_by] = by_starter.get(row.started_by, 0) + 1
    title = f"Refunds and their sales, {period.label}"
    table = [
        [
            r.order_id,
            str(r.sold_on or ""),
            r.amount.format(grouping=True),
            r.status,
            str(r.refunded_on or "not yet at the gateway"),
            r.cause,
            r.started_by,
            r.lines,
            r.money_to,
        ]
        for r in rows
    ]
    html = render_table(
        tenant,
        title,
        period,
        by_starter,
        ["Order", "Sold", "Refund", "Status", "Refunded", "Why", "Started by", "Lines", "Money to"],
        table,
    )
    return TableReport("refunds", title, refund_map.refunds_csv(rows), html, len(rows), by_starter)


def crm_history(ports: Ports, tenant_id: str, period: Period) -> TableReport:
    """Each order placed in the period, with its customer and class."""
    tenant = ports.tenant(tenant_id)
    zone = ZoneInfo(tenant.timezone)
    states = [
        s
        for s in _changed(ports, tenant, period)
        if (placed := s.placed_at()) is not None
        and period.first <= placed.astimezone(zone).date() <= period.last
    ]
    rows = crm.crm_rows(states, tenant.timezone)
    return _crm_report(tenant, f"Customers' orders, {period.label}", period, rows)


def customer_history(ports: Ports, tenant_id: str, email: str) -> TableReport:
    """Every order of one customer (by e-mail), whatever the period."""
    tenant = ports.tenant(tenant_id)
    rows = crm.crm_rows(ports.orders.of_customer(tenant.id, email), tenant.timezone)
    return _crm_report(tenant, f"Orders of {email.lower()}", None, rows)


def _crm_report(
    tenant: TenantSettings, title: str, period: Period | None, rows: list[crm.CrmRow]
) -> TableReport:
    counts = crm.class_counts(rows)
    table = [
        [
            r.customer_email,
            r.order_id,
            r.placed_on,
            r.crm_class,
            r.status.replace("_", " "),
            money_cell(r.total, r.currency) + f" {r.currency}",
        ]
        for r in rows
    ]
    html = render_table(
        tenant,
        title,
        period,
        counts,
        ["Customer", "Order", "Placed", "Class", "Status", "Total"],
        table,
    )
    return TableReport("crm", title, crm.crm_csv(rows), html, len(rows), counts)


def logistics_log(ports: Ports, tenant_id: str, period: Period) -> TableReport:
    tenant = ports.tenant(tenant_id)
    rows: list[logistics.ParcelRow] = []
    for state in _changed(ports, tenant, period):
        if not state.parcels():
            continue
        troubled = any(p.notices for p in state.parcels())
        claims = ports.orders.claims(tenant.id, state.order_id) if troubled else []
        rows += logistics.parcel_rows(
            state, claims, tenant.timezone, period.first, period.last, tenant.dispatch_sla_days
        )
    rows.sort(key=lambda r: (r.carrier, time_cell(r.dispatched_at), r.tracking_code))
    carriers = logistics.by_carrier(rows, tenant.timezone, period.first, period.last)
    title = f"Logistics log, {period.label}"
    breakdown: list[dict[str, object]] = [
        {
            "carrier": c.carrier,
            "dispatched": c.dispatched,
            "delivered": c.delivered,
            "late": c.late,
            "exceptions": c.exceptions,
            "claims": c.claims,
            "median_transit_days": c.median_transit_days,
        }
        for c in carriers
    ]
    counts = {
        key: sum(int(str(b[key])) for b in breakdown)
        for key in ("dispatched", "delivered", "late", "exceptions", "claims")
    }
    zone = ZoneInfo(tenant.timezone)

    def local(at: datetime | None) -> str:
        return f"{at.astimezone(zone):%a %d %b %H:%M}" if at else ""

    table = [
        [
            r.carrier,
            f"{r.tracking_code} · {r.order_id}",
            local(r.dispatched_at),
            local(r.delivered_at),
            r.status.replace("_", " "),
            "" if r.late_by_hours is None else f"{r.late_by_hours} h",
            "" if r.transit_days is None else f"{r.transit_days} d",
            "; ".join([*r.exceptions, *([f"claim {r.claim}"] if r.claim else [])]),
        ]
        for r in rows
    ]
    html = render_table(
        tenant,
        title,
        period,
        counts,
        [
            "Carrier",
            "Parcel · order",
            "Dispatched",
            "Delivered",
            "Status",
            "Late",
            "Transit",
            "Exceptions, claim",
        ],
        table,
        breakdown=(
            [
                "Carrier",
                "Dispatched",
                "Delivered",
                "Late",
                "Exceptions",
                "Claims",
                "Median days in transit",
            ],
            [[str(v if v is not None else "—") for v in b.values()] for b in breakdown],
        ),
    )
    return TableReport(
        "logistics", title, logistics.logistics_csv(rows), html, len(rows), counts, breakdown
    )


def store(ports: Ports, tenant_id: str, period: Period, report: TableReport) -> dict[str, str]:
    prefix = f"reports/{tenant_id}/{report.name}/{period.kind.value}/{period.slug}/"
    keys = {"csv": prefix + f"{report.name}.csv", "html": prefix + f"{report.name}.html"}
    ports.reports.put(keys["csv"], report.csv.encode(), "text/csv; charset=utf-8")
    ports.reports.put(keys["html"], report.html.encode(), "text/html; charset=utf-8")
    return keys


TABLE_REPORTS = ("refunds", "crm", "logistics")


def table_report(ports: Ports, tenant_id: str, name: str, period: Period) -> TableReport:
    """One of ``TABLE_REPORTS`` by name (what the API and the CLI ask for)."""
    match name:
        case "refunds":
            return refund_mapping(ports, tenant_id, period)
        case "crm":
            return crm_history(ports, tenant_id, period)
        case "logistics":
            return logistics_log(ports, tenant_id, period)
    raise ValueError(f"no report {name!r} (known: {', '.join(TABLE_REPORTS)})")
