"""A cycle's outputs, made once its payouts are posted and before it is marked sent: the
summary and detailed reports (CSV and JSON in the reports bucket, the summary as an HTML e-mail
with a chart), the instruction to finance (the payable list, a validated pain.001 file for EUR
bank payouts and a CSV for the rest) and each vendor's statement. Every e-mail carries an
idempotency key of the cycle, so a resumed cycle sends nothing twice."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from functions.payouts.domain.cycles import Cycle, CycleLine, LineStatus
from functions.payouts.domain.ledger import Entry
from functions.payouts.domain.reports import (
    Debtor,
    SummaryRow,
    cycle_reports,
    other_lines,
    payouts_csv,
    sepa_file,
    sepa_lines,
    statement,
    summary_csv,
    to_json,
)
from functions.payouts.ports import Ports
from shared.notify.render import RenderedEmail, brand_of, render_pair
from shared.observability import logger
from shared.tenants import TenantSettings

MAX_ROWS_IN_MAIL = 100
MAX_BARS = 15


def report_key(tenant: str, cycle_id: str, part: str) -> str:
    """``reports/{tenant}/payouts/{cycle}/{part}``: one folder per cycle."""
    return f"reports/{tenant}/payouts/{cycle_id}/{part}"


def period_entries(ports: Ports, tenant: TenantSettings, cycle: Cycle) -> dict[str, list[Entry]]:
    """Each vendor's entries since the previous cycle's cut-off."""
    earlier = [c for c in ports.cycles.recent(tenant.id, 2) if c.cutoff < cycle.cutoff]
    since = earlier[0].cutoff if earlier else None
    return {
        v.vendor.vendor_id: ports.ledger.entries(tenant.id, v.vendor.vendor_id, since=since)
        for v in ports.vendors.current(tenant.id)
    }


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def report_context(
    tenant: TenantSettings, cycle: Cycle, rows: Sequence[SummaryRow], files: Sequence[str]
) -> dict[str, Any]:
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        totals[row.currency]["payable"] += row.net_payable
        totals[row.currency]["held"] += row.held
        totals[row.currency]["vendors"] += 1 if row.net_payable else 0
    paid = sorted((r for r in rows if r.net_payable), key=lambda r: -r.net_payable)[:MAX_BARS]
    top = max((r.net_payable for r in paid), default=1)
    shown = sorted(rows, key=lambda r: (-r.net_payable, -r.held, r.vendor_id))[:MAX_ROWS_IN_MAIL]
    return {
        "tenant_name": tenant.name,
        "cycle_id": cycle.cycle_id,
        "cutoff": cycle.cutoff,
        "payable_count": sum(1 for r in rows if r.net_payable),
        "held_count": sum(1 for r in rows if not r.net_payable),
        "totals": [
            {
                "money": _money(t["payable"], c),
                "held": _money(t["held"], c),
                "vendors": t["vendors"],
            }
            for c, t in sorted(totals.items())
        ],
        "bars": [
            {
                "name": r.name or r.vendor_id,
                "money": _money(r.net_payable, r.currency),
                "percent": max(1, round(100 * r.net_payable / top)),
            }
            for r in paid
        ],
        "rows": [
            {
                "vendor_id": r.vendor_id,
                "name": r.name,
                "held_why": r.held_why,
                **{
                    k: _money(getattr(r, k), r.currency)
                    for k in ("gross", "commission", "refunds", "net_payable", "held")
                },
            }
            for r in shown
        ],
        "more": max(0, len(rows) - len(shown)),
        "files": list(files),
    }


def _mail(
    ports: Ports,
    tenant: TenantSettings,
    kind: str,
    template: str,
    context: dict[str, Any],
    subject: str,
    to: Sequence[str],
    key: str,
    *,
    team: bool,
) -> None:
    if ports.mailer is None or not to:
        return
    html, text = render_pair(template, context, tenant, subject=subject, team=team)
    email = RenderedEmail(
        kind=kind,
        subject=subject,
        html=html,
        text=text,
        to=tuple(to),
        sender=ports.sender or "Ecom OPS <ops@ecomops.example>",
        reply_to=None,
        tenant=tenant.id,
    )
    try:
        ports.mailer.send(email, key)
    except Exception:  # the files are stored either way; the cycle is not held up by mail
        logger.exception("payout e-mail failed", extra={"kind": kind, "tenant": tenant.id})


def send_outputs(
    ports: Ports, tenant: TenantSettings, cycle: Cycle, lines: list[CycleLine]
) -> list[str]:
    """Stores the cycle's files and sends its e-mails; returns where the files are."""
    entries = period_entries(ports, tenant, cycle)
    detail_rows = io.StringIO()
    rows = cycle_reports(cycle.cycle_id, lines, entries, detail_rows)
    files: list[str] = []

    def put(part: str, body: str | bytes, content_type: str) -> None:
        if ports.files is None:
            return
        data = body.encode() if isinstance(body, str) else body
        files.append(
            ports.files.put(report_key(tenant.id, cycle.cycle_id, part), data, content_type)
        )

    put("summary.csv", summary_csv(rows), "text/csv")
    put("detail.csv", detail_rows.getvalue(), "text/csv")
    put("report.json", to_json(cycle, rows, lines), "application/json")
    debtor = _debtor(tenant)
    execution = cycle.cutoff.date() + timedelta(days=1)
    if sepa_lines(lines) and debtor is not None:
        put("pain001.xml", sepa_file(cycle, lines, debtor, execution), "application/xml")
    elif sepa_lines(lines):
        logger.warning("no debtor account in the tenant's payout settings: no SEPA file")
    by_hand = [*other_lines(lines), *(sepa_lines(lines) if debtor is None else [])]
    if by_hand:
        put("other-payouts.csv", payouts_csv(by_hand), "text/csv")
    brand = brand_of(tenant).display_name
    finance = tuple(tenant.finance_emails or tenant.alert_emails)
    context = report_context(tenant, cycle, rows, files)
    _mail(
        ports,
        tenant,
        "payout_report",
        "payout_report",
        context,
        f"[{brand}] Vendor payouts, cycle {cycle.cycle_id}",
        finance,
        f"{tenant.id}:payouts:{cycle.cycle_id}:report",
        team=True,
    )
    payable = [line for line in lines if line.status is LineStatus.PAYABLE]
    if payable:
        links = finance_links(ports, tenant, cycle, payable)
        _mail(
            ports,
            tenant,
            "payout_instruction",
            "payout_instruction",
            {
                "tenant_name": tenant.name,
                "cycle_id": cycle.cycle_id,
                "lines": [
                    {
                        **line.model_dump(),
                        "money": _money(line.amount, line.currency),
                        "links": links.get((line.currency, line.vendor_id), {}),
                    }
                    for line in payable
                ],
                "cycle_links": links.get(None, {}),
                "links_until": ports.clock.now() + _link_life(tenant),
                "files": files,
                "sepa_file": debtor is not None and bool(sepa_lines(lines)),
                "confirm_command": (
                    f"ecomops payouts confirm --tenant {tenant.id} {cycle.cycle_id} --who <you>"
                ),
            },
            f"[{brand}] Payouts to make, cycle {cycle.cycle_id}",
            finance,
            f"{tenant.id}:payouts:{cycle.cycle_id}:instruction",
            team=True,
        )
    by_vendor = {line.vendor_id: line for line in lines}
    for version in ports.vendors.current(tenant.id):
        vendor = version.vendor
        items = entries.get(vendor.vendor_id, [])
        line = by_vendor.get(vendor.vendor_id)
        if not items and line is None:
            continue
        balances = ports.ledger.balances(tenant.id, vendor.vendor_id)
        _mail(
            ports,
            tenant,
            "vendor_statement",
            "vendor_statement",
            {
                "cycle_id": cycle.cycle_id,
                "cutoff": cycle.cutoff,
                "vendor_name": vendor.name,
                "s": statement(vendor.vendor_id, items, line, balances),
            },
            f"[{brand}] Your statement, cycle {cycle.cycle_id}",
            vendor.emails,
            f"{tenant.id}:payouts:{cycle.cycle_id}:statement:{vendor.vendor_id}",
            team=False,
        )
    return files


