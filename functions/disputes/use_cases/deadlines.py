"""Telling the client team: when a case opens (SNS and e-mail, the deadline in the tenant's
time zone), and reminders 5, 2 and 1 days before the evidence is due while it is not
submitted, from the hourly tick."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from functions.disputes.domain.case import DisputeCase
from functions.disputes.domain.deadlines import local_deadline, reminders_due
from functions.disputes.domain.evidence import EvidenceDraft
from functions.disputes.domain.representment import suggest
from functions.disputes.ports import Ports
from functions.disputes.use_cases.cases import change_case
from shared.notices.disputes import DisputeCaseOpened, DisputeDeadlineReminder


def _timezone(ports: Ports, tenant: str) -> str:
    settings = ports.tenants.get(tenant)
    return settings.timezone if settings else "UTC"


def _about(case: DisputeCase, zone: str) -> dict[str, Any]:
    """What every dispute notice says of its case."""
    return {
        "tenant": case.tenant,
        "order_id": case.order_id,
        "dispute_id": case.dispute_id,
        "amount": case.amount,
        "currency": case.currency,
        "reason": case.reason,
        "network_reason_code": case.network_reason_code,
        "card_brand": case.card_brand,
        "due_by_local": local_deadline(case.evidence_due_by, zone),
    }


def alert_opened(ports: Ports, case: DisputeCase) -> None:
    """The client team hears of the case (once per case: the alert log keeps the identity)."""
    draft = EvidenceDraft.model_validate(case.evidence) if case.evidence else EvidenceDraft()
    suggested = suggest(case, draft)
    ports.alerts.send(
        DisputeCaseOpened(
            **_about(case, _timezone(ports, case.tenant)),
            case_kind=str(case.kind),
            suggestion=f"{suggested.action}: {suggested.reason}",
            flagged=(
                "a charge no event of ours named: the case holds what Stripe says"
                if case.charge_unknown
                else None
            ),
        )
    )


@dataclass(frozen=True)
class Reminded:
    tenant: str
    dispute_id: str
    days_before: int


def remind(ports: Ports, now: datetime) -> list[Reminded]:
    """Every tenant's open cases whose evidence is due within 5, 2 or 1 days and not submitted:
    one reminder each threshold, recorded on the case (one conditional write) after it went
    out; a tick that runs again finds it recorded (and the alert log, the identity sent)."""
    sent = []
    for tenant in ports.directory.all():
        zone = tenant.timezone
        for case in ports.cases.cases(tenant.id, "open"):
            due = reminders_due(case, now)
            if not due:
                continue
            ports.alerts.send(
                DisputeDeadlineReminder(
                    **_about(case, zone),
                    days_before=due[0],
                    state=str(case.state),
                )
            )
            change_case(
                ports,
                case.tenant,
                case.dispute_id,
                lambda c, due=due: c.model_copy(  # type: ignore[misc]
                    update={"reminders_sent": sorted({*c.reminders_sent, *due})}, deep=True
                ),
            )
            sent.append(Reminded(case.tenant, case.dispute_id, due[0]))
    return sent
