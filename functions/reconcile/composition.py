"""Reconciliation's composition root: its settings, and the adapters wired into its ports.

Settings come from the function's environment, parsed once per distinct environment (once per
cold start in Lambda; the local stack and the tests host several deployments in one process).
This is the only reconcile module that reads the environment, and the only one that reaches
another context: the daily run's refunds go through the orders context's public refund use
case, behind the ``RefundStarter`` port (``orders_request_refund``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from shared.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from functions.reconcile.use_cases.bank_intake import Intake
    from functions.reconcile.use_cases.daily import DailyReconciliation
    from functions.reconcile.use_cases.fanout import FanoutTick
    from shared.alerts import Alerting
    from shared.refund_causes import RefundCause
    from shared.settlements import SettledPayout
    from shared.tenants import TenantDirectory, TenantSettings

# The clock every reconciliation adapter and handler runs on.
CLOCK: Clock = SYSTEM_CLOCK

# Field → the environment variable the stack sets (infra/constructs/reconciliation.py).
_ENV = {
    "table_name": "TABLE_NAME",
    "reports_bucket": "REPORTS_BUCKET",
    "refund_state_machine": "REFUND_STATE_MACHINE",
    "client_alerts_topic": "CLIENT_ALERTS_TOPIC",
    "ops_alerts_topic": "OPS_ALERTS_TOPIC",
    "mail_dir": "MAIL_DIR",
    "ops_sender": "OPS_SENDER",
    "public_api_url": "PUBLIC_API_URL",
}


class MissingSetting(RuntimeError):
    pass


class ReconcileSettings(BaseModel):
    """What the two reconciliation functions are deployed with. The daily run needs the
    reports bucket; the bank intake only the table and the operations topic."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    table_name: str = Field(min_length=1)
    reports_bucket: str | None = None
    refund_state_machine: str | None = None
    client_alerts_topic: str | None = None
    ops_alerts_topic: str | None = None
    # Local stack and tests: e-mails as .eml files in this folder instead of SES.
    mail_dir: str | None = None
    # From: of the report and the notices (shared.alerts), never a shop's customer sender.
    ops_sender: str | None = None
    # Where the notices' operator API links point.
    public_api_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReconcileSettings:
        source = os.environ if env is None else env
        return _parse(tuple((field, source.get(name) or None) for field, name in _ENV.items()))


@cache
def _parse(values: tuple[tuple[str, str | None], ...]) -> ReconcileSettings:
    return ReconcileSettings.model_validate({k: v for k, v in values if v is not None})


# -- the orders context, behind the RefundStarter port ---------------------------------------------


def orders_request_refund() -> Callable[..., dict[str, Any]]:
    """The orders context's public refund use case (``request_refund(tenant, order_id, *,
    amount, payment_id, cause, refund_id, refund_state_machine, table)``). Imported here and
    nowhere else in reconcile, on first use: if it moves, this line follows it."""
    from functions.orders.composition import request_refund

    return request_refund


class OrdersRefunds:
    """``RefundStarter``: a reconciliation refund (a duplicate payment, money held for a
    cancelled or failed order) requested from the orders context, which claims it once per
    ``refund_id`` and starts the refund workflow."""

    def __init__(self, settings: ReconcileSettings) -> None:
        self.settings = settings

    def __call__(
        self,
        tenant: str,
        order_id: str,
        *,
        amount: int,
        payment_id: str,
        refund_id: str,
        cause: RefundCause,
    ) -> dict[str, Any]:
        return orders_request_refund()(
            tenant,
            order_id,
            amount=amount,
            payment_id=payment_id,
            cause=cause,
            refund_id=refund_id,
            refund_state_machine=self.settings.refund_state_machine,
            table=self.settings.table_name,
        )


def dispute_cases(table_name: str) -> Callable[[str, Iterable[str]], set[str]]:
    """The chargeback desk's lookup of which disputes have a case (``dispute_without_case``)."""
    from functions.disputes.composition import dispute_cases as lookup

    return lookup(table_name)


# -- the queries, behind the CaseOpener port -------------------------------------------------------


