"""The reconciliation Lambda: every hour it reconciles yesterday for each tenant whose local
clock has reached its ``reconciliation.run_hour``; on demand (``ecomops reconcile run``) it
reconciles the tenant and day it is given.

Environment: ``TABLE_NAME``, ``REPORTS_BUCKET``, ``REFUND_STATE_MACHINE``,
``CLIENT_ALERTS_TOPIC``, ``MAIL_DIR`` (local stack: .eml files instead of SES).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from functions.reconcile.break_store import BreakStore
from functions.reconcile.daily import DailyReconciliation
from functions.reconcile.loader import DayLoader
from shared import aws
from shared.clock import SYSTEM_CLOCK, Clock
from shared.observability import logger
from shared.tenants import TenantDirectory, TenantSettings


class S3Reports:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def put(self, key: str, body: bytes, content_type: str) -> None:
        aws.client("s3").put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=content_type
        )


class TeamNotifier:
    """The report to the tenant's operators and finance (SES, or .eml files locally) and
    top-priority alerts on the client-alerts topic (tenant as a message attribute)."""

    def __init__(
        self, topic: str | None, mail_dir: str | None, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.topic = topic
        self.mail_dir = mail_dir
        self.clock = clock

    def email(
        self, tenant: TenantSettings, subject: str, html: str, text: str, key: str
    ) -> str | None:
        from shared.notify.mailers import FileMailer, SesMailer
        from shared.notify.render import RenderedEmail

        to = tuple(dict.fromkeys((*tenant.alert_emails, *tenant.finance_emails)))
        if not to:
            return None
        email = RenderedEmail(
            kind="reconciliation_report",
            subject=subject,
            html=html,
            text=text,
            to=to,
            sender=tenant.customer_sender,
            reply_to=None,
            tenant=tenant.id,
        )
        mailer = (
            FileMailer(Path(self.mail_dir), self.clock)
            if self.mail_dir
            else SesMailer(clock=self.clock)
        )
        try:
            return str(mailer.send(email, key))
        except Exception:  # the report is in S3 either way; the alert below still goes out
            logger.exception("report e-mail failed", extra={"tenant": tenant.id})
            return None

    def alert(self, tenant: TenantSettings, subject: str, message: dict[str, Any]) -> None:
        if not self.topic:
            return
        aws.client("sns").publish(
            TopicArn=self.topic,
            Subject=subject[:100],
            Message=json.dumps(message, default=str, indent=1),
            MessageAttributes={"tenant": {"DataType": "String", "StringValue": tenant.id}},
        )


def _start_refund(
    tenant: str, order_id: str, *, amount: int, payment_id: str, refund_id: str
) -> dict[str, Any]:
    from functions.orders.operations import request_refund

    return request_refund(
        tenant,
        order_id,
        amount=amount,
        payment_id=payment_id,
        reason="duplicate",
        refund_id=refund_id,
        refund_state_machine=os.environ.get("REFUND_STATE_MACHINE"),
    )


def daily_reconciliation(table: str) -> DailyReconciliation:
    return DailyReconciliation(
        loader=DayLoader(table),
        breaks=BreakStore(table),
        start_refund=_start_refund,
        reports=S3Reports(os.environ["REPORTS_BUCKET"]),
        notifier=TeamNotifier(os.environ.get("CLIENT_ALERTS_TOPIC"), os.environ.get("MAIL_DIR")),
    )


TICK = timedelta(hours=1)


def run_instant(tenant: TenantSettings, local_day: date) -> datetime:
    """When the tenant's run hour begins on ``local_day``, in UTC.

    On the night clocks go forward the run hour may not exist (02:00 in Amsterdam): the run
    is then at the first instant after the gap. On the night they go back it happens twice:
    the run is at the first."""
    wall = datetime.combine(local_day, time(tenant.reconciliation.run_hour))
    # fold=0 reads a missing wall time with the offset before the change (so it lands at the
    # end of the gap) and a repeated one as its first occurrence.
    return wall.replace(tzinfo=ZoneInfo(tenant.timezone), fold=0).astimezone(UTC)


def due_tenants(tenants: list[TenantSettings], now: datetime) -> list[tuple[TenantSettings, date]]:
    """Tenants whose run instant fell in the hour up to this tick, each with its local
    yesterday: every tenant is due exactly once per local day, whatever its zone does."""
    due = []
    for tenant in tenants:
        zone = ZoneInfo(tenant.timezone)
        days = {now.astimezone(zone).date(), (now - TICK).astimezone(zone).date()}
        for day in sorted(days):
            if now - TICK < run_instant(tenant, day) <= now:
                due.append((tenant, day - timedelta(days=1)))
    return due


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    table = os.environ["TABLE_NAME"]
    directory = TenantDirectory(table)
    if event.get("tenant"):
        tenant = directory.get(event["tenant"])
        if tenant is None:
            raise LookupError(f"tenant {event['tenant']!r} has no settings")
        work = [(tenant, date.fromisoformat(event["day"]))]
    else:
        now = datetime.fromisoformat(event["time"]) if event.get("time") else SYSTEM_CLOCK.now()
        work = due_tenants(directory.all(), now)
    daily = daily_reconciliation(table)
    results = []
    for tenant, day in work:
        logger.append_keys(tenant=tenant.id, day=day.isoformat())
        results.append(daily.run(tenant, day))
    return {"reconciled": results}
