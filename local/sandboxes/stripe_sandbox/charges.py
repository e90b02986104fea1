"""Charges: made by confirming a payment intent, captured into a ``charge`` balance transaction."""

from __future__ import annotations

from local.sandboxes.stripe_sandbox.account import DAY, Ctx
from local.sandboxes.stripe_sandbox.balance import BalanceTransactions
from local.sandboxes.stripe_sandbox.errors import JSON
from local.sandboxes.stripe_sandbox.payment_methods import TestCard


def processing_fee(amount: int) -> int:
    """2.9% + 30 minor units, the percentage rounded half up."""
    return (amount * 29 + 500) // 1000 + 30


class Charges(BalanceTransactions):
    """Charges: retrieve, list by ``payment_intent``."""

    def _new_charge(self, pi: JSON, token: str, card: TestCard) -> JSON:
        charge_id = self._id("ch")
        now = self.now()
        shipping = pi.get("shipping") or {}
        return {
            "id": charge_id,
            "object": "charge",
            "amount": pi["amount"],
            "amount_captured": 0,
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": None,
            "billing_details": {
                "address": shipping.get("address")
                or {
                    "city": None,
                    "country": None,
                    "line1": None,
                    "line2": None,
                    "postal_code": None,
                    "state": None,
                },
                "email": pi.get("receipt_email"),
                "name": shipping.get("name"),
                "phone": shipping.get("phone"),
            },
            "calculated_statement_descriptor": "ECOMOPS SANDBOX",
            "captured": False,
            "created": now,
            "currency": pi["currency"],
            "customer": pi.get("customer"),
            "description": pi.get("description"),
            "disputed": False,
            "dispute": None,
            "failure_balance_transaction": None,
            "failure_code": None,
            "failure_message": None,
            "fraud_details": {},
            "livemode": False,
            "metadata": dict(pi["metadata"]),
            "on_behalf_of": None,
            "outcome": {
                "network_status": "approved_by_network",
                "reason": None,
                "risk_level": card.risk_level,
                "risk_score": card.risk_score,
                "seller_message": "Payment complete.",
                "type": "authorized",
            },
            "paid": True,
            "payment_intent": pi["id"],
            "payment_method": token,
            "payment_method_details": {
                "card": {
                    "amount_authorized": pi["amount"],
                    "brand": card.brand,
                    "capture_before": now + 7 * DAY if pi["capture_method"] == "manual" else None,
                    "checks": {
                        "address_line1_check": None,
                        "address_postal_code_check": None,
                        "cvc_check": "pass",
                    },
                    "country": card.country,
                    "exp_month": card.exp_month,
                    "exp_year": card.exp_year,
                    "fingerprint": card.fingerprint,
                    "funding": card.funding,
                    "iin": card.iin,
                    "installments": None,
                    "last4": card.last4,
                    "mandate": None,
                    "network": card.brand,
                    "network_token": {"used": False},
                    "three_d_secure": None,
                    "wallet": None,
                },
                "type": "card",
            },
            "receipt_email": pi.get("receipt_email"),
            "receipt_number": None,
            "receipt_url": None,
            "refunded": False,
            "refunds": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/charges/{charge_id}/refunds",
            },
            "review": None,
            "shipping": pi.get("shipping"),
            "source_transfer": None,
            "statement_descriptor": pi.get("statement_descriptor"),
            "statement_descriptor_suffix": pi.get("statement_descriptor_suffix"),
            "status": "succeeded",
            "transfer_data": None,
            "transfer_group": pi.get("transfer_group"),
        }

    def _capture_charge(self, charge: JSON, amount: int) -> None:
        fee = processing_fee(amount)
        txn = self._txn(
            amount=amount,
            fee=fee,
            fee_details=[self._fee_detail(fee, charge["currency"], "Stripe processing fees")],
            type_="charge",
            category="charge",
            source=charge["id"],
            currency=charge["currency"],
            description=charge.get("description"),
        )
        charge.update(captured=True, amount_captured=amount, balance_transaction=txn["id"])

    def _charge_retrieve(self, ctx: Ctx, p: JSON, charge_id: str) -> JSON:
        self._allow(p, frozenset())
        return self._fetch("charge", charge_id)

    def _charge_list(self, ctx: Ctx, p: JSON) -> JSON:
        return self._list(
            "charge", "/v1/charges", p, {"payment_intent": "payment_intent", "customer": "customer"}
        )
