"""``ecomops queries``: find a customer's orders, answer customers' and finance's questions from
our records, and keep the query cases the records cannot answer."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import click

from cli.target import LOCAL_OPTION, resolve


def _services(local_url: str | None) -> Any:
    from functions.reconcile.composition import settled_payouts_reader
    from functions.reports.queries.composition import build_queries

    table = resolve(local_url).table
    return build_queries(table, settled_payouts=settled_payouts_reader(table))


def _show(answer: dict[str, Any], as_json: bool) -> None:
    click.echo(json.dumps(answer, indent=2, default=str) if as_json else answer["text"])


def _tenant(services: Any, tenant: str) -> Any:
    settings = services.tenant(tenant)
    if settings is None:
        raise click.ClickException(f"tenant {tenant!r} has no settings")
    return settings


@click.group()
def queries() -> None:
    """Customers' and finance's questions answered from our records, and query cases."""


@queries.command("find")
@click.option("--tenant", required=True)
@click.option("--email")
@click.option("--phone", help="With its country code (+44…), or give --country.")
@click.option("--country", help="ISO country of a national phone number (GB, DE…).")
@click.option("--card", "last4", metavar="LAST4", help="The card's last four digits.")
@click.option("--bin", "bin_", help="With --card: its first 6 to 8 digits.")
@click.option("--order", "order_id", help="Our order id.")
@click.option("--number", "order_number", help="The order number the shop showed (#1001).")
@click.option("--tracking")
@click.option("--json", "as_json", is_flag=True)
@LOCAL_OPTION
def queries_find(
    tenant: str,
    email: str | None,
    phone: str | None,
    country: str | None,
    last4: str | None,
    bin_: str | None,
    order_id: str | None,
    order_number: str | None,
    tracking: str | None,
    as_json: bool,
    local_url: str | None,
) -> None:
    """A customer's orders by one identifier (one read of the index, newest first)."""
    from functions.reports.queries.use_cases.lookup import find_orders
    from shared.order_lookup import Unsearchable

    given = {
        k: v
        for k, v in {
            "email": email,
            "phone": phone,
            "card": last4,
            "order": order_id,
            "number": order_number,
            "tracking": tracking,
        }.items()
        if v
    }
    if len(given) != 1:
        raise click.UsageError(
            "give exactly one of --email, --phone, --card, --order, --number, --tracking"
        )
    ((kind, value),) = given.items()
    try:
        result = find_orders(
            _services(local_url).orders(), tenant, kind, value, country=country, bin_=bin_
        )
    except Unsearchable as error:
        raise click.ClickException(str(error)) from None
    _show(result.as_dict(), as_json)


@queries.command("ask")
@click.option("--tenant", required=True)
@click.option("--order", "order_id", required=True)
@click.argument(
    "question", type=click.Choice(["charged-twice", "refund-not-received", "failed-but-charged"])
)
@click.option("--json", "as_json", is_flag=True)
@LOCAL_OPTION
def queries_ask(
    tenant: str, order_id: str, question: str, as_json: bool, local_url: str | None
) -> None:
    """Answer a customer's QUESTION about an order, with the evidence and one action."""
    from functions.reports.queries.use_cases.customer import answer_customer_question

    services = _services(local_url)
    answer = answer_customer_question(
        services.orders(), tenant, order_id, question.replace("-", "_"), services.clock.now()
    )
    _show(answer.as_dict(), as_json)


@queries.command("payout")
@click.option("--tenant", required=True)
@click.argument("payout_id")
@click.option("--json", "as_json", is_flag=True)
@LOCAL_OPTION
def queries_payout(tenant: str, payout_id: str, as_json: bool, local_url: str | None) -> None:
    """How the bank arrived at PAYOUT_ID's net amount."""
    from functions.reports.queries.use_cases.payments import explain_payout_query

    services = _services(local_url)
    answer = explain_payout_query(
        services.settlements(),
        services.settled_payouts(),
        _tenant(services, tenant),
        payout_id,
        services.clock.now().date(),
    )
    if answer is None:
        raise click.ClickException(f"nothing found: tenant {tenant} has no payout {payout_id!r}")
    _show(answer.as_dict(), as_json)


@queries.command("paid")
@click.option("--tenant", required=True)
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "last", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--json", "as_json", is_flag=True)
@LOCAL_OPTION
def queries_paid(tenant: str, first: Any, last: Any, as_json: bool, local_url: str | None) -> None:
    """Have we been paid for these (tenant-local) days, and where is the money?"""
    from functions.reports.queries.use_cases.payments import paid_for_days_query
    from shared.order_lookup import Unsearchable

    services = _services(local_url)
    try:
        answer = paid_for_days_query(
            services.settlements(),
            services.settled_payouts(),
            services.orders(),
            _tenant(services, tenant),
            date.fromisoformat(first.date().isoformat()),
            date.fromisoformat(last.date().isoformat()),
            services.clock.now().date(),
        )
    except Unsearchable as error:
        raise click.ClickException(str(error)) from None
    _show(answer.as_dict(), as_json)


@queries.command("cases")
@click.option("--tenant", required=True)
@click.option("--closed", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@LOCAL_OPTION
def queries_cases(tenant: str, closed: bool, as_json: bool, local_url: str | None) -> None:
    """The tenant's open query cases by when they are due (or the closed ones)."""
    from functions.reports.queries.domain.cases import CaseStatus

    services = _services(local_url)
    now = services.clock.now()
    found = services.cases().listed(tenant, CaseStatus.CLOSED if closed else CaseStatus.OPEN)
    if as_json:
        click.echo(json.dumps([c.as_dict(now) for c in found], indent=2, default=str))
        return
    for case in found:
        click.echo(case.text(now))
    if not found:
        click.echo(f"no {'closed' if closed else 'open'} query cases for {tenant}")


@queries.command("open-case")
@click.option("--tenant", required=True)
@click.option("--question", required=True)
@click.option("--asked-by", required=True)
@click.option("--payout")
@click.option("--bank-line")
@click.option("--order")
@LOCAL_OPTION
def queries_open_case(
    tenant: str,
    question: str,
    asked_by: str,
    payout: str | None,
    bank_line: str | None,
    order: str | None,
    local_url: str | None,
) -> None:
    """Open a query case for a question the records cannot answer."""
    from functions.reports.queries.domain.cases import CaseLinks, CaseRefused

    services = _services(local_url)
    links = CaseLinks(payout_id=payout, bank_line_id=bank_line, order_id=order)
    try:
        case, _ = services.cases().open(tenant, question, asked_by, links)
    except CaseRefused as error:
        raise click.ClickException(str(error)) from None
    click.echo(case.text(services.clock.now()))


@queries.command("close-case")
@click.option("--tenant", required=True)
@click.argument("case_id")
@click.option("--by", required=True)
@click.option("--resolution", required=True)
@LOCAL_OPTION
def queries_close_case(
    tenant: str, case_id: str, by: str, resolution: str, local_url: str | None
) -> None:
    """Close CASE_ID with its answer."""
    from functions.reports.queries.domain.cases import CaseRefused

    services = _services(local_url)
    try:
        case = services.cases().close(tenant, case_id, by, resolution)
    except CaseRefused as error:
        raise click.ClickException(str(error)) from None
    click.echo(case.text(services.clock.now()))
