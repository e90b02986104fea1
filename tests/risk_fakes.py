"""In-memory fakes of the risk context's ports, with the table adapters' contracts (fakes over
mocks): the use cases' unit tests wire these, and tests/component/test_risk_velocity.py runs
the same contract tests on the velocity fake and on DynamoDB."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from functions.risk.domain.backtest import StoredOrder
from functions.risk.domain.customers import CustomerHistory, HistoryEvent, tally
from functions.risk.domain.errors import VersionConflict
from functions.risk.domain.velocity import VelocityCounts, VelocityTally
from functions.risk.domain.versions import StoredVersion
from shared.clock import Clock
from shared.order_aggregate import OrderState
from tests.clocks import FixedClock


class InMemoryVelocity:
    """``VelocityPort``: the domain's tally behind a lock, as concurrent screenings share it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tally = VelocityTally()

    def observe(
        self, tenant: str, order_id: str, keys: Mapping[str, str], at: datetime, amount: int
    ) -> VelocityCounts:
        with self._lock:
            return self._tally.observe(tenant, order_id, keys, at, amount)


class InMemoryHistory:
    """``HistoryPort``: timed facts per customer, one per kind and reference (re-recording is
    harmless, as with the table's idempotent puts); a read sees the facts before its time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.facts: dict[tuple[str, str], dict[tuple[str, str], tuple[datetime, int]]] = {}

    def record(
        self, tenant: str, who: str, at: datetime, kind: HistoryEvent, ref: str, amount: int = 0
    ) -> None:
        if not who:
            return
        with self._lock:
            self.facts.setdefault((tenant, who), {})[kind, ref] = (at, amount)

    def history(self, tenant: str, customer_key: str, before: datetime) -> CustomerHistory:
        with self._lock:
            facts = dict(self.facts.get((tenant, customer_key), {}))
        return tally((kind, amount) for (kind, _), (at, amount) in facts.items() if at < before)


class InMemoryRiskStore:
    """``RiskStorePort``: immutable versions; a version that exists already is a conflict."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or FixedClock(datetime.fromisoformat("2026-11-23T10:00:00+00:00"))
        self.versions: dict[str, dict[str, list[StoredVersion]]] = {}

    def _subject(self, tenant: str, subject: str) -> list[StoredVersion]:
        return self.versions.setdefault(tenant, {}).setdefault(subject, [])

    def _put(
        self,
        tenant: str,
        subject: str,
        version: int,
        body: dict[str, Any],
        who: str,
        change: dict[str, Any],
    ) -> StoredVersion:
        versions = self._subject(tenant, subject)
        if any(v.version == version for v in versions):
            raise VersionConflict(f"{subject} of {tenant} changed meanwhile (version {version})")
        saved = StoredVersion(
            subject, version, body, who, self.clock.now().isoformat(timespec="milliseconds"), change
        )
        versions.append(saved)
        return saved

    def latest_rules(self, tenant: str, category: str) -> StoredVersion | None:
        versions = self._subject(tenant, f"rules:{category}")
        return max(versions, key=lambda v: v.version) if versions else None

    def rules_versions(self, tenant: str, category: str) -> list[StoredVersion]:
        return sorted(self._subject(tenant, f"rules:{category}"), key=lambda v: v.version)

    def put_rules(
        self, tenant: str, category: str, version: int, body: dict[str, Any], who: str
    ) -> StoredVersion:
        return self._put(tenant, f"rules:{category}", version, body, who, {"version": version})

    def latest_lists(self, tenant: str) -> StoredVersion | None:
        versions = self._subject(tenant, "lists")
        return max(versions, key=lambda v: v.version) if versions else None

    def put_lists(
        self, tenant: str, version: int, body: dict[str, Any], who: str, change: dict[str, Any]
    ) -> StoredVersion:
        return self._put(tenant, "lists", version, body, who, change)

    def history(self, tenant: str) -> list[StoredVersion]:
        versions = [v for subject in self.versions.get(tenant, {}).values() for v in subject]
        return sorted(versions, key=lambda v: (v.saved_at, v.subject, v.version))


class FakeStoredOrders:
    """``StoredOrdersPort``: what the table would hold per tenant."""

    def __init__(self, *orders: StoredOrder) -> None:
        self.orders = list(orders)

    def stored_orders(self, tenant: str) -> list[StoredOrder]:
        return [o for o in self.orders if o.state.tenant == tenant]


class FakeLifecycle:
    """``StagePort`` and ``OrderPort`` at once: stages, screenings and order states."""

    def __init__(self) -> None:
        self.stages: dict[tuple[str, str], dict[str, str]] = {}
        self.screenings: dict[tuple[str, str], dict[str, Any]] = {}
        self.states: dict[tuple[str, str], OrderState] = {}
        self.reviews: dict[tuple[str, str], dict[str, Any]] = {}

    def in_stage(self, tenant: str, stage: str) -> list[dict[str, str]]:
        return [
            {"order_id": order_id, **record}
            for (t, order_id), record in self.stages.items()
            if t == tenant and record.get("stage") == stage
        ]

    def screening(self, tenant: str, order_id: str) -> dict[str, Any] | None:
        return self.screenings.get((tenant, order_id))

    def review(self, tenant: str, order_id: str) -> dict[str, Any] | None:
        return self.reviews.get((tenant, order_id))

    def load(self, tenant: str, order_id: str) -> tuple[OrderState, int]:
        state = self.states.get((tenant, order_id))
        if state is None:
            return OrderState(tenant=tenant, order_id=order_id), 0
        return state, 1
