"""Disputes: the card network opens and closes them (sandbox-only controls); the API retrieves,
lists, updates with evidence, and closes (accepts) them. Funds and the fee move as on Stripe."""

from __future__ import annotations

from local.sandboxes.stripe_sandbox.account import DAY, Ctx
from local.sandboxes.stripe_sandbox.balance import BalanceTransactions
from local.sandboxes.stripe_sandbox.errors import JSON, invalid

DISPUTE_FEE = 1500
# fmt: off
_EVIDENCE_FIELDS = frozenset(
    {
        "access_activity_log", "billing_address", "cancellation_policy",
        "cancellation_policy_disclosure", "cancellation_rebuttal", "customer_communication",
        "customer_email_address", "customer_name", "customer_purchase_ip", "customer_signature",
        "duplicate_charge_documentation", "duplicate_charge_explanation", "duplicate_charge_id",
        "product_description", "receipt", "refund_policy", "refund_policy_disclosure",
        "refund_refusal_explanation", "service_date", "service_documentation",
        "shipping_address", "shipping_carrier", "shipping_date", "shipping_documentation",
        "shipping_tracking_number", "uncategorized_file", "uncategorized_text",
        "enhanced_evidence",
    }
)
# fmt: on
_FILE_FIELDS = frozenset(
    {
        "cancellation_policy",
        "customer_communication",
        "customer_signature",
        "duplicate_charge_documentation",
        "receipt",
        "refund_policy",
        "service_documentation",
        "shipping_documentation",
        "uncategorized_file",
    }
)  # fmt: skip
# fmt: off
_DISPUTE_REASONS = frozenset(
    {
        "bank_cannot_process", "check_returned", "credit_not_processed", "customer_initiated",
        "debit_not_authorized", "duplicate", "fraudulent", "general",
        "incorrect_account_details", "insufficient_funds", "product_not_received",
        "product_unacceptable", "subscription_canceled", "unrecognized",
    }
)
# fmt: on
_NETWORK_REASON = {"fraudulent": "10.4", "product_not_received": "13.1", "duplicate": "12.6.1"}


