"""A Stripe API sandbox: the part of Stripe's v1 REST API the product calls, served on loopback.

Requests are form-encoded and answers are JSON, as with the real API, so the official ``stripe``
client works against it unchanged once its ``api`` base address points here. State lives in
memory behind one lock; every state change appends the matching Stripe event to an outbox that
``stripe_events`` turns into signed webhooks.

What it keeps faithful because the product depends on it: idempotency keys (same key and same
parameters replay the saved answer, different parameters are an ``idempotency_error``), the error
envelope and status codes, list pagination (``has_more``/``starting_after``), balance
transactions with fees and ``reporting_category``, payouts that sweep balance transactions, and
disputes with their withdrawals. What it does not emulate is listed in docs/sandboxes.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import string
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from shared.money import exponent

JSON = dict[str, Any]
Clock = Callable[[], float]
Handler = Callable[..., JSON]

# The client pinned in pyproject sends this version; events say the same so they parse alike.
DEFAULT_API_VERSION = "2026-10-28.endive"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
DAY = 86_400
DISPUTE_FEE = 1500
IDEMPOTENCY_TTL_S = 24 * 3600
MAX_BODY_BYTES = 1_000_000
MAX_EVENTS = 500_000
MAX_IDEMPOTENCY_KEYS = 200_000
MAX_OBJECTS = 500_000
_ALNUM = string.ascii_letters + string.digits
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


# -- errors -------------------------------------------------------------------------------------


class StripeAPIError(Exception):
    """An answer in Stripe's error envelope: ``{"error": {"type", "code", "message", …}}``."""

    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: JSON | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self) -> JSON:
        # Stripe leaves out the keys that do not apply rather than sending nulls.
        error: JSON = {"type": self.type, "message": self.message}
        for key, value in (
            ("code", self.code),
            ("param", self.param),
            ("decline_code", self.decline_code),
        ):
            if value is not None:
                error[key] = value
        if self.code:
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        error.update(self.extra)
        return {"error": error}


def _invalid(
    message: str, *, code: str | None = None, param: str | None = None, status: int = 400
) -> StripeAPIError:
    return StripeAPIError(status, "invalid_request_error", message, code=code, param=param)


def _fault_error(status: int) -> StripeAPIError:
    if status == 429:
        return StripeAPIError(
            429,
            "rate_limit_error",
            "Request rate limit exceeded. Learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
            code="rate_limit",
        )
    if status == 409:
        return StripeAPIError(
            409,
            "invalid_request_error",
            "This object cannot be accessed right now because another API request or Stripe "
            "process is currently accessing it.",
            code="lock_timeout",
            headers={"Stripe-Should-Retry": "true"},
        )
    return StripeAPIError(
        status, "api_error", "An unknown error occurred while processing this request."
    )


# -- test payment methods -----------------------------------------------------------------------


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


def _fingerprint(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_ALNUM[b % len(_ALNUM)] for b in digest[:16])


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
    return {token: replace(card, fingerprint=_fingerprint(token)) for token, card in cards.items()}


TEST_CARDS: Mapping[str, TestCard] = _test_cards()

_DECLINE_MESSAGES = {
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
    "insufficient_funds": "Your card has insufficient funds.",
}
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
    }
)
# fmt: on
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
_PAYOUT_FAILURES = {
    "account_closed": "The bank account has been closed.",
    "account_frozen": "The bank account has been frozen.",
    "invalid_account_number": "The bank account number is invalid.",
    "no_account": "The bank account details on file are probably incorrect.",
    "could_not_process": "The bank could not process this payout.",
}
_COMMON = frozenset({"expand"})
_LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before", "expand", "created"})
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


# -- requests, responses, faults ------------------------------------------------------------


@dataclass(frozen=True)
class SandboxResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> JSON:
        value: JSON = json.loads(self.body)
        return value


@dataclass(frozen=True)
class RequestRecord:
    """One request as the sandbox saw it: what tests assert retries and replays against."""

    method: str
    path: str
    status: int
    request_id: str
    idempotency_key: str | None
    replayed: bool
    injected: bool


@dataclass
class _Fault:
    path_prefix: str
    status: int
    remaining: int
    method: str | None
    take_effect: bool


@dataclass
class _Saved:
    fingerprint: str
    status: int
    body: bytes
    headers: dict[str, str]
    request_id: str
    saved_at: float


@dataclass
class _Ctx:
    request_id: str | None
    idempotency_key: str | None


@dataclass
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    stamp: float = field(default_factory=time.monotonic)

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


# -- form encoding (Stripe's bracket notation) ----------------------------------------------


