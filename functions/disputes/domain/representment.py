"""Whether to fight a dispute or accept it, and why: the evidence we hold against what the
dispute costs. A suggestion for the operator, never an action."""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from functions.disputes.domain.case import CaseKind, DisputeCase
from functions.disputes.domain.evidence import EvidenceDraft


class Suggestion(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: Literal["fight", "accept"]
    reason: str


def suggest(case: DisputeCase, draft: EvidenceDraft) -> Suggestion:
    fields = draft.fields
    delivered = "Delivery scan:" in fields.get("uncategorized_text", "")
    receipt = "receipt" in draft.files
    cheap = case.amount <= case.fee
    money = case.money.format()
    fee = case.fee_money.format()
    if case.kind == CaseKind.INQUIRY:
        return Suggestion(
            action="fight",
            reason="an inquiry: answering costs no fee and may keep it from becoming a chargeback",
        )
    if case.charge_unknown or draft.order_id is None:
        return Suggestion(
            action="accept",
            reason="we hold no order for this charge: there is nothing to show the issuer",
        )
    if case.reason == "fraudulent" and draft.enhanced.get("visa_compelling_evidence_3"):
        return Suggestion(
            action="fight",
            reason="Visa CE 3.0: two earlier undisputed payments by the same card qualify",
        )
    if case.reason == "duplicate":
        if "duplicate_charge_id" in fields:
            return Suggestion(
                action="fight",
                reason=f"the other charge ({fields['duplicate_charge_id']}) is a separate payment",
            )
        return Suggestion(action="accept", reason="no other charge on the order: it was paid twice")
    if case.reason in ("product_not_received", "fraudulent", "unrecognized", "general"):
        if delivered:
            return Suggestion(
                action="fight", reason="the carrier scanned the parcel as delivered to the address"
            )
        if cheap:
            return Suggestion(
                action="accept",
                reason=f"no delivery scan and the amount ({money}) is under the fees ({fee})",
            )
        return Suggestion(
            action="accept",
            reason="no delivery scan: the issuer will side with the cardholder",
        )
    if receipt or delivered:
        return Suggestion(action="fight", reason="we hold the receipt and the delivery records")
    if cheap:
        return Suggestion(
            action="accept",
            reason=f"little evidence and the amount ({money}) is under the fees ({fee})",
        )
    return Suggestion(action="fight", reason=f"{money} at stake; add what the draft is missing")
