"""What the queries need from outside: the orders (found and read), the clock."""

from __future__ import annotations

from typing import Protocol

from functions.reports.queries.domain.lookup import OrderHit, Search
from shared.order_aggregate import OrderState


class OrderIndex(Protocol):
    def find(self, search: Search, limit: int) -> tuple[list[OrderHit], bool]:
        """The newest ``limit`` orders matching ``search`` (one read), and whether there are
        more."""
        ...

    def load(self, tenant: str, order_id: str) -> OrderState | None:
        """The order as stored now; ``None`` when we hold nothing about it."""
        ...
