"""The reports bucket and the team mailer (``shared.team_reports``): reports land in S3 and go
to the tenant's recipients from the operations sender, each summary once: SES has no
idempotency token, so the mail's key is claimed first (one conditional put,
``T#<t>#REPORTSENT#<hash>``) and given back if the send fails; a retried tick or a re-run
finds it taken and sends nothing."""

from __future__ import annotations

from typing import Any

from shared import aws, keys
from shared.notify.mailers import Mailer
from shared.retention import Retention
from shared.team_reports import S3Reports, TeamMail
from shared.tenants import TenantSettings

__all__ = ["S3Reports", "TeamMailer"]


class TeamMailer:
    """``TeamMailer``: a business summary (or a team's digest) to the recipients the use case
    chose, once."""

    def __init__(
        self,
        mailer: Mailer,
        ops_sender: str | None,
        table_name: str,
        retention: Retention,
    ) -> None:
        self.mail = TeamMail(mailer, ops_sender)
        self.table_name = table_name
        self.retention = retention

    def _item_key(self, tenant: str, key: str) -> dict[str, Any]:
        pk, sk = keys.report_sent(tenant, key)
        return {"PK": {"S": pk}, "SK": {"S": sk}}

    def email(
        self,
        tenant: TenantSettings,
        to: tuple[str, ...],
        subject: str,
        html: str,
        text: str,
        key: str,
        kind: str = "business_summary",
    ) -> str | None:
        client = aws.client("dynamodb")
        try:
            client.put_item(
                TableName=self.table_name,
                Item={
                    **self._item_key(tenant.id, key),
                    "kind": {"S": "report_sent"},
                    "mail_key": {"S": key},
                    **self.retention.attribute(tenant.id),
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except client.exceptions.ConditionalCheckFailedException:
            return None  # sent before (a retried tick, a re-run)
        sent = self.mail.send(tenant, kind, to, subject, html, text, key)
        if sent is None:
            client.delete_item(TableName=self.table_name, Key=self._item_key(tenant.id, key))
        return sent
