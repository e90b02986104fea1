"""``ecomops``: the operator's command line, grouped by domain."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

from cli.errors import EcomOpsGroup
from cli.target import LOCAL_OPTION
from cli.toolchain import ROOT, use_project_node

DEFAULT_PORT = 8787


@click.group(cls=EcomOpsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--debug",
    is_flag=True,
    envvar="ECOMOPS_DEBUG",
    help="Show the traceback of an error (else one line says what is wrong).",
)
def main(debug: bool) -> None:
    """Ecom OPS: the serverless back office for e-commerce operations."""


# -- stack ------------------------------------------------------------------------------------


@main.group()
def stack() -> None:
    """Synthesize and check the CDK stack."""


@stack.command("synth")
@click.option(
    "--out",
    "outdir",
    type=click.Path(path_type=Path),
    default=ROOT / "cdk.out",
    show_default=True,
    help="Cloud assembly directory.",
)
def stack_synth(outdir: Path) -> None:
    """Synthesize the template (no Docker, no AWS) and run cdk-nag's AwsSolutions pack."""
    use_project_node()
    from infra.synth import synthesize

    result = synthesize(outdir)
    for finding in result.findings:
        click.echo(f"{finding.level.upper():7} {finding.path}\n        {finding.message}")
    click.echo(f"synthesized {result.template_path}: {len(result.errors)} errors")
    if result.errors:
        sys.exit(1)


# -- local ------------------------------------------------------------------------------------


@main.group()
def local() -> None:
    """Run the stack on this machine: moto in-process, no Docker, no AWS account."""


def start_local_stack(
    port: int,
    *,
    synth: bool,
    verbose: bool,
    cdk_out: Path | None = None,
    tenants: Path | None = None,
    stripe_api_base: str | None = None,
    mail_dir: Path | None = None,
) -> Any:
    from local.tenants import read

    read(tenants)  # a bad tenants file is one line before the toolchain even loads
    use_project_node()
    from infra.synth import DEFAULT_OUTDIR, synthesize
    from local.stack import LocalStack

    outdir = cdk_out or DEFAULT_OUTDIR
    if synth or not (outdir / "manifest.json").exists():
        result = synthesize(outdir)
        if result.errors:
            raise click.ClickException(
                f"synth reported {len(result.errors)} errors; run `ecomops stack synth`"
            )
    return LocalStack(
        outdir,
        port=port,
        log_level="INFO" if verbose else "WARNING",
        tenants=tenants,
        stripe_api_base=stripe_api_base,
        mail_dir=mail_dir,
    ).start()


@local.command("up")
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="Port of the HTTP API.")
@click.option("--no-synth", is_flag=True, help="Deploy the existing cdk.out without synthesizing.")
@click.option(
    "--cdk-out",
    type=click.Path(path_type=Path),
    default=None,
    help="Cloud assembly to deploy (default: cdk.out).",
)
@click.option(
    "--tenants",
    "tenants_file",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Tenants file (JSON/YAML); default: the demo tenant.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show the functions' INFO logs.")
def local_up(
    port: int, no_synth: bool, cdk_out: Path | None, tenants_file: Path | None, verbose: bool
) -> None:
    """Synthesize, deploy into moto and serve the HTTP API until Ctrl-C or SIGTERM."""
    running = start_local_stack(
        port, synth=not no_synth, verbose=verbose, cdk_out=cdk_out, tenants=tenants_file
    )
    from local.sandboxes.carrier_api import CarrierSandbox

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    # Return labels locally come from the carrier sandbox, never from EasyPost.
    with CarrierSandbox() as carrier:
        running.dispatcher.overrides["CARRIER_API_BASE"] = carrier.base_url or ""
        click.echo(f"moto endpoint {running.endpoint} (AWS_ENDPOINT_URL for other processes)")
        click.echo(f"carrier sandbox {carrier.base_url} (return labels)")
        click.echo(f"ready {running.base_url}", err=False)
        sys.stdout.flush()
        stop.wait()
    click.echo("stopping")
    running.stop()


def _admin(url: str, path: str, method: str = "GET") -> Any:
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="--url")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url.rstrip("/") + path, method=method, data=b"" if method == "POST" else None
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback URL
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        raise click.ClickException(json.loads(error.read()).get("message", str(error))) from error
    except urllib.error.URLError as error:
        raise click.ClickException(f"no local stack at {url}: {error.reason}") from error


