"""The operator API: what the managed-services team and client teams do to one tenant's orders.

Every route is behind the HTTP API's JWT authorizer, which has checked the token's signature,
issuer, audience and expiry before we are called; what it cannot check is *which tenants* the
caller may touch. That is the ``ecomops:tenants`` claim (space- or comma-separated ids, ``*``
for the managed-services team), compared with the tenant in the path before anything is read,
so a caller learns nothing about another tenant's orders, not even whether one exists.

Environment: ``TABLE_NAME``; ``LIFECYCLE_STATE_MACHINE`` (cancel stops the lifecycle),
``REFUND_STATE_MACHINE`` (refunds), ``LIFECYCLE_SECONDS_PER_DAY``, ``TENANT_SECRET_PREFIX``.
"""

import json
import re
import threading
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, TypeVar

from shared.coldstart import imports_without_gc, package_without_init

package_without_init("aws_lambda_powertools.event_handler")
with imports_without_gc():
    from aws_lambda_powertools.event_handler import content_types
    from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver, Response
    from aws_lambda_powertools.event_handler.exceptions import (
        BadRequestError,
        ForbiddenError,
        NotFoundError,
        ServiceError,
        UnauthorizedError,
    )
    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from pydantic import (
        BaseModel,
        ConfigDict,
        Field,
        StringConstraints,
        ValidationError,
        model_validator,
    )

    from functions.api.composition import services
    from functions.orders.errors import OperationRefused, ReturnInvalid, ReturnRefused
    from functions.risk.domain.errors import RulesetInvalid, VersionConflict
    from shared.observability import logger
    from shared.refund_causes import RefundCause
    from shared.tenants import TenantSettings

if TYPE_CHECKING:
    from functions.orders.ports import Ports
    from functions.risk.use_cases.management import RiskAdmin

TENANTS_CLAIM = "ecomops:tenants"
ALL_TENANTS = "*"
_SEPARATORS = re.compile(r"[\s,]+")

app = APIGatewayHttpResolver()

# -- request bodies ------------------------------------------------------------------------------

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class _Body(BaseModel):
    # Strict: "amount": "10" or a typo'd field is the caller's mistake, not something to guess.
    # defer_build: a request validates one body, so only that body's validator is built (on
    # its first request), not every route's at the cold start.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class Line(_Body):
    line_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    # Absent: the whole line (what ``refunds.amount_for_lines`` does with it).
    quantity: int | None = Field(default=None, ge=1)


class CancelBody(_Body):
    reason: Text


class RefundBody(_Body):
    amount: int | None = Field(default=None, gt=0, description="minor units")
    lines: list[Line] | None = Field(default=None, min_length=1)
    # The operator's reason, in Stripe's words; it names the refund's cause
    # (functions.orders.contracts.OPERATOR_REFUND_CAUSES), which decides what the gateway and
    # the customer are told: ``fraudulent`` reaches Stripe only under the tenant's policy.
    reason: Literal["requested_by_customer", "duplicate", "fraudulent"] = "requested_by_customer"
    # Part of the refund's execution name, so a retried request is the same refund.
    refund_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,40}$")

    @model_validator(mode="after")
    def _amount_or_lines(self) -> "RefundBody":
        if (self.amount is None) == (self.lines is None):
            raise ValueError("give exactly one of 'amount' (minor units) or 'lines'")
        return self


class ReturnBody(_Body):
    lines: list[Line] = Field(min_length=1)
    reason: Text


class InspectionBody(_Body):
    outcome: Literal["accept", "partial", "reject"]
    # partial: the lines (and quantities) accepted, or an amount; reject and partial: why.
    lines: list[Line] | None = Field(default=None, min_length=1)
    amount: int | None = Field(default=None, gt=0, description="minor units")
    reason: Text | None = None


class ReviewBody(_Body):
    decision: Literal["approve", "reject"]


class ClaimBody(_Body):
    """What the carrier answered to a claim (or its withdrawal), with its claim reference."""

    status: Literal["accepted", "rejected", "paid", "withdrawn"]
    reference: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = None
    amount_paid: int | None = Field(default=None, gt=0, description="minor units")
    note: Text | None = None


class CallOutcomeBody(_Body):
    outcome: Literal["reached-confirmed", "reached-declined", "no-answer"]
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


Body = TypeVar("Body", bound=_Body)


