"""Business summaries: each local day summed up once into a tally (the read model), each
ended month added up from its days, each period added up from its days (a year from its
months) and published (HTML, CSV and JSON in S3; the HTML mailed to the
tenant's recipients).

A day is tallied the morning after (the hourly tick, at the tenant's ``reports.run_hour``),
and again on the ``restate_days`` mornings after that, so a fact that reached us late still
counts on its own day; a day that has not ended is tallied live and never stored. A period
asked for before its tallies exist (a tenant's first report, a day the tick missed) is
tallied from the change notes and stored, once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from functions.reports.domain.periods import (
    Period,
    PeriodKind,
    local_day,
    periods_closing_on,
)
from functions.reports.domain.summary import BusinessSummary, summarise, summary_csv, summary_json
from functions.reports.domain.tally import Tally, combine, tally_day
from functions.reports.ports import Ports
from functions.reports.use_cases.schedule import due
from shared.observability import logger
from shared.tenants import TenantSettings


def tally_of(ports: Ports, tenant: TenantSettings, day: date) -> Tally:
    """The facts of the tenant's local ``day``, read from the orders that changed on it."""
    start, end = Period(PeriodKind.DAILY, day, day).bounds(tenant.timezone)
    views = ports.orders.changed_between(tenant.id, start, end)
    return tally_day(day, tenant.timezone, views, tenant.dispatch_sla_days)


def roll_up(ports: Ports, tenant: TenantSettings, day: date) -> Tally:
    tally = tally_of(ports, tenant, day)
    ports.tallies.save(tenant.id, day, tally)
    return tally


def kept_from(tenant: TenantSettings, now: datetime) -> date:
    """The oldest local day the tenant's financial records still cover."""
    today = local_day(now, ZoneInfo(tenant.timezone))
    return today - timedelta(days=365 * tenant.retention.financial_years)


def period_days(
    ports: Ports, tenant: TenantSettings, period: Period, now: datetime
) -> Iterator[tuple[date, Tally | None]]:
    """Each day of ``period`` with its tally, one at a time: stored, else made (and stored
    once the day has ended); a day still to come, or older than the records kept, has none."""
    stored = ports.tallies.between(tenant.id, period.first, period.last)
    today = local_day(now, ZoneInfo(tenant.timezone))
    oldest = kept_from(tenant, now)
    ahead = next(stored, None)
    for day in period.days():
        while ahead is not None and ahead[0] < day:
            ahead = next(stored, None)
        if ahead is not None and ahead[0] == day:
            yield day, ahead[1]
        elif day < oldest:
            yield day, None
        elif day < today:
            yield day, roll_up(ports, tenant, day)
        elif day == today:
            yield day, tally_of(ports, tenant, day)
        else:
            yield day, None


def roll_up_month(ports: Ports, tenant: TenantSettings, month: date, now: datetime) -> Tally:
    """Add up an ended month's days (tallying any not yet tallied) and store the sum: what a
    year reads instead of the month's 28 to 31 days."""
    period = Period.containing(PeriodKind.MONTHLY, month)
    tally = combine(t for _, t in period_days(ports, tenant, period, now) if t is not None)
    ports.tallies.save_month(tenant.id, period.first, tally)
    return tally


def period_spans(
    ports: Ports, tenant: TenantSettings, period: Period, now: datetime
) -> Iterator[tuple[date, Tally | None]]:
    """What a period adds up, one span at a time: its days, or for a year its months (each
    stored once ended, else its days added up); a span still to come has none."""
    if period.kind != PeriodKind.YEARLY:
        yield from period_days(ports, tenant, period, now)
        return
    stored = dict(ports.tallies.months(tenant.id, period.first, period.last))
    today = local_day(now, ZoneInfo(tenant.timezone))
    oldest = kept_from(tenant, now)
    for number in range(1, 13):
        month = Period.containing(PeriodKind.MONTHLY, period.first.replace(month=number))
        if month.first in stored:
            yield month.first, stored[month.first]
        elif month.first > today or month.last < oldest:
            yield month.first, None
        elif month.last < today:
            yield month.first, roll_up_month(ports, tenant, month.first, now)
        else:
            days = [t for _, t in period_days(ports, tenant, month, now) if t is not None]
            yield month.first, combine(days)