class Disputes(BalanceTransactions):
    """Chargebacks: ``dispute`` withdrawals, ``dispute_reversal`` reinstatements."""

    def open_dispute(
        self,
        charge_id: str,
        *,
        reason: str = "fraudulent",
        amount: int | None = None,
        inquiry: bool = False,
    ) -> JSON:
        """The cardholder's bank opens a chargeback: funds and the dispute fee are withdrawn.
        An inquiry (``inquiry``) only asks: ``warning_needs_response``, nothing withdrawn."""
        with self._lock:
            return self._render(
                self._open_dispute(Ctx(None, None), charge_id, reason, amount, inquiry)
            )

    def early_fraud_warning(
        self,
        charge_id: str,
        *,
        fraud_type: str = "unauthorized_use_of_card",
        actionable: bool = True,
    ) -> JSON:
        """The card's issuer reports the charge as fraud (Radar's early fraud warning):
        ``radar.early_fraud_warning.created``. Actionable while the charge is neither refunded
        nor disputed."""
        with self._lock:
            charge = self._fetch("charge", charge_id, param="charge")
            warning: JSON = {
                "id": self._id("issfr"),
                "object": "radar.early_fraud_warning",
                "actionable": actionable and not charge["refunded"] and not charge["dispute"],
                "charge": charge_id,
                "created": self.now(),
                "fraud_type": fraud_type,
                "livemode": False,
                "payment_intent": charge["payment_intent"],
            }
            self._store("radar.early_fraud_warning", warning)
            self._emit(Ctx(None, None), "radar.early_fraud_warning.created", warning)
            return self._render(warning)

    def close_dispute(self, dispute_id: str, *, won: bool) -> JSON:
        """The card network decides. Won: the amount and the fee are reinstated."""
        with self._lock:
            dispute = self._fetch("dispute", dispute_id)
            if dispute["status"] in ("won", "lost", "warning_closed"):
                raise ValueError(f"dispute {dispute_id} is already {dispute['status']}")
            ctx = Ctx(None, None)
            previous = {"status": dispute["status"]}
            if dispute["status"].startswith("warning_"):
                # An inquiry the issuer drops: nothing was withdrawn, nothing to reinstate.
                dispute["status"] = "warning_closed" if won else "lost"
                self._emit(ctx, "charge.dispute.closed", dispute, previous)
                return self._render(dispute)
            if won:
                charge = self._objects[dispute["charge"]]
                txn = self._txn(
                    amount=dispute["amount"],
                    fee=-DISPUTE_FEE,
                    fee_details=[
                        self._fee_detail(-DISPUTE_FEE, dispute["currency"], "Dispute fee")
                    ],
                    type_="adjustment",
                    category="dispute_reversal",
                    source=dispute["id"],
                    currency=dispute["currency"],
                    description=f"Chargeback reversal for {charge['id']}",
                )
                dispute["balance_transactions"].append(txn)
                dispute["status"] = "won"
                self._emit(ctx, "charge.dispute.funds_reinstated", dispute)
            else:
                dispute["status"] = "lost"
            dispute["is_charge_refundable"] = False
            self._emit(ctx, "charge.dispute.closed", dispute, previous)
            return self._render(dispute)

    def _open_dispute(
        self, ctx: Ctx, charge_id: str, reason: str, amount: int | None, inquiry: bool = False
    ) -> JSON:
        charge = self._fetch("charge", charge_id, param="charge")
        if reason not in _DISPUTE_REASONS:
            raise ValueError(f"unknown dispute reason {reason!r}")
        if not charge["captured"] or charge["status"] != "succeeded":
            raise ValueError(f"charge {charge_id} was not captured; it cannot be disputed")
        if charge["dispute"]:
            raise ValueError(f"charge {charge_id} is already disputed")
        disputable = charge["amount_captured"] - charge["amount_refunded"]
        amount = disputable if amount is None else amount
        if not 0 < amount <= disputable:
            raise ValueError(f"a dispute of {amount} on a charge with {disputable} left")
        dispute_id = self._id("dp")
        now = self.now()
        withdrawals = []
        if not inquiry:
            withdrawal = self._txn(
                amount=-amount,
                fee=DISPUTE_FEE,
                fee_details=[self._fee_detail(DISPUTE_FEE, charge["currency"], "Dispute fee")],
                type_="adjustment",
                category="dispute",
                source=dispute_id,
                currency=charge["currency"],
                description=f"Chargeback withdrawal for {charge_id}",
            )
            withdrawals.append(withdrawal)
        card = charge["payment_method_details"]["card"]
        dispute: JSON = {
            "id": dispute_id,
            "object": "dispute",
            "amount": amount,
            "balance_transactions": withdrawals,
            "charge": charge_id,
            "created": now,
            "currency": charge["currency"],
            "enhanced_eligibility_types": [],
            "evidence": {**dict.fromkeys(sorted(_EVIDENCE_FIELDS)), "enhanced_evidence": {}},
            "evidence_details": {
                "due_by": ((now // DAY) + 8) * DAY - 1,
                "enhanced_eligibility": {},
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "network_reason_code": _NETWORK_REASON.get(reason),
            "payment_intent": charge["payment_intent"],
            "payment_method_details": {
                "card": {
                    "brand": card["brand"],
                    "case_type": "chargeback",
                    "network_reason_code": _NETWORK_REASON.get(reason),
                },
                "type": "card",
            },
            "reason": reason,
            "status": "warning_needs_response" if inquiry else "needs_response",
        }
        if inquiry:
            dispute["payment_method_details"]["card"]["case_type"] = "inquiry"
        self._store("dispute", dispute)
        charge.update(disputed=True, dispute=dispute_id)
        self._emit(ctx, "charge.dispute.created", dispute)
        if not inquiry:
            self._emit(ctx, "charge.dispute.funds_withdrawn", dispute)
        return dispute

    def _dispute_retrieve(self, ctx: Ctx, p: JSON, dispute_id: str) -> JSON:
        self._allow(p, frozenset())
        return self._fetch("dispute", dispute_id)

    def _dispute_list(self, ctx: Ctx, p: JSON) -> JSON:
        return self._list(
            "dispute", "/v1/disputes", p, {"charge": "charge", "payment_intent": "payment_intent"}
        )

    def _dispute_update(self, ctx: Ctx, p: JSON, dispute_id: str) -> JSON:
        self._allow(p, frozenset({"evidence", "metadata", "submit"}))
        dispute = self._fetch("dispute", dispute_id)
        evidence = p.get("evidence")
        submit = self._bool(p, "submit")
        if dispute["status"] in ("won", "lost", "warning_closed"):
            raise invalid(f"This dispute is already closed ({dispute['status']}).")
        if (evidence is not None or submit) and dispute["status"] in (
            "under_review",
            "warning_under_review",
        ):
            raise invalid("This dispute's evidence has already been submitted.")
        if evidence is not None and not isinstance(evidence, dict):
            raise invalid("Invalid hash", param="evidence")
        due_by = dispute["evidence_details"]["due_by"]
        if (evidence is not None or submit) and due_by is not None and self.now() > due_by:
            # As Stripe: past the deadline the evidence can no longer be changed or submitted.
            dispute["evidence_details"]["past_due"] = True
            raise invalid(
                f"This dispute's evidence was due by {due_by}; the deadline has passed and "
                "evidence can no longer be submitted.",
                code="dispute_evidence_past_due",
            )
        previous: JSON = {}
        if evidence:
            for key, value in evidence.items():
                if key not in _EVIDENCE_FIELDS:
                    raise invalid(
                        f"Received unknown parameter: evidence[{key}]",
                        code="parameter_unknown",
                        param=f"evidence[{key}]",
                    )
                if key == "enhanced_evidence":
                    if not isinstance(value, dict):
                        raise invalid("Invalid hash", param="evidence[enhanced_evidence]")
                    continue
                if not isinstance(value, str):
                    raise invalid("Invalid string", param=f"evidence[{key}]")
                if key in _FILE_FIELDS and value and value not in self._objects:
                    raise invalid(
                        f"No such file upload: '{value}'",
                        code="resource_missing",
                        param=f"evidence[{key}]",
                    )
            previous["evidence"] = {k: dispute["evidence"][k] for k in evidence}
            for key, value in evidence.items():
                dispute["evidence"][key] = value or None
            dispute["evidence_details"]["has_evidence"] = any(dispute["evidence"].values())
        if "metadata" in p:
            previous["metadata"] = dict(dispute["metadata"])
            dispute["metadata"] = self._metadata(p, dispute["metadata"])
        if submit:
            previous["status"] = dispute["status"]
            dispute["status"] = (
                "warning_under_review"
                if dispute["status"] == "warning_needs_response"
                else "under_review"
            )
            dispute["evidence_details"]["submission_count"] += 1
        self._emit(ctx, "charge.dispute.updated", dispute, previous)
        return dispute

    def _dispute_close(self, ctx: Ctx, p: JSON, dispute_id: str) -> JSON:
        self._allow(p, frozenset())
        dispute = self._fetch("dispute", dispute_id)
        if dispute["status"] not in ("needs_response", "warning_needs_response"):
            raise invalid(f"This dispute cannot be closed: its status is {dispute['status']}.")
        previous = {"status": dispute["status"]}
        dispute["status"] = (
            "warning_closed" if dispute["status"] == "warning_needs_response" else "lost"
        )
        self._emit(ctx, "charge.dispute.closed", dispute, previous)
        return dispute
