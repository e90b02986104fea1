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

One module per concern; ``StripeSandbox`` (``sandbox``) composes the resources:

- ``errors``: the error envelope; ``forms``: bracket-notation form encoding; ``params``: parameter
  checks; ``account``: the shared state (clock, objects, ids, rendering, event outbox, lists);
- ``faults``, ``idempotency``, ``dispatch`` (one request to its answer), ``server`` (HTTP);
- resources: ``payment_methods`` (test cards), ``payment_intents``, ``charges``, ``refunds``,
  ``balance`` (balance transactions, balance), ``payouts``, ``transfers`` (Connect transfers,
  reversals, connected accounts' balances), ``disputes``, ``events``.
"""

from local.sandboxes.stripe_sandbox.account import DAY, MAX_EVENTS, MAX_OBJECTS, Clock
from local.sandboxes.stripe_sandbox.charges import processing_fee
from local.sandboxes.stripe_sandbox.dispatch import (
    MAX_BODY_BYTES,
    Handler,
    RequestRecord,
    SandboxResponse,
)
from local.sandboxes.stripe_sandbox.disputes import DISPUTE_FEE
from local.sandboxes.stripe_sandbox.errors import JSON, StripeAPIError
from local.sandboxes.stripe_sandbox.forms import encode_form, parse_form
from local.sandboxes.stripe_sandbox.idempotency import IDEMPOTENCY_TTL_S, MAX_IDEMPOTENCY_KEYS
from local.sandboxes.stripe_sandbox.payment_methods import TEST_CARDS, TestCard
from local.sandboxes.stripe_sandbox.sandbox import (
    DEFAULT_API_VERSION,
    LOOPBACK_HOSTS,
    StripeSandbox,
)

__all__ = [
    "DAY",
    "DEFAULT_API_VERSION",
    "DISPUTE_FEE",
    "IDEMPOTENCY_TTL_S",
    "JSON",
    "LOOPBACK_HOSTS",
    "MAX_BODY_BYTES",
    "MAX_EVENTS",
    "MAX_IDEMPOTENCY_KEYS",
    "MAX_OBJECTS",
    "TEST_CARDS",
    "Clock",
    "Handler",
    "RequestRecord",
    "SandboxResponse",
    "StripeAPIError",
    "StripeSandbox",
    "TestCard",
    "encode_form",
    "parse_form",
    "processing_fee",
]