class QueryCaseOpener:
    """``CaseOpener``: "chase the settlement" opens a query case for finance
    (``functions.reports.queries``), keyed by the break so that each day's run finds the same
    case."""

    def __init__(self, settings: ReconcileSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock

    def __call__(
        self,
        tenant: str,
        question: str,
        *,
        break_id: str,
        payout_id: str | None,
        bank_line_id: str | None,
    ) -> str:
        from functions.reports.queries.composition import open_case

        return open_case(
            self.settings.table_name,
            self.clock,
            tenant,
            question,
            "reconciliation",
            key=f"break:{break_id}",
            payout_id=payout_id,
            bank_line_id=bank_line_id,
            break_id=break_id,
        )


def query_case_reminders(
    settings: ReconcileSettings, clock: Clock = CLOCK
) -> Callable[[datetime], list[str]]:
    """The hourly tick's reminders of open query cases, every tenant's, sent to finance
    through the daily run's alerting."""
    from functions.reports.queries.composition import build_queries

    queries = build_queries(settings.table_name, clock, alerts=finance_alerting(settings, clock))
    tenants = tenant_directory(settings)
    return lambda now: queries.cases().remind([t.id for t in tenants.all()], now)


# -- builders ------------------------------------------------------------------------------------


def tenant_directory(settings: ReconcileSettings) -> TenantDirectory:
    from shared.tenants import TenantDirectory

    return TenantDirectory(settings.table_name)


def finance_alerting(settings: ReconcileSettings, clock: Clock = CLOCK) -> Alerting:
    """Notices for a tenant's finance people: the client alerts topic and their e-mail, from
    the operations sender."""
    from shared.alerts import Alerting, DynamoAlertLog
    from shared.notice_digest import DynamoNoticeDigest
    from shared.notify.mailers import mailer_for

    return Alerting(
        settings.client_alerts_topic,
        tenants=tenant_directory(settings),
        mailer=mailer_for(settings.mail_dir, clock),
        log=DynamoAlertLog(settings.table_name, clock),
        ops_sender=settings.ops_sender,
        api_url=settings.public_api_url,
        digest=DynamoNoticeDigest(settings.table_name, clock),
    )


@cache
def daily_reconciliation(settings: ReconcileSettings, clock: Clock = CLOCK) -> DailyReconciliation:
    from functions.reconcile.adapters.break_store import BreakStore
    from functions.reconcile.adapters.loader import DayLoader
    from functions.reconcile.adapters.s3 import S3Reports
    from functions.reconcile.adapters.team_notifier import TeamNotifier
    from functions.reconcile.use_cases.daily import DailyReconciliation
    from shared.notify.mailers import mailer_for

    if not settings.reports_bucket:
        raise MissingSetting("REPORTS_BUCKET is not set for the daily reconciliation")
    mailer = mailer_for(settings.mail_dir, clock)
    return DailyReconciliation(
        loader=DayLoader(settings.table_name, clock, cases=dispute_cases(settings.table_name)),
        breaks=BreakStore(settings.table_name, clock),
        start_refund=OrdersRefunds(settings),
        open_case=QueryCaseOpener(settings, clock),
        reports=S3Reports(settings.reports_bucket),
        notifier=TeamNotifier(mailer, settings.ops_sender),
        alerts=finance_alerting(settings, clock),
    )


@cache
def fanout_tick(settings: ReconcileSettings, clock: Clock = CLOCK) -> FanoutTick:
    """The hourly tick's steps around the per-tenant Map: the tenants due, a failed tenant's
    notice to its finance people, the tick's summary (operations hear of failures)."""
    from functions.reconcile.adapters.tick_log import DynamoTickLog
    from functions.reconcile.use_cases.fanout import FanoutTick
    from shared.alerts import Alerting, DynamoAlertLog

    return FanoutTick(
        tenants=tenant_directory(settings),
        alerts=finance_alerting(settings, clock),
        ops_alerts=Alerting(
            settings.ops_alerts_topic,
            log=DynamoAlertLog(settings.table_name, clock),
            api_url=settings.public_api_url,
        ),
        log=DynamoTickLog(settings.table_name, clock),
    )


@cache
def bank_intake(settings: ReconcileSettings, clock: Clock = CLOCK) -> Intake:
    from functions.reconcile.adapters.bank_store import BankStore
    from functions.reconcile.adapters.s3 import S3Objects
    from functions.reconcile.use_cases.bank_intake import Intake
    from shared.alerts import Alerting, DynamoAlertLog

    # The operations topic only: our operators read every tenant's bank-file problems there.
    return Intake(
        store=BankStore(settings.table_name, clock),
        tenants=tenant_directory(settings),
        objects=S3Objects(),
        alerts=Alerting(
            settings.ops_alerts_topic,
            log=DynamoAlertLog(settings.table_name, clock),
            api_url=settings.public_api_url,
        ),
    )


def settled_payouts_reader(
    table_name: str, clock: Clock = CLOCK
) -> Callable[[TenantSettings, date], list[SettledPayout]]:
    """Payouts explained and paired with the bank (``use_cases.settled``): what finance's
    queries ask of the reconciliation, through their ``SettledPayouts`` port."""
    from functions.reconcile.adapters.loader import DayLoader
    from functions.reconcile.use_cases.settled import settled_payouts

    loader = DayLoader(table_name, clock)
    return lambda tenant, day: settled_payouts(loader, tenant, day)
