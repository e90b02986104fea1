"""The orders context's composition root: its settings, and the adapters wired into its ports.

Settings come from the function's environment, parsed once per distinct environment (once per
cold start in Lambda; the local stack and the tests host several deployments in one process).
The only orders module besides the adapters that reads the environment or reaches another
context (risk's screening, behind the ``Screening`` port).
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import cache, cached_property
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field

from functions.orders.ports import (
    LifecycleRecords,
    Mailer,
    NotificationLog,
    Orders,
    Payments,
    Ports,
    RefundLedger,
    ReturnLabels,
    Returns,
    ReviewLinks,
    Screening,
    VendorLedger,
    Workflows,
)
from shared.clock import SYSTEM_CLOCK, Clock
from shared.refund_causes import RefundCause

if TYPE_CHECKING:
    from shared.alerts import Alerting
    from shared.tenant_secrets import TenantSecrets
    from shared.tenants import TenantDirectory

_ENV = {
    "table_name": "TABLE_NAME",
    "lifecycle_machine": "LIFECYCLE_STATE_MACHINE",
    "refund_machine": "REFUND_STATE_MACHINE",
    "client_alerts_topic": "CLIENT_ALERTS_TOPIC",
    "mail_dir": "MAIL_DIR",
    "public_api_url": "PUBLIC_API_URL",
    "seconds_per_day": "LIFECYCLE_SECONDS_PER_DAY",
    "tenant_secret_prefix": "TENANT_SECRET_PREFIX",
    "ops_sender": "OPS_SENDER",
    "carrier_api_base": "CARRIER_API_BASE",
}


class OrdersSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    table_name: str = Field(min_length=1)
    lifecycle_machine: str | None = None
    refund_machine: str | None = None
    client_alerts_topic: str | None = None
    # Local stack and tests: e-mails as .eml files in this folder instead of SES.
    mail_dir: str | None = None
    public_api_url: str = "https://api.example.invalid"
    seconds_per_day: int = Field(default=86_400, ge=1)
    tenant_secret_prefix: str | None = None
    # From: of the client team's notices (shared.alerts), never the shop's customer sender.
    ops_sender: str | None = None
    # Local stack and tests: the carrier sandbox that issues return labels instead of EasyPost.
    carrier_api_base: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "OrdersSettings":
        source = os.environ if env is None else env
        return _parse(tuple((field, source.get(name) or None) for field, name in _ENV.items()))


@cache
def _parse(values: tuple[tuple[str, str | None], ...]) -> OrdersSettings:
    return OrdersSettings.model_validate({k: v for k, v in values if v is not None})


class _Adapters:
    """Every adapter the orders context is wired to, in one place, each built when first read
    and then kept. Every step reads the tenant's settings, the order and its lifecycle
    records, so ``ports_for`` builds those three at once; the others (screening, the payouts
    ledger, the mailer and alerts, refunds, returns, labels, links, Step Functions) are built
    by the first step that uses them, so a step pays for what it uses only."""

    def __init__(self, settings: OrdersSettings, clock: Clock) -> None:
        from shared.retention import table_retention

        self.settings = settings
        self.clock = clock
        self.table = settings.table_name
        self.retention = table_retention(self.table, clock)

    @cached_property
    def orders(self) -> Orders:
        from shared.order_store import OrderStore

        return OrderStore(self.table, self.clock, self.retention)

    @cached_property
    def records(self) -> LifecycleRecords:
        from shared.lifecycle_store import LifecycleStore

        return LifecycleStore(self.table, self.clock, self.retention)

    @cached_property
    def tenants(self) -> "TenantDirectory":
        from shared.tenants import TenantDirectory

        return TenantDirectory(self.table)

    @cached_property
    def api_secrets(self) -> "TenantSecrets":
        from shared.tenant_secrets import API, TenantSecrets

        return TenantSecrets(parts=API, prefix=self.settings.tenant_secret_prefix)

    def payments_for(self, tenant: str) -> Payments:
        from shared.gateway import money_movements_for

        payments: Payments = money_movements_for(self.api_secrets, tenant)
        return payments

    @cached_property
    def mailer(self) -> Mailer:
        from shared.notify.mailers import mailer_for

        return mailer_for(self.settings.mail_dir, self.clock)

    @cached_property
    def notifications(self) -> NotificationLog:
        from functions.orders.adapters.notification_log import DynamoNotificationLog

        return DynamoNotificationLog(self.table, self.clock, self.retention)

    @cached_property
    def alerts(self) -> "Alerting":
        from functions.orders.adapters.alert_log import OrderAlertLog
        from shared.alerts import Alerting, DynamoAlertLog
        from shared.notice_digest import DynamoNoticeDigest

        return Alerting(
            self.settings.client_alerts_topic,
            tenants=self.tenants,
            mailer=self.mailer,
            log=OrderAlertLog(DynamoAlertLog(self.table, self.clock), self.notifications),
            ops_sender=self.settings.ops_sender,
            api_url=self.settings.public_api_url,
            digest=DynamoNoticeDigest(self.table, self.clock),
        )

    @cached_property
    def workflows(self) -> Workflows:
        from functions.orders.adapters.workflows import StepFunctionsWorkflows

        return StepFunctionsWorkflows()

    @cached_property
    def screening(self) -> Screening:
        from functions.risk.composition import build_risk

        return build_risk(self.table, self.clock)

    @cached_property
    def refunds(self) -> RefundLedger:
        from functions.orders.adapters.refund_ledger import DynamoRefundLedger

        return DynamoRefundLedger(self.table, self.clock, self.retention)

    @cached_property
    def returns(self) -> Returns:
        from functions.orders.adapters.returns import DynamoReturns

        return DynamoReturns(self.table)

    @cached_property
    def review_links(self) -> ReviewLinks:
        from functions.orders.adapters.review_links import SignedReviewLinks
        from shared.tenant_secrets import LINKS, TenantSecrets

        secrets = TenantSecrets(parts=LINKS, prefix=self.settings.tenant_secret_prefix)
        return SignedReviewLinks(secrets, self.settings.public_api_url)

    @cached_property
    def return_labels(self) -> ReturnLabels:
        from functions.orders.adapters.return_labels import EasyPostReturnLabels

        return EasyPostReturnLabels(self.api_secrets, self.settings.carrier_api_base)

    @cached_property
    def vendor_ledger(self) -> VendorLedger:
        from functions.payouts.composition import vendor_ledger
        from shared.alerts import ops_sender_of

        return vendor_ledger(
            self.table,
            self.clock,
            self.alerts,
            self.mailer,
            self.notifications,
            ops_sender_of(self.settings.ops_sender),
        )


_T = TypeVar("_T")


class _OnFirstUse:
    """Stands for an adapter until one of its attributes is first read: then it is built (by
    ``_Adapters``, once) and every read goes to it."""

    __slots__ = ("_build",)

    def __init__(self, build: Callable[[], object]) -> None:
        self._build = build

    def __getattr__(self, name: str) -> Any:
        return getattr(self._build(), name)

    def __repr__(self) -> str:
        return f"<built on first use: {self._build()!r}>"


def _on_first_use(build: Callable[[], _T]) -> _T:
    return cast(_T, _OnFirstUse(build))


@cache
def ports_for(settings: OrdersSettings, clock: Clock = SYSTEM_CLOCK) -> Ports:
    """The orders ports on the settings' table: the three every step reads built now, the
    rest on their first use (``_Adapters``)."""
    built = _Adapters(settings, clock)
    return Ports(
        orders=built.orders,
        records=built.records,
        tenants=built.tenants,
        payments_for=built.payments_for,
        mailer=_on_first_use(lambda: built.mailer),
        notifications=_on_first_use(lambda: built.notifications),
        alerts=_on_first_use(lambda: built.alerts),
        workflows=_on_first_use(lambda: built.workflows),
        screening=_on_first_use(lambda: built.screening),
        refunds=_on_first_use(lambda: built.refunds),
        returns=_on_first_use(lambda: built.returns),
        review_links=_on_first_use(lambda: built.review_links),
        clock=clock,
        lifecycle_machine=settings.lifecycle_machine,
        refund_machine=settings.refund_machine,
        seconds_per_day=settings.seconds_per_day,
        return_labels=_on_first_use(lambda: built.return_labels),
        vendor_ledger=_on_first_use(lambda: built.vendor_ledger),
    )


def ports_from_env() -> Ports:
    """The ports of the function running now."""
    return ports_for(OrdersSettings.from_env())


def ports_with(*, clock: Clock | None = None, **overrides: Any) -> Ports:
    """The environment's ports with some settings given (callers that know the table or a
    state machine better than their environment: other contexts' roots, the CLI, tests);
    ``clock`` is the use cases' "now" (the operator API passes its own)."""
    values: dict[str, Any] = {field: os.environ.get(name) or None for field, name in _ENV.items()}
    values.update(overrides)
    ports = ports_for(
        OrdersSettings.model_validate({k: v for k, v in values.items() if v is not None})
    )
    return ports if clock is None else replace(ports, clock=clock)


