"""Representment (issue 15, item 3): operators edit the draft, submit it (final, idempotent) or
accept the dispute; a suggestion to fight or accept with its reason; a submission Stripe
refuses after the deadline is said on the case."""

from __future__ import annotations

from datetime import timedelta

import pytest

from functions.disputes.domain.case import CaseFlag, CaseRefused, CaseState
from functions.disputes.domain.evidence import EvidenceDraft, EvidenceRefused
from functions.disputes.ports import Ports
from functions.disputes.use_cases.cases import record_dispute_event
from functions.disputes.use_cases.evidence import draft_evidence
from functions.disputes.use_cases.representment import (
    SubmissionRefused,
    accept_case,
    edit_evidence,
    submit_case,
    suggestion,
)
from tests.disputes_fakes import DUE_BY, OPENED_AT, FakeGateway, dispute_event, ports
from tests.unit.test_dispute_evidence import DISPUTED_AT, EMAILS, order


def drafted_case(
    *, delivered: bool = True, amount: int = 2500, reason: str = "product_not_received"
) -> Ports:
    p = ports(order("o-1", DISPUTED_AT, delivered=delivered), emails=EMAILS)
    record_dispute_event(
        p,
        dispute_event(charge_id="ch_o-1", reason=reason, network_code="13.1", amount=amount),
        "o-1",
    )
    draft_evidence(p, "acme", "dp_1")
    return p


def gateway(p: Ports) -> FakeGateway:
    assert isinstance(p.gateway, FakeGateway)
    return p.gateway


def test_edited_fields_are_kept_over_a_new_draft_and_bad_edits_refused() -> None:
    p = drafted_case()
    edit_evidence(
        p,
        "acme",
        "dp_1",
        {"product_description": "Two brass lamps, boxed", "customer_purchase_ip": None},
        by="sam",
    )
    case = draft_evidence(p, "acme", "dp_1")
    draft = EvidenceDraft.model_validate(case.evidence)
    assert draft.fields["product_description"] == "Two brass lamps, boxed"
    assert "customer_purchase_ip" not in draft.fields
    assert case.edited_fields == ["customer_purchase_ip", "product_description"]
    with pytest.raises(EvidenceRefused) as refused:
        edit_evidence(
            p,
            "acme",
            "dp_1",
            {"receipt": "file_x", "colour": "red", "uncategorized_text": "u" * 150_001},
            by="sam",
        )
    colour, receipt, size = refused.value.reasons
    assert colour == "colour: not one of Stripe's text evidence fields"
    assert receipt == "receipt: a file field, drafted from our records, not edited by hand"
    assert "over Stripe's 150,000 (longest: uncategorized_text 150,001" in size
    # Nothing half done: the case is as it was.
    stored = p.cases.get("acme", "dp_1")
    assert stored is not None and stored.version == case.version


def test_submit_sends_fields_and_uploaded_files_once_with_an_idempotency_key() -> None:
    p = drafted_case()
    case = submit_case(p, "acme", "dp_1", by="sam")
    assert case.state == CaseState.SUBMITTED and case.submitted_at == OPENED_AT
    assert case.timeline[-1].what == "submitted" and case.timeline[-1].by == "sam"
    ((dispute_id, evidence, submit, key),) = gateway(p).updates
    assert (dispute_id, submit) == ("dp_1", True)
    assert key.startswith("dispute-submit-")
    assert evidence["shipping_tracking_number"] == "1ZO-1"
    assert {evidence[f] for f in ("receipt", "uncategorized_file")} <= {
        file_id for file_id, _ in gateway(p).uploads.values()
    }
    assert all(content.startswith(b"%PDF-") for _, content in gateway(p).uploads.values())
    with pytest.raises(CaseRefused, match="the case is submitted: it cannot be submitted"):
        submit_case(p, "acme", "dp_1", by="sam")


def test_a_submission_refused_after_the_deadline_is_said_on_the_case() -> None:
    p = drafted_case()
    p.clock.set(DUE_BY + timedelta(hours=1))  # type: ignore[attr-defined]
    gateway(p).refuse = "400: This dispute's evidence was due by 1764...; the deadline has passed"
    with pytest.raises(SubmissionRefused) as refused:
        submit_case(p, "acme", "dp_1", by="sam")
    case = refused.value.case
    assert case.state == CaseState.COLLECTING
    assert CaseFlag.SUBMISSION_REFUSED in case.flags
    assert case.refusal is not None
    assert case.refusal.startswith(
        f"Stripe refused the submission after the deadline ({DUE_BY.isoformat()})"
    )
    assert case.timeline[-1].what == "submission refused"


def test_accept_closes_at_stripe_and_stays_accepted_when_stripe_says_lost() -> None:
    p = drafted_case()
    case = accept_case(p, "acme", "dp_1", by="lee")
    assert case.state == CaseState.ACCEPTED
    assert [d for d, _ in gateway(p).closed] == ["dp_1"]
    record_dispute_event(
        p, dispute_event("charge.dispute.closed", event_id="evt_lost", status="lost"), "o-1"
    )
    stored = p.cases.get("acme", "dp_1")
    assert stored is not None and stored.state == CaseState.ACCEPTED
    with pytest.raises(CaseRefused, match="the case is accepted: it cannot be accepted"):
        accept_case(p, "acme", "dp_1", by="lee")


@pytest.mark.parametrize(
    ("delivered", "amount", "action", "reason"),
    [
        (True, 2500, "fight", "the carrier scanned the parcel as delivered to the address"),
        (
            False,
            1200,
            "accept",
            "no delivery scan and the amount (EUR 12.00) is under the fees (EUR 15.00)",
        ),
        (False, 9000, "accept", "no delivery scan: the issuer will side with the cardholder"),
    ],
)
def test_suggestion_to_fight_or_accept_with_its_reason(
    delivered: bool, amount: int, action: str, reason: str
) -> None:
    p = drafted_case(delivered=delivered, amount=amount)
    suggested = suggestion(p, "acme", "dp_1")
    assert (suggested.action, suggested.reason) == (action, reason)
