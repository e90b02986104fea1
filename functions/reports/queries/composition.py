"""The queries' composition root: the adapters wired into their ports, for the operator API,
the CLI and the reconciliation (which pass the table and the clock they run with). The
reconciliation's explanation of payouts (``SettledPayouts``) is passed in by whoever composes
both: the queries never import the reconciliation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.reports.queries.adapters.cases import TableCases
from functions.reports.queries.adapters.orders import TableOrderIndex
from functions.reports.queries.domain.cases import CaseLinks
from functions.reports.queries.ports import Alerts, SettledPayouts
from functions.reports.queries.use_cases.cases import QueryCases
from shared.clock import SYSTEM_CLOCK, Clock
from shared.settlement_store import SettlementStore
from shared.tenants import TenantDirectory

if TYPE_CHECKING:
    from shared.tenants import TenantSettings


class QueryServices:
    def __init__(
        self,
        table_name: str,
        clock: Clock = SYSTEM_CLOCK,
        settled_payouts: SettledPayouts | None = None,
        alerts: Alerts | None = None,
    ) -> None:
        self.table_name = table_name
        self.clock = clock
        self._settled_payouts = settled_payouts
        self.alerts = alerts

    def orders(self) -> TableOrderIndex:
        return TableOrderIndex(self.table_name)

    def settlements(self) -> SettlementStore:
        return SettlementStore(self.table_name, self.clock)

    def settled_payouts(self) -> SettledPayouts:
        if self._settled_payouts is None:
            raise RuntimeError("these query services were built without the reconciliation")
        return self._settled_payouts

    def tenants(self) -> TenantDirectory:
        return TenantDirectory(self.table_name)

    def tenant(self, tenant: str) -> TenantSettings | None:
        return self.tenants().get(tenant)

    def cases(self) -> QueryCases:
        return QueryCases(
            TableCases(self.table_name, self.clock), self.tenants(), self.clock, self.alerts
        )


def build_queries(
    table_name: str,
    clock: Clock = SYSTEM_CLOCK,
    settled_payouts: SettledPayouts | None = None,
    alerts: Alerts | None = None,
) -> QueryServices:
    return QueryServices(table_name, clock, settled_payouts, alerts)


def open_case(
    table_name: str,
    clock: Clock,
    tenant: str,
    question: str,
    asked_by: str,
    *,
    key: str | None = None,
    payout_id: str | None = None,
    bank_line_id: str | None = None,
    order_id: str | None = None,
    break_id: str | None = None,
) -> str:
    """Open a query case (or find the one ``key`` opened before) and return its id: what
    another context's composition root calls (the reconciliation's "chase the settlement")."""
    links = CaseLinks(
        payout_id=payout_id, bank_line_id=bank_line_id, order_id=order_id, break_id=break_id
    )
    case, _ = build_queries(table_name, clock).cases().open(tenant, question, asked_by, links, key)
    return case.case_id
