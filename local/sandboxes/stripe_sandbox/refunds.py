"""Refunds: create by ``charge`` or ``payment_intent`` (never more than captured minus refunded,
none while a chargeback is open), retrieve, list; and the sandbox-only control the card's bank
has: failing a refund after it succeeded (``fail_refund``), as Stripe reports up to 30 days
later."""

from __future__ import annotations

from local.sandboxes.stripe_sandbox.account import Ctx, money_text
from local.sandboxes.stripe_sandbox.balance import BalanceTransactions
from local.sandboxes.stripe_sandbox.errors import JSON, invalid

# Stripe's ``failure_reason`` values for a refund that failed.
REFUND_FAILURE_REASONS = frozenset(
    {
        "charge_for_pending_refund_disputed",
        "declined",
        "expired_or_canceled_card",
        "insufficient_funds",
        "lost_or_stolen_card",
        "merchant_request",
        "unknown",
    }
)


class Refunds(BalanceTransactions):
    """Refunds and their ``refund`` balance transactions."""

    def fail_refund(self, refund_id: str, *, reason: str = "expired_or_canceled_card") -> JSON:
        """The card's bank returns a refund Stripe had sent (the card closed, lost, …): the
        refund becomes ``failed`` with its ``failure_reason``, a ``refund_failure`` balance
        transaction puts the money back on the balance, the charge's ``amount_refunded`` goes
        down, and Stripe's events follow: ``charge.refund.updated``, ``refund.updated`` (with
        the previous status) and ``refund.failed``."""
        with self._lock:
            refund = self._fetch("refund", refund_id)
            if refund["status"] in ("failed", "canceled"):
                raise ValueError(f"refund {refund_id} is already {refund['status']}")
            if reason not in REFUND_FAILURE_REASONS:
                raise ValueError(f"unknown refund failure reason {reason!r}")
            charge = self._objects[refund["charge"]]
            txn = self._txn(
                amount=refund["amount"],
                fee=0,
                fee_details=[],
                type_="refund_failure",
                category="refund_failure",
                source=refund_id,
                currency=refund["currency"],
                description=f"REFUND FAILURE FOR CHARGE ({charge['id']})",
            )
            previous = {"status": refund["status"], "failure_reason": None}
            refund.update(
                status="failed", failure_reason=reason, failure_balance_transaction=txn["id"]
            )
            charge["amount_refunded"] -= refund["amount"]
            charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
            ctx = Ctx(None, None)
            self._emit(ctx, "charge.refund.updated", refund, previous)
            self._emit(ctx, "refund.updated", refund, previous)
            self._emit(ctx, "refund.failed", refund)
            return self._render(refund)

    def _refund_create(self, ctx: Ctx, p: JSON) -> JSON:
        self._allow(
            p,
            frozenset(
                {
                    "charge",
                    "payment_intent",
                    "amount",
                    "reason",
                    "metadata",
                    "instructions_email",
                    "refund_application_fee",
                    "reverse_transfer",
                    "expand",
                }
            ),
        )
        charge_id = self._text(p, "charge")
        pi_id = self._text(p, "payment_intent")
        if not charge_id and not pi_id:
            raise invalid(
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
            )
        if pi_id:
            pi = self._fetch("payment_intent", pi_id, param="payment_intent")
            if not pi["latest_charge"] or pi["status"] not in ("succeeded", "requires_capture"):
                raise invalid(
                    f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                    code="charge_not_refundable",
                    param="payment_intent",
                )
            if charge_id and charge_id != pi["latest_charge"]:
                raise invalid("The charge does not belong to this PaymentIntent.", param="charge")
            charge_id = pi["latest_charge"]
        assert charge_id is not None
        charge = self._fetch("charge", charge_id, param="charge")
        if charge["status"] != "succeeded":
            raise invalid(
                f"Charge {charge_id} has failed; there is nothing to refund.",
                code="charge_not_refundable",
                param="charge",
            )
        if not charge["captured"]:
            raise invalid(
                f"Charge {charge_id} has not been captured; cancel its PaymentIntent to release "
                "the authorisation instead.",
                code="charge_not_refundable",
                param="charge",
            )
        dispute = self._objects.get(charge["dispute"] or "")
        if dispute is not None and dispute["status"] not in ("warning_closed", "won"):
            raise invalid(
                f"Charge {charge_id} has been charged back; cannot issue a refund.",
                code="charge_disputed",
                param="charge",
            )
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if remaining <= 0:
            raise invalid(
                f"Charge {charge_id} has already been refunded.",
                code="charge_already_refunded",
                param="charge",
            )
        amount = self._int(p, "amount") or remaining
        if amount > remaining:
            raise invalid(
                f"Refund amount ({money_text(amount, charge['currency'])}) is greater than "
                f"unrefunded amount on charge ({money_text(remaining, charge['currency'])})",
                code="amount_too_large",
                param="amount",
            )
        reason = self._enum(p, "reason", ("duplicate", "fraudulent", "requested_by_customer"), None)
        refund_id = self._id("re")
        txn = self._txn(
            amount=-amount,
            fee=0,
            fee_details=[],
            type_="refund",
            category="refund",
            source=refund_id,
            currency=charge["currency"],
            description=f"REFUND FOR CHARGE ({charge.get('description') or charge_id})",
        )
        refund: JSON = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": txn["id"],
            "charge": charge_id,
            "created": self.now(),
            "currency": charge["currency"],
            "destination_details": {
                "card": {
                    "reference_status": "pending",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            },
            "metadata": self._metadata(p),
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        self._store("refund", refund)
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        refunds = charge["refunds"]
        refunds["data"].insert(0, refund)
        refunds["total_count"] = len(refunds["data"])
        self._emit(ctx, "refund.created", refund)
        self._emit(ctx, "charge.refunded", charge, previous)
        return refund

    def _refund_retrieve(self, ctx: Ctx, p: JSON, refund_id: str) -> JSON:
        self._allow(p, frozenset())
        return self._fetch("refund", refund_id)

    def _refund_list(self, ctx: Ctx, p: JSON) -> JSON:
        return self._list(
            "refund", "/v1/refunds", p, {"charge": "charge", "payment_intent": "payment_intent"}
        )
