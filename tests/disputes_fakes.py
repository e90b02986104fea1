"""Fakes of the chargeback desk's ports, and Stripe dispute payloads / events for its tests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from functions.disputes.adapters.packet_pdf import PdfPackets
from functions.disputes.adapters.programmes import load_programmes
from functions.disputes.domain.case import DisputeCase
from functions.disputes.domain.evidence import SentEmail
from functions.disputes.ports import CancellationRefused, Ports, StripeRefused
from shared.events import (
    DisputeClosed,
    DisputeFundsReinstated,
    DisputeFundsWithdrawn,
    DisputeOpened,
    DisputeUpdated,
    Source,
)
from shared.money import Money
from shared.order_aggregate import OrderState
from shared.tenants import DisputeSettings, TenantSettings
from tests.alerts_fakes import FakeAlerts
from tests.clocks import FixedClock

OPENED_AT = datetime(2026, 11, 20, 9, tzinfo=UTC)
DUE_BY = OPENED_AT + timedelta(days=10)

_KINDS: dict[str, Any] = {
    "charge.dispute.created": DisputeOpened,
    "charge.dispute.updated": DisputeUpdated,
    "charge.dispute.closed": DisputeClosed,
    "charge.dispute.funds_withdrawn": DisputeFundsWithdrawn,
    "charge.dispute.funds_reinstated": DisputeFundsReinstated,
}


class FakeCaseStore:
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}
        self.writes = 0
        self.refused = 0

    def get(self, tenant: str, dispute_id: str) -> DisputeCase | None:
        found = self.items.get((tenant, dispute_id))
        return DisputeCase.model_validate_json(found) if found else None

    def save(self, case: DisputeCase, expected_version: int) -> bool:
        current = self.get(case.tenant, case.dispute_id)
        if (current.version if current else 0) != expected_version:
            self.refused += 1
            return False
        self.items[(case.tenant, case.dispute_id)] = case.model_dump_json()
        self.writes += 1
        return True

    def cases(self, tenant: str, status: str) -> Iterator[DisputeCase]:
        found = [
            DisputeCase.model_validate_json(v) for (t, _), v in self.items.items() if t == tenant
        ]
        wanted = [c for c in found if (c.is_open if status == "open" else not c.is_open)]
        yield from sorted(
            wanted,
            key=lambda c: (c.evidence_due_by is None, c.evidence_due_by or OPENED_AT, c.dispute_id),
        )

    def having_case(self, tenant: str, dispute_ids: Iterable[str]) -> set[str]:
        return {d for d in dispute_ids if (tenant, d) in self.items}


class FakeOrders:
    """The orders' aggregates, read by id (``OrderReader``) and by customer e-mail
    (``EarlierOrders``)."""

    def __init__(self, *states: OrderState) -> None:
        self.states = {(s.tenant, s.order_id): s for s in states}

    def load(self, tenant: str, order_id: str) -> OrderState | None:
        return self.states.get((tenant, order_id))

    def resolve(self, tenant: str, ref: str) -> str | None:
        kind, _, value = ref.partition(":")
        for (t, order_id), state in self.states.items():
            for payment in state.payments.values():
                if t == tenant and (
                    (kind == "charge" and value in payment.charge_ids)
                    or (kind == "payment" and value == payment.payment_id)
                ):
                    return order_id
        return None

    def of_customer(self, tenant: str, email: str) -> list[OrderState]:
        return [
            s
            for (t, _), s in self.states.items()
            if t == tenant and s.order and (s.order.customer.email or "").lower() == email.lower()
        ]


class FakeCounts:
    """``RatioCounts`` as a test plants them: ``{(month, kind): {brand: count}}``."""

    def __init__(self) -> None:
        self.planted: dict[tuple[date, str], dict[str, int]] = {}

    def plant(self, month: date, kind: str, **brands: int) -> None:
        self.planted[(month, kind)] = brands

    def chargebacks(self, tenant: str, month: date) -> dict[str, int]:
        return self.planted.get((month, "chargebacks"), {})

    def fraud_reports(self, tenant: str, month: date) -> dict[str, int]:
        return self.planted.get((month, "fraud_reports"), {})

    def settled(self, tenant: str, month: date) -> dict[str, int]:
        return self.planted.get((month, "settled"), {})


class FakeWarnings:
    def __init__(self) -> None:
        self.kept: dict[tuple[str, str], tuple[str, dict[str, str]]] = {}

    def record(self, tenant: str, warning_id: str, month: str, fields: dict[str, str]) -> bool:
        if (tenant, warning_id) in self.kept:
            return False
        self.kept[(tenant, warning_id)] = (month, fields)
        return True


class FakeActions:
    def __init__(self) -> None:
        self.recorded: dict[tuple[str, str], str] = {}

    def done(self, tenant: str, key: str) -> bool:
        return (tenant, key) in self.recorded

    def record(self, tenant: str, key: str, detail: str) -> None:
        self.recorded[(tenant, key)] = detail


class FakeCancellation:
    """The orders context's cancellation: every call kept; ``refuse`` says no."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.refuse: str | None = None

    def cancel(self, tenant: str, order_id: str, reason: str) -> dict[str, Any]:
        if self.refuse:
            raise CancellationRefused(self.refuse)
        self.calls.append((tenant, order_id, reason))
        return {"cancelled": True, "refunds": [{"refund_id": "cancellation-pi_1"}]}


class FakeFindings:
    def __init__(self, explanations: dict[str, list[str]] | None = None) -> None:
        self.explanations = explanations or {}

    def duplicate_payment(self, tenant: str, order_id: str) -> list[str]:
        return self.explanations.get(order_id, [])


