"""``ecomops reviews``: what the client team does about orders held for review, besides
deciding them (the queue is ``ecomops risk queue``)."""

from __future__ import annotations

import getpass
import json

import click

from cli.target import LOCAL_OPTION

OUTCOMES = ("reached-confirmed", "reached-declined", "no-answer")


@click.group()
def reviews() -> None:
    """Orders held for review: record the calls made to their customers."""


@reviews.command("call-outcome")
@click.option("--tenant", required=True)
@click.argument("order_id")
@click.option("--outcome", required=True, type=click.Choice(OUTCOMES))
@click.option("--note", default="", help="What the customer said.")
@click.option("--by", default=None, help="Who called (default: this user).")
@LOCAL_OPTION
def call_outcome(
    tenant: str, order_id: str, outcome: str, note: str, by: str | None, local_url: str | None
) -> None:
    """Record what came of calling ORDER_ID's customer; it shows on the order's timeline."""
    from cli.target import resolve
    from functions.orders.composition import ports_with
    from functions.orders.errors import OperationRefused
    from functions.orders.use_cases.operations import record_call_outcome

    target = resolve(local_url)
    ports = ports_with(table_name=target.table)
    try:
        result = record_call_outcome(
            ports, tenant, order_id, outcome, note.strip(), by or getpass.getuser()
        )
    except OperationRefused as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(json.dumps(result, indent=2, default=str))
    if result.get("advice"):
        click.echo(f"next: {result['advice']} (POST …/orders/{order_id}/review)", err=True)
