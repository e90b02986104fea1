"""``StripeSandbox``: the resources composed into one account, with its route table and its HTTP
front door on loopback."""

from __future__ import annotations

import random
import re
import threading
import time
from collections import deque
from collections.abc import Iterable

from local.sandboxes.stripe_sandbox.account import Clock
from local.sandboxes.stripe_sandbox.dispatch import Dispatch
from local.sandboxes.stripe_sandbox.events import Events
from local.sandboxes.stripe_sandbox.files import Files
from local.sandboxes.stripe_sandbox.payment_intents import PaymentIntents
from local.sandboxes.stripe_sandbox.payment_methods import TEST_CARDS
from local.sandboxes.stripe_sandbox.payouts import Payouts
from local.sandboxes.stripe_sandbox.refunds import Refunds
from local.sandboxes.stripe_sandbox.server import SandboxRequestHandler, SandboxServer
from local.sandboxes.stripe_sandbox.transfers import Transfers

# The client pinned in pyproject sends this version; events say the same so they parse alike.
DEFAULT_API_VERSION = "2026-10-28.endive"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


class StripeSandbox(PaymentIntents, Refunds, Payouts, Transfers, Events, Files, Dispatch):
    """An in-memory Stripe account with an HTTP front door on loopback.

    ``start()`` serves it and returns the base URL for ``StripeClient(base_addresses=…)``;
    ``request()`` runs the same dispatch in-process. Everything else is a sandbox-only control:
    faults, time, disputes and payouts that on Stripe happen by themselves, connected accounts
    and their balances.
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
        self._clock = clock or time.time
        self._frozen = None
        self._offset = 0.0
        self._api_keys = frozenset(api_keys) if api_keys is not None else None
        self._lock = threading.RLock()
        self._objects = {}
        self._order = {}
        self._payout_of = {}
        self._connected = {}
        self._cards = dict(TEST_CARDS)
        self._idempotency = {}
        self._faults = []
        self._bucket = None
        self._events = []
        self._drained = 0
        self._requests = deque(maxlen=10_000)
        self._bank_account = self._id("ba")
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url: str | None = None
        self._routes = [
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
            ("POST", re.compile(r"/v1/transfers"), self._transfer_create),
            ("GET", re.compile(r"/v1/transfers"), self._transfer_list),
            ("GET", re.compile(r"/v1/transfers/([^/]+)"), self._transfer_retrieve),
            ("POST", re.compile(r"/v1/transfers/([^/]+)/reversals"), self._reversal_create),
            ("GET", re.compile(r"/v1/transfers/([^/]+)/reversals"), self._reversal_list),
            ("GET", re.compile(r"/v1/balance_transactions"), self._txn_list),
            ("GET", re.compile(r"/v1/balance_transactions/([^/]+)"), self._txn_retrieve),
            ("GET", re.compile(r"/v1/balance"), self._balance),
            ("GET", re.compile(r"/v1/disputes"), self._dispute_list),
            ("GET", re.compile(r"/v1/disputes/([^/]+)"), self._dispute_retrieve),
            ("POST", re.compile(r"/v1/disputes/([^/]+)"), self._dispute_update),
            ("POST", re.compile(r"/v1/disputes/([^/]+)/close"), self._dispute_close),
            ("POST", re.compile(r"/v1/files"), self._file_create),
            ("GET", re.compile(r"/v1/events"), self._event_list),
            ("GET", re.compile(r"/v1/events/([^/]+)"), self._event_retrieve),
        ]

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> str:
        """Serve on loopback (an ephemeral port unless one was given); return the base URL."""
        with self._lock:
            if self.base_url is not None:
                return self.base_url
            server = SandboxServer((self._host, self._port), SandboxRequestHandler)
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
