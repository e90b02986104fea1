"""What the orders use cases need from outside, as protocols; adapters implement them, and the
composition root (``composition.py``) wires them, tests wire fakes (``tests/orders_fakes.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from shared.clock import Clock
    from shared.events import Card, OrderPlaced
    from shared.notices import Notice
    from shared.order_aggregate import OrderState, TimelineEntry
    from shared.tenants import TenantSettings


class Orders(Protocol):
    """The order aggregates (``shared.order_store.OrderStore``)."""

    table_name: str

    def load(self, tenant: str, order_id: str) -> tuple[OrderState, int]: ...

    def load_for_update(self, tenant: str, order_id: str) -> tuple[OrderState, int]:
        """Like ``load``, from this process's cache when it has the aggregate (the processor
        just wrote it)."""
        ...

    def link(self, tenant: str, ref: str, order_id: str) -> Any: ...

    def note(self, tenant: str, order_id: str, entry: TimelineEntry) -> None:
        """Something people did about the order, on its timeline (the aggregate is unchanged)."""
        ...


class LifecycleRecords(Protocol):
    """What the lifecycle keeps beside the aggregate (``shared.lifecycle_store``)."""

    def set_stage(self, tenant: str, order_id: str, stage: str, detail: str = "") -> None: ...

    def stage(self, tenant: str, order_id: str) -> str | None: ...

    def save_screening(self, tenant: str, order_id: str, screening: dict[str, Any]) -> None: ...

    def screening(self, tenant: str, order_id: str) -> dict[str, Any] | None: ...

    def put_wait(
        self, tenant: str, order_id: str, wait: str, token: str, answer: str | None = None
    ) -> None: ...

    def take_wait(self, tenant: str, order_id: str, wait: str) -> str | None: ...

    def take_parked(self, tenant: str, order_id: str, wait: str) -> tuple[str, str | None] | None:
        """The token and how its state wants the answer (None: not said), taken once."""
        ...

    def waiting(self, tenant: str, order_id: str) -> set[str]:
        """The waits whose tokens are parked now (read consistently)."""
        ...

    def parked(self, tenant: str, order_id: str) -> dict[str, str]:
        """The tokens parked now, by wait (the same consistent read as ``waiting``); left
        parked."""
        ...

    def open_claim(self, tenant: str, order_id: str, claim: dict[str, Any]) -> bool:
        """Once per parcel: False when the parcel has a claim already."""
        ...

    def save_claim(
        self, tenant: str, order_id: str, claim: dict[str, Any], expected_version: int
    ) -> bool:
        """The claim's next version over ``expected_version``; False when it moved meanwhile."""
        ...

    def claims(self, tenant: str, order_id: str) -> list[dict[str, Any]]: ...

    def open_claims(self, tenant: str) -> list[dict[str, Any]]: ...

    def save_movement(self, tenant: str, order_id: str, fingerprint: str) -> None: ...

    def movement(self, tenant: str, order_id: str) -> str | None: ...

    def release_funds(self, tenant: str, order_id: str, lines: list[dict[str, Any]]) -> None: ...

    def start_review(self, tenant: str, order_id: str, at: datetime) -> datetime:
        """When the review hold began (``at`` the first time)."""
        ...

    def open_call_task(self, tenant: str, order_id: str, task: dict[str, Any]) -> bool:
        """Once per review: False when the call task exists already."""
        ...

    def mark_window_alerted(self, tenant: str, order_id: str, at: datetime) -> bool:
        """Once per review: False when the authorisation window's alert went out already."""
        ...

    def add_call_outcome(self, tenant: str, order_id: str, outcome: dict[str, Any]) -> None: ...

    def review(self, tenant: str, order_id: str) -> dict[str, Any] | None: ...


class Tenants(Protocol):
    def get(self, tenant: str) -> TenantSettings | None: ...


class Payments(Protocol):
    """Money movements at the gateway, each with our idempotency key."""

    def capture(self, *, payment_id: str, amount: int | None, key: str) -> dict[str, Any]: ...

    def void(self, *, payment_id: str, key: str, reason: str | None = None) -> dict[str, Any]: ...

    def refund(
        self,
        *,
        payment_id: str,
        amount: int,
        key: str,
        reason: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]: ...

    def refunded(self, *, payment_id: str) -> dict[str, int]:
        """The gateway's figures for a payment now: ``captured`` and ``refunded``."""
        ...


class PaymentsFor(Protocol):
    def __call__(self, tenant: str) -> Payments: ...


class Mailer(Protocol):
    def send(self, email: Any, idempotency_key: str) -> str: ...


class NotificationLog(Protocol):
    """Which e-mails an order was sent (once per order and kind)."""

    def sent(self, tenant: str, order_id: str, kind: str) -> bool: ...

    def record(
        self, tenant: str, order_id: str, kind: str, status: str, message_id: str, summary: str
    ) -> None: ...


class Alerts(Protocol):
    """The client team is told (``shared.alerts``: SNS and a rendered e-mail, once per notice)."""

    def send(self, notice: Notice) -> None: ...


class Workflows(Protocol):
    """Step Functions: one execution per identity, waiting tasks resumed by token."""

    def start(self, machine: str, identity: tuple[str, ...], document: dict[str, Any]) -> bool: ...

    def resume(self, token: str, output: dict[str, Any]) -> bool: ...

    def fail(self, token: str, error: str, cause: str) -> bool:
        """Fail a waiting task with ``error`` (the state's Catch routes it); False when the
        task is over already."""
        ...

    def heartbeat(self, token: str) -> bool:
        """Tell a waiting task it is still alive (its heartbeat limit starts again); False when
        the task is over already (timed out, resumed, its execution ended)."""
        ...

    def stop(self, machine: str, identity: tuple[str, ...], error: str, cause: str) -> None: ...


