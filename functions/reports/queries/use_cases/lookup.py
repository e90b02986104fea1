"""Finding a customer's orders: one read of the index per lookup."""

from __future__ import annotations

from functions.reports.queries.domain.lookup import (
    LOOKUP_LIMIT,
    LookupKind,
    LookupResult,
    search_for,
)
from functions.reports.queries.ports import OrderIndex


def find_orders(
    orders: OrderIndex,
    tenant: str,
    kind: LookupKind | str,
    value: str,
    *,
    country: str | None = None,
    bin_: str | None = None,
    limit: int = LOOKUP_LIMIT,
) -> LookupResult:
    """The customer's orders in ``tenant`` by one identifier, newest first; an identifier that
    cannot be searched raises ``Unsearchable`` with the reason, and nothing found is a result
    that says what was searched."""
    search = search_for(tenant, kind, value, country=country, bin_=bin_)
    hits, more = orders.find(search, limit)
    hits.sort(key=lambda h: (h.at is not None, h.at), reverse=True)
    return LookupResult(search, tuple(hits), more)
