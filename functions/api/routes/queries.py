"""Operator API: payment and customer queries, and query cases (``functions/reports/queries``),
each behind the operator API's tenant scope (``handlers/operator.py``).

- ``GET  /ops/tenants/{t}/queries/orders?email=…`` (or ``phone=…[&country=GB]``, ``card=…[&bin=…]``,
  ``order=…`` our id, ``number=…`` the shop's order number, ``tracking=…``)
- ``GET  /ops/tenants/{t}/queries/orders/{order}/{question}`` (``charged-twice``,
  ``refund-not-received``, ``failed-but-charged``)
- ``GET  /ops/tenants/{t}/queries/payouts/{payout}``
- ``GET  /ops/tenants/{t}/queries/paid?from=YYYY-MM-DD&to=YYYY-MM-DD``
- ``GET  /ops/tenants/{t}/queries/cases[?status=closed]``, ``POST …/queries/cases``,
  ``POST …/queries/cases/{case}/close``

``register`` adds them to the operator API's resolver with its tenant scope, body parsing and
tenant lookup, so this module never imports the handler (which imports it).
"""

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from functions.api.composition import services

if TYPE_CHECKING:
    from shared.tenants import TenantSettings

QUERIES = "/ops/tenants/<tenant>/queries"
Id = Field(default=None, min_length=1, max_length=200)
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class _Body(BaseModel):
    # Strict, as the operator API's other bodies: a typo'd field is the caller's mistake.
    # defer_build: a request validates one body, so only that body's validator is built (on
    # its first request), not every route's at the cold start.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class CaseBody(_Body):
    question: Text
    payout_id: str | None = Id
    bank_line_id: str | None = Id
    order_id: str | None = Id


class CloseBody(_Body):
    resolution: Text


def register(
    app: APIGatewayHttpResolver,
    authorize: Callable[[str, str], str],
    parse_body: Callable[[Any], Any],
    tenant_settings: "Callable[[str], TenantSettings]",
) -> None:
    """Add the queries' routes to ``app`` (the operator API's ``_authorize``, ``_body`` and
    ``_tenant_settings``). What the routes use is imported on the first call of one: the
    operator API's other routes do not pay for it at a cold start."""

    def _param(name: str) -> str | None:
        value = app.current_event.get_query_string_value(name, None)
        return value.strip() if value and value.strip() else None

    def _day(name: str) -> date:
        value = _param(name)
        if value is None:
            raise BadRequestError(f"{name} (YYYY-MM-DD) is required")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise BadRequestError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None

    @app.get(f"{QUERIES}/orders")
    def find_orders(tenant: str) -> dict[str, Any]:
        """A customer's orders by one identifier: one read of the index, newest first."""
        from functions.reports.queries.use_cases.lookup import find_orders as find
        from shared.order_lookup import LookupKind, Unsearchable

        authorize(tenant, "query")
        given = {kind: _param(kind.value) for kind in LookupKind if _param(kind.value)}
        if len(given) != 1:
            names = ", ".join(k.value for k in LookupKind)
            raise BadRequestError(f"give exactly one of {names}")
        ((kind, value),) = given.items()
        try:
            result = find(
                services().queries().orders(),
                tenant,
                kind,
                str(value),
                country=_param("country"),
                bin_=_param("bin"),
            )
        except Unsearchable as error:
            raise BadRequestError(str(error)) from None
        return result.as_dict()

    @app.get(f"{QUERIES}/orders/<order_id>/<question>")
    def customer_question(tenant: str, order_id: str, question: str) -> dict[str, Any]:
        """Charged twice? Where is my refund? It failed but I was charged? — with the evidence."""
        from functions.reports.queries.use_cases.customer import answer_customer_question
        from shared.order_lookup import Unsearchable

        authorize(tenant, "query")
        queries = services().queries()
        try:
            answer = answer_customer_question(
                queries.orders(), tenant, order_id, question.replace("-", "_"), queries.clock.now()
            )
        except Unsearchable as error:
            raise BadRequestError(str(error)) from None
        return answer.as_dict()

    @app.get(f"{QUERIES}/payouts/<payout_id>")
    def explain_payout(tenant: str, payout_id: str) -> dict[str, Any]:
        """How the bank arrived at the payout's net amount."""
        from functions.reports.queries.use_cases.payments import explain_payout_query

        authorize(tenant, "query")
        queries = services().queries()
        answer = explain_payout_query(
            queries.settlements(),
            queries.settled_payouts(),
            tenant_settings(tenant),
            payout_id,
            queries.clock.now().date(),
        )
        if answer is None:
            raise NotFoundError(f"nothing found: tenant {tenant} has no payout {payout_id!r}")
        return answer.as_dict()

    @app.get(f"{QUERIES}/paid")
    def paid_for_days(tenant: str) -> dict[str, Any]:
        """Have I been paid for days ``from`` to ``to`` (the tenant's local days)?"""
        from functions.reports.queries.use_cases.payments import paid_for_days_query
        from shared.order_lookup import Unsearchable

        authorize(tenant, "query")
        first, last = _day("from"), _day("to")
        queries = services().queries()
        settings = tenant_settings(tenant)
        try:
            answer = paid_for_days_query(
                queries.settlements(),
                queries.settled_payouts(),
                queries.orders(),
                settings,
                first,
                last,
                queries.clock.now().date(),
            )
        except Unsearchable as error:
            raise BadRequestError(str(error)) from None
        return answer.as_dict()

    @app.get(f"{QUERIES}/cases")
    def list_cases(tenant: str) -> dict[str, Any]:
        from functions.reports.queries.domain.cases import CaseStatus

        authorize(tenant, "view")
        status = _param("status") or "open"
        if status not in ("open", "closed"):
            raise BadRequestError("status is open or closed")
        queries = services().queries()
        now = queries.clock.now()
        found = queries.cases().listed(tenant, CaseStatus(status))
        return {"tenant": tenant, "status": status, "cases": [c.as_dict(now) for c in found]}

    @app.post(f"{QUERIES}/cases")
    def open_case(tenant: str) -> tuple[dict[str, Any], int]:
        from functions.reports.queries.domain.cases import CaseLinks, CaseRefused

        who = authorize(tenant, "open query case")
        request: CaseBody = parse_body(CaseBody)
        queries = services().queries()
        links = CaseLinks(
            payout_id=request.payout_id,
            bank_line_id=request.bank_line_id,
            order_id=request.order_id,
        )
        try:
            case, new = queries.cases().open(tenant, request.question, who, links)
        except CaseRefused as error:
            raise BadRequestError(str(error)) from None
        return case.as_dict(queries.clock.now()), 201 if new else 200

    @app.post(f"{QUERIES}/cases/<case_id>/close")
    def close_case(tenant: str, case_id: str) -> dict[str, Any]:
        from functions.reports.queries.domain.cases import CaseRefused

        who = authorize(tenant, "close query case")
        request: CloseBody = parse_body(CloseBody)
        queries = services().queries()
        if queries.cases().get(tenant, case_id) is None:
            raise NotFoundError(f"nothing found: tenant {tenant} has no query case {case_id!r}")
        try:
            closed = queries.cases().close(tenant, case_id, who, request.resolution)
        except CaseRefused as error:
            raise BadRequestError(str(error)) from None
        return closed.as_dict(queries.clock.now())