# -- the orders context as other contexts' roots reach it ----------------------------------------


def request_refund(
    tenant: str,
    order_id: str,
    *,
    refund_state_machine: str | None = None,
    table: str | None = None,
    **request: Any,
) -> dict[str, Any]:
    """Reconciliation's refunds (its ``RefundStarter`` port): of duplicate payments, of
    payments held for cancelled or failed orders, each for its cause."""
    from functions.orders.use_cases.refund_requests import request_refund as requested

    overrides: dict[str, Any] = {"table_name": table, "refund_machine": refund_state_machine}
    ports = ports_with(**{k: v for k, v in overrides.items() if v})
    return requested(ports, tenant, order_id, **request)


def cancel_order(
    tenant: str, order_id: str, reason: str, *, cause: RefundCause, table: str | None = None
) -> dict[str, Any]:
    """The chargeback desk's cancellations (an early fraud warning on an order not shipped):
    the same cancellation an operator makes, its refunds for ``cause``."""
    from functions.orders.use_cases.operations import cancel_order as cancel

    overrides: dict[str, Any] = {"table_name": table} if table else {}
    return cancel(ports_with(**overrides), tenant, order_id, reason, cause=cause)


class OrderChanges:
    """The processor's ``LifecyclePort``: what an applied event means for the order."""

    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    def order_changed(self, event: Any, order_id: str, result: str) -> None:
        from functions.orders.use_cases.changes import order_changed

        order_changed(self.ports, event, order_id, result)


def order_changes(
    table: str, lifecycle_arn: str | None, seconds_per_day: int, orders: Any = None
) -> OrderChanges:
    """Built by the webhooks composition root with the processor's own order store, so the
    aggregate it just wrote is read from that store's cache."""
    ports = ports_with(
        table_name=table, lifecycle_machine=lifecycle_arn, seconds_per_day=seconds_per_day
    )
    return OrderChanges(replace(ports, orders=orders) if orders is not None else ports)