def _body(model: type[Body]) -> Body:
    try:
        document = json.loads(app.current_event.decoded_body or "")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequestError("the body must be a JSON object") from None
    if not isinstance(document, dict):
        raise BadRequestError("the body must be a JSON object")
    try:
        return model.model_validate(document)
    except ValidationError as invalid:
        raise BadRequestError(_explain(invalid)) from None


def _explain(invalid: ValidationError) -> str:
    problems = []
    for error in invalid.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)


# -- who is asking -------------------------------------------------------------------------------


def allowed_tenants(claim: Any) -> set[str]:
    """The tenants a ``ecomops:tenants`` claim grants.

    API Gateway hands a JWT array claim to Lambda flattened as ``"[a b]"``; a string claim
    arrives as it was. Both spellings, and a real list, read the same.
    """
    if isinstance(claim, list):
        values = [str(v) for v in claim]
    elif isinstance(claim, str):
        values = _SEPARATORS.split(claim.strip().removeprefix("[").removesuffix("]"))
    else:
        return set()
    return {v for v in values if v}


def _authorize(tenant: str, action: str) -> str:
    """Who is asking (``email`` or ``sub``), once the token's claims grant ``tenant``."""
    claims = app.current_event.request_context.authorizer.jwt_claim
    who = str(claims.get("email") or claims.get("sub") or "")
    if not claims or not who:
        raise UnauthorizedError("a bearer token with the caller's claims is required")
    logger.append_keys(tenant=tenant, by=who, action=action)
    allowed = allowed_tenants(claims.get(TENANTS_CLAIM))
    if ALL_TENANTS not in allowed and tenant not in allowed:
        logger.warning("tenant not granted", extra={"granted": sorted(allowed)})
        raise ForbiddenError(
            f"your token does not grant tenant {tenant!r} (claim {TENANTS_CLAIM!r})"
        )
    return who


def _operations() -> Any:
    """The orders context's public use cases, loaded on the first orders route only."""
    from functions.orders.use_cases import operations

    return operations


def _operator_cause(reason: str) -> RefundCause:
    from functions.orders.contracts import OPERATOR_REFUND_CAUSES

    return OPERATOR_REFUND_CAUSES[reason]


def _orders() -> "Ports":
    """The orders context's ports, on this deployment's table and state machines."""
    return services().orders()


def _require_order(tenant: str, order_id: str) -> None:
    _, version = services().order_store().load(tenant, order_id)
    if version == 0:
        raise NotFoundError(f"order {order_id!r} is not known for tenant {tenant!r}")


def _conflict(message: str) -> ServiceError:
    return ServiceError(HTTPStatus.CONFLICT, message)


def _refused(refused: OperationRefused) -> NoReturn:
    logger.info("operation refused", extra={"refusal": str(refused)})
    raise _conflict(str(refused))


def _return_refused(refused: ReturnRefused) -> Response[str]:
    """409 (or 400 for a request that can never be right), naming the line and the reason."""
    status = HTTPStatus.BAD_REQUEST if isinstance(refused, ReturnInvalid) else HTTPStatus.CONFLICT
    logger.info("return refused", extra={"refusal": str(refused)})
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(
            {
                "statusCode": status.value,
                "message": str(refused),
                "line": refused.line,
                "reason": refused.reason,
            }
        ),
    )


def _stale(conflict: VersionConflict) -> NoReturn:
    raise _conflict(str(conflict))


def _invalid_rules(invalid: RulesetInvalid) -> NoReturn:
    raise BadRequestError("the ruleset was not saved: " + "; ".join(invalid.errors))


# Registered by call: Powertools' decorator is untyped, and would untype the function for mypy.
app.exception_handler(OperationRefused)(_refused)
app.exception_handler(ReturnRefused)(_return_refused)
app.exception_handler(VersionConflict)(_stale)
app.exception_handler(RulesetInvalid)(_invalid_rules)


def _json_document() -> Any:
    try:
        return json.loads(app.current_event.decoded_body or "")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequestError("the body must be JSON") from None


def _expected_version() -> int | None:
    """``If-Match: <version>`` makes a change conditional on the version the caller read."""
    value = app.current_event.headers.get("if-match")
    if value is None:
        return None
    try:
        return int(value.strip().strip('"'))
    except ValueError:
        raise BadRequestError("If-Match must be the version number you read") from None


def _tenant_settings(tenant: str) -> TenantSettings:
    settings = services().tenants().get(tenant)
    if settings is None:
        raise NotFoundError(f"tenant {tenant!r} has no settings")
    return settings