def _link_life(tenant: TenantSettings) -> timedelta:
    return timedelta(days=tenant.payouts.finance_link_days)


def finance_links(
    ports: Ports, tenant: TenantSettings, cycle: Cycle, payable: Sequence[CycleLine]
) -> dict[tuple[str, str] | None, dict[str, str]]:
    """The signed links of the instruction: ``None`` → the whole cycle's, ``(currency,
    vendor)`` → one line's; each ``{"paid": url, "failed": url}``. None at all without a public
    API or a signing key (the e-mail then names the API route and the CLI command only)."""
    if ports.finance_links is None:
        return {}
    expires_at = int((ports.clock.now() + _link_life(tenant)).timestamp())
    signer = ports.finance_links
    found: dict[tuple[str, str] | None, dict[str, str]] = {}
    try:
        found[None] = signer.cycle_links(tenant.id, cycle.cycle_id, expires_at)
        for line in payable:
            found[(line.currency, line.vendor_id)] = signer.line_links(
                tenant.id, cycle.cycle_id, line.currency, line.vendor_id, expires_at
            )
    except Exception:  # the instruction still goes, with the route and the command
        logger.exception("finance links not signed", extra={"tenant": tenant.id})
        return {}
    return {k: v for k, v in found.items() if v}


def _debtor(tenant: TenantSettings) -> Debtor | None:
    settings = tenant.payouts
    if not settings.debtor_name or not settings.debtor_iban:
        return None
    return Debtor(settings.debtor_name, settings.debtor_iban, settings.debtor_bic)
