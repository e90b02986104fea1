"""Operator API routes of vendor payouts (``functions/payouts``), tenant-scoped like the
others: vendors (versions), balances, entries and adjustments; cycles (run now, show,
confirm). Registered by ``functions/api/handlers/operator.py``; errors answer in its words."""

from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, NoReturn

from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from functions.api.composition import services
from shared.money import Currency

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver

    from shared.tenants import TenantSettings

VENDORS = "/ops/tenants/<tenant>/payouts/vendors"
CYCLES = "/ops/tenants/<tenant>/payouts/cycles"
HOLDS = "/ops/tenants/<tenant>/payouts/holds"
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class _Body(BaseModel):
    # As operator.py's bodies: strict, and a typo'd field is the caller's mistake.
    # defer_build: a request validates one body, so only that body's validator is built (on
    # its first request), not every route's at the cold start.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class Helpers(NamedTuple):
    """operator.py's helpers, handed over when it registers these routes (importing it from
    here would make the api's packages import each other)."""

    app: "APIGatewayHttpResolver"
    authorize: Callable[[str, str], str]
    body: Callable[[type[Any]], Any]
    json_document: Callable[[], Any]
    tenant_settings: "Callable[[str], TenantSettings]"
    conflict: Callable[[str], Exception]


class AdjustmentBody(_Body):
    adjustment_id: Id
    amount: int = Field(description="minor units; negative takes from the vendor")
    currency: Currency
    reason: Text


class FailedLine(_Body):
    currency: Currency
    vendor_id: Id
    reason: Text


class ConfirmBody(_Body):
    failed: list[FailedLine] = Field(default_factory=list)


class HoldDecisionBody(_Body):
    decision: Annotated[str, StringConstraints(pattern=r"^(release|void)$")]
    reason: Text
    line_ids: list[Id] = Field(default_factory=list, description="none: every open hold")


def _ports() -> Any:
    """The payouts ports of this deployment (its table, reports bucket and mailer: the
    payouts composition reads them), on the API's clock."""
    from functions.payouts.composition import ports_from_env

    return ports_from_env(services().clock)


def _refused(refused: Exception) -> NoReturn:
    from functions.payouts.domain.postings import Refused

    if isinstance(refused, Refused):
        raise BadRequestError("; ".join(refused.reasons))
    raise BadRequestError(str(refused))


def _vendor_json(version: Any) -> dict[str, Any]:
    return {
        **version.vendor.model_dump(mode="json"),
        "version": version.version,
        "saved_by": version.saved_by,
        "saved_at": version.saved_at.isoformat(),
        "changed": list(version.changed),
    }


def _missing(error: LookupError) -> NoReturn:
    raise NotFoundError(str(error))


