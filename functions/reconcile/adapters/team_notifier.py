"""``ReportMailer``: the day's report to the tenant's operators and finance, by whichever mailer
the deployment uses (``shared.notify.mailers.mailer_for``: SES, or .eml files locally). Alerts
go through the one publisher, ``shared.alerts.SnsAlerts``, wired in the composition root."""

from __future__ import annotations

from shared.notify.mailers import Mailer
from shared.observability import logger
from shared.tenants import TenantSettings


class TeamNotifier:
    def __init__(self, mailer: Mailer) -> None:
        self.mailer = mailer

    def email(
        self, tenant: TenantSettings, subject: str, html: str, text: str, key: str
    ) -> str | None:
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
        try:
            return str(self.mailer.send(email, key))
        except Exception:  # the report is in S3 either way; the alert still goes out
            logger.exception("report e-mail failed", extra={"tenant": tenant.id})
            return None