class FakeEmails:
    def __init__(self, sent: dict[str, list[SentEmail]] | None = None) -> None:
        self.sent = sent or {}

    def sent_for(self, tenant: str, order_id: str) -> list[SentEmail]:
        return self.sent.get(order_id, [])


class FakeTenants:
    def __init__(self, *settings: TenantSettings) -> None:
        self.settings = {s.id: s for s in settings}

    def get(self, tenant: str) -> TenantSettings | None:
        return self.settings.get(tenant)

    def all(self) -> list[TenantSettings]:
        return list(self.settings.values())


class FakeGateway:
    """Stripe's dispute API as the desk calls it: every call kept; ``refuse`` makes updates
    fail as Stripe refuses them."""

    def __init__(self) -> None:
        self.uploads: dict[str, tuple[str, bytes]] = {}
        self.updates: list[tuple[str, dict[str, Any], bool, str]] = []
        self.closed: list[tuple[str, str]] = []
        self.refuse: str | None = None

    def upload(self, tenant: str, name: str, content: bytes, key: str) -> str:
        file_id = f"file_{len(self.uploads) + 1}"
        self.uploads.setdefault(key, (file_id, content))
        return self.uploads[key][0]

    def update(
        self, tenant: str, dispute_id: str, evidence: dict[str, Any], submit: bool, key: str
    ) -> dict[str, Any]:
        if self.refuse:
            raise StripeRefused(self.refuse)
        self.updates.append((dispute_id, evidence, submit, key))
        return {"id": dispute_id, "status": "under_review"}

    def close(self, tenant: str, dispute_id: str, key: str) -> dict[str, Any]:
        self.closed.append((dispute_id, key))
        return {"id": dispute_id, "status": "lost"}


def tenant(**disputes: Any) -> TenantSettings:
    return TenantSettings(
        id="acme",
        name="Acme",
        currency="EUR",
        timezone="Europe/Amsterdam",
        customer_sender="Acme <shop@acme.example>",
        alert_emails=("team@acme.example",),
        disputes=DisputeSettings(**disputes),
    )


def ports(
    *states: OrderState,
    at: datetime = OPENED_AT,
    emails: dict[str, list[SentEmail]] | None = None,
    settings: TenantSettings | None = None,
    **more: Any,
) -> Ports:
    orders = FakeOrders(*states)
    tenants = FakeTenants(settings or tenant())
    more.setdefault("alerts", FakeAlerts(tenants=tenants))
    return Ports(
        cases=FakeCaseStore(),
        orders=orders,
        emails=FakeEmails(emails),
        tenants=tenants,
        directory=tenants,
        counts=FakeCounts(),
        programmes=load_programmes(),
        earlier=orders,
        packets=PdfPackets(),
        gateway=FakeGateway(),
        warnings=FakeWarnings(),
        actions=FakeActions(),
        cancellation=FakeCancellation(),
        findings=FakeFindings(),
        clock=FixedClock(at),
        **more,
    )


def dispute_event(
    event_type: str = "charge.dispute.created",
    *,
    event_id: str = "evt_dp_created",
    dispute_id: str = "dp_1",
    charge_id: str = "ch_pi_1",
    status: str = "needs_response",
    amount: int = 2500,
    currency: str = "EUR",
    reason: str | None = "fraudulent",
    at: datetime = OPENED_AT,
    due_by: datetime | None = DUE_BY,
    tenant: str = "acme",
    brand: str | None = "visa",
    network_code: str | None = "10.4",
    fee: int | None = 1500,
    order_id: str | None = None,
) -> Any:
    return _KINDS[event_type](
        tenant=tenant,
        source=Source.STRIPE,
        source_event_id=event_id,
        occurred_at=at,
        dispute_id=dispute_id,
        charge_id=charge_id,
        order_id=order_id,
        amount=Money.of(amount, currency),
        reason=reason,
        status=status,
        evidence_due_by=due_by,
        card_brand=brand,
        network_reason_code=network_code,
        fee=Money.of(fee, currency) if fee is not None else None,
    )


def stripe_dispute_document(
    event_type: str = "charge.dispute.created",
    *,
    event_id: str = "evt_dp_created",
    dispute_id: str = "dp_1",
    charge_id: str = "ch_pi_1",
    payment_intent: str | None = "pi_1",
    status: str = "needs_response",
    amount: int = 2500,
    currency: str = "eur",
    reason: str = "fraudulent",
    at: datetime = OPENED_AT,
    due_by: datetime = DUE_BY,
    brand: str = "visa",
    network_code: str = "10.4",
    fee: int = 1500,
) -> dict[str, Any]:
    """A Stripe event carrying a dispute, as the webhook endpoint receives it."""
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": int(at.timestamp()),
        "data": {
            "object": {
                "id": dispute_id,
                "object": "dispute",
                "amount": amount,
                "currency": currency,
                "charge": charge_id,
                "payment_intent": payment_intent,
                "created": int(OPENED_AT.timestamp()),
                "reason": reason,
                "status": status,
                "is_charge_refundable": False,
                "evidence_details": {
                    "due_by": int(due_by.timestamp()),
                    "has_evidence": False,
                    "past_due": False,
                    "submission_count": 0,
                },
                "payment_method_details": {
                    "type": "card",
                    "card": {"brand": brand, "network_reason_code": network_code},
                },
                "balance_transactions": [
                    {
                        "id": f"txn_{dispute_id}",
                        "object": "balance_transaction",
                        "amount": -amount,
                        "currency": currency,
                        "fee": fee,
                        "reporting_category": "dispute",
                    }
                ]
                if event_type != "charge.dispute.created" or status != "warning_needs_response"
                else [],
                "metadata": {},
            }
        },
    }
