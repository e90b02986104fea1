"""What reconciliation's use cases need from outside, as the use cases use it.

The daily run (``use_cases.daily``) loads a tenant's day, keeps breaks and refund claims,
starts refunds, writes the report, mails it and alerts; the bank intake
(``use_cases.bank_intake``) reads a dropped file, keeps its lines and record, and alerts the
operators; the hourly tick's fan-out (``use_cases.fanout``) lists the tenants due, alerts on a
tenant whose run failed and keeps the tick's summary. ``adapters`` implements these against
DynamoDB, S3, SES and SNS; ``composition`` wires them. Tests pass fakes
(``tests/unit/reconcile_fakes.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from functions.reconcile.domain.bank.model import BankLine
from functions.reconcile.domain.model import Break, DayInputs
from shared.alerts import Alerts
from shared.refund_causes import RefundCause
from shared.tenants import TenantSettings

__all__ = [
    "Alerts",
    "BankFiles",
    "BreakLedger",
    "CaseOpener",
    "DayLoader",
    "LoadWindow",
    "ObjectPort",
    "PayoutSideLoader",
    "RefundStarter",
    "ReportMailer",
    "ReportSink",
    "TenantLookup",
    "TickLog",
]


# -- the daily run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadWindow:
    """How far around the day payouts and bank lines are read, and how far back cancelled
    orders are checked for their refund (the tenant's settings)."""

    grace_days: int
    date_window_days: int
    cancellation_window_days: int = 30


class DayLoader(Protocol):
    def load(
        self,
        tenant: str,
        day: date,
        timezone: str,
        window: LoadWindow,
        open_breaks: Iterable[Break] = (),
    ) -> DayInputs:
        """The tenant's day for the engine: the orders placed or changed that day, the
        cancelled orders of the cancellation window, and everything the open breaks name."""
        ...


class PayoutSideLoader(Protocol):
    def load_payout_side(self, tenant: str, day: date, window: LoadWindow) -> DayInputs:
        """Only what the payouts ↔ bank stages read for ``day``: the payouts arriving in the
        window with their balance transactions, and the bank lines booked in it (no orders)."""
        ...


class BreakLedger(Protocol):
    """Breaks across days, the refunds reconciliation claimed, and each day's run."""

    def open_breaks(self, tenant: str) -> list[Break]: ...

    def save(
        self, tenant: str, day: date, open_now: Iterable[Break], closed: Iterable[Break]
    ) -> None: ...

    def claim_action(self, tenant: str, key: str, record: dict[str, Any]) -> dict[str, Any] | None:
        """Record an action once; the earlier record when it was claimed already."""
        ...

    def update_action(self, tenant: str, key: str, record: dict[str, Any]) -> None: ...

    def save_run(self, tenant: str, day: date, summary: dict[str, Any]) -> None: ...


class RefundStarter(Protocol):
    """Start a refund of ``amount`` of ``payment_id`` on ``order_id``, once per ``refund_id``,
    for ``cause`` (what the gateway and the customer are told)."""

    def __call__(
        self,
        tenant: str,
        order_id: str,
        *,
        amount: int,
        payment_id: str,
        refund_id: str,
        cause: RefundCause,
    ) -> dict[str, Any]: ...


class ReportSink(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None: ...


class ReportMailer(Protocol):
    def email(
        self, tenant: TenantSettings, subject: str, html: str, text: str, key: str
    ) -> str | None:
        """Mail the report to the tenant's team; the message id, or None when not sent."""
        ...


# -- tenants -------------------------------------------------------------------------------------


class TenantLookup(Protocol):
    def get(self, tenant: str) -> TenantSettings | None: ...

    def all(self) -> list[TenantSettings]: ...


# -- the bank intake -----------------------------------------------------------------------------


class ObjectPort(Protocol):
    def read(self, bucket: str, key: str) -> bytes: ...


class BankFiles(Protocol):
    """Bank lines and the records of the files they came from."""

    def file_record(self, tenant: str, sha256: str) -> dict[str, Any] | None: ...

    def note_duplicate(self, tenant: str, sha256: str, key: str, first_key: str) -> None: ...

    def put_lines(self, lines: Iterable[BankLine]) -> int: ...

    def put_file_record(
        self, tenant: str, sha256: str, key: str, record: dict[str, Any]
    ) -> None: ...


class CaseOpener(Protocol):
    """ "Chase the settlement": a query case for finance about a payout the bank does not show
    (the queries' ``QueryCases.open``, wired in ``composition``). Opening the same break's case
    again finds the one opened before; returns the case's id."""

    def __call__(
        self,
        tenant: str,
        question: str,
        *,
        break_id: str,
        payout_id: str | None,
        bank_line_id: str | None,
    ) -> str: ...


# -- the hourly tick's fan-out -------------------------------------------------------------------


class TickLog(Protocol):
    """Where the summary of each hourly tick is kept (one record per tick, the tick's instant
    its identity: a tick run again overwrites its record)."""

    def save(self, tick: datetime, summary: dict[str, Any]) -> None: ...
