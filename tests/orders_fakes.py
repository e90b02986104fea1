"""In-memory fakes of the orders context's ports: the use cases' unit tests wire these."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from functions.orders.ports import Ports
from shared.events import Card, OrderPlaced
from shared.order_aggregate import OrderState, TimelineEntry, apply
from shared.tenants import TenantSettings
from tests.alerts_fakes import FakeAlerts
from tests.clocks import FixedClock


class FakeOrders:
    table_name = "fake"

    def __init__(self) -> None:
        self.states: dict[tuple[str, str], OrderState] = {}
        self.links: dict[tuple[str, str], str] = {}
        self.notes: dict[tuple[str, str], list[TimelineEntry]] = {}

    def add(self, *events: Any) -> OrderState:
        for event in events:
            key = (event.tenant, event.order_id)
            state = self.states.get(key) or OrderState(tenant=event.tenant, order_id=event.order_id)
            self.states[key] = apply(state, event)
        return self.states[key]

    def load(self, tenant: str, order_id: str) -> tuple[OrderState, int]:
        state = self.states.get((tenant, order_id))
        if state is None:
            return OrderState(tenant=tenant, order_id=order_id), 0
        return state.model_copy(deep=True), 1

    load_for_update = load

    def link(self, tenant: str, ref: str, order_id: str) -> None:
        self.links[(tenant, ref)] = order_id

    def note(self, tenant: str, order_id: str, entry: TimelineEntry) -> None:
        self.notes.setdefault((tenant, order_id), []).append(entry)


class FakeRecords:
    def __init__(self) -> None:
        self.stages: dict[tuple[str, str], tuple[str, str]] = {}
        self.screenings: dict[tuple[str, str], dict[str, Any]] = {}
        self.waits: dict[tuple[str, str, str], str] = {}
        self.claim_records: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.movements: dict[tuple[str, str], str] = {}
        self.released: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.reviews: dict[tuple[str, str], dict[str, Any]] = {}
        self.answers: dict[tuple[str, str, str], str] = {}

    def set_stage(self, tenant: str, order_id: str, stage: str, detail: str = "") -> None:
        self.stages[(tenant, order_id)] = (str(stage), str(detail))

    def stage(self, tenant: str, order_id: str) -> str | None:
        found = self.stages.get((tenant, order_id))
        return found[0] if found else None

    def save_screening(self, tenant: str, order_id: str, screening: dict[str, Any]) -> None:
        self.screenings[(tenant, order_id)] = screening

    def screening(self, tenant: str, order_id: str) -> dict[str, Any] | None:
        return self.screenings.get((tenant, order_id))

    def put_wait(
        self, tenant: str, order_id: str, wait: str, token: str, answer: str | None = None
    ) -> None:
        self.waits[(tenant, order_id, str(wait))] = token
        if answer is not None:
            self.answers[(tenant, order_id, str(wait))] = str(answer)
        else:
            self.answers.pop((tenant, order_id, str(wait)), None)

    def take_wait(self, tenant: str, order_id: str, wait: str) -> str | None:
        taken = self.take_parked(tenant, order_id, wait)
        return taken[0] if taken else None

    def take_parked(self, tenant: str, order_id: str, wait: str) -> tuple[str, str | None] | None:
        token = self.waits.pop((tenant, order_id, str(wait)), None)
        answer = self.answers.pop((tenant, order_id, str(wait)), None)
        return (token, answer) if token is not None else None

    def waiting(self, tenant: str, order_id: str) -> set[str]:
        return set(self.parked(tenant, order_id))

    def parked(self, tenant: str, order_id: str) -> dict[str, str]:
        return {w: token for (t, o, w), token in self.waits.items() if (t, o) == (tenant, order_id)}

    def open_claim(self, tenant: str, order_id: str, claim: dict[str, Any]) -> bool:
        key = (tenant, order_id, claim["tracking_code"])
        if key in self.claim_records:
            return False
        self.claim_records[key] = dict(claim)
        return True

    def save_claim(
        self, tenant: str, order_id: str, claim: dict[str, Any], expected_version: int
    ) -> bool:
        key = (tenant, order_id, claim["tracking_code"])
        if self.claim_records[key]["version"] != expected_version:
            return False
        self.claim_records[key] = dict(claim)
        return True

    def claims(self, tenant: str, order_id: str) -> list[dict[str, Any]]:
        return [c for (t, o, _), c in self.claim_records.items() if (t, o) == (tenant, order_id)]

    def open_claims(self, tenant: str) -> list[dict[str, Any]]:
        return [
            {"order_id": o, **c}
            for (t, o, _), c in self.claim_records.items()
            if t == tenant and c["status"] in ("filed", "accepted")
        ]

    def save_movement(self, tenant: str, order_id: str, fingerprint: str) -> None:
        self.movements[(tenant, order_id)] = fingerprint

    def movement(self, tenant: str, order_id: str) -> str | None:
        return self.movements.get((tenant, order_id))

    def release_funds(self, tenant: str, order_id: str, lines: list[dict[str, Any]]) -> None:
        self.released[(tenant, order_id)] = lines

    def start_review(self, tenant: str, order_id: str, at: datetime) -> datetime:
        review = self.reviews.setdefault((tenant, order_id), {"held_at": at.isoformat()})
        return datetime.fromisoformat(review["held_at"])

    def _set_once(self, tenant: str, order_id: str, field: str, value: Any) -> bool:
        review = self.reviews.setdefault((tenant, order_id), {})
        if field in review:
            return False
        review[field] = value
        return True

    def open_call_task(self, tenant: str, order_id: str, task: dict[str, Any]) -> bool:
        return self._set_once(tenant, order_id, "call_task", task)

    def mark_window_alerted(self, tenant: str, order_id: str, at: datetime) -> bool:
        return self._set_once(tenant, order_id, "window_alerted_at", at.isoformat())

    def add_call_outcome(self, tenant: str, order_id: str, outcome: dict[str, Any]) -> None:
        self.reviews.setdefault((tenant, order_id), {}).setdefault("outcomes", []).append(outcome)

    def review(self, tenant: str, order_id: str) -> dict[str, Any] | None:
        found = self.reviews.get((tenant, order_id))
        if found is None:
            return None
        return {"call_task": None, "outcomes": [], "window_alerted_at": None, **found}


class FakeTenants:
    def __init__(self, *tenants: TenantSettings) -> None:
        self.by_id = {t.id: t for t in tenants}

    def get(self, tenant: str) -> TenantSettings | None:
        return self.by_id.get(tenant)


class FakePayments:
    """The gateway: refunds, captures and voids, idempotent per key like Stripe's."""

    def __init__(self) -> None:
        self.calls: dict[str, tuple[str, dict[str, Any]]] = {}
        self.refuse: str | None = None
        # Stripe's error code with the refusal (``charge_already_refunded``…).
        self.refuse_code: str | None = None
        # What the gateway says of a payment: captured and refunded, by payment id.
        self.figures: dict[str, dict[str, int]] = {}

    def _call(self, kind: str, key: str, **params: Any) -> dict[str, Any]:
        if self.refuse:
            from shared.gateway_errors import GatewayRefused

            raise GatewayRefused(self.refuse, code=self.refuse_code)
        self.calls.setdefault(key, (kind, params))
        return {"id": f"{kind}_{len(self.calls)}", "status": "succeeded"}

    def capture(self, *, payment_id: str, amount: int | None, key: str) -> dict[str, Any]:
        return self._call("capture", key, payment_id=payment_id, amount=amount)

    def void(self, *, payment_id: str, key: str, reason: str | None = None) -> dict[str, Any]:
        return self._call("void", key, payment_id=payment_id, reason=reason)

    def refund(
        self,
        *,
        payment_id: str,
        amount: int,
        key: str,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        return self._call("re", key, payment_id=payment_id, amount=amount, reason=reason)

    def refunded(self, *, payment_id: str) -> dict[str, int]:
        return self.figures[payment_id]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [params for k, params in self.calls.values() if k == kind]


class FakeMailer:
    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.fail = False

    def send(self, email: Any, idempotency_key: str) -> str:
        if self.fail:
            raise ConnectionError("mail server down")
        self.sent.append(email)
        return f"msg-{len(self.sent)}"

    def kinds(self) -> list[str]:
        return [str(email.kind) for email in self.sent]


class FakeNotificationLog:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str, str], str] = {}

    def sent(self, tenant: str, order_id: str, kind: str) -> bool:
        return self.records.get((tenant, order_id, kind)) == "sent"

    def record(
        self, tenant: str, order_id: str, kind: str, status: str, message_id: str, summary: str
    ) -> None:
        self.records[(tenant, order_id, kind)] = status


