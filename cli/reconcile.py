"""``ecomops reconcile``: run a tenant's day on demand and look at its breaks."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import click

from cli.target import LOCAL_OPTION, resolve


def _print_summary(summary: dict[str, Any]) -> None:
    counts = summary["counts"]
    click.echo(
        f"reconciled {summary['tenant']} {summary['day']}: {counts['breaks_open']} open breaks "
        f"({counts['breaks_opened']} new, {counts['breaks_closed']} closed), "
        f"{counts['settlements_matched']} payouts settled in the bank of {counts['payouts']}"
    )
    for name, value in sorted(summary.get("by_class", {}).items()):
        click.echo(f"  {name:30} {value:5}")
    if summary.get("actions"):
        click.echo(
            "  actions: " + ", ".join(f"{k} {v}" for k, v in sorted(summary["actions"].items()))
        )
    report = summary.get("report", {})
    if report:
        click.echo(f"  report: s3://…/{report.get('html')} (+ .csv, .json)")


@click.group()
def reconcile() -> None:
    """Daily three-way reconciliation: orders and payments, payouts, bank lines."""


@reconcile.command("run")
@click.option("--tenant", required=True)
@click.option("--date", "day", required=True, help="The day to reconcile, YYYY-MM-DD.")
@click.option("--json", "as_json", is_flag=True)
@LOCAL_OPTION
def reconcile_run(tenant: str, day: str, as_json: bool, local_url: str | None) -> None:
    """Reconcile TENANT's DATE now, through the deployed reconciliation function."""
    from shared import aws

    try:
        date.fromisoformat(day)
    except ValueError:
        raise click.BadParameter("expected YYYY-MM-DD", param_hint="--date") from None
    target = resolve(local_url)
    answer = aws.client("lambda").invoke(
        FunctionName=target.outputs["ReconcileFunction"],
        Payload=json.dumps({"tenant": tenant, "day": day}).encode(),
    )
    payload = json.loads(answer["Payload"].read() or b"{}")
    if answer.get("FunctionError"):
        raise click.ClickException(
            f"reconciliation failed: {payload.get('errorType')}: {payload.get('errorMessage')}"
        )
    (summary,) = payload["reconciled"]
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        _print_summary(summary)


@reconcile.command("breaks")
@click.option("--tenant", required=True)
@click.option("--closed", is_flag=True, help="The breaks resolved since, instead of the open ones.")
@click.option("--json", "as_json", is_flag=True)
@LOCAL_OPTION
def reconcile_breaks(tenant: str, closed: bool, as_json: bool, local_url: str | None) -> None:
    """The tenant's breaks, P1 first, with their age, amount and what to do."""
    from functions.reconcile.adapters.break_store import BreakStore, break_to_json

    target = resolve(local_url)
    found = BreakStore(target.table).breaks(tenant, "closed" if closed else "open")
    found.sort(key=lambda b: (b.priority.value, -b.age_days, b.break_class.value))
    if as_json:
        click.echo("[" + ",\n".join(break_to_json(b) for b in found) + "]")
        return
    click.echo(f"{len(found)} {'closed' if closed else 'open'} breaks for {tenant}")
    for b in found:
        action = b.suggested_action.description if b.suggested_action else ""
        click.echo(
            f"  {b.priority.value} {b.break_class.value:28} {b.age_days:>3}d "
            f"{b.amount:>12} {b.currency or '':3}  {b.explanation}"
            + (f"  → {action}" if action else "")
        )
