"""The Stripe sandbox's outbox as webhooks: ``POST /webhooks/{tenant}/stripe``, signed.

Stripe signs ``"<t>.<body>"`` with each of the endpoint's secrets and sends them in one
``Stripe-Signature`` header (``t=…,v1=…[,v1=…]``); the body is the event, pretty-printed as
Stripe sends it. The signature is made at send time, so a delayed retry is still fresh.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from local.sandboxes.delivery import Deliverer, Delivery, DeliveryReport, Signer, webhook_url
from local.sandboxes.stripe_sandbox import StripeSandbox
from shared.signing import sign_stripe

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def stripe_signer(secrets: str | Sequence[str]) -> Signer:
    """Signs with every secret (an endpoint mid-rotation has two), one timestamp for all."""
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    if not keys:
        raise ValueError("at least one webhook secret is needed")

    def sign(body: bytes) -> dict[str, str]:
        first = sign_stripe(body, keys[0])
        timestamp = int(first.split(",", 1)[0].removeprefix("t="))
        signatures = [first] + [
            sign_stripe(body, key, timestamp).split(",", 1)[1] for key in keys[1:]
        ]
        return {"Stripe-Signature": ",".join(signatures)}

    return sign


def event_body(event: Mapping[str, Any]) -> bytes:
    return json.dumps(event, indent=2).encode()


def stripe_deliveries(
    events: Iterable[Mapping[str, Any]],
    *,
    base_url: str,
    tenant: str,
    secret: str | Sequence[str],
) -> list[Delivery]:
    url = webhook_url(base_url, tenant, "stripe")
    signer = stripe_signer(secret)
    return [
        Delivery(
            url=url,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                "Accept": "*/*; q=0.5, application/xml",
            },
            body=event_body(event),
            event_id=str(event["id"]),
            sign=signer,
            source="stripe",
        )
        for event in events
    ]


def forward_outbox(
    sandbox: StripeSandbox,
    *,
    base_url: str,
    tenant: str,
    secret: str | Sequence[str],
    deliverer: Deliverer | None = None,
) -> DeliveryReport:
    """Drain the sandbox's new events and deliver them (in order, once, unless told otherwise)."""
    deliveries = stripe_deliveries(
        sandbox.drain_events(), base_url=base_url, tenant=tenant, secret=secret
    )
    return (deliverer or Deliverer(concurrency=1)).deliver(deliveries)


class LivePush:
    """Stripe sends an event moments after it happens, not when someone asks: this delivers the
    sandbox's new events every ``every_s`` seconds from its own thread while it runs, so a
    refund the stack asked for is confirmed by the gateway's webhook within its wait, as with
    the real gateway (drained in batches later, it looked unconfirmed). ``delivered`` counts
    the events it sent, ``failed`` the ids the stack never acknowledged; leaving the ``with``
    sends what is left first."""

    def __init__(
        self,
        sandbox: StripeSandbox,
        *,
        base_url: str,
        tenant: str,
        secret: str | Sequence[str],
        every_s: float = 0.5,
    ) -> None:
        import threading

        self.sandbox = sandbox
        self.base_url, self.tenant, self.secret = base_url, tenant, secret
        self.every_s = every_s
        self.delivered = 0
        self.failed: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="stripe-live-push")

    def __enter__(self) -> LivePush:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        self._push()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self._push()

    def _push(self) -> None:
        report = forward_outbox(
            self.sandbox, base_url=self.base_url, tenant=self.tenant, secret=self.secret
        )
        self.delivered += report.events
        self.failed.extend(report.failed)