class FakeWorkflows:
    def __init__(self) -> None:
        self.started: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
        self.resumed: list[tuple[str, dict[str, Any]]] = []
        self.stopped: list[tuple[str, tuple[str, ...], str]] = []
        self.live_tokens: set[str] = set()
        self.heartbeats: list[str] = []
        self.failed: list[tuple[str, str, str]] = []

    def start(self, machine: str, identity: tuple[str, ...], document: dict[str, Any]) -> bool:
        if (machine, identity) in self.started:
            return False
        self.started[(machine, identity)] = document
        return True

    def resume(self, token: str, output: dict[str, Any]) -> bool:
        self.resumed.append((token, output))
        return token in self.live_tokens if self.live_tokens else True

    def fail(self, token: str, error: str, cause: str) -> bool:
        self.failed.append((token, error, cause))
        return token in self.live_tokens if self.live_tokens else True

    def heartbeat(self, token: str) -> bool:
        self.heartbeats.append(token)
        return token in self.live_tokens if self.live_tokens else True

    def stop(self, machine: str, identity: tuple[str, ...], error: str, cause: str) -> None:
        self.stopped.append((machine, identity, error))


@dataclass
class FakeScreening:
    decision: str = "allow"
    screened: list[str] = field(default_factory=list)
    fraud_decisions: list[tuple[str, datetime]] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)

    def screen(
        self, tenant: TenantSettings, order: OrderPlaced, card: Card | None
    ) -> dict[str, Any]:
        self.screened.append(order.order_id)
        return {
            "decision": self.decision,
            "score": 80 if self.decision != "allow" else 5,
            "reasons": [] if self.decision == "allow" else ["planted"],
            "ruleset_version": "test/1",
            "matched_rules": [],
        }

    def record_fraud_decision(self, order: OrderPlaced, at: datetime) -> None:
        self.fraud_decisions.append((order.order_id, at))

    def record_outcomes(self, state: OrderState) -> int:
        self.outcomes.append(state.order_id)
        return 0


