"""The chargeback desk's operator routes: cases (open first, by deadline), one case with its
evidence, suggestion and timeline, edits, a new draft, submit, accept; the monthly ratio
report; the dispute register as CSV. Tenant scope, bodies and errors through the operator API's
own helpers, handed over by ``functions/api/handlers/operator.py`` when it registers these
routes (``register``): this module does not import the handler, so the packages stay acyclic."""

import re
from datetime import date
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, Protocol

from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from functions.disputes.errors import (
    CaseNotFound,
    CaseRefused,
    EvidenceRefused,
    SubmissionRefused,
)
from shared.observability import logger

if TYPE_CHECKING:
    from functions.disputes.ports import Ports

CASES = "/ops/tenants/<tenant>/disputes"
CASE = f"{CASES}/<dispute_id>"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class _Body(BaseModel):
    # As the operator API's bodies: strict, nothing unknown.
    # defer_build: a request validates one body, so only that body's validator is built (on
    # its first request), not every route's at the cold start.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class Helpers(Protocol):
    """What the operator API lends its routes."""

    def authorize(self, tenant: str, action: str) -> str: ...
    def body(self, model: Any) -> Any:
        """The request's JSON body checked by ``model`` (400 with every reason)."""
        ...

    def conflict(self, message: str) -> Exception: ...


class CaseEdit(_Body):
    """Text evidence fields to set (a value) or clear (null), the assignee, a move."""

    fields: dict[str, Annotated[str, StringConstraints(max_length=150_000)] | None] = Field(
        default_factory=dict
    )
    assignee: Annotated[str, StringConstraints(max_length=200)] | None = None
    unassign: bool = False
    state: Literal["collecting", "ready"] | None = None


def _desk() -> "Ports":
    from functions.disputes.composition import DisputesSettings, ports_for

    return ports_for(DisputesSettings.from_env())


def _case(tenant: str, dispute_id: str) -> Any:
    case = _desk().cases.get(tenant, dispute_id)
    if case is None:
        raise NotFoundError(f"tenant {tenant!r} has no dispute case {dispute_id!r}")
    return case


def _not_found(missing: CaseNotFound) -> NoReturn:
    raise NotFoundError(str(missing))


def _evidence_refused(refused: EvidenceRefused) -> NoReturn:
    raise BadRequestError("the evidence was not changed: " + "; ".join(refused.reasons))


