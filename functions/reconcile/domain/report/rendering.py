"""The report as mailed: subject, HTML and text, through the kernel's templates
(``shared.notify.render``: the tenant's branding, time zone and locale; no clock, no I/O
beyond the package's own templates)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from functions.reconcile.domain.actions import ActionTaken
from functions.reconcile.domain.engine import CarryResult, ReconResult
from functions.reconcile.domain.report.context import report_context
from shared.notify.render import DEFAULT_LOCALE, brand_of, render_pair
from shared.tenants import TenantSettings

TEMPLATE = "reconciliation_report"
MAX_BREAKS_SHOWN = 150
MAX_PAYOUTS_SHOWN = 20


def report_subject(context: Mapping[str, Any], tenant: TenantSettings) -> str:
    headline = context["headline"]
    what = (
        "all matched"
        if not headline["open"]
        else f"{headline['open']} open break{'s' if headline['open'] != 1 else ''}"
        f" ({headline['by_priority']['P1']} P1)"
    )
    return f"[{brand_of(tenant).display_name}] Reconciliation {context['day']}: {what}"


def render_report(
    result: ReconResult,
    carried: CarryResult | None,
    actions: Sequence[ActionTaken],
    tenant: TenantSettings,
    *,
    locale: str = DEFAULT_LOCALE,
    max_breaks: int = MAX_BREAKS_SHOWN,
    max_payouts: int = MAX_PAYOUTS_SHOWN,
) -> tuple[str, str, str]:
    """``(subject, html, text)`` of the day's report for the tenant's finance list."""
    context = report_context(
        result, carried, actions, tenant, max_breaks=max_breaks, max_payouts=max_payouts
    )
    subject = report_subject(context, tenant)
    html, text = render_pair(TEMPLATE, context, tenant, subject=subject, team=True, locale=locale)
    return subject, html, text