def _risk() -> "RiskAdmin":
    # The rule engine (CEL, signal tables) loads only for the risk routes, not for every call.
    return services().risk()


# -- routes --------------------------------------------------------------------------------------

ORDER = "/ops/tenants/<tenant>/orders/<order_id>"


@app.get(ORDER)
def get_order(tenant: str, order_id: str) -> dict[str, Any]:
    _authorize(tenant, "view")
    from functions.webhooks.use_cases.views import order_view

    view = order_view(services().order_store(), tenant, order_id)
    if view is None:
        raise NotFoundError(f"order {order_id!r} is not known for tenant {tenant!r}")
    lifecycle = services().lifecycle()
    return {
        **view,
        "stage": lifecycle.stage(tenant, order_id),
        "screening": lifecycle.screening(tenant, order_id),
        "claims": lifecycle.claims(tenant, order_id),
        # A review hold: its call task and the calls' outcomes (the call task links here).
        "review": lifecycle.review(tenant, order_id),
    }


@app.post(f"{ORDER}/cancel")
def cancel(tenant: str, order_id: str) -> dict[str, Any]:
    who = _authorize(tenant, "cancel")
    body = _body(CancelBody)
    _require_order(tenant, order_id)
    # The reason is what the lifecycle records (stage detail, execution stop cause): the
    # operator's name travels with it, since cancel_order takes no separate author.
    result: dict[str, Any] = _operations().cancel_order(
        _orders(), tenant, order_id, f"{body.reason} (by {who})"
    )
    logger.info("order cancelled", extra={"order_id": order_id, "refund_due": result["refund_due"]})
    return result


@app.post(f"{ORDER}/refunds")
def refund(tenant: str, order_id: str) -> tuple[dict[str, Any], int]:
    _authorize(tenant, "refund")
    body = _body(RefundBody)
    _require_order(tenant, order_id)
    result = _operations().request_refund(
        _orders(),
        tenant,
        order_id,
        amount=body.amount,
        lines=[line.model_dump(exclude_none=True) for line in body.lines] if body.lines else None,
        cause=_operator_cause(body.reason),
        refund_id=body.refund_id,
    )
    # request_refund has no author field: the log line is the record of who asked.
    logger.info(
        "refund requested",
        extra={"order_id": order_id, "refund_id": result["refund_id"], "amount": body.amount},
    )
    if not result["started"]:
        # The same request again (a retry, a double click): it exists, nothing new started.
        return {"refund_id": result["refund_id"], "started": False, "exists": True}, HTTPStatus.OK
    return {"refund_id": result["refund_id"], "started": True}, HTTPStatus.ACCEPTED


@app.post(f"{ORDER}/returns")
def open_return(tenant: str, order_id: str) -> tuple[dict[str, Any], int]:
    who = _authorize(tenant, "return")
    body = _body(ReturnBody)
    _require_order(tenant, order_id)
    result = _operations().open_return(
        _orders(),
        tenant,
        order_id,
        [line.model_dump(exclude_none=True) for line in body.lines],
        body.reason,
        by=who,
    )
    logger.info("return opened", extra={"order_id": order_id, "return": result})
    return result, HTTPStatus.CREATED


@app.get(f"{ORDER}/returns")
def list_returns(tenant: str, order_id: str) -> dict[str, Any]:
    _authorize(tenant, "view")
    _require_order(tenant, order_id)
    from functions.orders.use_cases.returns import returns_of

    return {"order_id": order_id, "returns": returns_of(_orders(), tenant, order_id)}


@app.post(f"{ORDER}/returns/<return_id>/inspection")
def inspect_return(tenant: str, order_id: str, return_id: str) -> dict[str, Any]:
    who = _authorize(tenant, "inspect_return")
    body = _body(InspectionBody)
    _require_order(tenant, order_id)
    result: dict[str, Any] = _operations().inspect_return(
        _orders(),
        tenant,
        order_id,
        return_id,
        body.outcome,
        by=who,
        lines=[line.model_dump(exclude_none=True) for line in body.lines] if body.lines else None,
        amount=body.amount,
        reason=body.reason,
    )
    return result


@app.post(f"{ORDER}/review")
def review(tenant: str, order_id: str) -> dict[str, Any]:
    who = _authorize(tenant, "review")
    body = _body(ReviewBody)
    _require_order(tenant, order_id)
    return decide(tenant, order_id, body.decision, who)


