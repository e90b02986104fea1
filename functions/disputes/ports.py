"""What the chargeback desk's use cases need from outside, as protocols; ``composition`` wires
the adapters in, tests wire fakes (``tests/disputes_fakes.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from shared.alerts import Alerts
from shared.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from datetime import date, datetime

    from functions.disputes.domain.case import DisputeCase
    from functions.disputes.domain.evidence import PacketSection, SentEmail
    from functions.disputes.domain.ratios import Programmes
    from shared.order_aggregate import OrderState
    from shared.tenants import TenantSettings


class CaseStore(Protocol):
    def get(self, tenant: str, dispute_id: str) -> DisputeCase | None:
        """The case as stored (its ``version`` the one a save must find), or None."""
        ...

    def save(self, case: DisputeCase, expected_version: int) -> bool:
        """Store ``case`` (whose version is ``expected_version + 1``) with one conditional write:
        False when the stored version is not ``expected_version`` (0: no case yet)."""
        ...

    def cases(self, tenant: str, status: str) -> Iterable[DisputeCase]:
        """The tenant's ``open`` or ``closed`` cases, by evidence deadline."""
        ...

    def having_case(self, tenant: str, dispute_ids: Iterable[str]) -> set[str]:
        """Which of these disputes have a case."""
        ...


class OrderReader(Protocol):
    def load(self, tenant: str, order_id: str) -> OrderState | None:
        """The order's aggregate, or None when no event has made it."""
        ...

    def resolve(self, tenant: str, ref: str) -> str | None:
        """The order a gateway reference (``charge:<id>``, ``payment:<id>``) was linked to."""
        ...


class EmailLog(Protocol):
    def sent_for(self, tenant: str, order_id: str) -> list[SentEmail]:
        """The e-mails the order was sent (the orders context's notification log)."""
        ...


class TenantLookup(Protocol):
    def get(self, tenant: str) -> TenantSettings | None: ...


class TenantList(Protocol):
    def all(self) -> list[TenantSettings]: ...


class EarlierOrders(Protocol):
    def of_customer(self, tenant: str, email: str) -> Iterable[OrderState]:
        """Every order of the customer with this e-mail (CE 3.0 looks for the same card)."""
        ...


class PacketRenderer(Protocol):
    content_type: str

    def render(self, title: str, sections: Sequence[PacketSection], at: datetime) -> bytes: ...


class StripeRefused(Exception):
    """Stripe said no (a 4xx): the same request cannot succeed; the message says why."""


class DisputeGateway(Protocol):
    """Stripe's dispute API: ``StripeRefused`` when it says no; anything else raised (it did
    not answer) may succeed when retried."""

    def upload(self, tenant: str, name: str, content: bytes, key: str) -> str:
        """An evidence file uploaded; its file id."""
        ...

    def update(
        self, tenant: str, dispute_id: str, evidence: dict[str, Any], submit: bool, key: str
    ) -> dict[str, Any]: ...

    def close(self, tenant: str, dispute_id: str, key: str) -> dict[str, Any]: ...


class RatioCounts(Protocol):
    """What the networks' ratios count, per card brand, for a month (its first day)."""

    def chargebacks(self, tenant: str, month: date) -> dict[str, int]:
        """Chargebacks (not inquiries) opened in the month."""
        ...

    def fraud_reports(self, tenant: str, month: date) -> dict[str, int]:
        """Fraud reported on the tenant's card payments in the month (early fraud warnings)."""
        ...

    def settled(self, tenant: str, month: date) -> dict[str, int]:
        """Card payments that succeeded in the month."""
        ...


class ReconciliationFindings(Protocol):
    def duplicate_payment(self, tenant: str, order_id: str) -> list[str]:
        """What the daily reconciliation said of the order's duplicate payment (its
        ``duplicate_payment`` breaks' explanations, open or closed)."""
        ...


class FraudWarningLog(Protocol):
    def record(
        self,
        tenant: str,
        warning_id: str,
        month: str,
        fields: dict[str, str],
    ) -> bool:
        """Keep the warning (by the month it was raised, for the ratios): one conditional
        put; False when it was kept already."""
        ...


class ActionLog(Protocol):
    """Effects outside the desk done once (an early fraud warning's cancellation)."""

    def done(self, tenant: str, key: str) -> bool: ...

    def record(self, tenant: str, key: str, detail: str) -> None: ...


class CancellationRefused(Exception):
    """The orders context would not cancel (the order shipped meanwhile, say)."""


class OrderCancellation(Protocol):
    def cancel(self, tenant: str, order_id: str, reason: str) -> dict[str, Any]:
        """The orders context's cancellation (stop the lifecycle, refund every payment once as
        a fraud cancellation, tell the customer); ``CancellationRefused`` when it will not."""
        ...


@dataclass
class Ports:
    cases: CaseStore
    orders: OrderReader
    emails: EmailLog
    tenants: TenantLookup
    earlier: EarlierOrders
    packets: PacketRenderer
    gateway: DisputeGateway
    alerts: Alerts
    directory: TenantList
    counts: RatioCounts
    programmes: Programmes
    warnings: FraudWarningLog
    findings: ReconciliationFindings
    actions: ActionLog
    cancellation: OrderCancellation
    clock: Clock = SYSTEM_CLOCK
