"""The desk's refusals, light to import (the operator API registers handlers for them at its
cold start without loading the desk)."""

from __future__ import annotations

from typing import Any


class CaseRefused(ValueError):
    """An operator's change the case cannot take, with every reason."""

    def __init__(self, dispute_id: str, reasons: list[str]) -> None:
        self.dispute_id = dispute_id
        self.reasons = reasons
        super().__init__(f"dispute case {dispute_id}: " + "; ".join(reasons))


class CaseNotFound(LookupError):
    def __init__(self, tenant: str, dispute_id: str) -> None:
        super().__init__(f"tenant {tenant} has no dispute case {dispute_id}")


class EvidenceRefused(ValueError):
    """Evidence over Stripe's limits or naming fields Stripe does not take: every reason."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))


class SubmissionRefused(RuntimeError):
    """Stripe refused the evidence; the case (a ``DisputeCase``) records why (``refusal``)."""

    def __init__(self, case: Any) -> None:
        self.case = case
        super().__init__(case.refusal or "Stripe refused the submission")
