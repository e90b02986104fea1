"""Query cases' reminders over fakes: a reminder whose case could not be saved is sent again on
the next tick, and the alert log (once per identity) keeps it from reaching anyone twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.reports.queries.domain.cases import CaseStatus, QueryCase
from functions.reports.queries.use_cases.cases import QueryCases
from shared.tenants import TenantSettings
from tests.alerts_fakes import FakeAlerts
from tests.clocks import FixedClock
from tests.orders_fakes import FakeTenants

T0 = datetime(2026, 11, 30, 9, tzinfo=UTC)
ACME = TenantSettings(id="acme", name="Acme", currency="EUR", customer_sender="s@acme.example")


class FakeCases:
    def __init__(self) -> None:
        self.cases: dict[tuple[str, str], QueryCase] = {}
        self.fail_saves = 0

    def open(self, case: QueryCase) -> tuple[QueryCase, bool]:
        known = self.cases.get((case.tenant, case.case_id))
        if known is not None:
            return known, False
        self.cases[(case.tenant, case.case_id)] = case
        return case, True

    def get(self, tenant: str, case_id: str) -> QueryCase | None:
        return self.cases.get((tenant, case_id))

    def listed(self, tenant: str, status: CaseStatus) -> list[QueryCase]:
        return [c for (t, _), c in self.cases.items() if t == tenant and c.status is status]

    def save(self, case: QueryCase) -> None:
        if self.fail_saves:
            self.fail_saves -= 1
            raise ConnectionError("DynamoDB is down")
        self.cases[(case.tenant, case.case_id)] = case


def test_a_reminder_is_sent_once_though_its_case_failed_to_save() -> None:
    store, alerts = FakeCases(), FakeAlerts(FakeTenants(ACME))
    cases = QueryCases(store, FakeTenants(ACME), FixedClock(T0), alerts)
    case, _ = cases.open("acme", "Where is po_9?", "fin@acme")
    store.fail_saves = 1
    with pytest.raises(ConnectionError):
        cases.remind(["acme"], T0 + timedelta(hours=24))
    assert cases.remind(["acme"], T0 + timedelta(hours=24, minutes=60)) == [case.case_id]
    assert len(alerts.published) == 1  # the second send of reminder 1 found it sent
    assert store.cases[("acme", case.case_id)].reminders == (T0 + timedelta(hours=25),)
