"""Payment methods: the test tokens (``pm_card_visa``, the decline family, Radar, disputes) and
fresh cards as Stripe.js would make them from a card form."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace

from local.sandboxes.stripe_sandbox.account import ALNUM, Account
from local.sandboxes.stripe_sandbox.errors import JSON, invalid


@dataclass(frozen=True)
class TestCard:
    """What a payment method token stands for: the card, and how the issuer or Radar treats it."""

    __test__ = False  # not a pytest class, despite the name

    brand: str
    last4: str
    iin: str
    country: str = "US"
    funding: str = "credit"
    fingerprint: str = ""
    exp_month: int = 12
    exp_year: int = 2034
    decline_code: str | None = None
    error_code: str = "card_declined"
    blocked: bool = False
    risk_level: str = "normal"
    risk_score: int = 20
    dispute_reason: str | None = None

    @property
    def declines(self) -> bool:
        return self.decline_code is not None


def card_fingerprint(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(ALNUM[b % len(ALNUM)] for b in digest[:16])


def _test_cards() -> dict[str, TestCard]:
    cards = {
        "pm_card_visa": TestCard("visa", "4242", "424242"),
        "pm_card_visa_debit": TestCard("visa", "5556", "400005", funding="debit"),
        "pm_card_mastercard": TestCard("mastercard", "4444", "555555"),
        "pm_card_mastercard_prepaid": TestCard("mastercard", "5100", "510510", funding="prepaid"),
        "pm_card_amex": TestCard("amex", "8431", "378282"),
        "pm_card_discover": TestCard("discover", "1117", "601111"),
        "pm_card_jcb": TestCard("jcb", "0000", "356600", country="JP"),
        "pm_card_gb": TestCard("visa", "0000", "400000", country="GB"),
        "pm_card_de": TestCard("visa", "0016", "400000", country="DE"),
        "pm_card_fr": TestCard("visa", "0003", "400000", country="FR"),
        "pm_card_ca": TestCard("visa", "0000", "400000", country="CA"),
        "pm_card_br": TestCard("visa", "0002", "400000", country="BR"),
        "pm_card_chargeDeclined": TestCard(
            "visa", "0002", "400000", decline_code="generic_decline"
        ),
        "pm_card_chargeDeclinedInsufficientFunds": TestCard(
            "visa", "9995", "400000", decline_code="insufficient_funds"
        ),
        "pm_card_chargeDeclinedLostCard": TestCard(
            "visa", "9987", "400000", decline_code="lost_card"
        ),
        "pm_card_chargeDeclinedStolenCard": TestCard(
            "visa", "9979", "400000", decline_code="stolen_card"
        ),
        "pm_card_chargeDeclinedExpiredCard": TestCard(
            "visa", "0069", "400000", decline_code="expired_card", error_code="expired_card"
        ),
        "pm_card_chargeDeclinedIncorrectCvc": TestCard(
            "visa", "0127", "400000", decline_code="incorrect_cvc", error_code="incorrect_cvc"
        ),
        "pm_card_chargeDeclinedProcessingError": TestCard(
            "visa",
            "0119",
            "400000",
            decline_code="processing_error",
            error_code="processing_error",
        ),
        "pm_card_chargeDeclinedFraudulent": TestCard(
            "visa",
            "0019",
            "410000",
            decline_code="fraudulent",
            risk_level="highest",
            risk_score=95,
        ),
        "pm_card_radarBlock": TestCard(
            "visa",
            "0019",
            "410000",
            decline_code="fraudulent",
            blocked=True,
            risk_level="highest",
            risk_score=98,
        ),
        "pm_card_riskLevelHighest": TestCard(
            "visa",
            "4954",
            "400000",
            decline_code="fraudulent",
            blocked=True,
            risk_level="highest",
            risk_score=91,
        ),
        "pm_card_riskLevelElevated": TestCard(
            "visa", "9235", "400000", risk_level="elevated", risk_score=72
        ),
        "pm_card_createDispute": TestCard("visa", "0259", "400000", dispute_reason="fraudulent"),
        "pm_card_createDisputeProductNotReceived": TestCard(
            "visa", "2685", "400000", dispute_reason="product_not_received"
        ),
    }
    # The same test token always yields the same fingerprint, as on Stripe.
    return {
        token: replace(card, fingerprint=card_fingerprint(token)) for token, card in cards.items()
    }


TEST_CARDS: Mapping[str, TestCard] = _test_cards()


class PaymentMethods(Account):
    """The cards the account knows: the test tokens and those ``card()`` made."""

    _cards: dict[str, TestCard]

    def card(
        self,
        brand: str = "visa",
        *,
        country: str = "US",
        funding: str = "credit",
        last4: str | None = None,
        fingerprint: str | None = None,
        decline_code: str | None = None,
        risk_level: str = "normal",
    ) -> str:
        """A new payment method (``pm_…``) as Stripe.js would create it from a card form.

        Each gets its own fingerprint unless one is given (the same card used twice)."""
        iins = {"visa": "424242", "mastercard": "555555", "amex": "378282", "discover": "601111"}
        with self._lock:
            token = self._id("pm")
            self._cards[token] = TestCard(
                brand=brand,
                last4=last4 or f"{self._rng.randrange(10_000):04d}",
                iin=iins.get(brand, "400000"),
                country=country,
                funding=funding,
                fingerprint=fingerprint or card_fingerprint(token + str(self._rng.random())),
                decline_code=decline_code,
                risk_level=risk_level,
                risk_score={"normal": 25, "elevated": 70, "highest": 90}.get(risk_level, 25),
            )
            return token

    def _payment_method(self, token: str) -> TestCard:
        card = self._cards.get(token)
        if card is None:
            raise invalid(
                f"No such PaymentMethod: '{token}'", code="resource_missing", param="payment_method"
            )
        return card

    def _pm_object(self, token: str, card: TestCard) -> JSON:
        return {
            "id": token,
            "object": "payment_method",
            "type": "card",
            "card": {
                "brand": card.brand,
                "country": card.country,
                "exp_month": card.exp_month,
                "exp_year": card.exp_year,
                "fingerprint": card.fingerprint,
                "funding": card.funding,
                "last4": card.last4,
            },
        }
