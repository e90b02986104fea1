"""The operator API's composition root: its settings, and the stores and use cases' ports it
calls, built once per distinct environment (the local stack and the tests host several
deployments in one process). The operator API sits above the contexts and reaches their use
cases; this is where it gets their adapters."""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from shared.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from functions.orders.ports import Ports
    from functions.reports.ports import Ports as ReportsPorts
    from functions.reports.queries.composition import QueryServices
    from functions.risk.use_cases.management import RiskAdmin
    from shared.lifecycle_store import LifecycleStore
    from shared.order_store import OrderStore
    from shared.signed_links import DynamoLinkLedger
    from shared.tenant_secrets import TenantSecrets
    from shared.tenants import TenantDirectory


class ApiSettings(NamedTuple):
    """Plain and typed, without pydantic: the public links function stays lean."""

    table_name: str
    tenant_secret_prefix: str | None = None

    @classmethod
    def from_env(cls) -> ApiSettings:
        return _parse(os.environ.get("TABLE_NAME", ""), os.environ.get("TENANT_SECRET_PREFIX"))


@cache
def _parse(table: str, prefix: str | None) -> ApiSettings:
    if not table:
        raise ValueError("TABLE_NAME is not set for this function")
    return ApiSettings(table_name=table, tenant_secret_prefix=prefix or None)


class Services:
    """What the handlers use, built on first use."""

    def __init__(self, settings: ApiSettings, clock: Clock = SYSTEM_CLOCK) -> None:
        self.settings = settings
        self.clock = clock

    @property
    def table(self) -> str:
        return self.settings.table_name

    def orders(self) -> Ports:
        from functions.orders.composition import ports_with

        return ports_with(clock=self.clock, table_name=self.table)

    def order_store(self) -> OrderStore:
        from shared.order_store import OrderStore

        return OrderStore(self.table, self.clock)

    def lifecycle(self) -> LifecycleStore:
        from shared.lifecycle_store import LifecycleStore

        return LifecycleStore(self.table, self.clock)

    def tenants(self) -> TenantDirectory:
        from shared.tenants import TenantDirectory

        return TenantDirectory(self.table)

    def reports(self) -> ReportsPorts:
        from functions.reports.composition import ReportsSettings, reports_ports

        return reports_ports(ReportsSettings.from_env(), self.clock)

    def risk(self) -> RiskAdmin:
        from functions.risk.composition import build_admin

        return build_admin(self.table, self.clock)

    def breaks(self) -> Any:
        from functions.reconcile.adapters.break_store import BreakStore

        return BreakStore(self.table, self.clock)

    def break_json(self, brk: Any) -> dict[str, Any]:
        """A break as the stores write it: what operators read."""
        import json

        from functions.reconcile.adapters.break_store import break_to_json

        return dict(json.loads(break_to_json(brk)))

    def bank_files(self) -> Any:
        from functions.reconcile.adapters.bank_store import BankStore

        return BankStore(self.table, self.clock)

    def link_ledger(self) -> DynamoLinkLedger:
        from shared.signed_links import DynamoLinkLedger

        return DynamoLinkLedger(self.table)

    @property
    def link_secrets(self) -> TenantSecrets:
        return _link_secrets(self.settings.tenant_secret_prefix)

    def queries(self) -> QueryServices:
        """Payment and customer queries, with the reconciliation's payout explanations."""
        from functions.reconcile.composition import settled_payouts_reader
        from functions.reports.queries.composition import build_queries

        return build_queries(self.table, self.clock, settled_payouts_reader(self.table, self.clock))

    def proofs(self) -> Any:
        from functions.api.adapters.selfcheck_proof import DynamoProofs

        return DynamoProofs(self.table)


@cache
def _link_secrets(prefix: str | None) -> TenantSecrets:
    # Cached per process, like every secrets reader: links are opened in bursts per e-mail.
    from shared.tenant_secrets import LINKS, TenantSecrets

    return TenantSecrets(parts=LINKS, prefix=prefix)


@cache
def _services(settings: ApiSettings) -> Services:
    return Services(settings)


def services() -> Services:
    """The running function's services."""
    return _services(ApiSettings.from_env())
