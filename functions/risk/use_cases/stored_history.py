"""Backtesting a ruleset on a tenant's stored orders, each labelled by what happened to it
afterwards (``domain/backtest.label``), with the tenant's lists and thresholds, against the
ruleset in force unless a baseline is given."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from functions.risk.domain.backtest import BacktestReport, LabeledOrder, backtest, label_all
from functions.risk.domain.rules import CompiledRuleset

if TYPE_CHECKING:
    from functions.risk.ports import StoredOrdersPort
    from functions.risk.use_cases.management import RiskAdmin
    from shared.tenants import TenantSettings


class NoStoredOrders(LookupError):
    """The tenant has no orders to backtest on."""


def labeled_orders(store: StoredOrdersPort, tenant: str) -> list[LabeledOrder]:
    return label_all(store.stored_orders(tenant))


def backtest_stored(
    store: StoredOrdersPort,
    admin: RiskAdmin,
    tenant: TenantSettings,
    candidate: CompiledRuleset,
    baseline: CompiledRuleset | None = None,
    since: datetime | None = None,
) -> BacktestReport:
    """``candidate`` over the tenant's stored orders; the baseline defaults to the ruleset that
    screens the tenant's business category now."""
    labeled = labeled_orders(store, tenant.id)
    if not labeled:
        raise NoStoredOrders(f"tenant {tenant.id!r} has no stored orders")
    base = baseline or admin.ruleset_for(tenant.id, tenant.business_category)
    return backtest(labeled, candidate, admin.signal_config(tenant), base, since)
