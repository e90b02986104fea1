"""The webhooks context's composition root: its settings, and the adapters wired into the ports
its use cases take.

Settings come from the function's environment, parsed once per distinct environment (once per
cold start in Lambda; the local stack and the tests host several deployments in one process,
so they are read on use and the parsed settings and built dependencies are cached by value).

The front door's import stays lean (bench/ingress.py): this module imports only what the ingress
needs at once; the ingress settings are read with plain code (no pydantic), the processor's are
validated by pydantic, which the processor loads anyway. The only modules of the context, with
``adapters/``, that read the environment or reach another context (the orders context, behind
``LifecyclePort``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, NamedTuple

from functions.webhooks.adapters.intake import (
    LazyTenantSettings,
    TenantRawEventDays,
    WebhookSecrets,
    check_stripe_header,
)
from functions.webhooks.domain.intake import MAX_BODY_BYTES
from functions.webhooks.use_cases.accept import IntakeDependencies
from shared.raw_events import RawEventStore
from shared.tenant_secrets import API, WEBHOOKS, TenantSecrets

if TYPE_CHECKING:
    from functions.webhooks.ports import DisputeDesk, LifecyclePort
    from functions.webhooks.use_cases.archive import ArchiveReport
    from functions.webhooks.use_cases.process import Dependencies
    from functions.webhooks.use_cases.replay import ReplayReport
    from shared.clock import Clock
    from shared.order_store import OrderStore


class SettingsError(ValueError):
    """The function's environment does not make valid settings."""


# -- settings -------------------------------------------------------------------------------------
# Named tuples: typed, immutable and hashable (the built dependencies are cached per settings),
# and a tenth of a frozen dataclass's cost at the front door's import.


class IngressSettings(NamedTuple):
    table_name: str
    archive_bucket: str | None = None
    max_body_bytes: int = MAX_BODY_BYTES

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IngressSettings:
        source = os.environ if env is None else env
        return _ingress_settings(
            source.get("TABLE_NAME") or None,
            source.get("ARCHIVE_BUCKET") or None,
            source.get("MAX_BODY_BYTES") or None,
        )


@cache
def _ingress_settings(
    table_name: str | None, archive_bucket: str | None, max_body_bytes: str | None
) -> IngressSettings:
    # Plain code on purpose: pydantic would cost the front door's cold start tens of ms.
    if not table_name:
        raise SettingsError("TABLE_NAME is required")
    limit = MAX_BODY_BYTES
    if max_body_bytes is not None:
        try:
            limit = int(max_body_bytes)
        except ValueError:
            raise SettingsError(f"MAX_BODY_BYTES is not a number: {max_body_bytes!r}") from None
        if limit < 1:
            raise SettingsError(f"MAX_BODY_BYTES must be positive, not {limit}")
    return IngressSettings(table_name, archive_bucket, limit)


_PROCESSOR_ENV = {
    "table_name": "TABLE_NAME",
    "archive_bucket": "ARCHIVE_BUCKET",
    "lifecycle_state_machine": "LIFECYCLE_STATE_MACHINE",
    "lifecycle_seconds_per_day": "LIFECYCLE_SECONDS_PER_DAY",
}


class ProcessorSettings(NamedTuple):
    """Validated by pydantic (``from_env``), which the processor loads anyway."""

    table_name: str
    archive_bucket: str | None = None
    # Without a lifecycle state machine (tests, replays) applied events start no workflow.
    lifecycle_state_machine: str | None = None
    lifecycle_seconds_per_day: int = 86_400

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ProcessorSettings:
        source = os.environ if env is None else env
        return _processor_settings(
            tuple((field, source.get(name) or None) for field, name in _PROCESSOR_ENV.items())
        )


@cache
def _processor_settings(values: tuple[tuple[str, str | None], ...]) -> ProcessorSettings:
    from pydantic import TypeAdapter, ValidationError

    try:
        settings = TypeAdapter(ProcessorSettings).validate_python(
            {field: value for field, value in values if value is not None}
        )
    except ValidationError as error:
        raise SettingsError(str(error)) from None
    if settings.lifecycle_seconds_per_day < 1:
        raise SettingsError(
            f"LIFECYCLE_SECONDS_PER_DAY must be positive, not {settings.lifecycle_seconds_per_day}"
        )
    return settings


# -- the front door -------------------------------------------------------------------------------


def ingress_dependencies(env: Mapping[str, str] | None = None) -> IntakeDependencies:
    """What ``accept`` needs, for the function running now."""
    return intake_for(IngressSettings.from_env(env))


