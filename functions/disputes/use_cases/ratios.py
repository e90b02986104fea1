"""The monthly ratio report per tenant and card brand, and the client team's warnings when a
month is projected at 50 % or 75 % of a programme's level (from the hourly tick, at the
tenant's local 06:00, once per month, programme and share)."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from functions.disputes.domain.ratios import BrandMonth, RatioLine, ratio_report, warning_level
from functions.disputes.ports import Ports
from shared.notices.disputes import DisputeRatioWarning

WARN_HOUR = 6


def first_day(day: date) -> date:
    return day.replace(day=1)


def previous_month(month: date) -> date:
    return first_day(month - timedelta(days=1))


def monthly_ratios(ports: Ports, tenant: str, month: date, today: date) -> list[RatioLine]:
    """The month's ratios as of ``today`` (the tenant's local date): a month not over yet is
    projected to its end from the days counted."""
    month = first_day(month)
    settings = ports.tenants.get(tenant)
    region = settings.disputes.network_region if settings else None
    disputes = ports.counts.chargebacks(tenant, month)
    fraud = ports.counts.fraud_reports(tenant, month)
    settled = ports.counts.settled(tenant, month)
    before = ports.counts.settled(tenant, previous_month(month))
    days = calendar.monthrange(month.year, month.month)[1]
    elapsed = max(0, min((today - month).days + 1, days))
    figures = []
    for brand in sorted({*disputes, *fraud, *settled, *before}):
        figures.append(
            BrandMonth(
                brand=brand,
                month=month,
                disputes=disputes.get(brand, 0),
                fraud_reports=fraud.get(brand, 0),
                settled=settled.get(brand, 0),
                previous_month_settled=before.get(brand, 0),
                days_counted=elapsed,
            )
        )
    return ratio_report(ports.programmes, figures, region)


def warn_ratios(ports: Ports, now: datetime) -> list[DisputeRatioWarning]:
    """Every tenant at its local 06:00: the month so far, projected; a warning per programme
    and brand at 50 % / 75 % of a level (the alert log sends each once)."""
    sent = []
    for tenant in ports.directory.all():
        local = now.astimezone(ZoneInfo(tenant.timezone))
        if local.hour != WARN_HOUR:
            continue
        today = local.date()
        for line in monthly_ratios(ports, tenant.id, today, today):
            share = warning_level(line, ports.programmes.warn_at_percent)
            if share is None:
                continue
            notice = DisputeRatioWarning(
                tenant=tenant.id,
                programme=line.title,
                brand=line.brand,
                month=line.month.strftime("%Y-%m"),
                share_percent=share,
                lines=line.warnings,
                rate=line.rate_percent,
                count=line.count,
                denominator=line.denominator,
            )
            ports.alerts.send(notice)
            sent.append(notice)
    return sent
