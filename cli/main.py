"""``ecomops``: the operator's command line, grouped by domain."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from cli.toolchain import ROOT, use_project_node

DEFAULT_PORT = 8787


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
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
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"moto endpoint {running.endpoint} (AWS_ENDPOINT_URL for other processes)")
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

LOCAL_OPTION = click.option(
    "--local",
    "local_url",
    default=None,
    envvar="ECOMOPS_LOCAL",
    metavar="URL",
    help="A running local stack (e.g. http://127.0.0.1:8787); default: the AWS stack.",
)


def _dependencies(target: Any) -> Any:
    from functions.webhooks.processing import Dependencies
    from shared.gateway import StripeGateway
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
    from functions.webhooks.inspect import order_view
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


@main.group()
def events() -> None:
    """Inspect and replay the events webhooks delivered."""


@events.command("stats")
@click.option("--tenant", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@LOCAL_OPTION
def events_stats(tenant: str, as_json: bool, local_url: str | None) -> None:
    """Counts of stored events by source and status, orders by status, dead letters."""
    from cli.target import resolve
    from functions.webhooks.inspect import event_stats

    target = resolve(local_url)
    stats = event_stats(target.table, tenant, target.outputs.get("DeadLetterQueue"))
    if as_json:
        click.echo(json.dumps(stats, indent=2))
        return
    click.echo(f"tenant {tenant}: {stats['raw_events_total']} stored events")
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
    """Apply stored events again. Applied events change nothing; the others are applied once."""
    from cli.target import resolve
    from functions.webhooks.replay import replay_dead_letters, replay_since

    if from_dlq == bool(tenant or source or since):
        raise click.UsageError("give either --from-dlq, or --tenant, --source and --since")
    target = resolve(local_url)
    deps = _dependencies(target)
    if from_dlq:
        report = replay_dead_letters(target.outputs["DeadLetterQueue"], target.table, deps)
    else:
        if not (tenant and source and since):
            raise click.UsageError("--tenant, --source and --since go together")
        report = replay_since(tenant, source, since, deps)
    click.echo(
        "replayed: "
        + ", ".join(f"{k}={v}" for k, v in sorted(report.outcomes.items()))
        + (f"; dead-letter messages cleared: {report.messages_deleted}" if from_dlq else "")
    )
    for event_id, error in report.failures:
        click.echo(f"  failed {event_id}: {error}")
    if report.failures:
        sys.exit(1)


# -- risk -------------------------------------------------------------------------------------


@main.group()
def risk() -> None:
    """Fraud screening rules: check them, and try them on history before they go live."""


@risk.command("check")
@click.option("--rules", "rules_file", required=True, type=click.Path(exists=True, path_type=Path))
def risk_check(rules_file: Path) -> None:
    """Validate a rules file as saving it would: syntax, attributes, types."""
    from functions.risk.rules import check_rules_file

    errors = check_rules_file(rules_file)
    for error in errors:
        click.echo(f"error: {error}", err=True)
    if errors:
        sys.exit(1)
    click.echo(f"{rules_file}: ok")


@risk.command("backtest")
@click.option("--rules", "rules_file", required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--tenant",
    default=None,
    help="Backtest on this tenant's stored orders (labelled by their outcomes), with its lists.",
)
@click.option(
    "--history",
    "history_file",
    type=click.Path(exists=True, path_type=Path),
    help="Labelled orders (JSON lines); default: a generated history with planted fraud patterns.",
)
@click.option(
    "--baseline",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="The ruleset to compare with (with --tenant: default the tenant's ruleset in force).",
)
@click.option(
    "--since",
    default=None,
    metavar="TIME",
    help="Score only orders placed from this ISO 8601 time (earlier ones still build velocity).",
)
@click.option(
    "--orders",
    default=50_000,
    show_default=True,
    help="Size of the generated history when neither --tenant nor --history is given.",
)
@click.option("--json", "as_json", is_flag=True)
@LOCAL_OPTION
def risk_backtest(
    rules_file: Path,
    tenant: str | None,
    history_file: Path | None,
    baseline: Path | None,
    since: str | None,
    orders: int,
    as_json: bool,
    local_url: str | None,
) -> None:
    """Evaluate a ruleset over labelled history with each order's signals as they were then."""
    from functions.risk.backtest import backtest, backtest_file, format_report, report_json
    from functions.risk.errors import RulesetInvalid
    from functions.risk.history_gen import generate
    from functions.risk.rules import load_ruleset

    start = datetime.fromisoformat(since) if since else None
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    try:
        if tenant is None:
            history = history_file if history_file is not None else generate(orders)
            report = backtest_file(rules_file, history, baseline, since=start)
        else:
            from functions.risk.stored_history import StoredOrders

            target = resolve_target(local_url)
            settings = _tenant(target, tenant)
            admin = _risk_admin(target)
            labeled = StoredOrders(target.table).labeled(tenant)
            if not labeled:
                raise click.ClickException(f"tenant {tenant!r} has no stored orders")
            base = (
                load_ruleset(baseline)
                if baseline
                else admin.ruleset_for(tenant, settings.business_category)
            )
            report = backtest(
                labeled, load_ruleset(rules_file), admin.signal_config(settings), base, start
            )
    except RulesetInvalid as invalid:
        raise click.ClickException("\n".join(invalid.errors)) from None
    click.echo(report_json(report) if as_json else format_report(report))