@app.post(f"{ORDER}/review/call")
def call_outcome(tenant: str, order_id: str) -> tuple[dict[str, Any], int]:
    """What came of calling a held order's customer: kept with the review, on the timeline."""
    who = _authorize(tenant, "review")
    body = _body(CallOutcomeBody)
    _require_order(tenant, order_id)
    result: dict[str, Any] = _operations().record_call_outcome(
        _orders(), tenant, order_id, body.outcome, body.note, who
    )
    logger.info("call recorded", extra={"order_id": order_id, "outcome": body.outcome})
    return result, HTTPStatus.CREATED


def decide(tenant: str, order_id: str, decision: str, by: str) -> dict[str, Any]:
    """Resume the order's review wait; a 409 when no review waits (decided, timed out)."""
    result = _operations().decide_review(_orders(), tenant, order_id, decision, by)
    logger.info("review decided", extra={"order_id": order_id, "decision": decision, **result})
    if not result.get("resumed"):
        raise _conflict(
            result.get("reason")
            or "the review is no longer waiting (it timed out or was decided already)"
        )
    return {"order_id": order_id, "decision": decision, **result}


@app.get(f"{ORDER}/claims")
def order_claims(tenant: str, order_id: str) -> dict[str, Any]:
    _authorize(tenant, "view")
    _require_order(tenant, order_id)
    return {"order_id": order_id, "claims": _operations().claims(_orders(), tenant, order_id)}


@app.post(f"{ORDER}/claims/<parcel>")
def record_claim(tenant: str, order_id: str, parcel: str) -> dict[str, Any]:
    """Record the carrier's answer to one parcel's claim; ``If-Match: <version>`` makes it
    conditional on the version the operator read."""
    who = _authorize(tenant, "claim")
    body = _body(ClaimBody)
    _require_order(tenant, order_id)
    claim: dict[str, Any] = _operations().record_claim(
        _orders(),
        tenant,
        order_id,
        parcel,
        body.status,
        by=who,
        reference=body.reference,
        amount_paid=body.amount_paid,
        note=body.note,
        expected_version=_expected_version(),
    )
    logger.info(
        "claim recorded",
        extra={"order_id": order_id, "parcel": parcel, "status": body.status},
    )
    return claim


@app.get("/ops/tenants/<tenant>/claims")
def open_claims(tenant: str) -> dict[str, Any]:
    _authorize(tenant, "view")
    return {"claims": _operations().open_claims(_orders(), tenant)}


# -- review queue and risk management ------------------------------------------------------------

RISK = "/ops/tenants/<tenant>/risk"


@app.get("/ops/tenants/<tenant>/reviews")
def reviews(tenant: str) -> dict[str, Any]:
    """Orders held as potential fraud, oldest first, with their reasons and age."""
    _authorize(tenant, "view")
    from functions.risk.use_cases.review_queue import review_queue

    found = services()
    queue = review_queue(found.lifecycle(), found.order_store(), tenant, found.clock.now())
    return {"tenant": tenant, "count": len(queue), "orders": queue}


@app.get(f"{RISK}/rules/<category>")
def get_rules(tenant: str, category: str) -> dict[str, Any]:
    _authorize(tenant, "view")
    try:
        stored = _risk().rules(tenant, category)
    except ValueError as error:
        raise BadRequestError(str(error)) from None
    if stored is None:
        raise NotFoundError(
            f"no rules saved for {tenant!r} category {category!r}: the built-in default applies"
        )
    return {
        "category": category,
        "version": stored.version,
        "saved_by": stored.saved_by,
        "saved_at": stored.saved_at,
        "ruleset": stored.body,
    }


@app.put(f"{RISK}/rules/<category>")
def put_rules(tenant: str, category: str) -> tuple[dict[str, Any], int]:
    who = _authorize(tenant, "change rules")
    document = _json_document()
    if not isinstance(document, dict):
        raise BadRequestError("the body must be a ruleset: an object with rules")
    try:
        stored = _risk().save_rules(tenant, category, document, who, _expected_version())
    except RulesetInvalid:
        raise
    except ValueError as error:
        raise BadRequestError(str(error)) from None
    logger.info("rules saved", extra={"category": category, "version": stored.version})
    return {"category": category, "version": stored.version, "saved_by": who}, HTTPStatus.CREATED


