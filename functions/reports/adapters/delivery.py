"""The reports bucket and the team mailer: reports land in S3, and go to the tenant's
recipients from the operations sender (SES, or .eml files locally)."""

from __future__ import annotations

from shared import aws
from shared.alerts import ops_sender_of
from shared.notify.mailers import Mailer
from shared.observability import logger
from shared.tenants import TenantSettings


class S3Reports:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def put(self, key: str, body: bytes, content_type: str) -> None:
        aws.client("s3").put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=content_type
        )


class TeamMailer:
    def __init__(self, mailer: Mailer, ops_sender: str | None = None) -> None:
        self.mailer = mailer
        self.sender = ops_sender_of(ops_sender)

    def email(
        self,
        tenant: TenantSettings,
        to: tuple[str, ...],
        subject: str,
        html: str,
        text: str,
        key: str,
    ) -> str | None:
        from shared.notify.render import RenderedEmail

        email = RenderedEmail(
            kind="business_summary",
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
        except Exception:  # the report is in S3 either way
            logger.exception("report e-mail failed", extra={"tenant": tenant.id})
            return None
