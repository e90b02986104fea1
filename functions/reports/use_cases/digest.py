"""The teams' digests: routine notices (``shared.alerts``: a parcel late or in trouble, a
return to inspect) held for a team are mailed to it together, one e-mail per team, then let go.

Each hourly tick sends, per tenant and team, what was held before the hour began (``hourly``)
or, once a day at the tenant's report hour, what was held before it (``daily``). A tenant that
turned its digest ``off`` gets what was held before, on the hour. A digest is claimed before it
is sent (``TeamMailer``: once per tenant, team and end of period); its notices are let go only
once it went out, so a failed mail carries them into the next digest: a repeat, never a loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol

from functions.reports.use_cases.schedule import morning
from shared.observability import logger
from shared.tenants import TenantSettings

if TYPE_CHECKING:
    from functions.reports.ports import TeamMailer
    from shared.notice_digest import HeldNotice, NoticeDigest

Period = Literal["hour", "day"]
_LENGTH: dict[Period, timedelta] = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


class DigestPorts(Protocol):
    """The held notices, and the team mailer (built only for a tick that has something to
    send: most have nothing)."""

    @property
    def digest(self) -> NoticeDigest: ...

    @property
    def mailer(self) -> TeamMailer: ...


@dataclass(frozen=True)
class Digests:
    """``DigestPorts`` as given, both at hand."""

    digest: NoticeDigest
    mailer: TeamMailer


def period_ending(tenant: TenantSettings, now: datetime) -> tuple[datetime, Period] | None:
    """Where this tick's digest for ``tenant`` ends, and the period it covers; None when the
    tenant's digest is not due in this tick (``daily``, outside its report hour)."""
    if tenant.notices.digest == "daily":
        began = morning(tenant, now)
        return (began[1], "day") if began else None
    return now.replace(minute=0, second=0, microsecond=0), "hour"


def send_digests(
    ports: DigestPorts, tenants: list[TenantSettings], now: datetime
) -> list[dict[str, object]]:
    """Mail each tenant's teams their held notices due at ``now``; one summary per mail."""
    sent: list[dict[str, object]] = []
    for tenant in tenants:
        ending = period_ending(tenant, now)
        if ending is None:
            continue
        try:
            sent.extend(_tenant_digests(ports, tenant, *ending))
        except Exception:  # one shop's trouble keeps its notices for the next tick, not others'
            logger.exception("digests not sent", extra={"tenant": tenant.id})
    return sent


def _tenant_digests(
    ports: DigestPorts, tenant: TenantSettings, until: datetime, period: Period
) -> list[dict[str, object]]:
    held = ports.digest.held(tenant.id, until)
    if not held:
        return []
    from shared.alerts import recipients
    from shared.notices import Team

    by_team: dict[str, list[HeldNotice]] = {}
    for notice in held:
        by_team.setdefault(notice.team, []).append(notice)
    sent: list[dict[str, object]] = []
    for team in Team:
        lines = by_team.pop(str(team), [])
        if not lines:
            continue
        message = _mail(ports, tenant, recipients(team, tenant), str(team), lines, until, period)
        if message is None:
            continue
        sent.append(
            {
                "tenant": tenant.id,
                "team": str(team),
                "until": until.isoformat(),
                "notices": len(lines),
                "message_id": message,
            }
        )
    for unknown, lines in by_team.items():  # a team this deployment no longer has
        logger.warning("held notices for an unknown team", extra={"team": unknown})
        ports.digest.release(tenant.id, lines)
    return sent


def _mail(
    ports: DigestPorts,
    tenant: TenantSettings,
    to: tuple[str, ...],
    team: str,
    held: list[HeldNotice],
    until: datetime,
    period: Period,
) -> str | None:
    """The team's digest sent and its notices let go: the message id; None when nothing went
    (nobody to mail: let go, SNS had them; the mail failed: kept for the next digest)."""
    from shared.notify.render import EmailKind, render

    if not to:
        ports.digest.release(tenant.id, held)
        return None
    since = min(*(h.held_at for h in held), until - _LENGTH[period])
    email = render(
        EmailKind.TEAM_DIGEST,
        {
            "period": period,
            "since": since,
            "until": until,
            "lines": [{**h.line, "held_at": h.held_at} for h in held],
        },
        tenant,
        to,
    )
    message = ports.mailer.email(
        tenant,
        to,
        email.subject,
        email.html,
        email.text,
        f"digest:{tenant.id}:{team}:{until.isoformat()}",
        kind=str(EmailKind.TEAM_DIGEST),
    )
    if message is None:
        logger.warning(
            "digest not sent: its notices wait for the next one",
            extra={"tenant": tenant.id, "team": team, "held": len(held)},
        )
        return None
    ports.digest.release(tenant.id, held)
    return message