def register(app: APIGatewayHttpResolver, helpers: Helpers) -> None:
    """The desk's routes on the operator API's ``app``."""

    def _case_refused(refused: CaseRefused) -> NoReturn:
        logger.info("dispute case change refused", extra={"reasons": refused.reasons})
        raise helpers.conflict("; ".join(refused.reasons))

    def _submission_refused(refused: SubmissionRefused) -> NoReturn:
        raise helpers.conflict(str(refused))

    app.exception_handler(CaseNotFound)(_not_found)
    app.exception_handler(CaseRefused)(_case_refused)
    app.exception_handler(EvidenceRefused)(_evidence_refused)
    app.exception_handler(SubmissionRefused)(_submission_refused)

    @app.get(CASES)
    def list_cases(tenant: str) -> dict[str, Any]:
        """Open cases first, nearest deadline first (``?status=open|closed|all``, default all)."""
        helpers.authorize(tenant, "view")
        from functions.disputes.domain.register import case_summary, ordered

        status = app.current_event.get_query_string_value("status", "all") or "all"
        if status not in ("open", "closed", "all"):
            raise BadRequestError("status is open, closed or all")
        desk = _desk()
        open_cases = list(desk.cases.cases(tenant, "open")) if status != "closed" else []
        closed = list(desk.cases.cases(tenant, "closed")) if status != "open" else []
        cases = ordered(open_cases, closed)
        return {"tenant": tenant, "count": len(cases), "cases": [case_summary(c) for c in cases]}

    @app.get(f"{CASES}/register.csv")
    def dispute_register(tenant: str) -> Response[str]:
        """Every case as one CSV row, for audits."""
        helpers.authorize(tenant, "view")
        from functions.disputes.domain.register import ordered, register_csv

        desk = _desk()
        cases = ordered(desk.cases.cases(tenant, "open"), desk.cases.cases(tenant, "closed"))
        return Response(
            status_code=HTTPStatus.OK,
            content_type="text/csv",
            body=register_csv(cases),
            headers={"Content-Disposition": f'attachment; filename="disputes-{tenant}.csv"'},
        )

    @app.get(f"{CASES}/ratios")
    def ratios(tenant: str) -> dict[str, Any]:
        """The month's ratios per card brand against the networks' programmes (``?month=YYYY-MM``,
        default this month), projected to the month's end."""
        helpers.authorize(tenant, "view")
        from functions.disputes.domain.register import ratio_json
        from functions.disputes.use_cases.ratios import monthly_ratios

        desk = _desk()
        today = desk.clock.now().date()
        month_text = app.current_event.get_query_string_value("month", today.strftime("%Y-%m"))
        if not month_text or not _MONTH.fullmatch(month_text):
            raise BadRequestError("month is YYYY-MM")
        month = date.fromisoformat(f"{month_text}-01")
        lines = monthly_ratios(desk, tenant, month, today)
        return {
            "tenant": tenant,
            "month": month_text,
            "ratios": [ratio_json(line) for line in lines],
        }

    @app.get(CASE)
    def show_case(tenant: str, dispute_id: str) -> dict[str, Any]:
        helpers.authorize(tenant, "view")
        from functions.disputes.domain.register import case_view

        return case_view(_case(tenant, dispute_id))

    @app.patch(CASE)
    def edit_case(tenant: str, dispute_id: str) -> dict[str, Any]:
        """Edit text evidence fields, (un)assign, move to collecting or ready: each a conditional
        write; every reason at once when refused, nothing half done."""
        who = helpers.authorize(tenant, "edit")
        body: CaseEdit = helpers.body(CaseEdit)
        from functions.disputes.domain.register import case_view
        from functions.disputes.use_cases.cases import assign_case, move_case
        from functions.disputes.use_cases.representment import edit_evidence

        desk = _desk()
        case = _case(tenant, dispute_id)
        if body.fields:
            case = edit_evidence(desk, tenant, dispute_id, dict(body.fields), by=who)
        if body.assignee is not None or body.unassign:
            case = assign_case(
                desk, tenant, dispute_id, None if body.unassign else body.assignee, who
            )
        if body.state is not None:
            case = move_case(desk, tenant, dispute_id, body.state, by=who)
        return case_view(case)

    @app.post(f"{CASE}/draft")
    def redraft(tenant: str, dispute_id: str) -> dict[str, Any]:
        """Draft the evidence again from our records (edited fields are kept)."""
        who = helpers.authorize(tenant, "edit")
        from functions.disputes.domain.register import case_view
        from functions.disputes.use_cases.evidence import draft_evidence

        return case_view(draft_evidence(_desk(), tenant, dispute_id, by=who))

    @app.post(f"{CASE}/submit")
    def submit(tenant: str, dispute_id: str) -> dict[str, Any]:
        """Submit the evidence to Stripe: final."""
        who = helpers.authorize(tenant, "submit")
        from functions.disputes.domain.register import case_view
        from functions.disputes.use_cases.representment import submit_case

        return case_view(submit_case(_desk(), tenant, dispute_id, by=who))

    @app.post(f"{CASE}/accept")
    def accept(tenant: str, dispute_id: str) -> dict[str, Any]:
        """Accept the dispute: Stripe closes it, the cardholder keeps the money."""
        who = helpers.authorize(tenant, "accept")
        from functions.disputes.domain.register import case_view
        from functions.disputes.use_cases.representment import accept_case

        return case_view(accept_case(_desk(), tenant, dispute_id, by=who))
