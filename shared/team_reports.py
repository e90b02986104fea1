"""Documents for a tenant's team (reconciliation's daily report, the business summaries):
stored in the reports bucket and mailed from the operations sender by whichever mailer the
deployment uses (``shared.notify.mailers.mailer_for``: SES, or .eml files locally)."""

from __future__ import annotations

from shared import aws
from shared.alerts import ops_sender_of
from shared.notify.mailers import Mailer
from shared.observability import logger
from shared.tenants import TenantSettings


class S3Reports:
    """A report sink: each document put whole under its key in the reports bucket."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def put(self, key: str, body: bytes, content_type: str) -> None:
        aws.client("s3").put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=content_type
        )


class TeamMail:
    """One document mailed to a team from the operations sender, once per ``key``."""

    def __init__(self, mailer: Mailer, ops_sender: str | None = None) -> None:
        self.mailer = mailer
        self.sender = ops_sender_of(ops_sender)

    def send(
        self,
        tenant: TenantSettings,
        kind: str,
        to: tuple[str, ...],
        subject: str,
        html: str,
        text: str,
        key: str,
    ) -> str | None:
        """The message id, or None when the mail failed: the document is in S3 either way,
        so a failed mail is logged, never raised."""
        from shared.notify.render import RenderedEmail

        email = RenderedEmail(
            kind=kind,
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
        except Exception:
            logger.exception("team e-mail failed", extra={"tenant": tenant.id, "kind": kind})
            return None