@app.get(f"{RISK}/lists")
def get_lists(tenant: str) -> dict[str, Any]:
    _authorize(tenant, "view")
    version, lists = _risk().lists(_tenant_settings(tenant))
    return {"version": version, **lists.model_dump(mode="json")}


@app.post(f"{RISK}/lists")
def change_lists(tenant: str) -> dict[str, Any]:
    who = _authorize(tenant, "change lists")
    from functions.risk.domain.lists import parse_list_changes

    try:
        changes = parse_list_changes(_json_document())
        stored = _risk().change_lists(_tenant_settings(tenant), changes, who, _expected_version())
    except VersionConflict:
        raise
    except ValueError as error:
        raise BadRequestError(f"the lists were not changed: {error}") from None
    logger.info("lists changed", extra={"version": stored.version, "changes": stored.change})
    return {"version": stored.version, **stored.body}


@app.get(f"{RISK}/audit")
def audit(tenant: str) -> dict[str, Any]:
    _authorize(tenant, "view")
    entries = _risk().audit(tenant)
    return {
        "tenant": tenant,
        "changes": [
            {
                "subject": e.subject,
                "version": e.version,
                "who": e.who,
                "when": e.when,
                "before": e.before,
                "after": e.after,
                "change": e.change,
            }
            for e in reversed(entries)
        ],
    }


# -- reconciliation -------------------------------------------------------------------------------


@app.get("/ops/tenants/<tenant>/reconciliation/breaks")
def reconciliation_breaks(tenant: str) -> dict[str, Any]:
    """Open breaks (``?status=closed`` for resolved ones), P1 first, oldest first."""
    _authorize(tenant, "view")
    status = app.current_event.get_query_string_value("status", "open") or "open"
    if status not in ("open", "closed"):
        raise BadRequestError("status is open or closed")
    found = services().breaks().breaks(tenant, status)
    found.sort(key=lambda b: (b.priority.value, -b.age_days, b.break_class.value, b.break_id))
    return {
        "tenant": tenant,
        "status": status,
        "count": len(found),
        "breaks": [services().break_json(b) for b in found],
    }


@app.get("/ops/tenants/<tenant>/reconciliation/bank-files")
def bank_files(tenant: str) -> dict[str, Any]:
    """Bank files received, newest first, with quarantined lines and control checks."""
    _authorize(tenant, "view")
    return {"tenant": tenant, "files": services().bank_files().files(tenant)}


class _Helpers:
    """What the routes of other contexts (``functions/api/routes/``) borrow from this module."""

    authorize = staticmethod(_authorize)
    body = staticmethod(_body)
    conflict = staticmethod(_conflict)


def _register_disputes() -> None:
    from functions.api.routes import disputes

    disputes.register(app, _Helpers())


def _register_queries() -> None:
    from functions.api.routes import queries

    queries.register(app, _authorize, _body, _tenant_settings)


def _register_reports() -> None:
    from functions.api.routes import reports

    reports.register(app, _authorize)


def _register_payouts() -> None:
    from functions.api.routes import payouts

    payouts.register(
        payouts.Helpers(app, _authorize, _body, _json_document, _tenant_settings, _conflict)
    )


# The routes of the contexts added since live in a module each (``functions/api/routes/``),
# under their own segment of the tenant's path. Each is imported and registered on the first
# request under its segment: most cold starts answer a request about an order and pay for none
# of them (their modules, their models and one regular expression a route).
_ROUTE_GROUPS: dict[str, Callable[[], None]] = {
    "disputes": _register_disputes,
    "queries": _register_queries,
    "reports": _register_reports,
    "payouts": _register_payouts,
}
_GROUP_SEGMENT = re.compile(r"/ops/tenants/[^/]+/([^/]+)")
# The local stack may run requests of one function on several threads: none resolves before
# the routes of its segment are all registered.
_REGISTERING = threading.Lock()


def _register_routes_for(path: str) -> None:
    if not _ROUTE_GROUPS:  # every group registered: nothing to look for
        return
    found = _GROUP_SEGMENT.search(path)
    if found is None or found.group(1) not in _ROUTE_GROUPS:
        return
    with _REGISTERING:
        register = _ROUTE_GROUPS.pop(found.group(1), None)
        if register is not None:
            register()


@logger.inject_lambda_context(
    correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _register_routes_for(str(event.get("rawPath") or event.get("path") or ""))
    return app.resolve(event, context)
