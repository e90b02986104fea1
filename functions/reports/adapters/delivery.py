"""The reports bucket and the team mailer (``shared.team_reports``): reports land in S3 and go
to the tenant's recipients from the operations sender."""

from __future__ import annotations

from shared.notify.mailers import Mailer
from shared.team_reports import S3Reports, TeamMail
from shared.tenants import TenantSettings

__all__ = ["S3Reports", "TeamMailer"]


class TeamMailer:
    """``TeamMailer``: a business summary to the recipients the use case chose."""

    def __init__(self, mailer: Mailer, ops_sender: str | None = None) -> None:
        self.mail = TeamMail(mailer, ops_sender)

    def email(
        self,
        tenant: TenantSettings,
        to: tuple[str, ...],
        subject: str,
        html: str,
        text: str,
        key: str,
    ) -> str | None:
        return self.mail.send(tenant, "business_summary", to, subject, html, text, key)
