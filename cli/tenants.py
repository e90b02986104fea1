"""``ecomops tenants``: onboard a client shop and change it, on AWS or the local stack alike.

The work is ``functions/tenants`` (use cases over ports); this module reads files and options,
says who the operator is, and prints.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.errors import OperatorError
from cli.target import LOCAL_OPTION

if TYPE_CHECKING:
    from cli.target import Target
    from functions.tenants.domain import Endpoint, Version
    from functions.tenants.use_cases import SenderPolicy, TenantAdmin

BY_OPTION = click.option(
    "--by",
    default=None,
    metavar="WHO",
    help="Who makes the change, for the record (default: the AWS caller, or $USER@local).",
)
ALLOW_UNVERIFIED = click.option(
    "--allow-unverified-senders",
    is_flag=True,
    help="Save even if a sender is not a verified SES identity (its e-mails will bounce).",
)
CACHE_NOTE = "running functions see the change within 5 minutes (they cache settings and secrets)"


@contextmanager
def _refusals() -> Iterator[None]:
    from functions.tenants.domain import TenantRefused

    try:
        yield
    except TenantRefused as refused:
        raise OperatorError(str(refused)) from None


def _admin(local_url: str | None) -> tuple[Target, TenantAdmin]:
    from cli.target import resolve
    from functions.tenants.composition import build_admin

    target = resolve(local_url)
    return target, build_admin(target.table, target.tenant_secret_prefix)


def _who(target: Target, by: str | None) -> str:
    if by:
        return by
    if target.local_url:
        return f"{os.environ.get('USER') or getpass.getuser()}@local"
    from shared import aws

    return str(aws.client("sts").get_caller_identity()["Arn"])


def _sender_policy(target: Target, allow_unverified: bool) -> SenderPolicy:
    # Locally e-mails are written to files, never sent through SES: unverified is a warning.
    return "warn" if allow_unverified or target.local_url else "refuse"


def _read_documents(path: Path) -> list[Any]:
    import yaml

    from shared.tenants import TenantDocument

    loaded = yaml.safe_load(path.read_text())
    if isinstance(loaded, dict) and "tenants" in loaded:
        from local.tenants import TenantsFile

        return list(TenantsFile.model_validate(loaded).tenants)
    return [TenantDocument.model_validate(loaded)]


def _when(version: Version) -> str:
    return version.saved_at.isoformat(timespec="seconds")


def _print_endpoints(
    endpoints: list[Endpoint], secrets: dict[str, Any], reveal: bool, generated: list[str]
) -> None:
    from functions.tenants.domain import mask, secret_values

    click.echo("webhooks to configure:")
    for endpoint in endpoints:
        click.echo(f"  {endpoint.where}")
        click.echo(f"    URL     {endpoint.url}")
        values = secret_values(secrets, endpoint.secret)
        if not values:
            click.echo(f"    secret  {endpoint.secret}: not set yet — {endpoint.note}")
            continue
        shown = values[0] if reveal else mask(values[0])
        made = " (made now)" if endpoint.secret in generated else ""
        click.echo(f"    secret  {endpoint.secret}: {shown}{made} — {endpoint.note}")


@click.group()
def tenants() -> None:
    """Client shops (tenants): add, show, update, list; their secrets."""


@tenants.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@BY_OPTION
@ALLOW_UNVERIFIED
@LOCAL_OPTION
def tenants_add(
    file: Path, by: str | None, allow_unverified_senders: bool, local_url: str | None
) -> None:
    """Add the tenant(s) FILE describes ({settings, secrets} as in a tenants file, JSON or
    YAML; secrets that are ours to make are made): settings version 1, secrets in Parameter
    Store, and what to configure at Stripe, the carriers and the shop."""
    documents = _read_documents(file)
    target, admin = _admin(local_url)
    who = _who(target, by)
    policy = _sender_policy(target, allow_unverified_senders)
    for document in documents:
        with _refusals():
            onboarded = admin.add(document, who, target.api_url, policy)
        tenant = onboarded.version.tenant
        click.echo(
            f"tenant {tenant} added: settings version 1 by {who} at {_when(onboarded.version)}"
        )
        _print_endpoints(onboarded.endpoints, onboarded.secrets, True, onboarded.generated)
        if "links.signing_keys" in onboarded.generated:
            click.echo("  review links' signing key: made now (nothing to configure)")
        if onboarded.missing:
            click.echo(
                "still to set: "
                + ", ".join(onboarded.missing)
                + f" (`ecomops tenants secrets set --tenant {tenant} NAME`)"
            )
        for address in onboarded.unverified_senders:
            click.echo(f"warning: sender {address} is not a verified SES identity")
    click.echo(CACHE_NOTE)


@tenants.command("show")
@click.option("--tenant", required=True)
@click.option("--history", is_flag=True, help="Every version of the settings and secrets.")
@click.option("--reveal", is_flag=True, help="Print the secrets in full (else their ends).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@LOCAL_OPTION
def tenants_show(
    tenant: str, history: bool, reveal: bool, as_json: bool, local_url: str | None
) -> None:
    """The settings in force (with version, who, when), the webhook URLs and their secrets."""
    target, admin = _admin(local_url)
    with _refusals():
        if history:
            versions = admin.history(tenant)
            if as_json:
                click.echo(json.dumps([v.model_dump(mode="json") for v in versions], indent=2))
                return
            for version in versions:
                click.echo(_history_line(version))
            return
        view = admin.show(tenant, target.api_url)
    current = view.current
    if as_json:
        body = {
            "settings": current.settings.model_dump(mode="json"),
            "version": current.version,
            "saved_by": current.saved_by,
            "saved_at": current.saved_at.isoformat() if current.saved_at else None,
            "webhooks": [
                {"where": e.where, "url": e.url, "secret": e.secret} for e in view.endpoints
            ],
            "missing_secrets": view.missing,
        }
        click.echo(json.dumps(body, indent=2))
        return
    saved = (
        f"version {current.version} by {current.saved_by} at {current.saved_at:%Y-%m-%dT%H:%M:%S}"
        if current.saved_at
        else "version 0 (written before versions were kept)"
    )
    click.echo(f"tenant {tenant} ({current.settings.name}): {saved}")
    click.echo(json.dumps(current.settings.model_dump(mode="json"), indent=2))
    _print_endpoints(view.endpoints, view.secrets, reveal, [])
    if view.missing:
        click.echo("still to set: " + ", ".join(view.missing))


def _history_line(version: Version) -> str:
    when = _when(version)
    change = version.change
    if version.subject == "settings":
        what = (
            "added"
            if change.get("action") == "added"
            else "changed " + ", ".join(change.get("changed", []))
        )
        return f"settings v{version.version}  {when}  {version.saved_by}: {what}"
    kept = " (previous still accepted)" if change.get("previous_kept") else ""
    fields = ", ".join(change.get("fields", []))
    return (
        f"secrets  #{version.version}  {when}  {version.saved_by}: "
        f"{change.get('action', 'changed')} {fields}{kept}"
    )


@tenants.command("update")
@click.option("--tenant", required=True)
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="KEY=VALUE",
    help="A setting by its dotted name, e.g. risk.review_over=50000 (repeatable).",
)
@click.option(
    "--file",
    "settings_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The whole settings (JSON/YAML), instead of --set.",
)
@click.option(
    "--expect-version",
    type=int,
    default=None,
    help="Refuse unless the settings in force are this version (what you looked at).",
)
@BY_OPTION
@ALLOW_UNVERIFIED
@LOCAL_OPTION
def tenants_update(
    tenant: str,
    assignments: tuple[str, ...],
    settings_file: Path | None,
    expect_version: int | None,
    by: str | None,
    allow_unverified_senders: bool,
    local_url: str | None,
) -> None:
    """Save new settings for TENANT as the next version (checked as a tenants file is)."""
    import yaml

    from shared.tenants import TenantSettings

    if bool(assignments) == bool(settings_file):
        raise click.UsageError("give either --set KEY=VALUE (one or more) or --file")
    replacement = (
        TenantSettings.model_validate(yaml.safe_load(settings_file.read_text()))
        if settings_file
        else None
    )
    target, admin = _admin(local_url)
    who = _who(target, by)
    with _refusals():
        updated = admin.update(
            tenant,
            who,
            _sender_policy(target, allow_unverified_senders),
            assignments=assignments,
            replacement=replacement,
            expected_version=expect_version,
        )
    click.echo(
        f"tenant {tenant}: settings version {updated.version.version} by {who} at "
        f"{_when(updated.version)}; changed {', '.join(updated.changed)}"
    )
    for address in updated.unverified_senders:
        click.echo(f"warning: sender {address} is not a verified SES identity")
    click.echo(CACHE_NOTE)


@tenants.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@LOCAL_OPTION
def tenants_list(as_json: bool, local_url: str | None) -> None:
    """Every tenant with its settings version, who saved it and when."""
    _, admin = _admin(local_url)
    found = admin.tenants()
    if as_json:
        rows = [
            {
                "id": c.settings.id,
                "name": c.settings.name,
                "version": c.version,
                "saved_by": c.saved_by,
                "saved_at": c.saved_at.isoformat() if c.saved_at else None,
            }
            for c in found
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    for current in found:
        when = f"{current.saved_at:%Y-%m-%dT%H:%M:%S}" if current.saved_at else "-"
        click.echo(
            f"{current.settings.id:24} v{current.version:<4} {when:20} {current.saved_by or '-'}  "
            f"{current.settings.name}"
        )


@tenants.group("secrets")
def tenants_secrets() -> None:
    """A tenant's secrets (SSM SecureString parameters): set one, or rotate one."""


