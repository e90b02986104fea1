"""``ReportMailer``: the day's report to the tenant's finance people (its operations list when
it has none), from the operations sender (``shared.team_reports.TeamMail``). Alerts go through
the one publisher, ``shared.alerts.Alerting``, wired in the composition root."""

from __future__ import annotations

from shared.alerts import recipients
from shared.notices import Team
from shared.notify.mailers import Mailer
from shared.team_reports import TeamMail
from shared.tenants import TenantSettings


class TeamNotifier:
    def __init__(self, mailer: Mailer, ops_sender: str | None = None) -> None:
        self.mail = TeamMail(mailer, ops_sender)

    def email(
        self, tenant: TenantSettings, subject: str, html: str, text: str, key: str
    ) -> str | None:
        to = recipients(Team.FINANCE, tenant)
        if not to:
            return None
        return self.mail.send(tenant, "reconciliation_report", to, subject, html, text, key)
