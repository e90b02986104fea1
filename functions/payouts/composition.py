"""The payouts context's composition root: its settings, the adapters wired into its ports, and
the context as the orders context reaches it (its ``VendorLedger`` port, ``vendor_ledger``).

Settings come from the function's environment, parsed once per distinct environment. This is
the only payouts module that reads the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from shared.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from functions.payouts.ports import FinanceLinks, Mailer, NotificationLog, Ports
    from shared.alerts import Alerts
    from shared.order_aggregate import OrderState
    from shared.tenants import TenantDirectory, TenantSettings

# The clock the payouts functions and the CLI run on (tests set the one they mean).
CLOCK: Clock = SYSTEM_CLOCK

# Field → the environment variable the stack sets.
_ENV = {
    "table_name": "TABLE_NAME",
    "reports_bucket": "REPORTS_BUCKET",
    "client_alerts_topic": "CLIENT_ALERTS_TOPIC",
    "mail_dir": "MAIL_DIR",
    "ops_sender": "OPS_SENDER",
    "public_api_url": "PUBLIC_API_URL",
    "tenant_secret_prefix": "TENANT_SECRET_PREFIX",
}


class PayoutsSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    table_name: str = Field(min_length=1)
    reports_bucket: str | None = None
    client_alerts_topic: str | None = None
    # Local stack and tests: e-mails as .eml files in this folder instead of SES.
    mail_dir: str | None = None
    ops_sender: str | None = None
    public_api_url: str | None = None
    # Where the tenants' link-signing keys are (the finance e-mail's signed links).
    tenant_secret_prefix: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PayoutsSettings:
        source = os.environ if env is None else env
        return _parse(tuple((field, source.get(name) or None) for field, name in _ENV.items()))


@cache
def _parse(values: tuple[tuple[str, str | None], ...]) -> PayoutsSettings:
    return PayoutsSettings.model_validate({k: v for k, v in values if v is not None})


def build_ports(
    table_name: str, clock: Clock = SYSTEM_CLOCK, alerts: Alerts | None = None
) -> Ports:
    """The payouts ports on the table; ``alerts`` from the caller (the orders context's), or
    built from the environment's settings. Stripe Connect transfers use the tenant's API key
    (the ``api`` part of its secrets, under ``TENANT_SECRET_PREFIX``)."""
    from functions.payouts.adapters.cycle_store import DynamoCycles
    from functions.payouts.adapters.hold_store import DynamoHolds
    from functions.payouts.adapters.ledger_store import DynamoLedger
    from functions.payouts.adapters.stripe_transfers import StripeTransfers
    from functions.payouts.adapters.vendor_store import DynamoVendors
    from functions.payouts.ports import Ports
    from shared.retention import table_retention
    from shared.tenant_secrets import API, TenantSecrets

    retention = table_retention(table_name, clock)
    return Ports(
        vendors=DynamoVendors(table_name),
        ledger=DynamoLedger(table_name, retention),
        cycles=DynamoCycles(table_name, retention),
        alerts=alerts if alerts is not None else _alerts(table_name, clock),
        clock=clock,
        # Used only for tenants in Stripe Connect mode; the API key is read when first needed.
        transfers=StripeTransfers(TenantSecrets(parts=API)),
        holds=DynamoHolds(table_name, retention),
    )


def _alerts(table_name: str, clock: Clock) -> Alerts:
    from shared.alerts import Alerting, DynamoAlertLog
    from shared.notice_digest import DynamoNoticeDigest
    from shared.notify.mailers import mailer_for
    from shared.tenants import TenantDirectory

    settings = PayoutsSettings.from_env(os.environ.copy() | {"TABLE_NAME": table_name})
    return Alerting(
        settings.client_alerts_topic,
        tenants=TenantDirectory(table_name),
        mailer=mailer_for(settings.mail_dir, clock),
        log=DynamoAlertLog(table_name, clock),
        ops_sender=settings.ops_sender,
        api_url=settings.public_api_url,
        digest=DynamoNoticeDigest(table_name, clock),
    )


def ports_from_env(clock: Clock | None = None, env: Mapping[str, str] | None = None) -> Ports:
    """The ports of the function (or CLI) running now, with the reports bucket, the mailer and
    the operations sender its settings name."""
    from dataclasses import replace

    from functions.payouts.adapters.report_files import S3ReportFiles
    from shared.alerts import ops_sender_of
    from shared.notify.mailers import mailer_for

    settings = PayoutsSettings.from_env(env)
    clock = clock or CLOCK
    ports = build_ports(settings.table_name, clock)
    return replace(
        ports,
        files=S3ReportFiles(settings.reports_bucket) if settings.reports_bucket else None,
        mailer=mailer_for(settings.mail_dir, clock),
        sender=ops_sender_of(settings.ops_sender),
        finance_links=_finance_links(settings),
    )


def _finance_links(settings: PayoutsSettings) -> FinanceLinks | None:
    """Signed links in the instruction to finance, when the deployment has a public API."""
    if not settings.public_api_url:
        return None
    from functions.payouts.adapters.finance_links import SignedFinanceLinks
    from shared.tenant_secrets import LINKS, TenantSecrets

    secrets = TenantSecrets(parts=LINKS, prefix=settings.tenant_secret_prefix)
    return SignedFinanceLinks(secrets, settings.public_api_url)


def tenant_directory(env: Mapping[str, str] | None = None) -> TenantDirectory:
    from shared.tenants import TenantDirectory

    return TenantDirectory(PayoutsSettings.from_env(env).table_name)


# -- the payouts context as other contexts' roots reach it ---------------------------------------


class VendorLedgerHooks:
    """The orders context's ``VendorLedger`` port: the payouts use cases on these ports.

    Each hook posts the ledger's entries and tells the vendors (``use_cases.vendor_news``),
    independently: the e-mails go out even when the ledger's write fails (the step raises and
    is retried; nothing is sent twice), and a mail that fails never raises, so it cannot undo
    or hold up the ledger's entries or the order."""

    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    def sold(self, tenant: TenantSettings, state: OrderState) -> None:
        from functions.payouts.use_cases.flows import order_sold
        from functions.payouts.use_cases.vendor_news import tell_of_order

        try:
            order_sold(self.ports, tenant, state)
        finally:
            tell_of_order(self.ports, tenant, state)

    def released(self, tenant: TenantSettings, state: OrderState, line_ids: list[str]) -> None:
        from functions.payouts.use_cases.flows import order_released

        order_released(self.ports, tenant, state, line_ids)

    def delivery_problem(self, tenant: TenantSettings, state: OrderState) -> None:
        from functions.payouts.use_cases.flows import order_delivery_problem

        order_delivery_problem(self.ports, tenant, state)

    def claim_paid(
        self,
        tenant: TenantSettings,
        state: OrderState,
        tracking_code: str,
        amount: int,
        lines: list[str],
    ) -> None:
        from functions.payouts.use_cases.flows import order_claim_paid

        order_claim_paid(self.ports, tenant, state, tracking_code, amount, lines)

    def cancelled(self, tenant: TenantSettings, state: OrderState) -> None:
        from functions.payouts.use_cases.flows import order_cancelled
        from functions.payouts.use_cases.vendor_news import tell_of_cancellation

        try:
            order_cancelled(self.ports, tenant, state)
        finally:
            tell_of_cancellation(self.ports, tenant, state)

    def disputed(self, tenant: TenantSettings, state: OrderState) -> None:
        from functions.payouts.use_cases.flows import order_disputed

        order_disputed(self.ports, tenant, state)

    def refund_completed(
        self,
        tenant: TenantSettings,
        state: OrderState,
        refund_id: str,
        amount: int,
        currency: str,
        line_ids: Sequence[str] | None = None,
    ) -> None:
        from functions.payouts.use_cases.flows import refund_completed
        from functions.payouts.use_cases.vendor_news import tell_of_refund

        try:
            refund_completed(self.ports, tenant, state, refund_id, amount, currency, line_ids)
        finally:
            tell_of_refund(self.ports, tenant, state, refund_id, amount, currency, line_ids)


def vendor_ledger(
    table_name: str,
    clock: Clock,
    alerts: Alerts,
    mailer: Mailer | None = None,
    notifications: NotificationLog | None = None,
    sender: str | None = None,
) -> VendorLedgerHooks:
    """Built by the orders composition root with its own alerts (one notice log), and its
    mailer and notification log: vendors' e-mails are kept once beside the order, as the
    customer's are. ``sender``: From: of the vendors' e-mails (the operations sender)."""
    from dataclasses import replace

    ports = build_ports(table_name, clock, alerts)
    return VendorLedgerHooks(
        replace(ports, mailer=mailer, notifications=notifications, sender=sender)
    )