@tenants_secrets.command("set")
@click.option("--tenant", required=True)
@click.argument("name")
@click.option(
    "--value",
    default=None,
    help="The value (default: asked for without echo, so it stays out of shell history).",
)
@BY_OPTION
@LOCAL_OPTION
def secrets_set(
    tenant: str, name: str, value: str | None, by: str | None, local_url: str | None
) -> None:
    """Set the secret NAME (e.g. stripe.webhook_secrets, stripe.api_key) to one value: the
    ones it had stop being accepted (to change one without a gap, use `rotate`)."""
    from functions.tenants.domain import mask, secret_field

    with _refusals():
        secret_field(name)  # a misspelt name is refused before anything is asked
    if value is None:
        value = click.prompt(f"{name}", hide_input=True)
    target, admin = _admin(local_url)
    who = _who(target, by)
    with _refusals():
        changed = admin.set_secret(tenant, name, value, who)
    click.echo(
        f"tenant {tenant}: {name} set to {mask(value)} (secrets change #{changed.version.version} "
        f"by {who}); {CACHE_NOTE}"
    )


@tenants_secrets.command("rotate")
@click.option("--tenant", required=True)
@click.argument("name")
@click.option(
    "--value",
    default=None,
    help="The new value, for a secret the provider issues (ours are made here).",
)
@BY_OPTION
@LOCAL_OPTION
def secrets_rotate(
    tenant: str, name: str, value: str | None, by: str | None, local_url: str | None
) -> None:
    """Put a new value of NAME first; the previous one stays accepted until the next rotation,
    so senders can move over without a refused webhook."""
    target, admin = _admin(local_url)
    who = _who(target, by)
    with _refusals():
        changed = admin.rotate(tenant, name, who, value)
    rotation = changed.rotation
    assert rotation is not None
    click.echo(f"tenant {tenant}: new {name}: {rotation.new}")
    if rotation.previous:
        from functions.tenants.domain import mask

        click.echo(
            f"the previous value ({mask(rotation.previous)}) is still accepted until the next "
            f"rotation: configure the new one where it is used (to stop accepting the old one "
            f"sooner: `ecomops tenants secrets set --tenant {tenant} {name}` with the new value)"
        )
    else:
        click.echo("it replaces the previous value at once (one value only)")
    click.echo(f"secrets change #{changed.version.version} by {who}; {CACHE_NOTE}")
