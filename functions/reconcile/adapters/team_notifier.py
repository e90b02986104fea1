"""``ReportMailer``: the day's report to the tenant's finance people (its operations list when
it has none), from the operations sender, by whichever mailer the deployment uses
(``shared.notify.mailers.mailer_for``: SES, or .eml files locally). Alerts go through the one
publisher, ``shared.alerts.Alerting``, wired in the composition root."""

from __future__ import annotations

from shared.alerts import ops_sender_of, recipients
from shared.notices import Team
from shared.notify.mailers import Mailer
from shared.observability import logger
from shared.tenants import TenantSettings


class TeamNotifier:
    def __init__(self, mailer: Mailer, ops_sender: str | None = None) -> None:
        self.mailer = mailer
        self.sender = ops_sender_of(ops_sender)

    def email(
        self, tenant: TenantSettings, subject: str, html: str, text: str, key: str
    ) -> str | None:
        from shared.notify.render import RenderedEmail

        to = recipients(Team.FINANCE, tenant)
        if not to:
            return None
        email = RenderedEmail(
            kind="reconciliation_report",
            subject=subject,
            html=html,
            text=text,
            to=to,
            sender=self.sender,
            reply_to=None,
            tenant=tenant.id,
        )
        try:
            return str(self.mailer.send(email, key))
        except Exception:  # the report is in S3 either way; the alert still goes out
            logger.exception("report e-mail failed", extra={"tenant": tenant.id})
            return None