def business_summary(
    ports: Ports, tenant_id: str, kind: PeriodKind, day: date, now: datetime | None = None
) -> BusinessSummary:
    """The summary of the ``kind`` period holding the local ``day``, against the one before.
    A period that has not ended is summed up to ``now`` and says "so far"."""
    tenant = ports.tenant(tenant_id)
    now = now or ports.clock.now()
    period = Period.containing(kind, day)
    spans = period_spans(ports, tenant, period, now)
    before = period.previous()
    previous = combine(t for _, t in period_spans(ports, tenant, before, now) if t is not None)
    return summarise(
        tenant.id,
        tenant.timezone,
        period,
        spans,
        previous,
        now=now,
        top_n=tenant.reports.top_n,
        kept_from=kept_from(tenant, now),
    )


def report_prefix(tenant: str, period: Period) -> str:
    """``reports/{tenant}/summary/{kind}/{period}/``: a re-run overwrites its own files."""
    return f"reports/{tenant}/summary/{period.kind.value}/{period.slug}/"


def publish(ports: Ports, tenant: TenantSettings, summary: BusinessSummary) -> dict[str, Any]:
    """Store the summary as HTML, CSV and JSON and mail the HTML to the tenant's recipients
    (once per period: the mail's idempotency key is the period's)."""
    # The e-mail templates (jinja2, babel) load here, on a tenant's report morning: most
    # hourly ticks find no tenant due and render nothing.
    from functions.reports.domain.rendering import render_summary

    subject, html, text = render_summary(summary, tenant)
    prefix = report_prefix(tenant.id, summary.period)
    stored = {
        "html": prefix + "summary.html",
        "csv": prefix + "summary.csv",
        "json": prefix + "summary.json",
    }
    ports.reports.put(stored["html"], html.encode(), "text/html; charset=utf-8")
    ports.reports.put(stored["csv"], summary_csv(summary).encode(), "text/csv; charset=utf-8")
    body = json.dumps(summary_json(summary), indent=1, default=str)
    ports.reports.put(stored["json"], body.encode(), "application/json")
    to = recipients_of(tenant)
    message_id = None
    if to:
        message_id = ports.mailer.email(
            tenant,
            to,
            subject,
            html,
            text,
            f"{tenant.id}:summary:{summary.period.kind.value}:{summary.period.slug}",
        )
    return {
        "period": summary.period.slug,
        "kind": summary.period.kind.value,
        **stored,
        "so_far": summary.so_far,
        "email_message_id": message_id,
    }


def recipients_of(tenant: TenantSettings) -> tuple[str, ...]:
    return tuple(tenant.reports.recipients or tenant.finance_emails or tenant.alert_emails)


# -- the hourly tick ------------------------------------------------------------------------------


def morning(ports: Ports, tenant: TenantSettings, yesterday: date, now: datetime) -> list[Any]:
    """Tally yesterday and restate the days before it, then publish each enabled period
    that ended yesterday."""
    settings = tenant.reports
    restated = [yesterday - timedelta(days=back) for back in range(settings.restate_days, -1, -1)]
    for day in restated:
        roll_up(ports, tenant, day)
    # A month that has ended is added up again whenever one of its days was (re)tallied.
    for month in sorted({day.replace(day=1) for day in restated}):
        if Period.containing(PeriodKind.MONTHLY, month).last <= yesterday:
            roll_up_month(ports, tenant, month, now)
    published = []
    for kind in periods_closing_on(yesterday):
        if kind.value in settings.periods:
            summary = business_summary(ports, tenant.id, kind, yesterday, now)
            published.append(publish(ports, tenant, summary))
    return published


class TenantsFailed(RuntimeError):
    """Some tenants' mornings failed (each named); the others were done."""


def tick(
    ports: Ports, now: datetime, due_now: list[tuple[TenantSettings, date]] | None = None
) -> list[dict[str, Any]]:
    """Each due tenant's morning. One tenant's failure does not keep the others from theirs:
    it is logged, the rest go on, and the tick fails at the end so the schedule retries it
    (a morning done twice tallies and stores the same, and mails once per period)."""
    results: list[dict[str, Any]] = []
    done: list[str] = []
    failed: dict[str, str] = {}
    for tenant, yesterday in due(ports.tenants.all(), now) if due_now is None else due_now:
        try:
            published = morning(ports, tenant, yesterday, now)
        except Exception as error:
            logger.exception("reports morning failed", extra={"tenant": tenant.id})
            failed[tenant.id] = f"{type(error).__name__}: {error}"
            continue
        results.append({"tenant": tenant.id, "day": yesterday.isoformat(), "published": published})
        done.append(tenant.id)
    if failed:
        raise TenantsFailed(
            "; ".join(f"{tenant}: {why}" for tenant, why in sorted(failed.items()))
            + f" (done: {', '.join(done) or 'none'})"
        )
    return results
