"""What the reports need from outside: the orders of a span of time, the day tallies, the
reports bucket, a mailer to the tenant's team, the tenants and the clock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from functions.reports.domain.tally import OrderView, Tally
from shared.clock import Clock
from shared.order_aggregate import OrderState
from shared.tenants import TenantSettings


class OrderReader(Protocol):
    def changed_between(self, tenant: str, start: datetime, end: datetime) -> Iterator[OrderView]:
        """Every order with a fact in [start, end) (the processor's per-day change notes of
        the UTC days the span touches), each once, with its screening decision."""
        ...

    def refund_requests(self, tenant: str, order_id: str) -> list[dict[str, Any]]:
        """The order's refund requests as the orders context keeps them (``REFUND#``)."""
        ...

    def claims(self, tenant: str, order_id: str) -> list[dict[str, Any]]:
        """The carrier claims filed for the order's parcels (``CLAIM#``)."""
        ...

    def of_customer(self, tenant: str, email: str) -> list[OrderState]:
        """Every order placed with ``email`` (the customer index: one query)."""
        ...

    def order(self, tenant: str, order_id: str) -> OrderState | None: ...


class HistoryMail(Protocol):
    def claim(self, tenant: str, order_id: str, now: datetime, every: timedelta) -> bool:
        """Take the order's history-mail slot (one conditional write): False when the last
        mail went less than ``every`` ago."""
        ...

    def release(self, tenant: str, order_id: str, claimed_at: datetime) -> None:
        """Give the slot back (the mail failed), if it is still the one taken then."""
        ...

    def send(self, tenant: TenantSettings, order: OrderState, orders: list[OrderState]) -> str:
        """Mail the customer of ``order`` the history ``orders``, to the order's address;
        returns the message id."""
        ...

    def note(self, tenant: str, order_id: str, at: datetime, summary: str) -> None:
        """Put the mail on the order's timeline."""
        ...


class DayTallies(Protocol):
    def save(self, tenant: str, day: date, tally: Tally) -> None: ...

    def between(self, tenant: str, first: date, last: date) -> Iterator[tuple[date, Tally]]:
        """The stored tallies of [first, last], in day order, one at a time (a year of them
        need not be in memory at once)."""
        ...

    def save_month(self, tenant: str, month: date, tally: Tally) -> None:
        """An ended month's days added up (``month``: its first day)."""
        ...

    def months(self, tenant: str, first: date, last: date) -> Iterator[tuple[date, Tally]]:
        """The stored month tallies whose first day is in [first, last], in order."""
        ...


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
        kind: str = "business_summary",
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
    history_mail: HistoryMail | None = None

    def tenant(self, tenant: str) -> TenantSettings:
        settings = self.tenants.get(tenant)
        if settings is None:
            raise LookupError(f"tenant {tenant!r} has no settings")
        return settings
