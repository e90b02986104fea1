"""The queries' composition root: the adapters wired into their ports, for the operator API
and the CLI (which pass the table and the clock they run with)."""

from __future__ import annotations

from functions.reports.queries.adapters.orders import TableOrderIndex
from shared.clock import SYSTEM_CLOCK, Clock


class QueryServices:
    def __init__(self, table_name: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.table_name = table_name
        self.clock = clock

    def orders(self) -> TableOrderIndex:
        return TableOrderIndex(self.table_name)


def build_queries(table_name: str, clock: Clock = SYSTEM_CLOCK) -> QueryServices:
    return QueryServices(table_name, clock)
