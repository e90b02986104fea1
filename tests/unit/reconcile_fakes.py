"""In-memory implementations of reconciliation's ports (``functions.reconcile.ports``), for
testing the use cases without AWS: each keeps what it was given so a test can look."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from functions.reconcile.domain.bank.model import BankLine
from functions.reconcile.domain.model import Break, DayInputs
from functions.reconcile.ports import LoadWindow
from shared.refund_causes import RefundCause
from shared.tenants import TenantSettings


@dataclass
class FakeLoader:
    """``DayLoader``: the day it was given (for any tenant and day), and what it was asked."""

    inputs: DayInputs
    asked: list[tuple[str, date, str, LoadWindow, tuple[Break, ...]]] = field(default_factory=list)

    def load(
        self,
        tenant: str,
        day: date,
        timezone: str,
        window: LoadWindow,
        open_breaks: Iterable[Break] = (),
    ) -> DayInputs:
        self.asked.append((tenant, day, timezone, window, tuple(open_breaks)))
        return self.inputs


@dataclass
class FakeBreakLedger:
    """``BreakLedger``: breaks by id with their status, action claims, run summaries."""

    breaks: dict[str, tuple[str, Break]] = field(default_factory=dict)
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: dict[date, dict[str, Any]] = field(default_factory=dict)

    def open_breaks(self, tenant: str) -> list[Break]:
        return [brk for status, brk in self.breaks.values() if status == "open"]

    def closed_breaks(self) -> list[Break]:
        return [brk for status, brk in self.breaks.values() if status == "closed"]

    def save(
        self, tenant: str, day: date, open_now: Iterable[Break], closed: Iterable[Break]
    ) -> None:
        for status, breaks in (("open", open_now), ("closed", closed)):
            for brk in breaks:
                self.breaks[brk.break_id] = (status, brk)

    def claim_action(self, tenant: str, key: str, record: dict[str, Any]) -> dict[str, Any] | None:
        if key in self.actions:
            return self.actions[key]
        self.actions[key] = dict(record)
        return None

    def update_action(self, tenant: str, key: str, record: dict[str, Any]) -> None:
        self.actions[key] = dict(record)

    def save_run(self, tenant: str, day: date, summary: dict[str, Any]) -> None:
        self.runs[day] = summary


@dataclass
class FakeRefunds:
    """``RefundStarter``: records each request; ``failing`` makes every start raise."""

    failing: str | None = None
    started: list[dict[str, Any]] = field(default_factory=list)

    def __call__(
        self,
        tenant: str,
        order_id: str,
        *,
        amount: int,
        payment_id: str,
        refund_id: str,
        cause: RefundCause | None = None,
    ) -> dict[str, Any]:
        if self.failing:
            raise RuntimeError(self.failing)
        self.started.append(
            {
                "tenant": tenant,
                "order_id": order_id,
                "amount": amount,
                "payment_id": payment_id,
                "refund_id": refund_id,
                "cause": cause,
            }
        )
        return {"refund_id": refund_id, "started": True}


@dataclass
class FakeReports:
    """``ReportSink``: key → (body, content type)."""

    objects: dict[str, tuple[bytes, str]] = field(default_factory=dict)

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = (body, content_type)


@dataclass
class FakeMailer:
    """``ReportMailer``: the subjects and idempotency keys mailed."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def email(
        self, tenant: TenantSettings, subject: str, html: str, text: str, key: str
    ) -> str | None:
        self.sent.append((tenant.id, subject, key))
        return f"msg-{len(self.sent)}"


@dataclass
class FakeAlerts:
    """``Alerts``: (tenant attribute, subject, details) per alert."""

    sent: list[tuple[str | None, str, dict[str, Any]]] = field(default_factory=list)

    def alert(self, tenant: str | None, subject: str, details: Mapping[str, Any]) -> None:
        self.sent.append((tenant, subject, dict(details)))


@dataclass
class FakeTenants:
    """``TenantLookup``."""

    tenants: dict[str, TenantSettings] = field(default_factory=dict)

    def get(self, tenant: str) -> TenantSettings | None:
        return self.tenants.get(tenant)

    def all(self) -> list[TenantSettings]:
        return list(self.tenants.values())


@dataclass
class FakeObjects:
    """``ObjectPort``: (bucket, key) → bytes."""

    objects: dict[tuple[str, str], bytes] = field(default_factory=dict)

    def read(self, bucket: str, key: str) -> bytes:
        return self.objects[(bucket, key)]


@dataclass
class FakeBankFiles:
    """``BankFiles``: lines by id, file records by (tenant, sha), re-sent drops."""

    lines: dict[str, BankLine] = field(default_factory=dict)
    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    duplicates: list[tuple[str, str, str]] = field(default_factory=list)

    def file_record(self, tenant: str, sha256: str) -> dict[str, Any] | None:
        return self.records.get((tenant, sha256))

    def note_duplicate(self, tenant: str, sha256: str, key: str, first_key: str) -> None:
        self.duplicates.append((tenant, key, first_key))

    def put_lines(self, lines: Iterable[BankLine]) -> int:
        written = 0
        for line in lines:
            self.lines[line.line_id] = line
            written += 1
        return written

    def put_file_record(self, tenant: str, sha256: str, key: str, record: dict[str, Any]) -> None:
        self.records[(tenant, sha256)] = {**record, "tenant": tenant, "key": key}
