"""The orders context's composition root: its settings, and the adapters wired into its ports.

Settings come from the function's environment, parsed once per distinct environment (once per
cold start in Lambda; the local stack and the tests host several deployments in one process).
The only orders module besides the adapters that reads the environment or reaches another
context (risk's screening, behind the ``Screening`` port).
"""

import os
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from functions.orders.ports import Ports
from shared.clock import SYSTEM_CLOCK, Clock
from shared.refund_causes import RefundCause

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


@cache
def ports_for(settings: OrdersSettings, clock: Clock = SYSTEM_CLOCK) -> Ports:
    from functions.orders.adapters.alert_log import OrderAlertLog
    from functions.orders.adapters.notification_log import DynamoNotificationLog
    from functions.orders.adapters.refund_ledger import DynamoRefundLedger
    from functions.orders.adapters.return_labels import EasyPostReturnLabels
    from functions.orders.adapters.returns import DynamoReturns
    from functions.orders.adapters.review_links import SignedReviewLinks
    from functions.orders.adapters.workflows import StepFunctionsWorkflows
    from functions.payouts.composition import vendor_ledger
    from functions.risk.composition import build_risk
    from shared.alerts import Alerting, DynamoAlertLog, ops_sender_of
    from shared.gateway import money_movements_for
    from shared.lifecycle_store import LifecycleStore
    from shared.notify.mailers import mailer_for
    from shared.order_store import OrderStore
    from shared.retention import table_retention
    from shared.tenant_secrets import API, LINKS, TenantSecrets
    from shared.tenants import TenantDirectory

    table = settings.table_name
    retention = table_retention(table, clock)
    api_secrets = TenantSecrets(parts=API, prefix=settings.tenant_secret_prefix)
    link_secrets = TenantSecrets(parts=LINKS, prefix=settings.tenant_secret_prefix)

    def payments_for(tenant: str) -> Any:
        return money_movements_for(api_secrets, tenant)

    tenants = TenantDirectory(table)
    mailer = mailer_for(settings.mail_dir, clock)
    notifications = DynamoNotificationLog(table, clock)
    alerts = Alerting(
        settings.client_alerts_topic,
        tenants=tenants,
        mailer=mailer,
        log=OrderAlertLog(DynamoAlertLog(table, clock), notifications),
        ops_sender=settings.ops_sender,
        api_url=settings.public_api_url,
    )
    return Ports(
        orders=OrderStore(table, clock, retention),
        records=LifecycleStore(table, clock, retention),
        tenants=tenants,
        payments_for=payments_for,
        mailer=mailer,
        notifications=notifications,
        alerts=alerts,
        workflows=StepFunctionsWorkflows(),
        screening=build_risk(table, clock),
        refunds=DynamoRefundLedger(table, clock, retention),
        returns=DynamoReturns(table),
        review_links=SignedReviewLinks(link_secrets, settings.public_api_url),
        clock=clock,
        lifecycle_machine=settings.lifecycle_machine,
        refund_machine=settings.refund_machine,
        seconds_per_day=settings.seconds_per_day,
        return_labels=EasyPostReturnLabels(api_secrets, settings.carrier_api_base),
        vendor_ledger=vendor_ledger(
            table, clock, alerts, mailer, notifications, ops_sender_of(settings.ops_sender)
        ),
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
