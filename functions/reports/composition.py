"""The reports' composition root: the settings the reports function is deployed with, and
the adapters wired into the ports. The only reports module that reads the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache, cached_property
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from shared.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from functions.reports.adapters.delivery import TeamMailer
    from functions.reports.ports import Ports
    from functions.reports.use_cases.digest import DigestPorts
    from shared.tenants import TenantDirectory

CLOCK: Clock = SYSTEM_CLOCK

_ENV = {
    "table_name": "TABLE_NAME",
    "reports_bucket": "REPORTS_BUCKET",
    "mail_dir": "MAIL_DIR",
    "ops_sender": "OPS_SENDER",
}


class ReportsSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    table_name: str = Field(min_length=1)
    reports_bucket: str | None = None
    # Local stack and tests: e-mails as .eml files in this folder instead of SES.
    mail_dir: str | None = None
    ops_sender: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReportsSettings:
        source = os.environ if env is None else env
        return _parse(tuple((field, source.get(name) or None) for field, name in _ENV.items()))


@cache
def _parse(values: tuple[tuple[str, str | None], ...]) -> ReportsSettings:
    return ReportsSettings.model_validate({k: v for k, v in values if v is not None})


class _NoBucket:
    """Reading reports needs no bucket; publishing one without it is refused."""

    def put(self, key: str, body: bytes, content_type: str) -> None:
        raise RuntimeError("REPORTS_BUCKET is not set: reports cannot be stored")


def tenant_directory(settings: ReportsSettings) -> TenantDirectory:
    """The tenants alone: what an hourly tick reads to find whose morning it is."""
    from shared.tenants import TenantDirectory

    return TenantDirectory(settings.table_name)


class _DigestPorts:
    """The held notices; the team mailer only once a tick has something to send."""

    def __init__(self, settings: ReportsSettings, clock: Clock) -> None:
        from shared.notice_digest import DynamoNoticeDigest

        self.settings = settings
        self.clock = clock
        self.digest = DynamoNoticeDigest(settings.table_name, clock)

    @cached_property
    def mailer(self) -> TeamMailer:
        from functions.reports.adapters.delivery import TeamMailer
        from shared.notify.mailers import mailer_for
        from shared.retention import table_retention

        return TeamMailer(
            mailer_for(self.settings.mail_dir, self.clock),
            self.settings.ops_sender,
            self.settings.table_name,
            table_retention(self.settings.table_name, self.clock),
        )


def digest_ports(settings: ReportsSettings, clock: Clock = CLOCK) -> DigestPorts:
    """What the teams' digests need: the held notices and the team mailer, nothing else."""
    return _DigestPorts(settings, clock)


def reports_ports(settings: ReportsSettings, clock: Clock = CLOCK) -> Ports:
    """Built per call: the adapters hold no connections of their own (``shared.aws`` caches
    the clients), so a report's ports cost nothing to make."""
    from functions.reports.adapters.delivery import S3Reports, TeamMailer
    from functions.reports.adapters.history_mail import DynamoHistoryMail
    from functions.reports.adapters.orders import DynamoOrderReader
    from functions.reports.adapters.tallies import DynamoDayTallies
    from functions.reports.ports import Ports
    from shared.notify.mailers import mailer_for
    from shared.order_store import OrderStore
    from shared.retention import table_retention
    from shared.tenants import TenantDirectory

    mailer = mailer_for(settings.mail_dir, clock)
    return Ports(
        orders=DynamoOrderReader(settings.table_name),
        tallies=DynamoDayTallies(settings.table_name, clock),
        reports=S3Reports(settings.reports_bucket) if settings.reports_bucket else _NoBucket(),
        mailer=TeamMailer(
            mailer,
            settings.ops_sender,
            settings.table_name,
            table_retention(settings.table_name, clock),
        ),
        tenants=TenantDirectory(settings.table_name),
        clock=clock,
        history_mail=DynamoHistoryMail(
            settings.table_name, mailer, OrderStore(settings.table_name, clock)
        ),
    )