class FakeRefundLedger:
    """Reservations with the same rule as the table's conditional write."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.holds: dict[tuple[str, str, str], dict[str, int]] = {}
        self.completions: list[tuple[str, int, str]] = []
        self.gateway_failures: dict[tuple[str, str, str], dict[str, Any]] = {}

    def requests(self, tenant: str, order_id: str) -> list[dict[str, Any]]:
        return [
            {**record, "refund_id": refund_id}
            for (t, o, refund_id), record in self.records.items()
            if (t, o) == (tenant, order_id)
        ]

    def reserved(self, tenant: str, order_id: str, payment_id: str) -> int:
        return sum(self.holds.get((tenant, order_id, payment_id), {}).values())

    def reserve(
        self, tenant: str, order_id: str, payment_id: str, refund_id: str, amount: int, cap: int
    ) -> bool:
        holds = self.holds.setdefault((tenant, order_id, payment_id), {})
        if refund_id in holds:
            return True
        if sum(holds.values()) > cap - amount:
            return False
        holds[refund_id] = amount
        return True

    def release(self, tenant: str, order_id: str, refund_id: str) -> int:
        released = 0
        for (t, o, _), holds in self.holds.items():
            if (t, o) == (tenant, order_id) and refund_id in holds:
                released += holds.pop(refund_id)
        return released

    def claim(
        self, tenant: str, order_id: str, refund_id: str, request: dict[str, Any]
    ) -> dict[str, Any] | None:
        key = (tenant, order_id, refund_id)
        if key in self.records:
            return dict(self.records[key]["request"])
        self.records[key] = {"status": "accepted", "request": request}
        return None

    def record(self, tenant: str, order_id: str, refund_id: str, **fields: Any) -> None:
        self.records.setdefault((tenant, order_id, refund_id), {}).update(fields)

    def completed(
        self, tenant: str, order_id: str, refund_id: str, amount: int, currency: str
    ) -> None:
        self.completions.append((refund_id, amount, currency))

    def note_gateway_failure(
        self, tenant: str, order_id: str, gateway_refund_id: str, details: dict[str, Any]
    ) -> bool:
        key = (tenant, order_id, gateway_refund_id)
        if key in self.gateway_failures:
            return False
        self.gateway_failures[key] = details
        return True


class FakeReturns:
    """Returns with the same rule as the table's transaction: a return's lines are added to
    what returns hold only if every line stays within its cap, else nothing is written."""

    def __init__(self) -> None:
        self.returns: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.held: dict[tuple[str, str], dict[str, int]] = {}

    def reserve(
        self, tenant: str, order_id: str, record: dict[str, Any], cap: dict[str, int]
    ) -> bool:
        held = self.held.setdefault((tenant, order_id), {})
        lines: dict[str, int] = record["lines"]
        key = (tenant, order_id, record["return_id"])
        if key in self.returns or any(held.get(k, 0) + q > cap[k] for k, q in lines.items()):
            return False
        for line_id, quantity in lines.items():
            held[line_id] = held.get(line_id, 0) + quantity
        self.returns[key] = json.loads(json.dumps(record, default=str))
        return True

    def returned(self, tenant: str, order_id: str) -> dict[str, int]:
        return dict(self.held.get((tenant, order_id), {}))

    def get(self, tenant: str, order_id: str, return_id: str) -> dict[str, Any] | None:
        found = self.returns.get((tenant, order_id, return_id))
        return json.loads(json.dumps(found)) if found else None

    def all(self, tenant: str, order_id: str) -> list[dict[str, Any]]:
        return [
            json.loads(json.dumps(r))
            for (t, o, _), r in self.returns.items()
            if (t, o) == (tenant, order_id)
        ]

    def advance(
        self,
        tenant: str,
        order_id: str,
        return_id: str,
        before: Iterable[str],
        status: str,
        **fields: Any,
    ) -> bool:
        record = self.returns.get((tenant, order_id, return_id))
        if record is None or record["status"] not in {str(b) for b in before}:
            return False
        record.update(json.loads(json.dumps({**fields, "status": str(status)}, default=str)))
        return True

    def cancel(self, tenant: str, order_id: str, return_id: str, reason: str) -> None:
        record = self.returns.get((tenant, order_id, return_id))
        if record is None or record["status"] != "requested":
            return
        record.update(status="cancelled", cancelled=reason)
        held = self.held[(tenant, order_id)]
        for line_id, quantity in record["lines"].items():
            held[line_id] -= quantity


class FakeReturnLabels:
    """The carrier's return labels; ``refuse`` makes the next call fail like a carrier error."""

    def __init__(self) -> None:
        self.issued: list[tuple[str, str, str]] = []
        self.refuse: Exception | None = None

    def issue(
        self, tenant: str, order_id: str, return_id: str, from_address: dict[str, Any] | None
    ) -> dict[str, Any]:
        if self.refuse is not None:
            raise self.refuse
        self.issued.append((tenant, order_id, return_id))
        number = len(self.issued)
        return {
            "tracking_code": f"9400RET{number:04d}",
            "label_url": f"https://labels.example/{return_id}.pdf",
            "carrier": "USPS",
            "shipment_id": f"shp_{number}",
        }


