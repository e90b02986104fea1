"""What the queries need from outside: the orders (found, read, by day), the gateway's payouts
(the shared settlement store), the reconciliation's explanation of them, the tenants."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Protocol

from functions.reports.queries.domain.cases import CaseStatus, QueryCase
from functions.reports.queries.domain.lookup import OrderHit, Search
from shared.notices import Notice
from shared.order_aggregate import OrderState
from shared.settlements import BalanceTransaction, PayoutState, SettledPayout
from shared.tenants import TenantSettings


class OrderIndex(Protocol):
    def find(self, search: Search, limit: int) -> tuple[list[OrderHit], bool]:
        """The newest ``limit`` orders matching ``search`` (one read), and whether there are
        more."""
        ...

    def load(self, tenant: str, order_id: str) -> OrderState | None:
        """The order as stored now; ``None`` when we hold nothing about it."""
        ...

    def changed_on(self, tenant: str, utc_days: Iterable[date]) -> Iterable[OrderState]:
        """The orders something happened to on any of these UTC days (the processor's notes)."""
        ...


class Settlements(Protocol):
    """The gateway's payouts and their balance transactions (``shared.settlement_store``)."""

    def payout(self, tenant: str, payout_id: str) -> PayoutState | None: ...

    def transactions(self, tenant: str, payout_id: str) -> list[BalanceTransaction]: ...

    def arriving(self, tenant: str, first: date, last: date) -> list[PayoutState]: ...


# The reconciliation's explanation of the payouts it reads for a day, each with its bank line
# (``functions.reconcile.composition.settled_payouts_reader``, wired by the operator API's
# composition: the queries never import the reconciliation).
SettledPayouts = Callable[[TenantSettings, date], list[SettledPayout]]


class Tenants(Protocol):
    def get(self, tenant: str) -> TenantSettings | None: ...


class CaseStore(Protocol):
    def open(self, case: QueryCase) -> tuple[QueryCase, bool]: ...

    def get(self, tenant: str, case_id: str) -> QueryCase | None: ...

    def listed(self, tenant: str, status: CaseStatus) -> list[QueryCase]: ...

    def save(self, case: QueryCase) -> None: ...


class Alerts(Protocol):
    """``shared.alerts.Alerting``: reminders go to the tenant's finance people."""

    def send(self, notice: Notice) -> None: ...
