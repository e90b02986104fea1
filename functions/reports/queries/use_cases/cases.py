"""Query cases: opened by operators or by the reconciliation ("chase the settlement"), listed,
closed with the answer, and reminded from the hourly tick until they are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from functions.reports.queries.domain.cases import (
    CaseLinks,
    CaseRefused,
    CaseStatus,
    QueryCase,
    close,
    new_case,
    remind,
)
from functions.reports.queries.ports import Alerts, CaseStore, Tenants
from shared.clock import Clock
from shared.tenants import QuerySettings


@dataclass
class QueryCases:
    store: CaseStore
    tenants: Tenants
    clock: Clock
    alerts: Alerts | None = None

    def _settings(self, tenant: str) -> QuerySettings:
        settings = self.tenants.get(tenant)
        if settings is None:
            raise CaseRefused(f"unknown tenant {tenant!r}")
        return settings.queries

    def open(
        self,
        tenant: str,
        question: str,
        asked_by: str,
        links: CaseLinks | None = None,
        key: str | None = None,
    ) -> tuple[QueryCase, bool]:
        """Open a case (or find the one ``key`` opened before): the case and whether it is new."""
        case = new_case(
            tenant,
            question,
            asked_by,
            links or CaseLinks(),
            self.clock.now(),
            self._settings(tenant),
            key,
        )
        return self.store.open(case)

    def listed(self, tenant: str, status: CaseStatus = CaseStatus.OPEN) -> list[QueryCase]:
        return sorted(self.store.listed(tenant, status), key=lambda c: (c.due_at, c.case_id))

    def get(self, tenant: str, case_id: str) -> QueryCase | None:
        return self.store.get(tenant, case_id)

    def close(self, tenant: str, case_id: str, by: str, resolution: str) -> QueryCase:
        case = self.store.get(tenant, case_id)
        if case is None:
            raise CaseRefused(f"no case {case_id} for tenant {tenant}")
        closed = close(case, self.clock.now(), by, resolution)
        self.store.save(closed)
        return closed

    def remind(self, tenants: list[str], now: datetime | None = None) -> list[str]:
        """Send each open case's reminder that is due (the hourly tick); the ids reminded."""
        now = now or self.clock.now()
        reminded = []
        for tenant in tenants:
            settings = self._settings(tenant)
            for case in self.store.listed(tenant, CaseStatus.OPEN):
                due = remind(case, now, settings)
                if due is None:
                    continue
                updated, notice = due
                # Sent first: the alert log sends each reminder (by its number) once, so a save
                # that fails after it sends nothing twice on the next tick, and loses nothing.
                if self.alerts is not None:
                    self.alerts.send(notice)
                self.store.save(updated)
                reminded.append(case.case_id)
        return reminded
