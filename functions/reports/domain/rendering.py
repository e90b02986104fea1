"""The business summary as mailed and stored: subject, HTML (with charts) and text, through
the kernel's templates (``shared.notify.render``: the tenant's branding and zone).

Charts are bars drawn with table cells, not images: mail clients (Gmail, Outlook) drop SVG
and scripts, a PNG needs a plotting library (matplotlib and numpy would triple the Lambda
layer) and an attachment or a hosted image; a table cell with a width renders everywhere,
prints, and is read out by screen readers as its number.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from functions.reports.domain.periods import Period, PeriodKind
from functions.reports.domain.summary import BusinessSummary, CurrencySection, Figure
from shared.money import Money
from shared.notify.render import brand_of, render_pair
from shared.tenants import TenantSettings

TEMPLATE = "business_summary"
_HEADLINE = ("total", "net", "orders", "average_order_value")


def _change(figure: Figure) -> dict[str, str] | None:
    change = figure.change
    if change is None:
        return None
    # Up is good for sales, bad for refunds, chargebacks and failures.
    worse_when_up = figure.key in {
        "returns",
        "refunds",
        "chargebacks",
        "chargeback_amount",
        "chargebacks_lost",
        "chargeback_lost_amount",
        "failed_payments",
        "failed_amount",
        "exceptions",
        "claims",
        "median_days_to_deliver",
        "screening_block",
        "review_rejected",
        "review_timed_out",
    }
    good = (change >= 0) != worse_when_up
    text = figure.change_text() or ""
    return {"text": text, "tone": "good" if good or change == 0 else "bad"}


def _row(figure: Figure) -> dict[str, Any]:
    return {
        "label": figure.label,
        "current": figure.text(figure.current),
        "previous": figure.text(figure.previous),
        "change": _change(figure),
        "key": figure.key,
    }


def _bars(section: CurrencySection, kind: PeriodKind) -> list[dict[str, Any]]:
    """Net sales per day (per month for a year), as bars scaled to the largest."""
    points: list[tuple[str, int | None]]
    if kind == PeriodKind.YEARLY:
        months: dict[date, int | None] = defaultdict(lambda: None)
        for day, value in section.daily_net:
            month = day.replace(day=1)
            if value is not None:
                months[month] = (months[month] or 0) + value
            else:
                months.setdefault(month, None)
        points = [(f"{m:%b}", v) for m, v in sorted(months.items())]
    else:
        points = [
            (f"{d:%a %d}" if kind == PeriodKind.WEEKLY else f"{d:%d}", v)
            for d, v in section.daily_net
        ]
    largest = max((abs(v) for _, v in points if v is not None), default=0) or 1
    return [
        {
            "label": label,
            "value": "" if value is None else Money.of(value, section.currency).format(),
            "height": 0 if value is None else max(1, round(80 * abs(value) / largest)),
            "negative": value is not None and value < 0,
            "missing": value is None,
        }
        for label, value in points
    ]


def summary_context(summary: BusinessSummary, tenant: TenantSettings) -> dict[str, Any]:
    sections = []
    for section in summary.sections:
        by_key = {f.key: f for f in section.figures}
        sections.append(
            {
                "currency": section.currency,
                "headline": [_row(by_key[k]) for k in _HEADLINE],
                "rows": [_row(f) for f in section.figures],
                "bars": _bars(section, summary.period.kind),
                "products": [
                    {
                        "name": p.name,
                        "detail": p.detail,
                        "quantity": p.quantity,
                        "gross": Money.of(p.gross, section.currency).format(grouping=True),
                        "previous": Money.of(p.previous_gross, section.currency).format(
                            grouping=True
                        ),
                    }
                    for p in section.top_products
                ],
                "vendors": [
                    {
                        "name": v.name,
                        "gross": Money.of(v.gross, section.currency).format(grouping=True),
                        "previous": Money.of(v.previous_gross, section.currency).format(
                            grouping=True
                        ),
                    }
                    for v in section.top_vendors
                ],
            }
        )
    return {
        "title": summary.title,
        "tenant_name": tenant.name,
        "period_label": summary.period.label,
        "previous_label": summary.previous_period.label,
        "so_far": summary.so_far,
        "covered_from": summary.covered_from,
        "as_of": summary.as_of,
        "sections": sections,
        "general": [_row(f) for f in summary.figures],
        "kind": summary.period.kind.value,
    }


def render_summary(summary: BusinessSummary, tenant: TenantSettings) -> tuple[str, str, str]:
    """``(subject, html, text)``."""
    context = summary_context(summary, tenant)
    subject = f"[{brand_of(tenant).display_name}] {summary.title}"
    html, text = render_pair(TEMPLATE, context, tenant, subject=subject, team=True)
    return subject, html, text


TABLE_TEMPLATE = "report_table"
MAX_ROWS_SHOWN = 500


def render_table(
    tenant: TenantSettings,
    title: str,
    period: Period | None,
    counts: dict[str, int],
    header: list[str],
    rows: list[list[str]],
    breakdown: tuple[list[str], list[list[str]]] | None = None,
) -> str:
    """A tabular report (refund mapping, CRM history, logistics log) as an HTML page: its
    counts, then its rows (the first ``MAX_ROWS_SHOWN``; the CSV has them all)."""
    html, _ = render_pair(
        TABLE_TEMPLATE,
        {
            "title": title,
            "tenant_name": tenant.name,
            "period_label": period.label if period else None,
            "counts": counts,
            "header": header,
            "rows": rows[:MAX_ROWS_SHOWN],
            "more": max(0, len(rows) - MAX_ROWS_SHOWN),
            "breakdown_header": breakdown[0] if breakdown else [],
            "breakdown": breakdown[1] if breakdown else [],
        },
        tenant,
        subject=f"[{brand_of(tenant).display_name}] {title}",
        team=True,
    )
    return html