@cache
def intake_for(settings: IngressSettings) -> IntakeDependencies:
    return IntakeDependencies(
        # Public function: it reads only the webhook secrets it verifies with.
        secrets=WebhookSecrets(TenantSecrets(parts=WEBHOOKS)),
        store=RawEventStore(settings.table_name, settings.archive_bucket),
        stripe_signatures=check_stripe_header,
        tenants=LazyTenantSettings(settings.table_name),
        max_body_bytes=settings.max_body_bytes,
        raw_event_days=TenantRawEventDays(settings.table_name),
    )


# -- processing -----------------------------------------------------------------------------------


def processor_dependencies(env: Mapping[str, str] | None = None) -> Dependencies:
    """What ``process`` needs, for the function running now."""
    return processor_for(ProcessorSettings.from_env(env))


@cache
def processor_for(settings: ProcessorSettings) -> Dependencies:
    from functions.webhooks.use_cases.process import Dependencies
    from shared.gateway import gateway_for
    from shared.order_changes import OrderChanges
    from shared.order_store import OrderStore
    from shared.settlement_store import SettlementStore

    table = settings.table_name
    # The gateway's API key, to look up what an event names (never webhook secrets).
    secrets = TenantSecrets(parts=API)
    orders = OrderStore(table)

    def gateway(tenant: str) -> Any:
        return gateway_for(secrets, tenant)

    machine = settings.lifecycle_state_machine
    return Dependencies(
        raw_events=RawEventStore(table, settings.archive_bucket),
        orders=orders,
        settlements=SettlementStore(table),
        gateway_for=gateway,
        lifecycle=(
            lifecycle_port(table, machine, settings.lifecycle_seconds_per_day, orders)
            if machine
            else None
        ),
        changes=OrderChanges(table),
        disputes=dispute_desk(table, orders),
    )


def lifecycle_port(
    table: str, state_machine_arn: str, seconds_per_day: int, orders: OrderStore
) -> LifecyclePort:
    """The orders context, told about every applied event: the one place webhooks reach another
    context. Given the processor's own order store, so the aggregate it just wrote is read from
    that store's cache instead of being fetched again."""
    from functions.orders.composition import order_changes

    return order_changes(table, state_machine_arn, seconds_per_day, orders)


def dispute_desk(table: str, orders: OrderStore) -> DisputeDesk:
    """The chargeback desk, told about every dispute event (``functions.disputes``)."""
    from functions.disputes.composition import dispute_desk as desk

    return desk(table, orders)


# -- the archiver ---------------------------------------------------------------------------------


def archive_raw_events(
    env: Mapping[str, str] | None = None, clock: Clock | None = None
) -> ArchiveReport:
    """Archive every tenant's ended hours of raw webhooks (``use_cases.archive``), for the
    function running now (or an operator's environment)."""
    from functions.webhooks.adapters.tenant_ids import DynamoTenantIds
    from functions.webhooks.use_cases.archive import archive_ended_hours
    from shared.clock import SYSTEM_CLOCK

    source = os.environ if env is None else env
    table, bucket = source.get("TABLE_NAME"), source.get("ARCHIVE_BUCKET")
    if not table or not bucket:
        raise SettingsError("TABLE_NAME and ARCHIVE_BUCKET are required")
    store = RawEventStore(table, bucket)
    return archive_ended_hours(DynamoTenantIds(table).ids(), store, clock or SYSTEM_CLOCK)


# -- what operators run (the CLI, the demo) -------------------------------------------------------


def event_stats(
    table_name: str, tenant: str, dead_letter_queue: str | None = None
) -> dict[str, Any]:
    """Stored events per source and status, orders per status, dead letters waiting."""
    from functions.webhooks.adapters.event_counts import DynamoEventCounts
    from functions.webhooks.use_cases.views import stats_view

    return stats_view(DynamoEventCounts(table_name, dead_letter_queue), tenant)


def replay_dead_letters(
    queue_url: str, table_name: str, deps: Dependencies, max_messages: int = 1000
) -> ReplayReport:
    """Re-drive what the processor's dead-letter queue holds (``use_cases.replay``)."""
    from functions.webhooks.adapters.dead_letters import SqsDeadLetters
    from functions.webhooks.use_cases.replay import drain_dead_letters

    return drain_dead_letters(SqsDeadLetters(queue_url, table_name), deps, max_messages)