@local.command("fire")
@click.argument("rule")
@click.option("--url", default=f"http://127.0.0.1:{DEFAULT_PORT}", show_default=True)
def local_fire(rule: str, url: str) -> None:
    """Fire the schedule RULE (its logical id) on a running local stack, as EventBridge would."""
    answer = _admin(url, f"/_local/fire/{rule}", "POST")
    for started in answer["started"]:
        click.echo(f"started {started}")


@local.command("status")
@click.option("--url", default=f"http://127.0.0.1:{DEFAULT_PORT}", show_default=True)
def local_status(url: str) -> None:
    """Show a running local stack's routes, schedules and outputs."""
    click.echo(json.dumps(_admin(url, "/_local/status"), indent=2))


# -- orders and events -------------------------------------------------------------------------


def _dependencies(target: Any) -> Any:
    from functions.webhooks.use_cases.process import Dependencies
    from shared.gateway import StripeGateway
    from shared.order_changes import OrderChanges
    from shared.order_store import OrderStore
    from shared.raw_events import RawEventStore
    from shared.settlement_store import SettlementStore
    from shared.tenant_secrets import TenantSecrets

    secrets = TenantSecrets(parts=("api",), prefix=target.tenant_secret_prefix)
    return Dependencies(
        raw_events=RawEventStore(target.table, target.outputs.get("ArchiveBucket")),
        orders=OrderStore(target.table),
        settlements=SettlementStore(target.table),
        gateway_for=lambda tenant: StripeGateway(
            secrets.get(tenant)["stripe"]["api_key"], target.stripe_api_base
        ),
        changes=OrderChanges(target.table),
    )


@main.group()
def orders() -> None:
    """Look at orders: status, payments, shipments, timeline."""


