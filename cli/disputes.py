"""``ecomops disputes``: the chargeback desk — cases (open first, by deadline), one case with
its evidence and timeline, edits, a new draft, submit, accept, the monthly ratio report and
the dispute register CSV."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import click

from cli.target import LOCAL_OPTION, resolve


def _desk(local_url: str | None) -> Any:
    from functions.disputes.composition import DisputesSettings, build_ports

    target = resolve(local_url)
    return build_ports(
        DisputesSettings(table_name=target.table, tenant_secret_prefix=target.tenant_secret_prefix)
    )


def _refusals() -> tuple[type[Exception], ...]:
    from functions.disputes.errors import (
        CaseNotFound,
        CaseRefused,
        EvidenceRefused,
        SubmissionRefused,
    )

    return (CaseRefused, EvidenceRefused, CaseNotFound, SubmissionRefused)


def _show(case: Any, as_json: bool) -> None:
    from functions.disputes.domain.register import case_view

    view = case_view(case)
    if as_json:
        click.echo(json.dumps(view, indent=2))
        return
    click.echo(
        f"{view['dispute_id']}  {view['kind']} {view['state']} (Stripe: {view['stripe_status']})"
        f"  {view['amount_text']}  {view['reason'] or '-'} {view['network_reason_code'] or ''}"
    )
    click.echo(
        f"  order {view['order_id'] or '-'}, charge {view['charge_id']}, "
        f"{view['card_brand'] or '-'}, evidence due {view['evidence_due_by'] or '-'}"
    )
    if view["flags"]:
        refusal = f" — {view['refusal']}" if view["refusal"] else ""
        click.echo(f"  flags: {', '.join(view['flags'])}{refusal}")
    suggestion = view["suggestion"]
    click.echo(f"  suggestion: {suggestion['action']} — {suggestion['reason']}")
    evidence = view["evidence"]
    click.echo("  evidence:")
    for name, value in sorted(evidence["fields"].items()):
        short = value if len(value) <= 90 else value[:87] + "..."
        click.echo(f"    {name:32} {short}")
    for name, file in sorted(evidence["files"].items()):
        click.echo(f"    {name:32} {file['name']} ({file['size']:,} bytes)")
    for missing in evidence["missing"]:
        click.echo(f"    missing: {missing}")
    click.echo("  timeline:")
    for entry in view["timeline"]:
        click.echo(f"    {entry['at']}  {entry['what']:18} {entry['detail']}  ({entry['by']})")


@click.group()
def disputes() -> None:
    """The chargeback desk: cases, evidence, representment, deadlines and network ratios."""


@disputes.command("list")
@click.option("--tenant", required=True)
@click.option("--status", type=click.Choice(["open", "closed", "all"]), default="all")
@click.option("--json", "as_json", is_flag=True)
@LOCAL_OPTION
def disputes_list(tenant: str, status: str, as_json: bool, local_url: str | None) -> None:
    """The tenant's cases: open ones first, the nearest deadline first."""
    from functions.disputes.domain.register import case_summary, ordered

    desk = _desk(local_url)
    open_cases = list(desk.cases.cases(tenant, "open")) if status != "closed" else []
    closed = list(desk.cases.cases(tenant, "closed")) if status != "open" else []
    found = [case_summary(c) for c in ordered(open_cases, closed)]
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for c in found:
        click.echo(
            f"{c['dispute_id']:28} {c['state']:10} {c['kind']:10} {c['amount_text']:>14} "
            f"due {c['evidence_due_by'] or '-':25} order {c['order_id'] or '-'}"
            + (f"  [{', '.join(c['flags'])}]" if c["flags"] else "")
        )
    click.echo(f"{len(found)} case(s)")


@disputes.command("show")
@click.option("--tenant", required=True)
@click.argument("dispute_id")
@click.option("--json", "as_json", is_flag=True)
@LOCAL_OPTION
def disputes_show(tenant: str, dispute_id: str, as_json: bool, local_url: str | None) -> None:
    """One case: what Stripe says, the evidence draft, the suggestion and the timeline."""
    case = _desk(local_url).cases.get(tenant, dispute_id)
    if case is None:
        raise click.ClickException(f"tenant {tenant} has no dispute case {dispute_id}")
    _show(case, as_json)


