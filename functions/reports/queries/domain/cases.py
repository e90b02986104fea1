"""Query cases: the questions our records cannot answer (a payout the bank never showed, a
refund the customer's bank cannot find), kept with who asked, what they are about, when the
answer is due (the tenant's SLA) and the reminders sent until someone closes them."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.keys import digest
from shared.notices.queries import QueryCaseDue
from shared.tenants import QuerySettings


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CaseRefused(ValueError):
    """A case that cannot be opened or closed as asked (every reason in the message)."""


class CaseLinks(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    payout_id: str | None = None
    bank_line_id: str | None = None
    order_id: str | None = None
    break_id: str | None = None

    def named(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.model_dump().items() if v]


class QueryCase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: str
    case_id: str
    question: str
    asked_by: str
    links: CaseLinks = CaseLinks()
    opened_at: datetime
    due_at: datetime
    status: CaseStatus = CaseStatus.OPEN
    reminders: tuple[datetime, ...] = ()
    next_reminder_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    resolution: str | None = None
    version: int = 1

    def overdue(self, now: datetime) -> bool:
        return self.status is CaseStatus.OPEN and now > self.due_at

    def text(self, now: datetime) -> str:
        links = ", ".join(f"{k} {v}" for k, v in self.links.named()) or "nothing linked"
        state = (
            f"closed {self.closed_at:%Y-%m-%d %H:%M} UTC by {self.closed_by}: {self.resolution}"
            if self.status is CaseStatus.CLOSED
            else ("OVERDUE" if self.overdue(now) else "open")
            + f", due {self.due_at:%Y-%m-%d %H:%M} UTC"
        )
        return (
            f"Case {self.case_id} ({state}): {self.question} — asked by {self.asked_by} "
            f"{self.opened_at:%Y-%m-%d %H:%M} UTC; {links}; {len(self.reminders)} reminder(s)"
        )

    def as_dict(self, now: datetime) -> dict[str, Any]:
        return {
            **self.model_dump(mode="json"),
            "overdue": self.overdue(now),
            "text": self.text(now),
        }


def case_id_for(tenant: str, key: str) -> str:
    """A case's id: a readable prefix and a hash of the whole identity (the same question from
    the same source opens one case, however often it is asked)."""
    return f"qc-{digest(f'{tenant}|{key}')}"


def new_case(
    tenant: str,
    question: str,
    asked_by: str,
    links: CaseLinks,
    now: datetime,
    settings: QuerySettings,
    key: str | None = None,
) -> QueryCase:
    """A case to open; ``key`` names its source (a reconciliation break), else the question,
    who asked and when make it."""
    reasons = []
    if not question.strip():
        reasons.append("the question is empty")
    if not asked_by.strip():
        reasons.append("who asked is not said")
    if reasons:
        raise CaseRefused("; ".join(reasons))
    identity = key or f"{question.strip()}|{asked_by.strip()}|{now.isoformat()}"
    return QueryCase(
        tenant=tenant,
        case_id=case_id_for(tenant, identity),
        question=question.strip(),
        asked_by=asked_by.strip(),
        links=links,
        opened_at=now,
        due_at=now + timedelta(hours=settings.sla_hours),
        next_reminder_at=now + timedelta(hours=settings.reminder_hours),
    )


def remind(
    case: QueryCase, now: datetime, settings: QuerySettings
) -> tuple[QueryCase, QueryCaseDue] | None:
    """The case with one more reminder and the notice to send, when one is due now."""
    if case.status is not CaseStatus.OPEN or case.next_reminder_at is None:
        return None
    if case.next_reminder_at > now:
        return None
    reminded = case.model_copy(
        update={
            "reminders": (*case.reminders, now),
            "next_reminder_at": now + timedelta(hours=settings.reminder_hours),
            "version": case.version + 1,
        }
    )
    notice = QueryCaseDue(
        tenant=case.tenant,
        order_id=case.links.order_id,
        case_id=case.case_id,
        question=case.question,
        asked_by=case.asked_by,
        due_at=f"{case.due_at:%Y-%m-%d %H:%M} UTC",
        overdue=case.overdue(now),
        reminder=len(reminded.reminders),
        payout_id=case.links.payout_id,
        bank_line_id=case.links.bank_line_id,
    )
    return reminded, notice


def close(case: QueryCase, now: datetime, by: str, resolution: str) -> QueryCase:
    reasons = []
    if case.status is CaseStatus.CLOSED:
        reasons.append(f"case {case.case_id} is already closed")
    if not by.strip():
        reasons.append("who closes it is not said")
    if not resolution.strip():
        reasons.append("the answer (resolution) is empty")
    if reasons:
        raise CaseRefused("; ".join(reasons))
    return case.model_copy(
        update={
            "status": CaseStatus.CLOSED,
            "closed_at": now,
            "closed_by": by.strip(),
            "resolution": resolution.strip(),
            "next_reminder_at": None,
            "version": case.version + 1,
        }
    )