@orders.command("show")
@click.option("--tenant", required=True)
@click.argument("order_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@LOCAL_OPTION
def orders_show(tenant: str, order_id: str, as_json: bool, local_url: str | None) -> None:
    """Show ORDER_ID of TENANT with its payments, shipments and timeline."""
    from cli.target import resolve
    from functions.webhooks.use_cases.views import order_view
    from shared.order_store import OrderStore

    target = resolve(local_url)
    view = order_view(OrderStore(target.table), tenant, order_id)
    if view is None:
        raise click.ClickException(f"no order {order_id!r} for tenant {tenant!r}")
    if as_json:
        click.echo(json.dumps(view, indent=2, default=str))
        return
    click.echo(
        f"order {view['order_id']} ({tenant}): {view['status']}  "
        f"total {view['total']} {view['currency']}  paid {view['paid']}  "
        f"refunded {view['refunded']}"
    )
    for payment in view["payments"]:
        click.echo(
            f"  payment {payment['payment_id']}: {payment['status']} "
            f"{payment['amount']} refunded {payment['refunded']}"
        )
    for shipment in view["shipments"]:
        click.echo(
            f"  shipment {shipment['tracking_code']} ({shipment['carrier']}): "
            f"{shipment['status']} since {shipment['since']}"
        )
    for dispute in view["disputes"]:
        click.echo(f"  dispute {dispute['dispute_id']}: {dispute['status']} {dispute['amount']}")
    click.echo("  timeline:")
    for entry in view["timeline"]:
        click.echo(f"    {entry['occurred_at']}  {entry['source']:9}  {entry['summary']}")


def _orders_ports(target: Any) -> Any:
    from functions.orders.composition import ports_with

    return ports_with(
        table_name=target.table,
        lifecycle_machine=target.outputs.get("LifecycleStateMachine"),
        refund_machine=target.outputs.get("RefundStateMachine"),
    )


def _echo_claim(claim: dict[str, Any]) -> None:
    paid = f"  paid {claim['amount_paid']} {claim['currency']}" if claim.get("amount_paid") else ""
    click.echo(
        f"claim {claim['tracking_code']} ({claim.get('carrier') or 'carrier'}, "
        f"{claim['problem']}): {claim['status']}  reference {claim.get('reference') or '-'}  "
        f"lines {', '.join(claim['lines']) or '-'}  version {claim['version']}{paid}"
    )
    for entry in claim.get("history", []):
        extra = "  ".join(
            f"{k} {entry[k]}" for k in ("reference", "amount_paid", "note") if entry.get(k)
        )
        click.echo(f"    {entry['at']}  {entry['status']:9}  by {entry['by']}  {extra}".rstrip())


@orders.command("claims")
@click.option("--tenant", required=True)
@click.argument("order_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@LOCAL_OPTION
def orders_claims(tenant: str, order_id: str | None, as_json: bool, local_url: str | None) -> None:
    """The carrier claims of ORDER_ID, or without it every claim of TENANT still open."""
    from cli.target import resolve
    from functions.orders.use_cases import operations

    ports = _orders_ports(resolve(local_url))
    found = (
        operations.claims(ports, tenant, order_id)
        if order_id
        else operations.open_claims(ports, tenant)
    )
    if as_json:
        click.echo(json.dumps(found, indent=2, default=str))
        return
    if not found:
        click.echo("no claims" if order_id else "no open claims")
    for claim in found:
        if not order_id:
            click.echo(f"order {claim['order_id']}:")
        _echo_claim(claim)


@orders.command("claim")
@click.option("--tenant", required=True)
@click.argument("order_id")
@click.argument("parcel")
@click.argument("status", type=click.Choice(["accepted", "rejected", "paid", "withdrawn"]))
@click.option("--reference", help="The carrier's claim reference.")
@click.option("--amount-paid", type=click.IntRange(min=1), help="Minor units (paid claims).")
@click.option("--note")
@click.option("--by", required=True, help="Who records it (your e-mail).")
@click.option("--version", "expected_version", type=int, help="The version you read.")
@LOCAL_OPTION
def orders_claim(
    tenant: str,
    order_id: str,
    parcel: str,
    status: str,
    reference: str | None,
    amount_paid: int | None,
    note: str | None,
    by: str,
    expected_version: int | None,
    local_url: str | None,
) -> None:
    """Record the carrier's answer to PARCEL's claim on ORDER_ID: accepted (with its
    reference), rejected, paid (with the amount), or withdrawn."""
    from cli.target import resolve
    from functions.orders.errors import OperationRefused
    from functions.orders.use_cases import operations

    ports = _orders_ports(resolve(local_url))
    try:
        claim = operations.record_claim(
            ports,
            tenant,
            order_id,
            parcel,
            status,
            by=by,
            reference=reference,
            amount_paid=amount_paid,
            note=note,
            expected_version=expected_version,
        )
    except OperationRefused as refused:
        raise click.ClickException(str(refused)) from None
    _echo_claim(claim)


@main.group()
def events() -> None:
    """Inspect and replay the events webhooks delivered."""


@events.command("stats")
@click.option("--tenant", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@LOCAL_OPTION
def events_stats(tenant: str, as_json: bool, local_url: str | None) -> None:
    """Raw events the table holds by source and status, orders by status, dead letters."""
    from cli.target import resolve
    from functions.webhooks.composition import event_stats

    target = resolve(local_url)
    stats = event_stats(target.table, tenant, target.outputs.get("DeadLetterQueue"))
    if as_json:
        click.echo(json.dumps(stats, indent=2))
        return
    click.echo(
        f"tenant {tenant}: {stats['raw_events_total']} raw events in the table "
        "(received = processed unless ignored or rejected; older ones are in the archive)"
    )
    for source, counts in stats["raw_events"].items():
        click.echo(f"  {source:10} " + "  ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    click.echo(
        "orders by status: " + "  ".join(f"{k}={v}" for k, v in stats["orders_by_status"].items())
    )
    if "dead_letters" in stats:
        click.echo(f"dead letters waiting: {stats['dead_letters']}")


@events.command("replay")
@click.option("--from-dlq", is_flag=True, help="Re-drive what the dead-letter queue holds.")
@click.option("--tenant", default=None)
@click.option(
    "--source",
    type=click.Choice(["stripe", "easypost", "aftership", "shippo", "shop", "shopify"]),
    default=None,
)
@click.option("--since", default=None, metavar="TIME", help="ISO 8601 time, e.g. 2026-11-23T00:00")
@LOCAL_OPTION
def events_replay(
    from_dlq: bool, tenant: str | None, source: str | None, since: str | None, local_url: str | None
) -> None:
    """Apply stored events again (those older than 14 days from the archive). Applied events
    change nothing; the others are applied once."""
    from cli.target import resolve
    from functions.webhooks.composition import replay_dead_letters
    from functions.webhooks.use_cases.replay import replay_since

    if from_dlq == bool(tenant or source or since):
        raise click.UsageError("give either --from-dlq, or --tenant, --source and --since")
    target = resolve(local_url)
    deps = _dependencies(target)
    if from_dlq:
        report = replay_dead_letters(target.outputs["DeadLetterQueue"], target.table, deps)
    else:
        if not (tenant and source and since):
            raise click.UsageError("--tenant, --source and --since go together")
        try:
            report = replay_since(tenant, source, since, deps)
        except ValueError as bad:
            raise click.UsageError(f"--since {since!r}: {bad}") from None
    click.echo(
        "replayed: "
        + ", ".join(f"{k}={v}" for k, v in sorted(report.outcomes.items()))
        + (f"; dead-letter messages cleared: {report.messages_deleted}" if from_dlq else "")
    )
    for event_id, error in report.failures:
        click.echo(f"  failed {event_id}: {error}")
    if report.failures:
        sys.exit(1)


@events.command("archive")
@LOCAL_OPTION
def events_archive(local_url: str | None) -> None:
    """Archive every tenant's raw webhooks of the hours that ended (what the hourly archiver
    does; an hour once archived is left as it is)."""
    from cli.target import resolve
    from functions.webhooks.composition import archive_raw_events

    target = resolve(local_url)
    report = archive_raw_events(
        {"TABLE_NAME": target.table, "ARCHIVE_BUCKET": target.outputs["ArchiveBucket"]}
    )
    click.echo(
        f"archived {report.events} events of {report.tenants} tenants in "
        f"{report.objects_written} objects ({report.objects_found} hours found archived)"
    )
    for tenant, error in report.failures:
        click.echo(f"  failed {tenant}: {error}")
    if report.failures:
        sys.exit(1)


# -- demo -------------------------------------------------------------------------------------


@main.command()
@click.option(
    "--out",
    "outdir",
    type=click.Path(path_type=Path),
    default=ROOT / ".demo",
    show_default=True,
    help="Where the demo writes what it produced.",
)
@click.option("--port", default=0, help="HTTP port (0: any free port).")
def demo(outdir: Path, port: int) -> None:
    """Start the local stack, drive it, and print what happened and where the outputs are."""
    from local.costs.bill import Volume
    from local.costs.day import DayMeter
    from local.costs.lambda_time import by_function, load_latencies
    from local.costs.report import bill_lines, lambda_total_line
    from local.demo import run_demo

    started = time.monotonic()
    # The cost meter watches the day (docs/cost.md); its bill is printed at the end.
    meter = DayMeter(show_logs=True)
    ok = run_demo(outdir, port=port, echo=click.echo, start=start_local_stack, observer=meter)
    if ok and meter.readings is not None:
        for line in bill_lines(meter.usage(), Volume()):
            click.echo(line)
        times = by_function(meter.readings.counts.invocation_times, load_latencies())
        click.echo("  " + lambda_total_line(times, meter.readings.orders))
    click.echo(
        f"demo {'finished' if ok else 'FAILED'} in {time.monotonic() - started:.1f}s; "
        f"outputs in {outdir}"
    )
    if not ok:
        sys.exit(1)


def _register_groups() -> None:
    from cli.reconcile import reconcile
    from cli.returns import returns
    from cli.reviews import reviews
    from cli.risk import risk
    from cli.tenants import tenants

    main.add_command(reconcile)
    main.add_command(returns)
    main.add_command(risk)
    main.add_command(reviews)
    main.add_command(tenants)
    main.add_command(__import__("cli.bank", fromlist=["bank"]).bank)
    main.add_command(__import__("cli.payouts", fromlist=["payouts"]).payouts)
    main.add_command(__import__("cli.disputes", fromlist=["disputes"]).disputes)
    main.add_command(__import__("cli.reports", fromlist=["reports"]).reports)
    main.add_command(__import__("cli.queries", fromlist=["queries"]).queries)


_register_groups()


if __name__ == "__main__":
    main()