class FakeReviewLinks:
    console_url = "https://ops.example/orders"

    def links(self, tenant: str, order_id: str, expires_at: int) -> dict[str, str]:
        return {
            d: f"https://ops.example/links/{tenant}/{order_id}/{d}?exp={expires_at}"
            for d in ("approve", "reject")
        }

    def order_url(self, tenant: str, order_id: str) -> str:
        return f"https://ops.example/ops/tenants/{tenant}/orders/{order_id}"


@dataclass
class FakePorts:
    """The fakes, and the ``Ports`` bundle made of them."""

    clock: FixedClock
    tenants: FakeTenants
    orders: FakeOrders = field(default_factory=FakeOrders)
    records: FakeRecords = field(default_factory=FakeRecords)
    payments: FakePayments = field(default_factory=FakePayments)
    mailer: FakeMailer = field(default_factory=FakeMailer)
    notifications: FakeNotificationLog = field(default_factory=FakeNotificationLog)
    # The real alerting over fakes: its e-mails land in ``mailer`` (from the ops sender).
    alerts: FakeAlerts = field(init=False)
    workflows: FakeWorkflows = field(default_factory=FakeWorkflows)
    screening: FakeScreening = field(default_factory=FakeScreening)
    refunds: FakeRefundLedger = field(default_factory=FakeRefundLedger)
    returns: FakeReturns = field(default_factory=FakeReturns)
    return_labels: FakeReturnLabels = field(default_factory=FakeReturnLabels)

    def __post_init__(self) -> None:
        self.alerts = FakeAlerts(self.tenants, self.mailer)

    def ports(self, **settings: Any) -> Ports:
        return Ports(
            orders=self.orders,
            records=self.records,
            tenants=self.tenants,
            payments_for=lambda tenant: self.payments,
            mailer=self.mailer,
            notifications=self.notifications,
            alerts=self.alerts,
            workflows=self.workflows,
            screening=self.screening,
            refunds=self.refunds,
            returns=self.returns,
            review_links=FakeReviewLinks(),
            clock=self.clock,
            lifecycle_machine=settings.get("lifecycle_machine", "arn:lifecycle"),
            refund_machine=settings.get("refund_machine", "arn:refunds"),
            seconds_per_day=settings.get("seconds_per_day", 86_400),
            return_labels=self.return_labels,
        )