class Screening(Protocol):
    """Risk, as orders see it (``functions.risk.composition.RiskService``)."""

    def screen(
        self, tenant: TenantSettings, order: OrderPlaced, card: Card | None
    ) -> dict[str, Any]: ...

    def record_fraud_decision(self, order: OrderPlaced, at: datetime) -> None: ...

    def record_outcomes(self, state: OrderState) -> int: ...


class RefundLedger(Protocol):
    """Refund requests and what they reserve on each payment (one conditional write each)."""

    def requests(self, tenant: str, order_id: str) -> list[dict[str, Any]]: ...

    def reserved(self, tenant: str, order_id: str, payment_id: str) -> int: ...

    def reserve(
        self, tenant: str, order_id: str, payment_id: str, refund_id: str, amount: int, cap: int
    ) -> bool: ...

    def release(self, tenant: str, order_id: str, refund_id: str) -> int: ...

    def claim(
        self, tenant: str, order_id: str, refund_id: str, request: dict[str, Any]
    ) -> dict[str, Any] | None: ...

    def record(self, tenant: str, order_id: str, refund_id: str, **fields: Any) -> None: ...

    def completed(
        self, tenant: str, order_id: str, refund_id: str, amount: int, currency: str
    ) -> None: ...

    def note_gateway_failure(
        self, tenant: str, order_id: str, gateway_refund_id: str, details: dict[str, Any]
    ) -> bool:
        """Keep that the gateway failed this refund; True only the first time (one
        conditional write), so the failure is told once."""
        ...


class Returns(Protocol):
    """Returns beside the order (``RETURN#<return>``) and what they hold of each line
    (``RETURNED``). A return is a record of plain values: ``return_id``, ``status``, ``lines``
    (line id → quantity), ``amount`` and what its life adds (label, scans, inspection, refund)."""

    def reserve(
        self, tenant: str, order_id: str, record: dict[str, Any], cap: dict[str, int]
    ) -> bool:
        """Open the return and add its lines to what returns hold, in one conditional write:
        False (nothing written) if any line would then hold more than its ``cap``."""
        ...

    def returned(self, tenant: str, order_id: str) -> dict[str, int]: ...

    def get(self, tenant: str, order_id: str, return_id: str) -> dict[str, Any] | None: ...

    def all(self, tenant: str, order_id: str) -> list[dict[str, Any]]: ...

    def advance(
        self,
        tenant: str,
        order_id: str,
        return_id: str,
        before: Iterable[str],
        status: str,
        **fields: Any,
    ) -> bool:
        """Move the return to ``status`` (recording ``fields``) if it is in one of ``before``."""
        ...

    def cancel(self, tenant: str, order_id: str, return_id: str, reason: str) -> None:
        """A return that never got its label: cancelled, its lines given back."""
        ...


class ReturnLabels(Protocol):
    """The carrier account that issues return labels (EasyPost's ``is_return`` shipment)."""

    def issue(
        self, tenant: str, order_id: str, return_id: str, from_address: dict[str, Any] | None
    ) -> dict[str, Any]:
        """``{"tracking_code", "label_url", "carrier", "shipment_id"}``; idempotent per
        return (the shipment's reference is the return id)."""
        ...


class ReviewLinks(Protocol):
    """Signed one-click approve/reject links for the client team (none without a signing key:
    then the e-mail points at ``console_url``)."""

    console_url: str

    def links(self, tenant: str, order_id: str, expires_at: int) -> dict[str, str]: ...

    def order_url(self, tenant: str, order_id: str) -> str:
        """Where an operator sees the order (the operator API's order)."""
        ...


class VendorLedger(Protocol):
    """The vendors' side of an order's money (the payouts context, wired by the composition
    root): told when the order is sold (confirmed paid), released, cancelled, refunded and
    disputed.
    Each call is idempotent; a failure raises, so the step is retried."""

    def sold(self, tenant: TenantSettings, state: OrderState) -> None: ...

    def released(self, tenant: TenantSettings, state: OrderState, line_ids: list[str]) -> None: ...

    def cancelled(self, tenant: TenantSettings, state: OrderState) -> None: ...

    def delivery_problem(self, tenant: TenantSettings, state: OrderState) -> None:
        """Every parcel settled and one did not arrive: its lines are held for an operator."""
        ...

    def claim_paid(
        self,
        tenant: TenantSettings,
        state: OrderState,
        tracking_code: str,
        amount: int,
        lines: list[str],
    ) -> None:
        """The carrier paid the claim for a parcel (``amount`` in the order's currency)."""
        ...

    def disputed(self, tenant: TenantSettings, state: OrderState) -> None:
        """The order's disputes changed (funds withdrawn or reinstated, won or lost)."""
        ...

    def refund_completed(
        self,
        tenant: TenantSettings,
        state: OrderState,
        refund_id: str,
        amount: int,
        currency: str,
        line_ids: Sequence[str] | None = None,
    ) -> None:
        """``line_ids``: the lines the refund was asked for (a return's accepted lines, an
        operator's refund by lines); None when it was asked as an amount of the order."""
        ...


@dataclass(frozen=True)
class Ports:
    """Everything the orders use cases take, wired by ``composition.py`` (or by a test)."""

    orders: Orders
    records: LifecycleRecords
    tenants: Tenants
    payments_for: PaymentsFor
    mailer: Mailer
    notifications: NotificationLog
    alerts: Alerts
    workflows: Workflows
    screening: Screening
    refunds: RefundLedger
    returns: Returns
    review_links: ReviewLinks
    clock: Clock
    lifecycle_machine: str | None = None
    refund_machine: str | None = None
    seconds_per_day: int = 86_400
    return_labels: ReturnLabels | None = None
    vendor_ledger: VendorLedger | None = None