@disputes.command("edit")
@click.option("--tenant", required=True)
@click.argument("dispute_id")
@click.option("--set", "sets", multiple=True, metavar="FIELD=TEXT", help="Set a text field.")
@click.option("--clear", "clears", multiple=True, metavar="FIELD", help="Clear a text field.")
@click.option("--assign", default=None, help="Who works the case.")
@click.option("--state", type=click.Choice(["collecting", "ready"]), default=None)
@LOCAL_OPTION
def disputes_edit(
    tenant: str,
    dispute_id: str,
    sets: tuple[str, ...],
    clears: tuple[str, ...],
    assign: str | None,
    state: str | None,
    local_url: str | None,
) -> None:
    """Edit the evidence draft's text fields (kept over new drafts), assign, move."""
    from cli.risk import _who
    from functions.disputes.use_cases.cases import assign_case, move_case
    from functions.disputes.use_cases.representment import edit_evidence

    changes: dict[str, str | None] = dict.fromkeys(clears)
    for item in sets:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not FIELD=TEXT", param_hint="--set")
        changes[name.strip()] = value
    desk, who = _desk(local_url), _who()
    try:
        case = desk.cases.get(tenant, dispute_id)
        if changes:
            case = edit_evidence(desk, tenant, dispute_id, changes, by=who)
        if assign is not None:
            case = assign_case(desk, tenant, dispute_id, assign or None, who)
        if state is not None:
            case = move_case(desk, tenant, dispute_id, state, by=who)
    except _refusals() as refused:
        raise click.ClickException(str(refused)) from None
    if case is None:
        raise click.ClickException(f"tenant {tenant} has no dispute case {dispute_id}")
    _show(case, as_json=False)


def _act(action: str, tenant: str, dispute_id: str, local_url: str | None) -> None:
    from cli.risk import _who
    from functions.disputes.use_cases.evidence import draft_evidence
    from functions.disputes.use_cases.representment import accept_case, submit_case

    use_case = {"draft": draft_evidence, "submit": submit_case, "accept": accept_case}[action]
    try:
        case = use_case(_desk(local_url), tenant, dispute_id, by=_who())
    except _refusals() as refused:
        raise click.ClickException(str(refused)) from None
    _show(case, as_json=False)


@disputes.command("draft")
@click.option("--tenant", required=True)
@click.argument("dispute_id")
@LOCAL_OPTION
def disputes_draft(tenant: str, dispute_id: str, local_url: str | None) -> None:
    """Draft the evidence again from our records (edited fields are kept)."""
    _act("draft", tenant, dispute_id, local_url)


@disputes.command("submit")
@click.option("--tenant", required=True)
@click.argument("dispute_id")
@click.confirmation_option(prompt="Submitting to Stripe is final. Submit?")
@LOCAL_OPTION
def disputes_submit(tenant: str, dispute_id: str, local_url: str | None) -> None:
    """Submit the evidence to Stripe (final)."""
    _act("submit", tenant, dispute_id, local_url)


@disputes.command("accept")
@click.option("--tenant", required=True)
@click.argument("dispute_id")
@click.confirmation_option(prompt="The cardholder keeps the money. Accept the dispute?")
@LOCAL_OPTION
def disputes_accept(tenant: str, dispute_id: str, local_url: str | None) -> None:
    """Accept the dispute: Stripe closes it."""
    _act("accept", tenant, dispute_id, local_url)


@disputes.command("packet")
@click.option("--tenant", required=True)
@click.argument("dispute_id")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@LOCAL_OPTION
def disputes_packet(tenant: str, dispute_id: str, out: Path, local_url: str | None) -> None:
    """Write the case's evidence packet (PDF) as it would be uploaded."""
    from functions.disputes.domain.evidence import EvidenceDraft
    from functions.disputes.use_cases.evidence import render_files

    desk = _desk(local_url)
    case = desk.cases.get(tenant, dispute_id)
    if case is None or not case.evidence:
        raise click.ClickException(f"tenant {tenant} has no drafted dispute case {dispute_id}")
    files = render_files(desk, case, EvidenceDraft.model_validate(case.evidence))
    out.write_bytes(files["uncategorized_file"])
    click.echo(f"{out}: {len(files['uncategorized_file']):,} bytes")


@disputes.command("ratios")
@click.option("--tenant", required=True)
@click.option("--month", default=None, help="YYYY-MM (default: this month, projected).")
@click.option("--json", "as_json", is_flag=True)
@LOCAL_OPTION
def disputes_ratios(tenant: str, month: str | None, as_json: bool, local_url: str | None) -> None:
    """The month's dispute ratios per card brand against Visa VAMP and Mastercard ECP."""
    from functions.disputes.domain.register import ratio_json, ratio_report_text
    from functions.disputes.use_cases.ratios import monthly_ratios

    desk = _desk(local_url)
    today = desk.clock.now().date()
    try:
        first = date.fromisoformat(f"{month}-01") if month else today.replace(day=1)
    except ValueError:
        raise click.BadParameter("expected YYYY-MM", param_hint="--month") from None
    lines = [ratio_json(line) for line in monthly_ratios(desk, tenant, first, today)]
    if as_json:
        click.echo(json.dumps(lines, indent=2))
        return
    for text in ratio_report_text(tenant, f"{first:%Y-%m}", lines):
        click.echo(text)


@disputes.command("register")
@click.option("--tenant", required=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@LOCAL_OPTION
def disputes_register(tenant: str, out: Path | None, local_url: str | None) -> None:
    """The dispute register (every case, one CSV row each) for audits."""
    from functions.disputes.domain.register import ordered, register_csv

    desk = _desk(local_url)
    text = register_csv(
        ordered(desk.cases.cases(tenant, "open"), desk.cases.cases(tenant, "closed"))
    )
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        click.echo(f"{out}: {text.count(chr(10)) - 1} case(s)")