def register(h: Helpers) -> None:
    """Adds the payouts routes to the operator API."""
    app = h.app

    # -- vendors ---------------------------------------------------------------------------

    @app.get(VENDORS)
    def list_vendors(tenant: str) -> dict[str, Any]:
        h.authorize(tenant, "view")
        versions = _ports().vendors.current(tenant)
        return {"tenant": tenant, "vendors": [_vendor_json(v) for v in versions]}

    @app.get(f"{VENDORS}/<vendor_id>")
    def get_vendor(tenant: str, vendor_id: str) -> dict[str, Any]:
        h.authorize(tenant, "view")
        versions = _ports().vendors.versions(tenant, vendor_id)
        if not versions:
            raise NotFoundError(f"no vendor {vendor_id!r} for {tenant}")
        return {**_vendor_json(versions[-1]), "history": [_vendor_json(v) for v in versions[:-1]]}

    @app.put(f"{VENDORS}/<vendor_id>")
    def put_vendor(tenant: str, vendor_id: str) -> tuple[dict[str, Any], int]:
        who = h.authorize(tenant, "change vendors")
        from functions.payouts.domain.postings import Refused
        from functions.payouts.domain.vendors import VersionConflict
        from functions.payouts.use_cases.vendors import save_vendor

        document = h.json_document()
        if not isinstance(document, dict):
            raise BadRequestError("the body must be a vendor: a JSON object")
        if document.setdefault("vendor_id", vendor_id) != vendor_id:
            raise BadRequestError("vendor_id in the body is not the one in the path")
        try:
            saved = save_vendor(_ports(), tenant, document, who)
        except Refused as refused:
            _refused(refused)
        except VersionConflict as conflict:
            raise h.conflict(str(conflict)) from None
        return _vendor_json(saved), HTTPStatus.CREATED

    @app.get(f"{VENDORS}/<vendor_id>/balances")
    def vendor_balances(tenant: str, vendor_id: str) -> dict[str, Any]:
        h.authorize(tenant, "view")
        from functions.payouts.use_cases.ledger import balances
        from functions.payouts.use_cases.vendors import VendorNotFound

        try:
            return {
                "tenant": tenant,
                "vendor_id": vendor_id,
                "balances": balances(_ports(), tenant, vendor_id),
            }
        except VendorNotFound as missing:
            _missing(missing)

    @app.get(f"{VENDORS}/<vendor_id>/entries")
    def vendor_entries(tenant: str, vendor_id: str) -> dict[str, Any]:
        """The vendor's ledger entries, oldest first (``?since=<ISO time>``)."""
        h.authorize(tenant, "view")
        from functions.payouts.use_cases.ledger import entries

        since_text = app.current_event.get_query_string_value("since", None)
        try:
            since = datetime.fromisoformat(since_text) if since_text else None
        except ValueError:
            raise BadRequestError("since is an ISO 8601 time with its offset") from None
        if since is not None and since.tzinfo is None:
            raise BadRequestError("since is an ISO 8601 time with its offset")
        found = entries(_ports(), tenant, vendor_id, since)
        return {"tenant": tenant, "vendor_id": vendor_id, "count": len(found), "entries": found}

    @app.post(f"{VENDORS}/<vendor_id>/adjustments")
    def vendor_adjustment(tenant: str, vendor_id: str) -> tuple[dict[str, Any], int]:
        who = h.authorize(tenant, "adjust a vendor's balance")
        from functions.payouts.domain.postings import Refused
        from functions.payouts.use_cases.ledger import adjust
        from functions.payouts.use_cases.vendors import VendorNotFound

        body = h.body(AdjustmentBody)
        try:
            done = adjust(
                _ports(),
                tenant,
                vendor_id,
                adjustment_id=body.adjustment_id,
                amount=body.amount,
                currency=body.currency,
                reason=body.reason,
                who=who,
            )
        except Refused as refused:
            _refused(refused)
        except VendorNotFound as missing:
            _missing(missing)
        return done, HTTPStatus.CREATED if done["posted"] else HTTPStatus.OK

    # -- cycles ----------------------------------------------------------------------------

    def _cycle_json(cycle: Any, lines: list[Any] | None = None) -> dict[str, Any]:
        found: dict[str, Any] = cycle.model_dump(mode="json")
        if lines is not None:
            found["lines"] = [line.model_dump(mode="json") for line in lines]
        return found

    @app.get(CYCLES)
    def list_cycles(tenant: str) -> dict[str, Any]:
        h.authorize(tenant, "view")
        return {
            "tenant": tenant,
            "cycles": [_cycle_json(c) for c in _ports().cycles.recent(tenant)],
        }

    @app.post(CYCLES)
    def run_cycle_now(tenant: str) -> tuple[dict[str, Any], int]:
        """Runs the cycle of the latest cut-off now (or returns it when it ran already)."""
        h.authorize(tenant, "run a payout cycle")
        from functions.payouts.use_cases.cycles import run_cycle, show
        from functions.payouts.use_cases.outputs import send_outputs

        settings = h.tenant_settings(tenant)
        ports = _ports()
        cycle = run_cycle(
            ports, settings, send=lambda c, lines: send_outputs(ports, settings, c, lines)
        )
        _, lines = show(ports, tenant, cycle.cycle_id)
        return _cycle_json(cycle, lines), HTTPStatus.CREATED

    @app.get(f"{CYCLES}/<cycle_id>")
    def get_cycle(tenant: str, cycle_id: str) -> dict[str, Any]:
        h.authorize(tenant, "view")
        from functions.payouts.use_cases.cycles import CycleNotFound, show

        try:
            cycle, lines = show(_ports(), tenant, cycle_id)
        except CycleNotFound as missing:
            _missing(missing)
        return _cycle_json(cycle, lines)

    @app.post(f"{CYCLES}/<cycle_id>/confirm")
    def confirm_cycle(tenant: str, cycle_id: str) -> dict[str, Any]:
        """Finance's answer: every payable line paid, except the ``failed`` ones."""
        who = h.authorize(tenant, "confirm a payout cycle")
        from functions.payouts.domain.postings import Refused
        from functions.payouts.use_cases.cycles import CycleNotFound, confirm, show

        body = h.body(ConfirmBody)
        ports = _ports()
        failed = {(f.currency, f.vendor_id): f.reason for f in body.failed}
        try:
            cycle = confirm(ports, tenant, cycle_id, who, failed)
        except CycleNotFound as missing:
            _missing(missing)
        except Refused as refused:
            _refused(refused)
        return _cycle_json(cycle, show(ports, tenant, cycle_id)[1])

    _register_holds(h)


def _register_holds(h: Helpers) -> None:
    """Held order lines (parcels not delivered, reshipped) and operators' decisions."""
    app = h.app

    @app.get(HOLDS)
    def list_holds(tenant: str) -> dict[str, Any]:
        """The tenant's held lines (``?status=open|released|voided``; open by default)."""
        h.authorize(tenant, "view")
        from functions.payouts.domain.parcels import HoldStatus

        wanted = app.current_event.get_query_string_value("status", HoldStatus.OPEN.value)
        try:
            status = HoldStatus(wanted)
        except ValueError:
            raise BadRequestError("status is open, released or voided") from None
        holds = _ports().holds.held(tenant, status)
        return {"tenant": tenant, "holds": [x.model_dump(mode="json") for x in holds]}

    @app.get(f"{HOLDS}/<order_id>")
    def order_holds(tenant: str, order_id: str) -> dict[str, Any]:
        h.authorize(tenant, "view")
        from functions.payouts.use_cases.holds import holds_of

        found = holds_of(_ports(), tenant, order_id)
        if not found:
            raise NotFoundError(f"order {order_id!r} holds no line")
        return {
            "tenant": tenant,
            "order_id": order_id,
            "holds": [x.model_dump(mode="json") for x in found],
        }

    @app.post(f"{HOLDS}/<order_id>/decision")
    def decide_holds(tenant: str, order_id: str) -> dict[str, Any]:
        """Release or void the order's held lines (``line_ids``, or every open one); who is
        the caller."""
        who = h.authorize(tenant, "decide on held vendor lines")
        from functions.payouts.domain.postings import Refused
        from functions.payouts.use_cases.holds import NoHolds, decide

        body = h.body(HoldDecisionBody)
        try:
            moved = decide(
                _ports(),
                h.tenant_settings(tenant),
                order_id,
                body.decision,
                reason=body.reason,
                who=who,
                line_ids=body.line_ids,
            )
        except NoHolds as missing:
            _missing(missing)
        except Refused as refused:
            _refused(refused)
        return {
            "tenant": tenant,
            "order_id": order_id,
            "holds": [x.model_dump(mode="json") for x in moved],
        }
