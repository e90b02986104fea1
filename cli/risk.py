"""``ecomops risk``: fraud screening rules and lists, checked, backtested, saved and audited, and
the queue of orders held for review."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from cli.target import LOCAL_OPTION

# The same option as cli.main's (that module registers this group, so this one cannot import it).


@click.group()
def risk() -> None:
    """Fraud screening rules: check them, and try them on history before they go live."""


@risk.command("check")
@click.option("--rules", "rules_file", required=True, type=click.Path(exists=True, path_type=Path))
def risk_check(rules_file: Path) -> None:
    """Validate a rules file as saving it would: syntax, attributes, types."""
    from functions.risk.domain.rules import check_rules_file

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
    from functions.risk.domain.backtest import backtest, backtest_file, format_report, report_json
    from functions.risk.domain.errors import RulesetInvalid
    from functions.risk.domain.history_gen import generate
    from functions.risk.domain.rules import load_ruleset

    start = datetime.fromisoformat(since) if since else None
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    try:
        if tenant is None:
            history = history_file if history_file is not None else generate(orders)
            report = backtest_file(rules_file, history, baseline, since=start)
        else:
            from functions.risk.adapters.stored_orders import StoredOrders

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
    from functions.risk.composition import build_admin

    return build_admin(target.table)


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

    from functions.risk.domain.errors import RulesetInvalid, VersionConflict

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
    from functions.risk.domain.errors import VersionConflict
    from functions.risk.domain.lists import ListChange

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
    from functions.risk.use_cases.review_queue import review_queue
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
        if call := entry.get("call"):
            calls = ", ".join(f"{o['outcome']} ({o['by']})" for o in call["outcomes"]) or "none yet"
            click.echo(
                f"    call {call['phone'] or 'no phone on the order'} by {call['call_by']}: "
                f"calls {calls}  {call['order_url']}"
            )
