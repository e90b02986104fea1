"""What the webhooks use cases need from outside, as protocols; ``composition`` wires the
adapters in (``shared.raw_events``, ``shared.order_store``, ``shared.order_changes``,
``shared.settlement_store``, ``shared.tenant_secrets``, ``shared.gateway`` and ``adapters/``),
tests wire fakes.

Kept free of runtime imports beyond typing: the front door imports this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from datetime import date, datetime

    from shared.events import PayoutFailed, PayoutPaid
    from shared.order_aggregate import OrderState, Outcome, TimelineEntry
    from shared.settlements import BalanceTransaction

# -- the front door -----------------------------------------------------------------------------


class SecretsReader(Protocol):
    def get(self, tenant: str) -> dict[str, Any]:
        """The tenant's webhook secrets; ``domain.intake.UnknownTenant`` if it has none."""
        ...


class TenantCurrencies(Protocol):
    @property
    def accepted_currencies(self) -> Set[str]: ...


class TenantSettingsReader(Protocol):
    def get(self, tenant: str) -> TenantCurrencies | None:
        """The tenant's settings (``accepted_currencies``), or None if it has none."""
        ...


class RawEventIntake(Protocol):
    def put_new(
        self,
        *,
        tenant: str,
        source: str,
        event_id: str,
        event_type: str,
        body: bytes,
        received_at: str,
        hints: dict[str, str] | None = None,
        keep_days: int | None = None,
    ) -> bool:
        """Store the event unless its key exists; True if stored, False for a duplicate. The
        table keeps it ``keep_days`` after ``received_at`` (None: until deleted)."""
        ...


class RawEventDays(Protocol):
    def days(self, tenant: str) -> int:
        """How many days the table keeps the tenant's raw webhooks
        (``retention.raw_event_days``); the archive keeps them all the same."""
        ...


class StripeSignatures(Protocol):
    def __call__(self, payload: str, header: str, secret: str) -> None:
        """``domain.sources.StripeHeaderCheck``: SignatureError unless the header signs it."""
        ...


# -- processing -----------------------------------------------------------------------------------


class StoredEvent(Protocol):
    """A raw event as stored by the front door (``shared.raw_events.RawEvent``)."""

    @property
    def tenant(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def event_id(self) -> str: ...
    @property
    def event_type(self) -> str: ...
    @property
    def received_at(self) -> str: ...


E = TypeVar("E", bound=StoredEvent)


class RawEventStore(Protocol[E]):
    """The stored raw events, each of the store's own type ``E``."""

    def body_of(self, event: E) -> bytes: ...
    def mark(self, event: E, status: str, detail: str | None = None) -> None:
        """Record, with a detail, what processing could not use (``domain.applying.IGNORED``,
        ``REJECTED``). An applied event is left as stored: no second write."""
        ...

    def since(self, tenant: str, source: str, since: str) -> Iterator[E]:
        """What the table holds of a tenant and source, received at or after ``since``."""
        ...

    def archived(self, tenant: str, source: str, since: datetime, before: datetime) -> Iterator[E]:
        """What the archive holds of a tenant and source, received in ``[since, before)``."""
        ...


class RawEventArchive(Protocol):
    """The table's raw events by receive time, and the archive the archiver writes them to."""

    def archived_through(self, tenant: str) -> datetime | None:
        """Every hour of the tenant's events before this instant is archived."""
        ...

    def mark_archived_through(self, tenant: str, through: datetime) -> None: ...
    def oldest_received(self, tenant: str, source: str) -> datetime | None: ...
    def received_between(
        self, tenant: str, source: str, start: datetime, end: datetime
    ) -> Iterable[StoredEvent]: ...
    def archive_hour(self, tenant: str, source: str, hour: datetime, events: list[Any]) -> bool:
        """Write one hour of events as one object unless the hour is archived already (True
        if this call wrote it)."""
        ...


class TenantIds(Protocol):
    def ids(self) -> Iterable[str]:
        """Every tenant with settings."""
        ...


class OrderRepository(Protocol):
    def load_for_update(self, tenant: str, order_id: str) -> tuple[OrderState, int]: ...
    def commit(self, state: OrderState, expected_version: int, entry: TimelineEntry) -> Outcome: ...
    def resolve(self, tenant: str, ref: str) -> str | None: ...
    def link(self, tenant: str, ref: str, order_id: str) -> tuple[str, bool]: ...
    def park(self, tenant: str, ref: str, event_id: str, event: dict[str, Any]) -> None: ...
    def parked(self, tenant: str, ref: str) -> list[tuple[str, dict[str, Any]]]: ...
    def unpark(self, tenant: str, ref: str, event_id: str) -> None: ...


class SettlementStore(Protocol):
    def apply(self, event: PayoutPaid | PayoutFailed) -> str: ...
    def file_balance_transactions(
        self, tenant: str, payout_id: str, transactions: Iterable[BalanceTransaction]
    ) -> dict[str, dict[str, int]]: ...


class GatewayPort(Protocol):
    def balance_transactions_for_payout(self, payout_id: str) -> Iterable[dict[str, Any]]: ...


class OrderChangeLog(Protocol):
    """Which orders changed on which day (``shared.order_changes``): one idempotent note per
    order and day, for the daily reconciliation."""

    def note(self, tenant: str, order_id: str, days: Iterable[date]) -> int: ...


class LifecyclePort(Protocol):
    """The orders context, told about every event applied to an order."""

    def order_changed(self, event: Any, order_id: str, result: str) -> None: ...


class DisputeDesk(Protocol):
    """The chargeback desk, told about every dispute event: applied to its order, or parked
    because no event named its charge yet (``order_id`` None)."""

    def dispute_event(self, event: Any, order_id: str | None) -> str: ...

    def fraud_warning(self, event: Any) -> str:
        """An early fraud warning: recorded, and acted on per the tenant's policy."""
        ...


# -- replay and views -----------------------------------------------------------------------------


class DeadLetters(Protocol):
    """The processor's dead-letter queue: messages naming the stream records that failed."""

    def receive(self) -> list[Any]:
        """The next messages (at most a handful; none when the queue is empty)."""
        ...

    def events_of(self, message: Any) -> Iterator[Any]:
        """The raw events a message points at (of the raw event store's type)."""
        ...

    def delete(self, message: Any) -> None: ...


class OrderReader(Protocol):
    def load(self, tenant: str, order_id: str) -> tuple[OrderState, int]: ...
    def timeline(self, tenant: str, order_id: str) -> Iterable[dict[str, Any]]: ...


class EventCounts(Protocol):
    def raw_events(self, tenant: str, source: str) -> Iterator[tuple[str, str]]:
        """(status, event type) of every stored event of ``source``."""
        ...

    def orders_with_status(self, tenant: str, status: str) -> int: ...

    def dead_letters(self) -> int | None:
        """Messages waiting in the dead-letter queue; None when there is no queue to ask."""
        ...
