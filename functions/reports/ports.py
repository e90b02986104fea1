"""What the reports need from outside: the orders of a span of time, the day tallies, the
reports bucket, a mailer to the tenant's team, the tenants and the clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from functions.reports.domain.tally import OrderView, Tally
from shared.clock import Clock
from shared.tenants import TenantSettings


class OrderReader(Protocol):
    def changed_between(self, tenant: str, start: datetime, end: datetime) -> Iterator[OrderView]:
        """Every order with a fact in [start, end) (the processor's per-day change notes of
        the UTC days the span touches), each once, with its screening decision."""
        ...

    def refund_requests(self, tenant: str, order_id: str) -> list[dict[str, Any]]:
        """The order's refund requests as the orders context keeps them (``REFUND#``)."""
        ...


class DayTallies(Protocol):
    def save(self, tenant: str, day: date, tally: Tally) -> None: ...

    def between(self, tenant: str, first: date, last: date) -> dict[date, Tally]: ...


class ReportSink(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None: ...


class TeamMailer(Protocol):
    def email(
        self,
        tenant: TenantSettings,
        to: tuple[str, ...],
        subject: str,
        html: str,
        text: str,
        key: str,
    ) -> str | None: ...


class TenantLookup(Protocol):
    def get(self, tenant: str) -> TenantSettings | None: ...

    def all(self) -> list[TenantSettings]: ...


@dataclass
class Ports:
    orders: OrderReader
    tallies: DayTallies
    reports: ReportSink
    mailer: TeamMailer
    tenants: TenantLookup
    clock: Clock

    def tenant(self, tenant: str) -> TenantSettings:
        settings = self.tenants.get(tenant)
        if settings is None:
            raise LookupError(f"tenant {tenant!r} has no settings")
        return settings