def encode_form(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``{"metadata": {"a": 1}, "expand": ["x"]}`` → ``metadata[a]=1``, ``expand[0]=x`` pairs."""
    pairs: list[tuple[str, str]] = []

    def walk(prefix: str, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, Mapping):
            for key, sub in value.items():
                walk(f"{prefix}[{key}]" if prefix else str(key), sub)
        elif isinstance(value, list | tuple):
            for index, sub in enumerate(value):
                walk(f"{prefix}[{index}]", sub)
        elif isinstance(value, bool):
            pairs.append((prefix, "true" if value else "false"))
        else:
            pairs.append((prefix, str(value)))

    walk("", params)
    return pairs


def parse_form(pairs: Iterable[tuple[str, str]]) -> JSON:
    """The inverse of ``encode_form``: bracketed keys become nested objects and lists."""
    root: JSON = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if not match:
            raise _invalid(f"Invalid parameter name: {key}", code="parameter_invalid_empty")
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node: JSON = root
        for depth, part in enumerate(parts):
            name = part if part else str(sum(1 for k in node if k.isdigit()))
            if depth == len(parts) - 1:
                node[name] = value
                break
            child = node.setdefault(name, {})
            if not isinstance(child, dict):
                raise _invalid(f"Invalid hash or array: {key}", param=parts[0])
            node = child
    result = _listify(root)
    if not isinstance(result, dict):
        raise _invalid("Parameters must be named, not numbered.")
    return result


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def _copy(value: JSON) -> JSON:
    copied: JSON = json.loads(json.dumps(value))
    return copied


def _money(amount: int, currency: str) -> str:
    digits = exponent(currency)
    major = abs(amount) / (10**digits)
    sign = "-" if amount < 0 else ""
    symbol = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}.get(currency.lower(), "")
    return f"{sign}{symbol}{major:,.{digits}f}" + ("" if symbol else f" {currency.upper()}")


def processing_fee(amount: int) -> int:
    """2.9% + 30 minor units, the percentage rounded half up."""
    return (amount * 29 + 500) // 1000 + 30


# -- the sandbox --------------------------------------------------------------------------------


class StripeSandbox:
    """An in-memory Stripe account with an HTTP front door on loopback.

    ``start()`` serves it and returns the base URL for ``StripeClient(base_addresses=…)``;
    ``request()`` runs the same dispatch in-process. Everything else is a sandbox-only control:
    faults, time, disputes and payouts that on Stripe happen by themselves.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        api_keys: Iterable[str] | None = None,
        api_version: str = DEFAULT_API_VERSION,
        clock: Clock | None = None,
        availability_days: int = 2,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"the sandbox serves loopback only, not {host!r}")
        self.api_version = api_version
        self.availability_days = availability_days
        self._host = host
        self._port = port
        self._rng = random.Random(seed)  # noqa: S311 - ids for a sandbox, not secrets
        self._clock: Clock = clock or time.time
        self._frozen: float | None = None
        self._offset = 0.0
        self._api_keys = frozenset(api_keys) if api_keys is not None else None
        self._lock = threading.RLock()
        self._objects: dict[str, JSON] = {}
        self._order: dict[str, list[str]] = {}
        self._payout_of: dict[str, str] = {}
        self._cards: dict[str, TestCard] = dict(TEST_CARDS)
        self._idempotency: dict[tuple[str, str], _Saved] = {}
        self._faults: list[_Fault] = []
        self._bucket: _Bucket | None = None
        self._events: list[JSON] = []
        self._drained = 0
        self._requests: deque[RequestRecord] = deque(maxlen=10_000)
        self._bank_account = self._id("ba")
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url: str | None = None
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("POST", re.compile(r"/v1/payment_intents"), self._pi_create),
            ("GET", re.compile(r"/v1/payment_intents"), self._pi_list),
            ("GET", re.compile(r"/v1/payment_intents/([^/]+)"), self._pi_retrieve),
            ("POST", re.compile(r"/v1/payment_intents/([^/]+)"), self._pi_update),
            ("POST", re.compile(r"/v1/payment_intents/([^/]+)/confirm"), self._pi_confirm),
            ("POST", re.compile(r"/v1/payment_intents/([^/]+)/capture"), self._pi_capture),
            ("POST", re.compile(r"/v1/payment_intents/([^/]+)/cancel"), self._pi_cancel),
            ("GET", re.compile(r"/v1/charges"), self._charge_list),
            ("GET", re.compile(r"/v1/charges/([^/]+)"), self._charge_retrieve),
            ("POST", re.compile(r"/v1/refunds"), self._refund_create),
            ("GET", re.compile(r"/v1/refunds"), self._refund_list),
            ("GET", re.compile(r"/v1/refunds/([^/]+)"), self._refund_retrieve),
            ("POST", re.compile(r"/v1/payouts"), self._payout_create),
            ("GET", re.compile(r"/v1/payouts"), self._payout_list),
            ("GET", re.compile(r"/v1/payouts/([^/]+)"), self._payout_retrieve),
            ("GET", re.compile(r"/v1/balance_transactions"), self._txn_list),
            ("GET", re.compile(r"/v1/balance_transactions/([^/]+)"), self._txn_retrieve),
            ("GET", re.compile(r"/v1/balance"), self._balance),
            ("GET", re.compile(r"/v1/disputes"), self._dispute_list),
            ("GET", re.compile(r"/v1/disputes/([^/]+)"), self._dispute_retrieve),
            ("POST", re.compile(r"/v1/disputes/([^/]+)"), self._dispute_update),
            ("POST", re.compile(r"/v1/disputes/([^/]+)/close"), self._dispute_close),
            ("GET", re.compile(r"/v1/events"), self._event_list),
            ("GET", re.compile(r"/v1/events/([^/]+)"), self._event_retrieve),
        ]

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> str:
        """Serve on loopback (an ephemeral port unless one was given); return the base URL."""
        with self._lock:
            if self.base_url is not None:
                return self.base_url
            server = _Server((self._host, self._port), _Handler)
            server.sandbox = self
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="stripe-sandbox",
                daemon=True,
            )
            self._thread.start()
            port = server.server_address[1]
            host = f"[{self._host}]" if ":" in self._host else self._host
            self.base_url = f"http://{host}:{port}"
            return self.base_url

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None
        self.base_url = None

    def __enter__(self) -> StripeSandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- time ---------------------------------------------------------------------------------

    def now(self) -> int:
        with self._lock:
            current = self._frozen if self._frozen is not None else self._clock() + self._offset
            return int(current)

    def set_time(self, timestamp: float | None) -> None:
        """Freeze the sandbox's clock at ``timestamp`` (unix seconds); ``None`` lets it run."""
        with self._lock:
            self._frozen = timestamp
            self._offset = 0.0

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += seconds
            else:
                self._offset += seconds

    # -- sandbox-only controls ------------------------------------------------------------------

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
                fingerprint=fingerprint or _fingerprint(token + str(self._rng.random())),
                decline_code=decline_code,
                risk_level=risk_level,
                risk_score={"normal": 25, "elevated": 70, "highest": 90}.get(risk_level, 25),
            )
            return token

    def fail_next(
        self,
        path_prefix: str = "/",
        *,
        status: int = 500,
        times: int = 1,
        method: str | None = None,
        take_effect: bool = False,
    ) -> None:
        """The next ``times`` matching requests fail with ``status`` (500, 502, 503, 409, 429).

        By default the failure happens before the request is executed, like a load balancer
        error: nothing changes and nothing is saved under its idempotency key. With
        ``take_effect=True`` the request runs and its answer is saved, then lost: a retry with
        the same key gets the saved answer replayed."""
        if not 1 <= times <= 1000:
            raise ValueError("times must be between 1 and 1000")
        with self._lock:
            self._faults.append(
                _Fault(path_prefix, status, times, method.upper() if method else None, take_effect)
            )

    def rate_limit(self, requests_per_second: float | None, burst: int = 5) -> None:
        """Answer 429 once more than ``requests_per_second`` arrive (token bucket); None: off."""
        with self._lock:
            self._bucket = (
                None
                if requests_per_second is None
                else _Bucket(requests_per_second, float(burst), float(burst))
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._bucket = None

    def events(self) -> list[JSON]:
        """Every event emitted so far, oldest first (copies)."""
        with self._lock:
            return [_copy(e) for e in self._events]

    def drain_events(self) -> list[JSON]:
        """The events emitted since the last drain, oldest first."""
        with self._lock:
            fresh = self._events[self._drained :]
            self._drained = len(self._events)
            return [_copy(e) for e in fresh]

    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    def get(self, object_id: str) -> JSON:
        """Any object by id, as the API would render it (KeyError if unknown)."""
        with self._lock:
            return self._render(self._objects[object_id])

    def balance_transactions(self, payout: str | None = None) -> list[JSON]:
        """Balance transactions oldest first, optionally only those ``payout`` swept (as
        ``GET /v1/balance_transactions?payout=`` would list them, without pagination)."""
        with self._lock:
            return [
                self._render(self._objects[t])
                for t in self._order.get("balance_transaction", [])
                if payout is None or self._payout_of.get(t) == payout
            ]

    def open_dispute(
        self, charge_id: str, *, reason: str = "fraudulent", amount: int | None = None
    ) -> JSON:
        """The cardholder's bank opens a chargeback: funds and the dispute fee are withdrawn."""
        with self._lock:
            return self._render(self._open_dispute(_Ctx(None, None), charge_id, reason, amount))

    def close_dispute(self, dispute_id: str, *, won: bool) -> JSON:
        """The card network decides. Won: the amount and the fee are reinstated."""
        with self._lock:
            dispute = self._fetch("dispute", dispute_id)
            if dispute["status"] in ("won", "lost", "warning_closed"):
                raise ValueError(f"dispute {dispute_id} is already {dispute['status']}")
            ctx = _Ctx(None, None)
            previous = {"status": dispute["status"]}
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

    def pay_out(
        self,
        currency: str,
        arrival_date: int | None = None,
        *,
        as_of: float | None = None,
        fail: str | None = None,
    ) -> JSON | None:
        """An automatic payout: sweeps every balance transaction in ``currency`` that is available
        by ``as_of`` (default now) and not yet paid out. Returns None when nothing is owed.

        ``fail`` (a failure code such as ``account_closed``) makes the bank return it."""
        with self._lock:
            currency = currency.lower()
            cutoff = self.now() if as_of is None else int(as_of)
            swept = [
                self._objects[t]
                for t in self._order.get("balance_transaction", [])
                if t not in self._payout_of
                and self._objects[t]["currency"] == currency
                and self._objects[t]["available_on"] <= cutoff
                and self._objects[t]["type"] != "payout"
            ]
            amount = sum(t["net"] for t in swept)
            if amount <= 0:
                return None
            payout = self._new_payout(amount, currency, automatic=True, arrival_date=arrival_date)
            for txn in swept:
                self._payout_of[txn["id"]] = payout["id"]
            self._payout_of[payout["balance_transaction"]] = payout["id"]
            ctx = _Ctx(None, None)
            self._emit(ctx, "payout.created", payout)
            self._settle(ctx, payout, fail)
            return self._render(payout)

    def settle_payout(self, payout_id: str, *, fail: str | None = None) -> JSON:
        """A pending payout (one created through the API) arrives, or comes back failed."""
        with self._lock:
            payout = self._fetch("payout", payout_id)
            if payout["status"] not in ("pending", "in_transit"):
                raise ValueError(f"payout {payout_id} is already {payout['status']}")
            self._settle(_Ctx(None, None), payout, fail)
            return self._render(payout)

    # -- in-process and HTTP dispatch ---------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        idempotency_key: str | None = None,
        api_key: str = "sk_test_sandbox",
    ) -> SandboxResponse:
        """The same dispatch the HTTP server runs, without a socket (scenario builders use it)."""
        encoded = urlencode(encode_form(params or {}))
        headers = {"Authorization": f"Bearer {api_key}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if method.upper() == "GET":
            target = f"{path}?{encoded}" if encoded else path
            return self.handle("GET", target, headers, b"")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return self.handle(method, path, headers, encoded.encode())

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> SandboxResponse:
        method = method.upper()
        lowered = {k.lower(): v for k, v in headers.items()}
        idempotency_key = lowered.get("idempotency-key") if method == "POST" else None
        split = urlsplit(target)
        path = split.path.rstrip("/") or "/"
        with self._lock:
            request_id = self._id("req", 14)
            base_headers = {
                "Content-Type": "application/json",
                "Request-Id": request_id,
                "Stripe-Version": lowered.get("stripe-version") or self.api_version,
                "Cache-Control": "no-cache, no-store",
            }
            if idempotency_key:
                base_headers["Idempotency-Key"] = idempotency_key
            fault: _Fault | None = None
            replayed = False
            saved_answer = False
            api_key = fingerprint = ""
            try:
                api_key = self._authenticate(lowered)
                fault = self._take_fault(method, path)
                if fault is not None and not fault.take_effect:
                    raise _fault_error(fault.status)
                params = self._params(method, split.query, body, lowered)
                fingerprint = self._fingerprint(method, path, params)
                if idempotency_key:
                    saved = self._idempotent(api_key, idempotency_key, fingerprint)
                    if saved is not None:
                        replayed = True
                        headers_out = {
                            **base_headers,
                            **saved.headers,
                            "Request-Id": request_id,
                            "Idempotent-Replayed": "true",
                            "Original-Request": saved.request_id,
                        }
                        self._record(
                            method,
                            path,
                            saved.status,
                            request_id,
                            idempotency_key,
                            replayed=True,
                            injected=False,
                        )
                        return SandboxResponse(saved.status, headers_out, saved.body)
                ctx = _Ctx(request_id, idempotency_key)
                payload = self._route(ctx, method, path, dict(params))
                status, out_body, extra = 200, json.dumps(payload, indent=2).encode(), {}
                saved_answer = True
            except StripeAPIError as error:
                status = error.status
                out_body = json.dumps(error.body(), indent=2).encode()
                extra = error.headers
                # A decline ran the payment: Stripe saves it under the key like a success.
                saved_answer = status == 402
            response_headers = {**base_headers, **extra}
            if idempotency_key and saved_answer and not replayed:
                self._save(
                    api_key, idempotency_key, fingerprint, status, out_body, extra, request_id
                )
            if fault is not None and fault.take_effect:
                lost = _fault_error(fault.status)
                status, out_body = lost.status, json.dumps(lost.body(), indent=2).encode()
                response_headers = {**base_headers, **lost.headers}
            self._record(
                method,
                path,
                status,
                request_id,
                idempotency_key,
                replayed=False,
                injected=fault is not None,
            )
            return SandboxResponse(status, response_headers, out_body)

    # -- dispatch helpers -----------------------------------------------------------------------

    def _record(
        self,
        method: str,
        path: str,
        status: int,
        request_id: str,
        key: str | None,
        *,
        replayed: bool,
        injected: bool,
    ) -> None:
        self._requests.append(
            RequestRecord(method, path, status, request_id, key, replayed, injected)
        )

    def _authenticate(self, headers: Mapping[str, str]) -> str:
        header = headers.get("authorization", "")
        key = ""
        if header.startswith("Bearer "):
            key = header[7:].strip()
        elif header.startswith("Basic "):
            try:
                key = base64.b64decode(header[6:]).decode().split(":", 1)[0]
            except ValueError:
                key = ""
        if not key:
            raise StripeAPIError(
                401,
                "invalid_request_error",
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_"
                "KEY').",
            )
        known = self._api_keys
        if not key.startswith(("sk_test_", "rk_test_")) or (known is not None and key not in known):
            raise StripeAPIError(
                401,
                "invalid_request_error",
                f"Invalid API Key provided: {key[:8]}{'*' * max(0, len(key) - 12)}{key[-4:]}",
                code="api_key_invalid" if key.startswith("sk_live_") else None,
            )
        return key

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        if self._bucket is not None and not self._bucket.take():
            return _Fault(path, 429, 0, method, take_effect=False)
        for fault in self._faults:
            if path.startswith(fault.path_prefix) and fault.method in (None, method):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _params(self, method: str, query: str, body: bytes, headers: Mapping[str, str]) -> JSON:
        if len(body) > MAX_BODY_BYTES:
            raise _invalid("Request body too large.", status=413)
        pairs = parse_qsl(query, keep_blank_values=True)
        if method == "POST" and body:
            content_type = headers.get("content-type", "application/x-www-form-urlencoded")
            if "json" in content_type:
                raise _invalid(
                    "Invalid request: the v1 API takes form-encoded parameters, not JSON."
                )
            pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return parse_form(pairs)

    def _fingerprint(self, method: str, path: str, params: JSON) -> str:
        return hashlib.sha256(
            json.dumps([method, path, params], sort_keys=True).encode()
        ).hexdigest()

    def _idempotent(self, api_key: str, key: str, fingerprint: str) -> _Saved | None:
        if len(key) > 255:
            raise _invalid("Idempotency keys can be at most 255 characters long.")
        now = self.now()
        saved = self._idempotency.get((api_key, key))
        if saved is None:
            return None
        if now - saved.saved_at > IDEMPOTENCY_TTL_S:
            del self._idempotency[(api_key, key)]
            return None
        if saved.fingerprint != fingerprint:
            raise StripeAPIError(
                400,
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
            )
        return saved

    def _save(
        self,
        api_key: str,
        key: str,
        fingerprint: str,
        status: int,
        body: bytes,
        headers: Mapping[str, str],
        request_id: str,
    ) -> None:
        now = self.now()
        if len(self._idempotency) >= MAX_IDEMPOTENCY_KEYS:
            expired = [
                k for k, v in self._idempotency.items() if now - v.saved_at > IDEMPOTENCY_TTL_S
            ]
            for k in expired or list(self._idempotency)[: MAX_IDEMPOTENCY_KEYS // 10]:
                del self._idempotency[k]
        self._idempotency[(api_key, key)] = _Saved(
            fingerprint, status, body, dict(headers), request_id, now
        )

    def _route(self, ctx: _Ctx, method: str, path: str, params: JSON) -> JSON:
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                expand = params.pop("expand", None)
                result = handler(ctx, params, *match.groups())
                rendered = self._render(result)
                for path_ in self._expand_paths(expand):
                    self._expand(rendered, path_.split("."))
                return rendered
        raise _invalid(
            f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or "
            "we can help at https://support.stripe.com/.",
            status=404,
        )

    @staticmethod
    def _expand_paths(expand: Any) -> list[str]:
        if expand is None:
            return []
        if isinstance(expand, str):
            return [expand]
        if isinstance(expand, list) and all(isinstance(e, str) for e in expand):
            return list(expand)
        raise _invalid("Invalid array", param="expand")

    def _expand(self, node: Any, parts: list[str]) -> None:
        if not parts or not isinstance(node, dict):
            return
        head, rest = parts[0], parts[1:]
        if head == "data" and node.get("object") == "list":
            for item in node["data"]:
                self._expand(item, rest)
            return
        value = node.get(head)
        if isinstance(value, str) and value in self._objects:
            node[head] = value = self._render(self._objects[value])
        self._expand(value, rest)

    # -- storage and rendering --------------------------------------------------------------

    def _id(self, prefix: str, length: int = 24) -> str:
        return f"{prefix}_{''.join(self._rng.choices(_ALNUM, k=length))}"

    def _store(self, kind: str, obj: JSON) -> JSON:
        if len(self._objects) >= MAX_OBJECTS:
            raise StripeAPIError(500, "api_error", "The sandbox is full.")
        self._objects[obj["id"]] = obj
        self._order.setdefault(kind, []).append(obj["id"])
        return obj

    def _fetch(self, kind: str, object_id: str, *, param: str | None = None) -> JSON:
        obj = self._objects.get(object_id)
        if obj is None or obj.get("object") != kind:
            if param:
                raise _invalid(
                    f"No such {kind}: '{object_id}'", code="resource_missing", param=param
                )
            raise _invalid(
                f"No such {kind}: '{object_id}'", code="resource_missing", param="id", status=404
            )
        return obj

    def _render(self, obj: JSON) -> JSON:
        copied = _copy(obj)
        now = self.now()

        def refresh(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("object") == "balance_transaction":
                    node["status"] = "available" if node["available_on"] <= now else "pending"
                for value in node.values():
                    refresh(value)
            elif isinstance(node, list):
                for value in node:
                    refresh(value)

        refresh(copied)
        return copied

    def _emit(self, ctx: _Ctx, type_: str, obj: JSON, previous: JSON | None = None) -> None:
        if len(self._events) >= MAX_EVENTS:
            raise StripeAPIError(500, "api_error", "The sandbox's event outbox is full.")
        data: JSON = {"object": self._render(obj)}
        if previous is not None:
            data["previous_attributes"] = _copy(previous)
        event: JSON = {
            "id": self._id("evt"),
            "object": "event",
            "api_version": self.api_version,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": ctx.request_id, "idempotency_key": ctx.idempotency_key},
            "type": type_,
        }
        self._events.append(event)
        self._objects[event["id"]] = event
        self._order.setdefault("event", []).append(event["id"])

    # -- parameter checks ---------------------------------------------------------------------

    @staticmethod
    def _allow(params: JSON, allowed: frozenset[str]) -> None:
        for key in params:
            if key not in allowed:
                raise _invalid(
                    f"Received unknown parameter: {key}", code="parameter_unknown", param=key
                )

    @staticmethod
    def _int(params: JSON, key: str, *, required: bool = False, minimum: int = 1) -> int | None:
        raw = params.get(key)
        if raw is None or raw == "":
            if required:
                raise _invalid(
                    f"Missing required param: {key}.", code="parameter_missing", param=key
                )
            return None
        if not isinstance(raw, str) or not re.fullmatch(r"-?\d+", raw):
            raise _invalid(f"Invalid integer: {raw}", code="parameter_invalid_integer", param=key)
        value = int(raw)
        if value < minimum:
            raise _invalid(
                f"This value must be greater than or equal to {minimum}.",
                code="parameter_invalid_integer",
                param=key,
            )
        return value

    @staticmethod
    def _bool(params: JSON, key: str) -> bool:
        raw = params.get(key)
        if raw is None:
            return False
        if raw not in ("true", "false"):
            raise _invalid(f"Invalid boolean: {raw}", param=key)
        return bool(raw == "true")

    @staticmethod
    def _text(params: JSON, key: str, *, required: bool = False) -> str | None:
        raw = params.get(key)
        if raw is None or raw == "":
            if required:
                raise _invalid(
                    f"Missing required param: {key}.", code="parameter_missing", param=key
                )
            return None
        if not isinstance(raw, str):
            raise _invalid(f"Invalid string: {key}", param=key)
        return raw

    def _enum(
        self, params: JSON, key: str, allowed: Iterable[str], default: str | None
    ) -> str | None:
        value = self._text(params, key)
        if value is None:
            return default
        if value not in allowed:
            raise _invalid(
                f"Invalid {key}: must be one of {', '.join(sorted(allowed))}",
                code="parameter_invalid_string",  # not a real code on every field; close enough
                param=key,
            )
        return value

    @staticmethod
    def _metadata(params: JSON, existing: Mapping[str, str] | None = None) -> dict[str, str]:
        merged = dict(existing or {})
        raw = params.get("metadata")
        if raw is None:
            return merged
        if raw == "":
            return {}
        if isinstance(raw, list):  # metadata[0]=… parses as a list; Stripe keeps it as keys
            raw = {str(i): v for i, v in enumerate(raw)}
        if not isinstance(raw, dict):
            raise _invalid("Invalid hash", param="metadata")
        for key, value in raw.items():
            if not isinstance(value, str):
                raise _invalid("Metadata values must be strings.", param=f"metadata[{key}]")
            if len(key) > 40 or len(value) > 500:
                raise _invalid(
                    "Metadata keys are at most 40 characters and values 500.",
                    param=f"metadata[{key}]",
                )
            if value == "":
                merged.pop(key, None)
            else:
                merged[key] = value
        if len(merged) > 50:
            raise _invalid("Metadata can have at most 50 keys.", param="metadata")
        return merged

    def _currency(self, params: JSON) -> str:
        value = self._text(params, "currency", required=True)
        assert value is not None
        if not re.fullmatch(r"[A-Za-z]{3}", value):
            raise _invalid(f"Invalid currency: {value}.", param="currency")
        return value.lower()

    def _payment_method(self, token: str) -> TestCard:
        card = self._cards.get(token)
        if card is None:
            raise _invalid(
                f"No such PaymentMethod: '{token}'", code="resource_missing", param="payment_method"
            )
        return card

    # -- payment intents --------------------------------------------------------------------

    def _pi_create(self, ctx: _Ctx, p: JSON) -> JSON:
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
            raise _invalid(
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
            "client_secret": f"{pi_id}_secret_{''.join(self._rng.choices(_ALNUM, k=25))}",
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

    def _pi_retrieve(self, ctx: _Ctx, p: JSON, pi_id: str) -> JSON:
        self._allow(p, frozenset({"client_secret"}))
        return self._fetch("payment_intent", pi_id)

    def _pi_list(self, ctx: _Ctx, p: JSON) -> JSON:
        return self._list("payment_intent", "/v1/payment_intents", p, {"customer": "customer"})

    def _pi_update(self, ctx: _Ctx, p: JSON, pi_id: str) -> JSON:
        self._allow(p, _PI_UPDATE)
        pi = self._fetch("payment_intent", pi_id)
        unconfirmed = pi["status"] in ("requires_payment_method", "requires_confirmation")
        for key in ("amount", "currency", "capture_method", "payment_method"):
            if key in p and not unconfirmed:
                raise _invalid(
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

    def _pi_confirm(self, ctx: _Ctx, p: JSON, pi_id: str) -> JSON:
        self._allow(p, _PI_CONFIRM)
        pi = self._fetch("payment_intent", pi_id)
        if pi["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise _invalid(
                f"This PaymentIntent's status is {pi['status']}; it cannot be confirmed.",
                code="payment_intent_unexpected_state",
            )
        token = self._text(p, "payment_method") or pi["payment_method"]
        if not token:
            raise _invalid(
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

    def _confirm(self, ctx: _Ctx, pi: JSON, token: str, card: TestCard) -> None:
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
            self._open_dispute(_Ctx(None, None), charge["id"], card.dispute_reason, None)

    def _pi_capture(self, ctx: _Ctx, p: JSON, pi_id: str) -> JSON:
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
            raise _invalid(
                "This PaymentIntent could not be captured because it has a status of "
                f"{pi['status']}. Only a PaymentIntent with one of the following statuses may "
                "be captured: requires_capture.",
                code="payment_intent_unexpected_state",
            )
        amount = self._int(p, "amount_to_capture") or pi["amount_capturable"]
        if amount > pi["amount_capturable"]:
            raise _invalid(
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

    def _pi_cancel(self, ctx: _Ctx, p: JSON, pi_id: str) -> JSON:
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
            raise _invalid(
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

    # -- charges ------------------------------------------------------------------------------

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

    def _charge_retrieve(self, ctx: _Ctx, p: JSON, charge_id: str) -> JSON:
        self._allow(p, frozenset())
        return self._fetch("charge", charge_id)

    def _charge_list(self, ctx: _Ctx, p: JSON) -> JSON:
        return self._list(
            "charge", "/v1/charges", p, {"payment_intent": "payment_intent", "customer": "customer"}
        )

    # -- refunds ------------------------------------------------------------------------------

    def _refund_create(self, ctx: _Ctx, p: JSON) -> JSON:
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
            raise _invalid(
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
            )
        if pi_id:
            pi = self._fetch("payment_intent", pi_id, param="payment_intent")
            if not pi["latest_charge"] or pi["status"] not in ("succeeded", "requires_capture"):
                raise _invalid(
                    f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                    code="charge_not_refundable",
                    param="payment_intent",
                )
            if charge_id and charge_id != pi["latest_charge"]:
                raise _invalid("The charge does not belong to this PaymentIntent.", param="charge")
            charge_id = pi["latest_charge"]
        assert charge_id is not None
        charge = self._fetch("charge", charge_id, param="charge")
        if charge["status"] != "succeeded":
            raise _invalid(
                f"Charge {charge_id} has failed; there is nothing to refund.",
                code="charge_not_refundable",
                param="charge",
            )
        if not charge["captured"]:
            raise _invalid(
                f"Charge {charge_id} has not been captured; cancel its PaymentIntent to release "
                "the authorisation instead.",
                code="charge_not_refundable",
                param="charge",
            )
        dispute = self._objects.get(charge["dispute"] or "")
        if dispute is not None and dispute["status"] not in ("warning_closed", "won"):
            raise _invalid(
                f"Charge {charge_id} has been charged back; cannot issue a refund.",
                code="charge_disputed",
                param="charge",
            )
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if remaining <= 0:
            raise _invalid(
                f"Charge {charge_id} has already been refunded.",
                code="charge_already_refunded",
                param="charge",
            )
        amount = self._int(p, "amount") or remaining
        if amount > remaining:
            raise _invalid(
                f"Refund amount ({_money(amount, charge['currency'])}) is greater than unrefunded "
                f"amount on charge ({_money(remaining, charge['currency'])})",
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

    def _refund_retrieve(self, ctx: _Ctx, p: JSON, refund_id: str) -> JSON:
        self._allow(p, frozenset())
        return self._fetch("refund", refund_id)

    def _refund_list(self, ctx: _Ctx, p: JSON) -> JSON:
        return self._list(
            "refund", "/v1/refunds", p, {"charge": "charge", "payment_intent": "payment_intent"}
        )

    # -- balance transactions ---------------------------------------------------------------

    @staticmethod
    def _fee_detail(amount: int, currency: str, description: str) -> JSON:
        return {
            "amount": amount,
            "application": None,
            "currency": currency,
            "description": description,
            "type": "stripe_fee",
        }

    def _txn(
        self,
        *,
        amount: int,
        fee: int,
        fee_details: list[JSON],
        type_: str,
        category: str,
        source: str,
        currency: str,
        description: str | None,
        available_on: int | None = None,
    ) -> JSON:
        now = self.now()
        available = (
            available_on
            if available_on is not None
            else ((now // DAY) + self.availability_days) * DAY
        )
        txn = {
            "id": self._id("txn"),
            "object": "balance_transaction",
            "amount": amount,
            "available_on": available,
            "balance_type": "payments",
            "created": now,
            "currency": currency,
            "description": description,
            "exchange_rate": None,
            "fee": fee,
            "fee_details": fee_details,
            "net": amount - fee,
            "reporting_category": category,
            "source": source,
            "status": "available" if available <= now else "pending",
            "type": type_,
        }
        return self._store("balance_transaction", txn)

    def _txn_retrieve(self, ctx: _Ctx, p: JSON, txn_id: str) -> JSON:
        self._allow(p, frozenset())
        return self._fetch("balance_transaction", txn_id)

    def _txn_list(self, ctx: _Ctx, p: JSON) -> JSON:
        payout_id = self._text(p, "payout")
        if payout_id:
            payout = self._fetch("payout", payout_id, param="payout")
            if not payout["automatic"]:
                raise _invalid(
                    "Balance transaction history can only be filtered on automatic transfers, "
                    "not manual.",
                    param="payout",
                )

        def extra(txn: JSON) -> bool:
            return payout_id is None or self._payout_of.get(txn["id"]) == payout_id

        return self._list(
            "balance_transaction",
            "/v1/balance_transactions",
            p,
            {"type": "type", "source": "source", "currency": "currency"},
            accepted=frozenset({"payout"}),
            predicate=extra,
        )

    def _balance(self, ctx: _Ctx, p: JSON) -> JSON:
        self._allow(p, frozenset())
        now = self.now()
        available: dict[str, int] = {}
        pending: dict[str, int] = {}
        for txn_id in self._order.get("balance_transaction", []):
            txn = self._objects[txn_id]
            bucket = available if txn["available_on"] <= now else pending
            bucket[txn["currency"]] = bucket.get(txn["currency"], 0) + txn["net"]
        return {
            "object": "balance",
            "available": [
                {"amount": a, "currency": c, "source_types": {"card": a}}
                for c, a in sorted(available.items())
            ],
            "pending": [
                {"amount": a, "currency": c, "source_types": {"card": a}}
                for c, a in sorted(pending.items())
            ],
            "livemode": False,
        }

    # -- payouts ------------------------------------------------------------------------------

    def _new_payout(
        self, amount: int, currency: str, *, automatic: bool, arrival_date: int | None
    ) -> JSON:
        payout_id = self._id("po")
        now = self.now()
        txn = self._txn(
            amount=-amount,
            fee=0,
            fee_details=[],
            type_="payout",
            category="payout",
            source=payout_id,
            currency=currency,
            description="STRIPE PAYOUT",
            available_on=now,
        )
        payout = {
            "id": payout_id,
            "object": "payout",
            "amount": amount,
            "application_fee": None,
            "application_fee_amount": None,
            "arrival_date": arrival_date if arrival_date is not None else ((now // DAY) + 2) * DAY,
            "automatic": automatic,
            "balance_transaction": txn["id"],
            "created": now,
            "currency": currency,
            "description": "STRIPE PAYOUT",
            "destination": self._bank_account,
            "failure_balance_transaction": None,
            "failure_code": None,
            "failure_message": None,
            "livemode": False,
            "metadata": {},
            "method": "standard",
            "original_payout": None,
            "reconciliation_status": "in_progress" if automatic else "not_applicable",
            "reversed_by": None,
            "source_type": "card",
            "statement_descriptor": None,
            "status": "pending",
            "trace_id": {"status": "pending", "value": None},
            "type": "bank_account",
        }
        return self._store("payout", payout)

    def _settle(self, ctx: _Ctx, payout: JSON, fail: str | None) -> None:
        previous = {"status": payout["status"]}
        if fail is None:
            payout["status"] = "paid"
            payout["trace_id"] = {
                "status": "supported",
                "value": f"TRACE{self._rng.randrange(10**10):010d}",
            }
            self._emit(ctx, "payout.paid", payout, previous)
            if payout["automatic"]:
                payout["reconciliation_status"] = "completed"
                self._emit(
                    ctx,
                    "payout.reconciliation_completed",
                    payout,
                    {"reconciliation_status": "in_progress"},
                )
            return
        failure = self._txn(
            amount=payout["amount"],
            fee=0,
            fee_details=[],
            type_="payout_failure",
            category="payout_reversal",
            source=payout["id"],
            currency=payout["currency"],
            description="STRIPE PAYOUT FAILURE",
            available_on=self.now(),
        )
        payout.update(
            status="failed",
            failure_code=fail,
            failure_message=_PAYOUT_FAILURES.get(fail, "The payout could not be completed."),
            failure_balance_transaction=failure["id"],
            reconciliation_status="not_applicable",
        )
        self._emit(ctx, "payout.failed", payout, previous)

    def _payout_create(self, ctx: _Ctx, p: JSON) -> JSON:
        self._allow(
            p,
            frozenset(
                {
                    "amount",
                    "currency",
                    "description",
                    "metadata",
                    "method",
                    "statement_descriptor",
                    "destination",
                    "source_type",
                    "expand",
                }
            ),
        )
        amount = self._int(p, "amount", required=True)
        assert amount is not None
        currency = self._currency(p)
        available = self._balance(ctx, {})["available"]
        have = next((b["amount"] for b in available if b["currency"] == currency), 0)
        if amount > have:
            raise _invalid(
                "You have insufficient funds in your Stripe account for this transfer. Your card "
                f"balance is too low. You can use the /v1/balance endpoint to view your Stripe "
                f"balance (available: {_money(have, currency)}).",
                code="balance_insufficient",
                param="amount",
            )
        payout = self._new_payout(amount, currency, automatic=False, arrival_date=None)
        payout["metadata"] = self._metadata(p)
        payout["description"] = self._text(p, "description") or payout["description"]
        payout["statement_descriptor"] = self._text(p, "statement_descriptor")
        payout["method"] = self._enum(p, "method", ("standard", "instant"), "standard")
        self._emit(ctx, "payout.created", payout)
        return payout

    def _payout_retrieve(self, ctx: _Ctx, p: JSON, payout_id: str) -> JSON:
        self._allow(p, frozenset())
        return self._fetch("payout", payout_id)

    def _payout_list(self, ctx: _Ctx, p: JSON) -> JSON:
        return self._list("payout", "/v1/payouts", p, {"status": "status"})

    # -- disputes -----------------------------------------------------------------------------

    def _open_dispute(self, ctx: _Ctx, charge_id: str, reason: str, amount: int | None) -> JSON:
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
        card = charge["payment_method_details"]["card"]
        dispute: JSON = {
            "id": dispute_id,
            "object": "dispute",
            "amount": amount,
            "balance_transactions": [withdrawal],
            "charge": charge_id,
            "created": now,
            "currency": charge["currency"],
            "enhanced_eligibility_types": [],
            "evidence": dict.fromkeys(sorted(_EVIDENCE_FIELDS)),
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
            "status": "needs_response",
        }
        self._store("dispute", dispute)
        charge.update(disputed=True, dispute=dispute_id)
        self._emit(ctx, "charge.dispute.created", dispute)
        self._emit(ctx, "charge.dispute.funds_withdrawn", dispute)
        return dispute

    def _dispute_retrieve(self, ctx: _Ctx, p: JSON, dispute_id: str) -> JSON:
        self._allow(p, frozenset())
        return self._fetch("dispute", dispute_id)

    def _dispute_list(self, ctx: _Ctx, p: JSON) -> JSON:
        return self._list(
            "dispute", "/v1/disputes", p, {"charge": "charge", "payment_intent": "payment_intent"}
        )

    def _dispute_update(self, ctx: _Ctx, p: JSON, dispute_id: str) -> JSON:
        self._allow(p, frozenset({"evidence", "metadata", "submit"}))
        dispute = self._fetch("dispute", dispute_id)
        evidence = p.get("evidence")
        submit = self._bool(p, "submit")
        if dispute["status"] in ("won", "lost", "warning_closed"):
            raise _invalid(f"This dispute is already closed ({dispute['status']}).")
        if (evidence is not None or submit) and dispute["status"] in (
            "under_review",
            "warning_under_review",
        ):
            raise _invalid("This dispute's evidence has already been submitted.")
        if evidence is not None and not isinstance(evidence, dict):
            raise _invalid("Invalid hash", param="evidence")
        previous: JSON = {}
        if evidence:
            for key, value in evidence.items():
                if key not in _EVIDENCE_FIELDS:
                    raise _invalid(
                        f"Received unknown parameter: evidence[{key}]",
                        code="parameter_unknown",
                        param=f"evidence[{key}]",
                    )
                if not isinstance(value, str):
                    raise _invalid("Invalid string", param=f"evidence[{key}]")
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

    def _dispute_close(self, ctx: _Ctx, p: JSON, dispute_id: str) -> JSON:
        self._allow(p, frozenset())
        dispute = self._fetch("dispute", dispute_id)
        if dispute["status"] not in ("needs_response", "warning_needs_response"):
            raise _invalid(f"This dispute cannot be closed: its status is {dispute['status']}.")
        previous = {"status": dispute["status"]}
        dispute["status"] = (
            "warning_closed" if dispute["status"] == "warning_needs_response" else "lost"
        )
        self._emit(ctx, "charge.dispute.closed", dispute, previous)
        return dispute

    # -- events -------------------------------------------------------------------------------

    def _event_retrieve(self, ctx: _Ctx, p: JSON, event_id: str) -> JSON:
        self._allow(p, frozenset())
        return self._fetch("event", event_id)

    def _event_list(self, ctx: _Ctx, p: JSON) -> JSON:
        wanted = p.get("types")
        single = self._text(p, "type")
        patterns = [single] if single else []
        if wanted is not None:
            if not isinstance(wanted, list):
                raise _invalid("Invalid array", param="types")
            patterns += [str(w) for w in wanted]

        def matches(event: JSON) -> bool:
            if not patterns:
                return True
            kind = str(event["type"])
            return any(
                kind == pat or (pat.endswith(".*") and kind.startswith(pat[:-1]))
                for pat in patterns
            )

        return self._list(
            "event",
            "/v1/events",
            p,
            {},
            accepted=frozenset({"type", "types", "delivery_success"}),
            predicate=matches,
        )

    # -- lists --------------------------------------------------------------------------------

    def _list(
        self,
        kind: str,
        url: str,
        p: JSON,
        filters: Mapping[str, str],
        *,
        accepted: frozenset[str] = frozenset(),
        predicate: Callable[[JSON], bool] | None = None,
    ) -> JSON:
        self._allow(p, _LIST_PARAMS | frozenset(filters) | accepted)
        limit = self._int(p, "limit") or 10
        if limit > 100:
            raise _invalid(
                "This value must be less than or equal to 100.",
                code="parameter_invalid_integer",
                param="limit",
            )
        created = p.get("created")
        items = [self._objects[i] for i in reversed(self._order.get(kind, []))]

        def keep(obj: JSON) -> bool:
            for param, attr in filters.items():
                wanted = p.get(param)
                if wanted not in (None, "") and obj.get(attr) != wanted:
                    return False
            if created is not None and not self._in_range(obj["created"], created):
                return False
            return predicate is None or predicate(obj)

        items = [obj for obj in items if keep(obj)]
        after = self._text(p, "starting_after")
        before = self._text(p, "ending_before")
        if after:
            index = self._index(items, after, "starting_after")
            items = items[index + 1 :]
            page, has_more = items[:limit], len(items) > limit
        elif before:
            index = self._index(items, before, "ending_before")
            page, has_more = items[max(0, index - limit) : index], index > limit
        else:
            page, has_more = items[:limit], len(items) > limit
        return {"object": "list", "data": page, "has_more": has_more, "url": url}

    @staticmethod
    def _index(items: list[JSON], object_id: str, param: str) -> int:
        for index, obj in enumerate(items):
            if obj["id"] == object_id:
                return index
        raise _invalid(f"No such object: '{object_id}'", code="resource_missing", param=param)

    @staticmethod
    def _in_range(value: int, bound: Any) -> bool:
        if isinstance(bound, str):
            return value == int(bound)
        if not isinstance(bound, dict):
            raise _invalid("Invalid created filter", param="created")
        checks: dict[str, Callable[[int, int], bool]] = {
            "gt": lambda a, b: a > b,
            "gte": lambda a, b: a >= b,
            "lt": lambda a, b: a < b,
            "lte": lambda a, b: a <= b,
        }
        for op, raw in bound.items():
            if op not in checks or not str(raw).lstrip("-").isdigit():
                raise _invalid(f"Invalid created filter: {op}", param=f"created[{op}]")
            if not checks[op](value, int(raw)):
                return False
        return True


# -- HTTP front door ------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sandbox: StripeSandbox


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, each answer waits for a delayed ACK.
    disable_nagle_algorithm = True
    # An idle keep-alive connection from a client must not pin a thread for long.
    timeout = 10
    server_version = "stripe-sandbox"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY_BYTES:
            self.send_error(413 if length > 0 else 400)
            return
        body = self.rfile.read(length) if length else b""
        response = self.server.sandbox.handle(method, self.path, dict(self.headers.items()), body)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        return
