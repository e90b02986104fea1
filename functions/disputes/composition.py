"""The chargeback desk's composition root: its settings, and the adapters wired into its ports.

Settings come from the function's environment, parsed once per distinct environment. The
processor (webhooks) reaches the desk through ``dispute_desk`` behind its ``DisputeDesk`` port,
and reconciliation through ``dispute_cases`` behind its case lookup; this module is the desk's
only door for other contexts' composition roots.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from shared.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from functions.disputes.ports import Ports
    from shared.order_store import OrderStore

CLOCK: Clock = SYSTEM_CLOCK

_ENV = {
    "table_name": "TABLE_NAME",
    "client_alerts_topic": "CLIENT_ALERTS_TOPIC",
    "mail_dir": "MAIL_DIR",
    "ops_sender": "OPS_SENDER",
    "public_api_url": "PUBLIC_API_URL",
    "tenant_secret_prefix": "TENANT_SECRET_PREFIX",
}


class DisputesSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    table_name: str = Field(min_length=1)
    client_alerts_topic: str | None = None
    # Local stack and tests: e-mails as .eml files in this folder instead of SES.
    mail_dir: str | None = None
    ops_sender: str | None = None
    public_api_url: str | None = None
    # Where the tenants' secrets live in Parameter Store (the Stripe key to submit with).
    tenant_secret_prefix: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DisputesSettings:
        source = os.environ if env is None else env
        return _parse(tuple((field, source.get(name) or None) for field, name in _ENV.items()))


@cache
def _parse(values: tuple[tuple[str, str | None], ...]) -> DisputesSettings:
    return DisputesSettings.model_validate({k: v for k, v in values if v is not None})


def build_ports(
    settings: DisputesSettings, clock: Clock = CLOCK, orders: OrderStore | None = None
) -> Ports:
    from functions.disputes.adapters.case_store import (
        CustomerOrders,
        DeskActions,
        DynamoCaseStore,
        FraudWarnings,
        NotificationLog,
        ReconciliationBreaks,
        StoredOrders,
        TableRatioCounts,
    )
    from functions.disputes.adapters.packet_pdf import PdfPackets
    from functions.disputes.adapters.programmes import load_programmes
    from functions.disputes.adapters.stripe_disputes import StripeDisputes
    from functions.disputes.ports import Ports
    from shared.alerts import Alerting, DynamoAlertLog
    from shared.notice_digest import DynamoNoticeDigest
    from shared.notify.mailers import mailer_for
    from shared.retention import table_retention
    from shared.tenant_secrets import API, TenantSecrets
    from shared.tenants import CachedTenants, TenantDirectory

    table = settings.table_name
    directory = TenantDirectory(table)
    cases = DynamoCaseStore(table, clock)
    return Ports(
        cases=cases,
        orders=StoredOrders(table, orders),
        emails=NotificationLog(table),
        tenants=CachedTenants(directory),
        earlier=CustomerOrders(table),
        packets=PdfPackets(),
        # The gateway's API key only (never webhook or link secrets).
        gateway=StripeDisputes(TenantSecrets(parts=API, prefix=settings.tenant_secret_prefix)),
        alerts=Alerting(
            settings.client_alerts_topic,
            tenants=directory,
            mailer=mailer_for(settings.mail_dir, clock),
            log=DynamoAlertLog(table, clock),
            ops_sender=settings.ops_sender,
            api_url=settings.public_api_url,
            digest=DynamoNoticeDigest(table, clock),
        ),
        directory=directory,
        counts=TableRatioCounts(table, cases),
        programmes=load_programmes(),
        warnings=FraudWarnings(table, table_retention(table, clock)),
        actions=DeskActions(table, clock),
        findings=ReconciliationBreaks(table),
        cancellation=OrdersCancellation(table),
        clock=clock,
    )


@cache
def ports_for(settings: DisputesSettings, clock: Clock = CLOCK) -> Ports:
    return build_ports(settings, clock)


class OrdersCancellation:
    """The ``OrderCancellation`` port: the orders context's public cancellation, its refunds a
    fraud cancellation (Stripe hears ``fraudulent`` only under the tenant's
    ``refunds.report_fraud_to_gateway``). The one place the desk reaches the orders context."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def cancel(self, tenant: str, order_id: str, reason: str) -> dict[str, Any]:
        from functions.disputes.ports import CancellationRefused
        from functions.orders.composition import cancel_order
        from functions.orders.errors import OperationRefused
        from shared.refund_causes import RefundCause

        try:
            return cancel_order(
                tenant, order_id, reason, cause=RefundCause.FRAUD_REPORTED, table=self.table_name
            )
        except OperationRefused as refused:
            raise CancellationRefused(str(refused)) from refused


# -- what other contexts' composition roots reach -----------------------------------------------


class DisputeDesk:
    """The processor's ``DisputeDesk`` port: every dispute event it applied (or parked) opens or
    updates the dispute's case."""

    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    def dispute_event(self, event: Any, order_id: str | None) -> str:
        from functions.disputes.use_cases.intake import dispute_event_taken

        return dispute_event_taken(self.ports, event, order_id)

    def fraud_warning(self, event: Any) -> str:
        from functions.disputes.use_cases.fraud_warnings import fraud_warning_taken

        return fraud_warning_taken(self.ports, event)


def dispute_desk(table_name: str, orders: OrderStore | None = None) -> DisputeDesk:
    settings = DisputesSettings.from_env(os.environ.copy() | {"TABLE_NAME": table_name})
    return DisputeDesk(build_ports(settings, CLOCK, orders))


def dispute_cases(table_name: str) -> Callable[[str, Iterable[str]], set[str]]:
    """Reconciliation's case lookup: ``(tenant, dispute ids) → the ids that have a case``."""
    from functions.disputes.adapters.case_store import DynamoCaseStore

    store = DynamoCaseStore(table_name, CLOCK)

    def having_case(tenant: str, dispute_ids: Iterable[str]) -> set[str]:
        return store.having_case(tenant, dispute_ids)

    return having_case
