"""``ecomops reports``: the business summary, the refund mapping, the CRM history, the
logistics log, one customer's orders, and a customer's order history by e-mail.

Reports are read straight from the deployment's table (the same use cases the reports function
and the operator API call); ``--store`` (tables) and ``--publish`` (summary) also write them to
the reports bucket, and ``--publish`` mails the summary as the morning tick would.
"""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path
from typing import Any

import click

from cli.target import LOCAL_OPTION

PERIODS = click.Choice(["daily", "weekly", "monthly", "yearly"])


@click.group()
def reports() -> None:
    """Business summaries and reports from our own records."""


def _ports(local_url: str | None) -> Any:
    from cli.target import resolve
    from functions.reports.composition import ReportsSettings, reports_ports

    target = resolve(local_url)
    return reports_ports(
        ReportsSettings(
            table_name=target.table,
            reports_bucket=target.outputs.get("ReportsBucket"),
            mail_dir=os.environ.get("MAIL_DIR") or None,
            ops_sender=os.environ.get("OPS_SENDER") or None,
        )
    )


def _period(kind: str, day: str) -> Any:
    from functions.reports.domain.periods import parse_period

    try:
        return parse_period(kind, day)
    except ValueError as invalid:
        raise click.BadParameter(str(invalid)) from None


@reports.command("summary")
@click.option("--tenant", required=True)
@click.option("--period", "kind", type=PERIODS, default="daily", show_default=True)
@click.option("--day", required=True, help="A local day in the period (YYYY-MM-DD).")
@click.option("--retally", is_flag=True, help="Tally the period's days again first.")
@click.option("--publish", is_flag=True, help="Store it in S3 and mail it to the recipients.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@LOCAL_OPTION
def summary(
    tenant: str,
    kind: str,
    day: str,
    retally: bool,
    publish: bool,
    as_json: bool,
    local_url: str | None,
) -> None:
    """The business summary of the period holding DAY, against the period before."""
    from zoneinfo import ZoneInfo

    from functions.reports.domain.periods import Period, PeriodKind, local_day
    from functions.reports.domain.summary import summary_json
    from functions.reports.use_cases import summary as use

    ports = _ports(local_url)
    period = _period(kind, day)
    settings = ports.tenant(tenant)
    if retally:
        today = local_day(ports.clock.now(), ZoneInfo(settings.timezone))
        for each in period.days():
            if each < today:
                use.roll_up(ports, settings, each)
        # The months those days belong to, once ended, are added up again from them.
        for month in sorted({each.replace(day=1) for each in period.days() if each < today}):
            if Period.containing(PeriodKind.MONTHLY, month).last < today:
                use.roll_up_month(ports, settings, month, ports.clock.now())
    result = use.business_summary(ports, tenant, period.kind, period.first)
    if publish:
        click.echo(json.dumps(use.publish(ports, settings, result), indent=2, default=str))
    if as_json:
        click.echo(json.dumps(summary_json(result), indent=2, default=str))
        return
    click.echo(result.title)
    for section in result.sections:
        click.echo(f"\n{section.currency}")
        for figure in section.figures:
            change = figure.change_text()
            click.echo(
                f"  {figure.label:<28} {figure.text(figure.current):>20}  "
                f"(previous {figure.text(figure.previous)}"
                f"{'' if change is None else f', {change}'})"
            )
    click.echo("")
    for figure in result.figures:
        click.echo(
            f"  {figure.label:<32} {figure.text(figure.current):>12}  "
            f"(previous {figure.text(figure.previous)})"
        )


def _table(
    name: str,
    tenant: str,
    kind: str,
    day: str,
    out: Path | None,
    store: bool,
    local_url: str | None,
) -> None:
    from functions.reports.use_cases.records import store as store_report
    from functions.reports.use_cases.records import table_report

    ports = _ports(local_url)
    period = _period(kind, day)
    report = table_report(ports, tenant, name, period)
    if store:
        click.echo(json.dumps(store_report(ports, tenant, period, report), indent=2))
    if out:
        out.write_text(report.csv)
        click.echo(f"{report.title}: {report.rows} rows written to {out}")
    else:
        click.echo(report.csv, nl=False)
    for label, count in report.counts.items():
        click.echo(f"  {label}: {count}", err=True)


def _table_command(name: str, help_text: str) -> None:
    @reports.command(name, help=help_text)
    @click.option("--tenant", required=True)
    @click.option("--period", "kind", type=PERIODS, default="daily", show_default=True)
    @click.option("--day", required=True, help="A local day in the period (YYYY-MM-DD).")
    @click.option(
        "--csv",
        "out",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the CSV here (default: print it).",
    )
    @click.option("--store", is_flag=True, help="Also store CSV and HTML in the reports bucket.")
    @LOCAL_OPTION
    def command(
        tenant: str, kind: str, day: str, out: Path | None, store: bool, local_url: str | None
    ) -> None:
        _table(name, tenant, kind, day, out, store, local_url)


_table_command(
    "refunds",
    "Every refund of the period tied to its sale (who started it, why, where the money went).",
)
_table_command(
    "crm",
    "The orders placed in the period, each customer's order classed "
    "dropout, failed, success, refund or chargeback.",
)
_table_command(
    "logistics", "Dispatches, deliveries, SLA delays, exceptions and claims per carrier."
)


@reports.command("customer")
@click.option("--tenant", required=True)
@click.argument("email")
@LOCAL_OPTION
def customer(tenant: str, email: str, local_url: str | None) -> None:
    """Every order placed with EMAIL, classed for CRM (CSV)."""
    from functions.reports.use_cases.records import customer_history

    report = customer_history(_ports(local_url), tenant, email)
    if not report.rows:
        raise click.ClickException(
            f"nothing found: no order placed with the e-mail {email.lower()!r} for {tenant!r}"
        )
    click.echo(report.csv, nl=False)


@reports.command("history-email")
@click.option("--tenant", required=True)
@click.argument("order_id")
@click.option("--by", default=None, help="Who asked (default: this user).")
@LOCAL_OPTION
def history_email(tenant: str, order_id: str, by: str | None, local_url: str | None) -> None:
    """Mail the customer of ORDER_ID their order history, to the address on that order."""
    from functions.reports.use_cases.history_mail import HistoryRefused, mail_order_history

    try:
        sent = mail_order_history(_ports(local_url), tenant, order_id, by=by or getpass.getuser())
    except (LookupError, HistoryRefused) as refused:
        raise click.ClickException(str(refused).strip("'\"")) from None
    click.echo(
        f"order history of {order_id} ({sent['orders']} orders) sent to the address on "
        f"the order: {sent['message_id']}"
    )