def resolve_target(local_url: str | None) -> Any:
    from cli.target import resolve

    return resolve(local_url)


def _tenant(target: Any, tenant: str) -> Any:
    from shared.tenants import TenantDirectory

    settings = TenantDirectory(target.table).get(tenant)
    if settings is None:
        raise click.ClickException(f"tenant {tenant!r} has no settings")
    return settings


def _risk_admin(target: Any) -> Any:
    from functions.risk.management import RiskAdmin
    from shared.risk_store import RiskStore

    return RiskAdmin(RiskStore(target.table))


def _who() -> str:
    """The operator as the audit records them: the login and the AWS identity used."""
    import getpass

    from shared import aws

    try:
        arn = aws.client("sts").get_caller_identity()["Arn"]
    except Exception:
        arn = "unknown identity"
    return f"{getpass.getuser()} via {arn}"


@risk.group("rules")
def risk_rules() -> None:
    """A tenant's rulesets per business category ('*': categories without their own)."""


@risk_rules.command("show")
@click.option("--tenant", required=True)
@click.option("--category", default="*", show_default=True)
@LOCAL_OPTION
def risk_rules_show(tenant: str, category: str, local_url: str | None) -> None:
    import yaml

    stored = _risk_admin(resolve_target(local_url)).rules(tenant, category)
    if stored is None:
        click.echo(f"no rules saved for {tenant}/{category}: the built-in default applies")
        return
    click.echo(f"# version {stored.version}, saved by {stored.saved_by} at {stored.saved_at}")
    click.echo(yaml.safe_dump(stored.body, sort_keys=False, allow_unicode=True))


@risk_rules.command("save")
@click.option("--tenant", required=True)
@click.option("--category", default="*", show_default=True)
@click.option("--expect-version", type=int, default=None, help="Refuse if someone saved since.")
@click.argument("rules_file", type=click.Path(exists=True, path_type=Path))
@LOCAL_OPTION
def risk_rules_save(
    tenant: str, category: str, expect_version: int | None, rules_file: Path, local_url: str | None
) -> None:
    """Validate RULES_FILE and store it as the next version (what screening uses at once)."""
    import yaml

    from functions.risk.errors import RulesetInvalid
    from shared.risk_store import VersionConflict

    data = yaml.safe_load(rules_file.read_text())
    if not isinstance(data, dict):
        raise click.ClickException(f"{rules_file}: expected a mapping with rules")
    try:
        stored = _risk_admin(resolve_target(local_url)).save_rules(
            tenant, category, data, _who(), expect_version
        )
    except RulesetInvalid as invalid:
        raise click.ClickException("not saved:\n" + "\n".join(invalid.errors)) from None
    except (VersionConflict, ValueError) as error:
        raise click.ClickException(f"not saved: {error}") from None
    click.echo(f"saved {tenant}/{category} version {stored.version}")


@risk.group("lists")
def risk_lists() -> None:
    """A tenant's block and allow lists (e-mails, domains, IPs/CIDRs, cards, BINs, countries)."""


