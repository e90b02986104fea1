"""Payment intents: create (with ``confirm``), retrieve, update, list, confirm, capture, cancel.
Confirming makes the charge; a decline answers 402 and leaves the intent awaiting a new method."""

from __future__ import annotations

from local.sandboxes.stripe_sandbox.account import ALNUM, Ctx
from local.sandboxes.stripe_sandbox.charges import Charges
from local.sandboxes.stripe_sandbox.disputes import Disputes
from local.sandboxes.stripe_sandbox.errors import JSON, StripeAPIError, invalid
from local.sandboxes.stripe_sandbox.payment_methods import PaymentMethods, TestCard

_DECLINE_MESSAGES = {
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
    "insufficient_funds": "Your card has insufficient funds.",
}
# fmt: off
_PI_CREATE = frozenset(
    {
        "amount", "currency", "metadata", "capture_method", "confirm", "payment_method",
        "description", "receipt_email", "customer", "shipping", "statement_descriptor",
        "statement_descriptor_suffix", "payment_method_types", "automatic_payment_methods",
        "off_session", "return_url", "setup_future_usage", "expand", "error_on_requires_action",
        "confirmation_method", "use_stripe_sdk", "transfer_group", "payment_method_options",
        "radar_options", "mandate_data",
    }
)
# fmt: on
# fmt: off
_PI_CONFIRM = frozenset(
    {
        "payment_method", "receipt_email", "return_url", "off_session", "expand", "shipping",
        "payment_method_options", "error_on_requires_action", "mandate_data", "use_stripe_sdk",
        "radar_options", "capture_method", "setup_future_usage",
    }
)
# fmt: on
# fmt: off
_PI_UPDATE = frozenset(
    {
        "amount", "currency", "metadata", "capture_method", "payment_method", "description",
        "receipt_email", "shipping", "statement_descriptor", "statement_descriptor_suffix",
        "expand", "customer", "setup_future_usage", "transfer_group",
    }
)
# fmt: on


