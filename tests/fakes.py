"""In-memory adapters with the same contracts as the DynamoDB ones (fakes over mocks)."""

from __future__ import annotations

import threading
from typing import Any

from shared.order_aggregate import OrderState, Outcome, TimelineEntry


class InMemoryOrders:
    """``OrderRepository`` in memory: versions, timeline dedupe, references and parking."""

    def __init__(self) -> None:
        self.orders: dict[tuple[str, str], tuple[OrderState, int]] = {}
        self.timelines: dict[tuple[str, str], dict[str, TimelineEntry]] = {}
        self.refs: dict[tuple[str, str], str] = {}
        self.parking: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def load(self, tenant: str, order_id: str) -> tuple[OrderState, int]:
        with self._lock:
            found = self.orders.get((tenant, order_id))
        if found is None:
            return OrderState(tenant=tenant, order_id=order_id), 0
        return found[0].model_copy(deep=True), found[1]

    def load_for_update(self, tenant: str, order_id: str) -> tuple[OrderState, int]:
        return self.load(tenant, order_id)

    def commit(self, state: OrderState, expected_version: int, entry: TimelineEntry) -> Outcome:
        key = (state.tenant, state.order_id)
        with self._lock:
            timeline = self.timelines.setdefault(key, {})
            if entry.sort_key in timeline:
                return "duplicate"
            current = self.orders.get(key)
            if (current[1] if current else 0) != expected_version:
                return "conflict"
            timeline[entry.sort_key] = entry
            self.orders[key] = (state, expected_version + 1)
            return "applied"

    def resolve(self, tenant: str, ref: str) -> str | None:
        with self._lock:
            return self.refs.get((tenant, ref))

    def link(self, tenant: str, ref: str, order_id: str) -> tuple[str, bool]:
        with self._lock:
            if (tenant, ref) in self.refs:
                return self.refs[(tenant, ref)], False
            self.refs[(tenant, ref)] = order_id
            return order_id, True

    def park(self, tenant: str, ref: str, event_id: str, event: dict[str, Any]) -> None:
        with self._lock:
            self.parking.setdefault((tenant, ref), {})[event_id] = event

    def parked(self, tenant: str, ref: str) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            return list(self.parking.get((tenant, ref), {}).items())

    def unpark(self, tenant: str, ref: str, event_id: str) -> None:
        with self._lock:
            self.parking.get((tenant, ref), {}).pop(event_id, None)

    def statuses(self, tenant: str) -> dict[str, str]:
        return {oid: s.status() for (t, oid), (s, _) in self.orders.items() if t == tenant}