def _print_lists(version: int, body: dict[str, Any]) -> None:
    click.echo(f"version {version}")
    for name in ("block", "allow"):
        for kind, values in body[name].items():
            if values:
                click.echo(f"  {name:5} {kind:17} {', '.join(values)}")


@risk_lists.command("show")
@click.option("--tenant", required=True)
@LOCAL_OPTION
def risk_lists_show(tenant: str, local_url: str | None) -> None:
    target = resolve_target(local_url)
    version, lists = _risk_admin(target).lists(_tenant(target, tenant))
    _print_lists(version, lists.model_dump(mode="json"))


def _change_lists(
    action: str, tenant: str, list_name: str, kind: str, values: tuple[str, ...], url: str | None
) -> None:
    from functions.risk.management import ListChange
    from shared.risk_store import VersionConflict

    target = resolve_target(url)
    change = ListChange.model_validate(
        {"action": action, "list": list_name, "kind": kind, "values": values}
    )
    try:
        stored = _risk_admin(target).change_lists(_tenant(target, tenant), [change], _who())
    except (VersionConflict, ValueError) as error:
        raise click.ClickException(f"not changed: {error}") from None
    _print_lists(stored.version, stored.body)


LIST_KINDS = ["emails", "email_domains", "ips", "card_fingerprints", "bins", "countries"]


def _list_change_command(action: str) -> None:
    """``risk lists add`` and ``risk lists remove``: the same options, one action each."""

    @click.option("--tenant", required=True)
    @click.option("--list", "list_name", type=click.Choice(["block", "allow"]), required=True)
    @click.option("--kind", type=click.Choice(LIST_KINDS), required=True)
    @click.argument("values", nargs=-1, required=True)
    @LOCAL_OPTION
    def change(
        tenant: str, list_name: str, kind: str, values: tuple[str, ...], local_url: str | None
    ) -> None:
        _change_lists(action, tenant, list_name, kind, values, local_url)

    where = "to" if action == "add" else "from"
    change.__doc__ = f"{action.capitalize()} VALUES {where} a tenant's block or allow list."
    risk_lists.command(action)(change)


_list_change_command("add")
_list_change_command("remove")


@risk.command("audit")
@click.option("--tenant", required=True)
@LOCAL_OPTION
def risk_audit(tenant: str, local_url: str | None) -> None:
    """Every change of rules and lists: who, when, what changed."""
    for entry in reversed(_risk_admin(resolve_target(local_url)).audit(tenant)):
        what = json.dumps(entry.change, sort_keys=True) if entry.change else ""
        click.echo(f"{entry.when}  {entry.subject:20} v{entry.version:<4} {entry.who}  {what}")


@risk.command("queue")
@click.option("--tenant", required=True)
@click.option("--json", "as_json", is_flag=True)
@LOCAL_OPTION
def risk_queue(tenant: str, as_json: bool, local_url: str | None) -> None:
    """Orders held as potential fraud, oldest first, with their reasons and age."""
    from functions.risk.review_queue import review_queue
    from shared.clock import SYSTEM_CLOCK
    from shared.lifecycle_store import LifecycleStore
    from shared.order_store import OrderStore

    target = resolve_target(local_url)
    queue = review_queue(
        LifecycleStore(target.table), OrderStore(target.table), tenant, SYSTEM_CLOCK.now()
    )
    if as_json:
        click.echo(json.dumps(queue, indent=2, default=str))
        return
    click.echo(f"{len(queue)} orders waiting for review")
    for entry in queue:
        click.echo(
            f"  {entry['order_id']:14} {entry['age_hours']:>6}h  score {entry['score']:>3}  "
            f"{entry['amount']} {entry['currency']}  {'; '.join(entry['reasons'])}"
        )


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
    from local.demo import run_demo

    started = time.monotonic()
    ok = run_demo(outdir, port=port, echo=click.echo, start=start_local_stack)
    click.echo(
        f"demo {'finished' if ok else 'FAILED'} in {time.monotonic() - started:.1f}s; "
        f"outputs in {outdir}"
    )
    if not ok:
        sys.exit(1)


def _register_groups() -> None:
    from cli.reconcile import reconcile

    main.add_command(reconcile)
    main.add_command(__import__("cli.bank", fromlist=["bank"]).bank)


_register_groups()


if __name__ == "__main__":
    main()
