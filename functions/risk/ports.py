"""What the risk use cases need from outside, as protocols; ``composition`` wires the adapters
in (``adapters/``, the lifecycle and order stores), tests wire fakes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from functions.risk.domain.backtest import StoredOrder
    from functions.risk.domain.customers import CustomerHistory, HistoryEvent
    from functions.risk.domain.velocity import VelocityCounts
    from functions.risk.domain.versions import StoredVersion
    from shared.order_aggregate import OrderState


class VelocityPort(Protocol):
    def observe(
        self,
        tenant: str,
        order_id: str,
        keys: Mapping[str, str],
        at: datetime,
        amount: int,
    ) -> VelocityCounts:
        """Counts for ``keys`` (dimension -> raw value) as they were before this order, then
        record the order. Idempotent per ``order_id``."""
        ...


class HistoryReader(Protocol):
    def history(self, tenant: str, customer_key: str, before: datetime) -> CustomerHistory:
        """What was known about the customer strictly before ``before``."""
        ...


class HistoryPort(HistoryReader, Protocol):
    def record(
        self, tenant: str, who: str, at: datetime, kind: HistoryEvent, ref: str, amount: int = 0
    ) -> None:
        """File a fact under the customer from ``at`` (idempotent per kind and ref)."""
        ...


class RiskStorePort(Protocol):
    """Rules and lists as immutable versions: each save is version n+1 or ``VersionConflict``."""

    def latest_rules(self, tenant: str, category: str) -> StoredVersion | None: ...
    def rules_versions(self, tenant: str, category: str) -> list[StoredVersion]: ...
    def put_rules(
        self, tenant: str, category: str, version: int, body: dict[str, Any], who: str
    ) -> StoredVersion: ...
    def latest_lists(self, tenant: str) -> StoredVersion | None: ...
    def put_lists(
        self, tenant: str, version: int, body: dict[str, Any], who: str, change: dict[str, Any]
    ) -> StoredVersion: ...
    def history(self, tenant: str) -> list[StoredVersion]: ...


class StoredOrdersPort(Protocol):
    def stored_orders(self, tenant: str) -> list[StoredOrder]: ...


class StagePort(Protocol):
    """The lifecycle's records: which orders are in a stage, and their screening."""

    def in_stage(self, tenant: str, stage: str) -> list[dict[str, str]]: ...
    def screening(self, tenant: str, order_id: str) -> dict[str, Any] | None: ...
    def review(self, tenant: str, order_id: str) -> dict[str, Any] | None:
        """The review hold: its call task and the calls' outcomes."""
        ...


class OrderPort(Protocol):
    def load(self, tenant: str, order_id: str) -> tuple[OrderState, int]: ...
