"""``ecomops returns``: an order's returns and their inspection (who and when are recorded)."""

from __future__ import annotations

import json
from typing import Any

import click

from cli.target import LOCAL_OPTION


@click.group()
def returns() -> None:
    """Returns of delivered orders: list them, record the inspection of a received one."""


def _ports(local_url: str | None) -> Any:
    from cli.target import resolve
    from functions.orders.composition import ports_with

    target = resolve(local_url)
    return ports_with(
        table_name=target.table,
        lifecycle_machine=target.outputs.get("LifecycleStateMachine"),
        refund_machine=target.outputs.get("RefundStateMachine"),
        tenant_secret_prefix=target.tenant_secret_prefix,
    )


def _line(value: str) -> dict[str, Any]:
    """``l1`` (the whole of what was returned of it) or ``l1:2`` (a quantity)."""
    line_id, _, quantity = value.partition(":")
    if not line_id or (quantity and not quantity.isdigit()):
        raise click.BadParameter(f"{value!r} is not LINE or LINE:QUANTITY", param_hint="--line")
    return {"line_id": line_id, **({"quantity": int(quantity)} if quantity else {})}


@returns.command("list")
@click.option("--tenant", required=True)
@click.argument("order_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@LOCAL_OPTION
def returns_list(tenant: str, order_id: str, as_json: bool, local_url: str | None) -> None:
    """The returns of ORDER_ID, oldest first, with their status and inspection."""
    from functions.orders.use_cases.returns import returns_of

    found = returns_of(_ports(local_url), tenant, order_id)
    if as_json:
        click.echo(json.dumps(found, indent=2, default=str))
        return
    if not found:
        click.echo(f"order {order_id} ({tenant}) has no returns")
    for record in found:
        lines = ", ".join(f"{k} x{q}" for k, q in record["lines"].items())
        click.echo(
            f"return {record['return_id']}: {record['status']}  {lines}  "
            f"amount {record['amount']}  tracking {record.get('tracking_code') or '-'}"
        )
        inspection = record.get("inspection")
        if inspection:
            click.echo(
                f"  inspected {inspection['outcome']} by {inspection['by']} at "
                f"{inspection['at']}: {inspection.get('reason') or ''}"
            )


@returns.command("inspect")
@click.option("--tenant", required=True)
@click.argument("order_id")
@click.argument("return_id")
@click.option("--outcome", type=click.Choice(["accept", "partial", "reject"]), required=True)
@click.option("--line", "lines", multiple=True, help="partial: LINE or LINE:QUANTITY accepted.")
@click.option("--amount", type=click.IntRange(min=1), help="partial: minor units accepted.")
@click.option("--reason", help="Why (required for partial and reject); the customer reads it.")
@LOCAL_OPTION
def returns_inspect(
    tenant: str,
    order_id: str,
    return_id: str,
    outcome: str,
    lines: tuple[str, ...],
    amount: int | None,
    reason: str | None,
    local_url: str | None,
) -> None:
    """Record the inspection of RETURN_ID and refund what it accepts."""
    from cli.risk import _who
    from functions.orders.errors import OperationRefused
    from functions.orders.use_cases.returns import inspect_return

    ports = _ports(local_url)
    try:
        done = inspect_return(
            ports,
            tenant,
            order_id,
            return_id,
            outcome,
            by=_who(),
            lines=[_line(value) for value in lines] or None,
            amount=amount,
            reason=reason,
        )
    except OperationRefused as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(json.dumps(done, indent=2, default=str))
