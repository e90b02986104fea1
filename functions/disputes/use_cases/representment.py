"""Representment: the operator edits the draft, then submits it to Stripe (final) or accepts
the dispute (closes it). Each call to Stripe carries an idempotency key made from the case and
what is sent, so a retry sends nothing twice; the case changes by one conditional write after
Stripe answered."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from functions.disputes.domain.case import (
    CaseFlag,
    CaseRefused,
    CaseState,
    DisputeCase,
    TimelineEntry,
)
from functions.disputes.domain.evidence import (
    FILE_FIELDS,
    TEXT_FIELDS,
    EvidenceDraft,
    EvidenceRefused,
    limit_problems,
)
from functions.disputes.domain.representment import Suggestion, suggest
from functions.disputes.errors import SubmissionRefused
from functions.disputes.ports import Ports, StripeRefused
from functions.disputes.use_cases.cases import CaseNotFound, change_case
from functions.disputes.use_cases.evidence import described, render_files

__all__ = ["SubmissionRefused"]

_ANSWERABLE = frozenset({CaseState.NEW, CaseState.COLLECTING, CaseState.READY})


def _key(kind: str, *parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"dispute-{kind}-{digest}"


def _load(ports: Ports, tenant: str, dispute_id: str) -> DisputeCase:
    case = ports.cases.get(tenant, dispute_id)
    if case is None:
        raise CaseNotFound(tenant, dispute_id)
    return case


def _draft(case: DisputeCase) -> EvidenceDraft:
    return EvidenceDraft.model_validate(case.evidence) if case.evidence else EvidenceDraft()


def _answerable(case: DisputeCase, doing: str) -> None:
    if case.state not in _ANSWERABLE:
        raise CaseRefused(
            case.dispute_id, [f"the case is {case.state.value}: it cannot be {doing}"]
        )


def suggestion(ports: Ports, tenant: str, dispute_id: str) -> Suggestion:
    case = _load(ports, tenant, dispute_id)
    return suggest(case, _draft(case))


def edit_evidence(
    ports: Ports, tenant: str, dispute_id: str, changes: dict[str, str | None], by: str
) -> DisputeCase:
    """Set (or clear, with None) text evidence fields by hand: kept over later drafts. Refused
    with every reason: fields Stripe does not take, files (drafted from our records only),
    Stripe's limits, a case no longer answerable."""
    case = _load(ports, tenant, dispute_id)
    reasons = []
    for name in sorted(changes):
        if name in FILE_FIELDS:
            reasons.append(f"{name}: a file field, drafted from our records, not edited by hand")
        elif name not in TEXT_FIELDS:
            reasons.append(f"{name}: not one of Stripe's text evidence fields")
    if case.state not in _ANSWERABLE:
        reasons.append(f"the case is {case.state.value}: it cannot be edited")
    draft = _draft(case)
    fields = {**draft.fields}
    for name, value in changes.items():
        if name not in TEXT_FIELDS:
            continue
        if value:
            fields[name] = value
        else:
            fields.pop(name, None)
    reasons += limit_problems(fields, draft.rendered.values())
    if reasons:
        raise EvidenceRefused(reasons)
    now = ports.clock.now()

    def edited(current: DisputeCase) -> DisputeCase:
        _answerable(current, "edited")
        current_draft = _draft(current)
        for name, value in changes.items():
            if value:
                current_draft.fields[name] = value
            else:
                current_draft.fields.pop(name, None)
        changed = current.model_copy(
            update={
                "evidence": current_draft.model_dump(mode="json"),
                "edited_fields": sorted({*current.edited_fields, *changes}),
            },
            deep=True,
        )
        return changed.with_entry(
            TimelineEntry(at=now, what="evidence edited", detail=", ".join(sorted(changes)), by=by)
        )

    return change_case(ports, tenant, dispute_id, edited)


