"""Drafting a case's evidence from our records, rendering its files, and keeping it within
Stripe's limits."""

from __future__ import annotations

from functions.disputes.domain.case import CaseState, DisputeCase, TimelineEntry
from functions.disputes.domain.evidence import (
    EvidenceDraft,
    EvidenceFile,
    EvidenceRefused,
    Policies,
    assemble,
    limit_problems,
)
from functions.disputes.ports import Ports
from functions.disputes.use_cases.cases import CaseNotFound, change_case


def packet_title(case: DisputeCase, field: str) -> str:
    what = "evidence packet" if field == "uncategorized_file" else field.replace("_", " ")
    return f"Dispute {case.dispute_id} ({case.tenant}): {what}"


def render_files(ports: Ports, case: DisputeCase, draft: EvidenceDraft) -> dict[str, bytes]:
    """Each file field's PDF, from the draft's sections (the same draft renders the same
    bytes: dated by the case's last change)."""
    at = case.timeline[-1].at if case.timeline else case.opened_at
    return {
        field: ports.packets.render(packet_title(case, field), sections, at)
        for field, sections in sorted(draft.files.items())
    }


def described(ports: Ports, files: dict[str, bytes]) -> dict[str, EvidenceFile]:
    return {
        field: EvidenceFile(
            field=field,
            name=f"{field}.pdf",
            content_type=ports.packets.content_type,
            size=len(content),
        )
        for field, content in files.items()
    }


def assemble_for(ports: Ports, case: DisputeCase) -> EvidenceDraft:
    state = ports.orders.load(case.tenant, case.order_id) if case.order_id else None
    order = state.order if state else None
    emails = ports.emails.sent_for(case.tenant, case.order_id) if case.order_id else []
    settings = ports.tenants.get(case.tenant)
    policies = (
        Policies(
            refund_policy_disclosure=settings.disputes.refund_policy_disclosure,
            cancellation_policy_disclosure=settings.disputes.cancellation_policy_disclosure,
        )
        if settings
        else Policies()
    )
    ce3 = (case.card_brand or "").lower() == "visa" and case.network_reason_code == "10.4"
    earlier = (
        list(ports.earlier.of_customer(case.tenant, order.customer.email))
        if ce3 and order is not None and order.customer.email
        else []
    )
    findings = (
        ports.findings.duplicate_payment(case.tenant, case.order_id)
        if case.reason == "duplicate" and case.order_id
        else []
    )
    return assemble(
        reason=case.reason,
        card_brand=case.card_brand,
        network_reason_code=case.network_reason_code,
        charge_id=case.charge_id,
        state=state,
        emails=emails,
        policies=policies,
        earlier=earlier,
        reconciliation=findings,
    )


def draft_evidence(ports: Ports, tenant: str, dispute_id: str, by: str = "desk") -> DisputeCase:
    """Draft (or re-draft) the case's evidence from our records. Fields an operator edited are
    kept as they wrote them. Refused with every reason when over Stripe's limits; a new case
    moves to ``collecting``."""
    case = ports.cases.get(tenant, dispute_id)
    if case is None:
        raise CaseNotFound(tenant, dispute_id)
    draft = assemble_for(ports, case)
    kept = EvidenceDraft.model_validate(case.evidence) if case.evidence else EvidenceDraft()
    for field in case.edited_fields:
        if field in kept.fields:
            draft.fields[field] = kept.fields[field]
        else:
            draft.fields.pop(field, None)
    draft.rendered = described(ports, render_files(ports, case, draft))
    problems = limit_problems(draft.fields, draft.rendered.values())
    if problems:
        raise EvidenceRefused(problems)
    now = ports.clock.now()

    def drafted(current: DisputeCase) -> DisputeCase:
        state = CaseState.COLLECTING if current.state == CaseState.NEW else current.state
        changed = current.model_copy(
            update={"evidence": draft.model_dump(mode="json"), "state": state}, deep=True
        )
        return changed.with_entry(
            TimelineEntry(
                at=now,
                what="evidence drafted",
                detail=(
                    f"{len(draft.fields)} fields, {len(draft.rendered)} files"
                    + (f", {len(draft.ce3_qualifying)} CE 3.0 payments" if draft.enhanced else "")
                    + (f"; missing: {len(draft.missing)}" if draft.missing else "")
                ),
                by=by,
            )
        )

    return change_case(ports, tenant, dispute_id, drafted)
