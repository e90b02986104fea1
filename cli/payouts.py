"""``ecomops payouts``: marketplace vendors, their ledger and the payout cycles."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from cli.target import LOCAL_OPTION


@click.group()
def payouts() -> None:
    """Vendors (versions), their balances and entries, adjustments, payout cycles."""


def _env(local_url: str | None) -> dict[str, str]:
    """The payouts settings of the target: its table and reports bucket, this shell's mail."""
    from cli.target import resolve

    target = resolve(local_url)
    env = {"TABLE_NAME": target.table}
    if target.outputs.get("ReportsBucket"):
        env["REPORTS_BUCKET"] = target.outputs["ReportsBucket"]
    for name in ("MAIL_DIR", "OPS_SENDER"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    return env


def _ports(local_url: str | None, env: dict[str, str] | None = None) -> Any:
    from functions.payouts.composition import ports_from_env

    return ports_from_env(env=env or _env(local_url))


def _echo(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, default=str))


def _refused(error: Exception) -> click.ClickException:
    reasons = getattr(error, "reasons", None)
    return click.ClickException("; ".join(reasons) if reasons else str(error))


def _tenant(env: dict[str, str], tenant: str) -> Any:
    from functions.payouts.composition import tenant_directory

    settings = tenant_directory(env).get(tenant)
    if settings is None:
        raise click.ClickException(f"tenant {tenant!r} has no settings")
    return settings


@payouts.command("vendors")
@click.option("--tenant", required=True)
@LOCAL_OPTION
def vendors_list(tenant: str, local_url: str | None) -> None:
    """The tenant's vendors (their newest versions)."""
    for version in _ports(local_url).vendors.current(tenant):
        v = version.vendor
        click.echo(
            f"{v.vendor_id:20} v{version.version:<3} {v.status:8} {v.payout.method:15} "
            f"{','.join(v.currencies):8} {v.name}"
        )


@payouts.command("vendor")
@click.option("--tenant", required=True)
@click.argument("vendor_id")
@LOCAL_OPTION
def vendor_show(tenant: str, vendor_id: str, local_url: str | None) -> None:
    """A vendor and every version of it: who changed what, when."""
    versions = _ports(local_url).vendors.versions(tenant, vendor_id)
    if not versions:
        raise click.ClickException(f"no vendor {vendor_id!r} for {tenant}")
    for version in versions:
        click.echo(
            f"v{version.version} {version.saved_at.isoformat()} {version.saved_by}: "
            f"{', '.join(version.changed)}"
        )
    _echo(versions[-1].vendor.model_dump(mode="json"))