def stripe_evidence(ports: Ports, case: DisputeCase) -> dict[str, Any]:
    """What is sent: the text fields, each rendered file uploaded (its file id), and the
    enhanced evidence (Visa CE 3.0) when there is any."""
    draft = _draft(case)
    files = render_files(ports, case, draft)
    problems = limit_problems(draft.fields, described(ports, files).values())
    if problems:
        raise EvidenceRefused(problems)
    evidence: dict[str, Any] = dict(draft.fields)
    for field, content in files.items():
        key = _key("file", case.tenant, case.dispute_id, field, hashlib.sha256(content).hexdigest())
        evidence[field] = ports.gateway.upload(case.tenant, f"{field}.pdf", content, key)
    if draft.enhanced:
        evidence["enhanced_evidence"] = draft.enhanced
    return evidence


def submit_case(ports: Ports, tenant: str, dispute_id: str, by: str) -> DisputeCase:
    """Submit the evidence to Stripe (``submit=true``: final). Refused after the deadline by
    Stripe: the case says so and ``SubmissionRefused`` is raised."""
    case = _load(ports, tenant, dispute_id)
    _answerable(case, "submitted")
    if case.state == CaseState.NEW or not case.evidence:
        raise CaseRefused(dispute_id, ["the case has no evidence draft yet"])
    evidence = stripe_evidence(ports, case)
    key = _key("submit", tenant, dispute_id, json.dumps(evidence, sort_keys=True, default=str))
    try:
        ports.gateway.update(tenant, dispute_id, evidence, True, key)
    except StripeRefused as refused:
        _record_refusal(ports, case, str(refused), by)
        raise SubmissionRefused(_load(ports, tenant, dispute_id)) from refused
    now = ports.clock.now()

    def submitted(current: DisputeCase) -> DisputeCase:
        changed = current.model_copy(
            update={
                "state": CaseState.SUBMITTED if current.state in _ANSWERABLE else current.state,
                "submitted_at": current.submitted_at or now,
                "flags": [f for f in current.flags if f != CaseFlag.SUBMISSION_REFUSED],
                "refusal": None,
            },
            deep=True,
        )
        return changed.with_entry(
            TimelineEntry(
                at=now,
                what="submitted",
                detail=f"{len(evidence)} evidence fields sent to Stripe (final)",
                by=by,
            )
        )

    return change_case(ports, tenant, dispute_id, submitted)


def _record_refusal(ports: Ports, case: DisputeCase, message: str, by: str) -> None:
    now = ports.clock.now()
    due = case.evidence_due_by
    late = due is not None and now > due
    refusal = (
        f"Stripe refused the submission after the deadline ({_iso(due)}): {message}"
        if late
        else f"Stripe refused the submission: {message}"
    )

    def refused(current: DisputeCase) -> DisputeCase:
        flags = [*current.flags]
        if CaseFlag.SUBMISSION_REFUSED not in flags:
            flags.append(CaseFlag.SUBMISSION_REFUSED)
        changed = current.model_copy(update={"flags": flags, "refusal": refusal}, deep=True)
        return changed.with_entry(
            TimelineEntry(at=now, what="submission refused", detail=refusal, by=by)
        )

    change_case(ports, case.tenant, case.dispute_id, refused)


def _iso(at: datetime | None) -> str:
    return at.isoformat() if at else "no deadline"


def accept_case(ports: Ports, tenant: str, dispute_id: str, by: str) -> DisputeCase:
    """Accept the dispute: Stripe closes it (the money stays with the cardholder)."""
    case = _load(ports, tenant, dispute_id)
    _answerable(case, "accepted")
    try:
        ports.gateway.close(tenant, dispute_id, _key("accept", tenant, dispute_id))
    except StripeRefused as refused:
        raise CaseRefused(dispute_id, [f"Stripe refused to close it: {refused}"]) from refused
    now = ports.clock.now()

    def accepted(current: DisputeCase) -> DisputeCase:
        changed = current.model_copy(
            update={"state": CaseState.ACCEPTED, "closed_at": current.closed_at or now},
            deep=True,
        )
        return changed.with_entry(
            TimelineEntry(at=now, what="accepted", detail="closed at Stripe: not contested", by=by)
        )

    return change_case(ports, tenant, dispute_id, accepted)