class PaymentIntents(Charges, Disputes, PaymentMethods):
    """Payment intents and their charges' life: authorise, capture, release."""

    def _pi_create(self, ctx: Ctx, p: JSON) -> JSON:
        self._allow(p, _PI_CREATE)
        amount = self._int(p, "amount", required=True)
        currency = self._currency(p)
        capture = self._enum(
            p, "capture_method", ("automatic", "automatic_async", "manual"), "automatic_async"
        )
        metadata = self._metadata(p)
        token = self._text(p, "payment_method")
        card = self._payment_method(token) if token else None
        confirm = self._bool(p, "confirm")
        if confirm and card is None:
            raise invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
                param="payment_method",
            )
        pi_id = self._id("pi")
        pi: JSON = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": capture,
            "client_secret": f"{pi_id}_secret_{''.join(self._rng.choices(ALNUM, k=25))}",
            "confirmation_method": "automatic",
            "created": self.now(),
            "currency": currency,
            "customer": self._text(p, "customer"),
            "description": self._text(p, "description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": metadata,
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": token,
            "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
            "payment_method_types": ["card"],
            "processing": None,
            "receipt_email": self._text(p, "receipt_email"),
            "review": None,
            "setup_future_usage": None,
            "shipping": p.get("shipping") if isinstance(p.get("shipping"), dict) else None,
            "statement_descriptor": self._text(p, "statement_descriptor"),
            "statement_descriptor_suffix": self._text(p, "statement_descriptor_suffix"),
            "status": "requires_confirmation" if card else "requires_payment_method",
            "transfer_data": None,
            "transfer_group": self._text(p, "transfer_group"),
        }
        self._store("payment_intent", pi)
        self._emit(ctx, "payment_intent.created", pi)
        if confirm and card is not None and token is not None:
            self._confirm(ctx, pi, token, card)
        return pi

    def _pi_retrieve(self, ctx: Ctx, p: JSON, pi_id: str) -> JSON:
        self._allow(p, frozenset({"client_secret"}))
        return self._fetch("payment_intent", pi_id)

    def _pi_list(self, ctx: Ctx, p: JSON) -> JSON:
        return self._list("payment_intent", "/v1/payment_intents", p, {"customer": "customer"})

    def _pi_update(self, ctx: Ctx, p: JSON, pi_id: str) -> JSON:
        self._allow(p, _PI_UPDATE)
        pi = self._fetch("payment_intent", pi_id)
        unconfirmed = pi["status"] in ("requires_payment_method", "requires_confirmation")
        for key in ("amount", "currency", "capture_method", "payment_method"):
            if key in p and not unconfirmed:
                raise invalid(
                    f"You cannot update {key} on a PaymentIntent with status {pi['status']}.",
                    code="payment_intent_unexpected_state",
                    param=key,
                )
        if "amount" in p:
            pi["amount"] = self._int(p, "amount", required=True)
        if "currency" in p:
            pi["currency"] = self._currency(p)
        if "capture_method" in p:
            pi["capture_method"] = self._enum(
                p, "capture_method", ("automatic", "automatic_async", "manual"), "automatic_async"
            )
        if "payment_method" in p:
            token = self._text(p, "payment_method")
            if token:
                self._payment_method(token)
            pi["payment_method"] = token
            pi["status"] = "requires_confirmation" if token else "requires_payment_method"
        for key in ("description", "receipt_email", "customer", "transfer_group"):
            if key in p:
                pi[key] = self._text(p, key)
        if "shipping" in p:
            pi["shipping"] = p["shipping"] if isinstance(p["shipping"], dict) else None
        pi["metadata"] = self._metadata(p, pi["metadata"])
        return pi

    def _pi_confirm(self, ctx: Ctx, p: JSON, pi_id: str) -> JSON:
        self._allow(p, _PI_CONFIRM)
        pi = self._fetch("payment_intent", pi_id)
        if pi["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise invalid(
                f"This PaymentIntent's status is {pi['status']}; it cannot be confirmed.",
                code="payment_intent_unexpected_state",
            )
        token = self._text(p, "payment_method") or pi["payment_method"]
        if not token:
            raise invalid(
                "You cannot confirm this PaymentIntent because it's missing a payment method.",
                code="payment_intent_unexpected_state",
                param="payment_method",
            )
        card = self._payment_method(token)
        if "capture_method" in p:
            pi["capture_method"] = self._enum(
                p, "capture_method", ("automatic", "automatic_async", "manual"), "automatic_async"
            )
        if "receipt_email" in p:
            pi["receipt_email"] = self._text(p, "receipt_email")
        if isinstance(p.get("shipping"), dict):
            pi["shipping"] = p["shipping"]
        self._confirm(ctx, pi, token, card)
        return pi

    def _confirm(self, ctx: Ctx, pi: JSON, token: str, card: TestCard) -> None:
        charge = self._new_charge(pi, token, card)
        pi["latest_charge"] = charge["id"]
        if card.declines:
            code = card.error_code
            message = _DECLINE_MESSAGES.get(
                card.decline_code or "", _DECLINE_MESSAGES.get(code, "Your card was declined.")
            )
            charge.update(
                status="failed",
                paid=False,
                failure_code=code,
                failure_message=message,
            )
            charge["outcome"].update(
                network_status="not_sent_to_network" if card.blocked else "declined_by_network",
                reason="highest_risk_level" if card.blocked else card.decline_code,
                seller_message=(
                    "Stripe blocked this payment as too risky."
                    if card.blocked
                    else "The bank did not return any further details with this decline."
                ),
                type="blocked" if card.blocked else "issuer_declined",
            )
            self._store("charge", charge)
            self._emit(ctx, "charge.failed", charge)
            error = {
                "type": "card_error",
                "code": code,
                "decline_code": card.decline_code,
                "message": message,
                "charge": charge["id"],
                "payment_method": self._pm_object(token, card),
            }
            pi.update(
                status="requires_payment_method", payment_method=None, last_payment_error=error
            )
            self._emit(ctx, "payment_intent.payment_failed", pi)
            raise StripeAPIError(
                402,
                "card_error",
                message,
                code=code,
                decline_code=card.decline_code,
                extra={
                    "charge": charge["id"],
                    "payment_intent": self._render(pi),
                    "payment_method": self._pm_object(token, card),
                    "request_log_url": None,
                },
            )
        pi.update(payment_method=token, last_payment_error=None)
        self._store("charge", charge)
        if pi["capture_method"] == "manual":
            pi.update(status="requires_capture", amount_capturable=pi["amount"])
            self._emit(ctx, "charge.succeeded", charge)
            self._emit(ctx, "payment_intent.amount_capturable_updated", pi)
        else:
            self._capture_charge(charge, pi["amount"])
            pi.update(status="succeeded", amount_received=pi["amount"])
            self._emit(ctx, "charge.succeeded", charge)
            self._emit(ctx, "payment_intent.succeeded", pi)
        if card.dispute_reason and pi["capture_method"] != "manual":
            self._open_dispute(Ctx(None, None), charge["id"], card.dispute_reason, None)

    def _pi_capture(self, ctx: Ctx, p: JSON, pi_id: str) -> JSON:
        self._allow(
            p,
            frozenset(
                {
                    "amount_to_capture",
                    "metadata",
                    "statement_descriptor",
                    "statement_descriptor_suffix",
                    "final_capture",
                    "application_fee_amount",
                }
            ),
        )
        pi = self._fetch("payment_intent", pi_id)
        if pi["status"] != "requires_capture":
            raise invalid(
                "This PaymentIntent could not be captured because it has a status of "
                f"{pi['status']}. Only a PaymentIntent with one of the following statuses may "
                "be captured: requires_capture.",
                code="payment_intent_unexpected_state",
            )
        amount = self._int(p, "amount_to_capture") or pi["amount_capturable"]
        if amount > pi["amount_capturable"]:
            raise invalid(
                f"The amount_to_capture ({amount}) is greater than the amount_capturable "
                f"({pi['amount_capturable']}).",
                code="amount_too_large",
                param="amount_to_capture",
            )
        charge = self._objects[pi["latest_charge"]]
        self._capture_charge(charge, amount)
        pi.update(
            status="succeeded",
            amount_received=amount,
            amount_capturable=0,
            metadata=self._metadata(p, pi["metadata"]),
        )
        self._emit(ctx, "charge.captured", charge, {"captured": False, "amount_captured": 0})
        self._emit(ctx, "payment_intent.succeeded", pi)
        return pi

    def _pi_cancel(self, ctx: Ctx, p: JSON, pi_id: str) -> JSON:
        self._allow(p, frozenset({"cancellation_reason"}))
        pi = self._fetch("payment_intent", pi_id)
        cancellable = (
            "requires_payment_method",
            "requires_capture",
            "requires_confirmation",
            "requires_action",
            "processing",
        )
        if pi["status"] not in cancellable:
            raise invalid(
                "You cannot cancel this PaymentIntent because it has a status of "
                f"{pi['status']}. Only a PaymentIntent with one of the following statuses may "
                f"be canceled: {', '.join(cancellable)}.",
                code="payment_intent_unexpected_state",
            )
        reason = self._enum(
            p,
            "cancellation_reason",
            ("duplicate", "fraudulent", "requested_by_customer", "abandoned"),
            None,
        )
        if pi["status"] == "requires_capture":
            # The authorisation is released: the hold disappears from the card, nothing moved.
            charge = self._objects[pi["latest_charge"]]
            charge.update(refunded=True, amount_refunded=charge["amount"])
        pi.update(
            status="canceled",
            canceled_at=self.now(),
            cancellation_reason=reason,
            amount_capturable=0,
        )
        self._emit(ctx, "payment_intent.canceled", pi)
        return pi