@payouts.command("vendor-save")
@click.option("--tenant", required=True)
@click.argument("document", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@LOCAL_OPTION
def vendor_save(tenant: str, document: Path, local_url: str | None) -> None:
    """Save DOCUMENT (a vendor as JSON) as the vendor's next version; refused with every
    reason, nothing written."""
    from cli.risk import _who
    from functions.payouts.domain.postings import Refused
    from functions.payouts.domain.vendors import VersionConflict
    from functions.payouts.use_cases.vendors import save_vendor

    try:
        raw = json.loads(document.read_text())
    except json.JSONDecodeError as error:
        raise click.ClickException(f"{document} is not JSON: {error}") from None
    try:
        saved = save_vendor(_ports(local_url), tenant, raw, _who())
    except (Refused, VersionConflict) as error:
        raise _refused(error) from None
    click.echo(f"saved {saved.vendor.vendor_id} as version {saved.version}")


@payouts.command("balances")
@click.option("--tenant", required=True)
@click.argument("vendor_id")
@LOCAL_OPTION
def balances_show(tenant: str, vendor_id: str, local_url: str | None) -> None:
    """A vendor's balances per currency and book (never netted across currencies)."""
    from functions.payouts.use_cases.ledger import balances
    from functions.payouts.use_cases.vendors import VendorNotFound

    try:
        _echo(balances(_ports(local_url), tenant, vendor_id))
    except VendorNotFound as error:
        raise _refused(error) from None


@payouts.command("entries")
@click.option("--tenant", required=True)
@click.argument("vendor_id")
@click.option("--since", help="ISO 8601 time with its offset.")
@LOCAL_OPTION
def entries_show(tenant: str, vendor_id: str, since: str | None, local_url: str | None) -> None:
    """A vendor's ledger entries, oldest first."""
    from functions.payouts.use_cases.ledger import entries

    start = datetime.fromisoformat(since) if since else None
    for entry in entries(_ports(local_url), tenant, vendor_id, start):
        click.echo(
            f"{entry['occurred_at']}  {entry['kind']:18} {entry['currency']} "
            f"{entry['amount']:>12}  {entry['order_id'] or '-'} {entry['line']}"
        )


@payouts.command("adjust")
@click.option("--tenant", required=True)
@click.argument("vendor_id")
@click.option("--id", "adjustment_id", required=True, help="Names it: a retry adds nothing.")
@click.option("--amount", type=int, required=True, help="Minor units; negative takes back.")
@click.option("--currency", required=True)
@click.option("--reason", required=True)
@LOCAL_OPTION
def adjust_balance(
    tenant: str,
    vendor_id: str,
    adjustment_id: str,
    amount: int,
    currency: str,
    reason: str,
    local_url: str | None,
) -> None:
    """Adjust a vendor's available balance (the reason and who are recorded)."""
    from cli.risk import _who
    from functions.payouts.domain.postings import Refused
    from functions.payouts.use_cases.ledger import adjust
    from functions.payouts.use_cases.vendors import VendorNotFound

    try:
        done = adjust(
            _ports(local_url),
            tenant,
            vendor_id,
            adjustment_id=adjustment_id,
            amount=amount,
            currency=currency.upper(),
            reason=reason,
            who=_who(),
        )
    except (Refused, VendorNotFound) as error:
        raise _refused(error) from None
    _echo(done)


@payouts.command("cycles")
@click.option("--tenant", required=True)
@LOCAL_OPTION
def cycles_list(tenant: str, local_url: str | None) -> None:
    """The tenant's payout cycles, newest first."""
    for c in _ports(local_url).cycles.recent(tenant):
        payable = ", ".join(f"{cur} {n}" for cur, n in sorted(c.payable.items())) or "-"
        click.echo(f"{c.cycle_id}  {c.status:16} {c.vendors:>5} lines  payable {payable}")


@payouts.command("run")
@click.option("--tenant", required=True)
@LOCAL_OPTION
def cycle_run(tenant: str, local_url: str | None) -> None:
    """Run the cycle of the latest cut-off now (a cycle run before is shown, not paid again)."""
    from functions.payouts.use_cases.cycles import run_cycle
    from functions.payouts.use_cases.outputs import send_outputs

    env = _env(local_url)
    ports = _ports(local_url, env)
    settings = _tenant(env, tenant)
    cycle = run_cycle(
        ports, settings, send=lambda c, lines: send_outputs(ports, settings, c, lines)
    )
    _echo(cycle.model_dump(mode="json"))


@payouts.command("show")
@click.option("--tenant", required=True)
@click.argument("cycle_id")
@LOCAL_OPTION
def cycle_show(tenant: str, cycle_id: str, local_url: str | None) -> None:
    """A cycle and its lines."""
    from functions.payouts.use_cases.cycles import CycleNotFound, show

    try:
        cycle, lines = show(_ports(local_url), tenant, cycle_id)
    except CycleNotFound as error:
        raise _refused(error) from None
    click.echo(f"{cycle.cycle_id}  {cycle.status}  cut-off {cycle.cutoff.isoformat()}")
    for line in lines:
        click.echo(
            f"  {line.vendor_id:20} {line.currency} {line.amount:>12} {line.status:8} "
            f"{line.outcome:16} {line.reason}"
            # Stripe Connect mode: the transfer that paid the line.
            + (f" transfer {line.transfer_id}" if line.transfer_id else "")
        )


def _failed(value: str) -> tuple[tuple[str, str], str]:
    """``EUR:v-anna=IBAN closed``."""
    key, _, why = value.partition("=")
    currency, _, vendor_id = key.partition(":")
    if not (currency and vendor_id and why.strip()):
        raise click.BadParameter(f"{value!r} is not CURRENCY:VENDOR=why", param_hint="--failed")
    return (currency.upper(), vendor_id), why.strip()


@payouts.command("confirm")
@click.option("--tenant", required=True)
@click.argument("cycle_id")
@click.option("--failed", "failed", multiple=True, help="CURRENCY:VENDOR=why, for a line not paid.")
@LOCAL_OPTION
def cycle_confirm(
    tenant: str, cycle_id: str, failed: tuple[str, ...], local_url: str | None
) -> None:
    """Finance paid the cycle: every payable line, except those given as --failed (their money
    returns to the vendor's balance)."""
    from cli.risk import _who
    from functions.payouts.domain.postings import Refused
    from functions.payouts.use_cases.cycles import CycleNotFound, confirm

    try:
        done = confirm(_ports(local_url), tenant, cycle_id, _who(), dict(map(_failed, failed)))
    except (Refused, CycleNotFound) as error:
        raise _refused(error) from None
    click.echo(f"{done.cycle_id}: {done.status} by {done.confirmed_by}")


# -- held order lines ----------------------------------------------------------------------------


@payouts.command("holds")
@click.option("--tenant", required=True)
@click.option("--order", "order_id", help="One order's holds, whatever their status.")
@click.option(
    "--status", type=click.Choice(["open", "released", "voided"]), default="open", show_default=True
)
@LOCAL_OPTION
def holds_list(tenant: str, order_id: str | None, status: str, local_url: str | None) -> None:
    """Order lines held from their vendors (parcel not delivered, reshipped)."""
    from functions.payouts.domain.parcels import HoldStatus
    from functions.payouts.use_cases.holds import holds_of

    ports = _ports(local_url)
    found = (
        holds_of(ports, tenant, order_id)
        if order_id
        else ports.holds.held(tenant, HoldStatus(status))
    )
    for x in found:
        decided = f"  {x.decided_by}: {x.decision_reason}" if x.decided_by else ""
        click.echo(
            f"{x.order_id} {x.line_id}  {x.vendor_id}  {x.status:8} {x.reason}: {x.detail}{decided}"
        )


@payouts.command("hold-decide")
@click.option("--tenant", required=True)
@click.argument("order_id")
@click.argument("decision", type=click.Choice(["release", "void"]))
@click.option("--reason", required=True)
@click.option("--line", "line_ids", multiple=True, help="Only these lines (default: every open).")
@LOCAL_OPTION
def holds_decide(
    tenant: str,
    order_id: str,
    decision: str,
    reason: str,
    line_ids: tuple[str, ...],
    local_url: str | None,
) -> None:
    """Release the held lines to their vendors, or void them (the reason and who are kept)."""
    from cli.risk import _who
    from functions.payouts.domain.postings import Refused
    from functions.payouts.use_cases.holds import NoHolds, decide

    env = _env(local_url)
    try:
        moved = decide(
            _ports(local_url, env),
            _tenant(env, tenant),
            order_id,
            decision,
            reason=reason,
            who=_who(),
            line_ids=line_ids,
        )
    except (Refused, NoHolds) as error:
        raise _refused(error) from None
    for x in moved:
        click.echo(f"{x.order_id} {x.line_id}: {x.status} by {x.decided_by}")
