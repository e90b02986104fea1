"""Reports on the operator API (tenant-scoped like every route: the caller's token must grant
the tenant in the path).

- ``GET /ops/tenants/{t}/reports/summary?period=weekly&day=2026-10-21``: the business summary
  of the period holding the day, as JSON (``so_far`` for a period not ended);
- ``GET /ops/tenants/{t}/reports/{refunds|crm|logistics}?period=…&day=…&format=json|csv``;
- ``GET /ops/tenants/{t}/reports/customers/{email}?format=json|csv``: one customer's orders;
- ``POST /ops/tenants/{t}/orders/{o}/history-email``: the customer's order history, mailed to
  the address on that order (429 when it went too recently).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import (
    BadRequestError,
    NotFoundError,
    ServiceError,
)

from functions.api.composition import services
from functions.reports.domain.periods import Period, parse_period

if TYPE_CHECKING:
    # The reports' use cases (and the e-mail templates behind them) load on a report route.
    from functions.reports.use_cases.records import TableReport

REPORTS = "/ops/tenants/<tenant>/reports"


def register(app: APIGatewayHttpResolver, authorize: Callable[[str, str], str]) -> None:
    def period() -> Period:
        query = app.current_event
        try:
            return parse_period(
                query.get_query_string_value("period"), query.get_query_string_value("day")
            )
        except ValueError as invalid:
            raise BadRequestError(str(invalid)) from None

    def answer(report: TableReport) -> Response[str] | dict[str, Any]:
        fmt = app.current_event.get_query_string_value("format", "json") or "json"
        if fmt == "csv":
            return Response(
                status_code=HTTPStatus.OK,
                content_type="text/csv; charset=utf-8",
                body=report.csv,
            )
        if fmt != "json":
            raise BadRequestError("format is json or csv")
        return {
            "title": report.title,
            "count": report.rows,
            "counts": report.counts,
            **({"breakdown": report.breakdown} if report.breakdown else {}),
            "rows": list(csv.DictReader(io.StringIO(report.csv))),
        }

    def known_tenant(tenant: str) -> None:
        if services().tenants().get(tenant) is None:
            raise NotFoundError(f"tenant {tenant!r} has no settings")

    def summary(tenant: str) -> dict[str, Any]:
        authorize(tenant, "view reports")
        known_tenant(tenant)
        from functions.reports.domain.summary import summary_json
        from functions.reports.use_cases.summary import business_summary

        chosen = period()
        return summary_json(
            business_summary(services().reports(), tenant, chosen.kind, chosen.first)
        )

    def table(tenant: str, name: str) -> Response[str] | dict[str, Any]:
        authorize(tenant, "view reports")
        from functions.reports.use_cases.records import TABLE_REPORTS, table_report

        if name not in TABLE_REPORTS:
            raise NotFoundError(f"no report {name!r} (known: summary, {', '.join(TABLE_REPORTS)})")
        known_tenant(tenant)
        return answer(table_report(services().reports(), tenant, name, period()))

    def customer(tenant: str, email: str) -> Response[str] | dict[str, Any]:
        authorize(tenant, "view reports")
        known_tenant(tenant)
        from functions.reports.use_cases.records import customer_history

        address = unquote(email)
        report = customer_history(services().reports(), tenant, address)
        if not report.rows:
            raise NotFoundError(
                f"nothing found: no order placed with the e-mail {address.lower()!r} "
                f"for tenant {tenant!r}"
            )
        return answer(report)

    def history_email(tenant: str, order_id: str) -> tuple[dict[str, Any], int]:
        who = authorize(tenant, "mail order history")
        known_tenant(tenant)
        from functions.reports.use_cases.history_mail import (
            HistoryRefused,
            TooSoon,
            mail_order_history,
        )

        try:
            sent = mail_order_history(services().reports(), tenant, order_id, by=who)
        except LookupError as missing:
            raise NotFoundError(str(missing)) from None
        except TooSoon as soon:
            raise ServiceError(HTTPStatus.TOO_MANY_REQUESTS, str(soon)) from None
        except HistoryRefused as refused:
            raise ServiceError(HTTPStatus.CONFLICT, str(refused)) from None
        return sent, HTTPStatus.ACCEPTED

    # Registered by call: Powertools' decorator is untyped, and would untype the functions.
    app.get(f"{REPORTS}/summary")(summary)
    app.get(f"{REPORTS}/customers/<email>")(customer)
    app.get(f"{REPORTS}/<name>")(table)
    app.post("/ops/tenants/<tenant>/orders/<order_id>/history-email")(history_email)
