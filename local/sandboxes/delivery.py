"""Webhook delivery the way providers do it: at least once, out of order, duplicated, retried.

Every sandbox builds ``Delivery`` values; a ``Deliverer`` sends them with ``urllib`` to loopback
only. Signatures with a timestamp are computed at each send (``Delivery.sign``), so a copy that
waited in a retry queue still carries a fresh timestamp, as a provider's retry would.

The plan (which events are duplicated, in what order, with what delays) comes from the seed;
with ``concurrency`` above 1 the arrival order on the wire is only approximately the plan's.
Everything is bounded: copies per event, attempts per copy, each sleep, and the whole run.
"""

from __future__ import annotations

import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Container, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, urlencode, urlsplit

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
Signer = Callable[[bytes], Mapping[str, str]]
Reorder = Literal["none", "window", "full"]

MAX_SLEEP_S = 1.0
MAX_DEADLINE_S = 600.0
MAX_RESPONSE_BYTES = 1 << 20


class NonLoopbackURL(ValueError):
    """The deliverer sends to 127.0.0.1, localhost or ::1 and nowhere else."""


def require_loopback(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
        raise NonLoopbackURL(f"refusing to deliver to {url!r}: only http on loopback is allowed")


def webhook_url(
    base_url: str, tenant: str, *path: str, query: Mapping[str, str] | None = None
) -> str:
    """``webhook_url(base, "acme", "carriers", "shippo", query={"token": t})``
    → ``http://127.0.0.1:8787/webhooks/acme/carriers/shippo?token=…``."""
    segments = "/".join(quote(p, safe="") for p in ("webhooks", tenant, *path))
    url = f"{base_url.rstrip('/')}/{segments}"
    if query:
        url += "?" + urlencode(query)
    require_loopback(url)
    return url


@dataclass(frozen=True)
class Delivery:
    """One webhook: where, what, and the provider's id for it (duplicates share the id).

    ``headers`` are sent as they are; ``sign(body)`` adds the signature headers at send time."""

    url: str
    headers: Mapping[str, str]
    body: bytes
    event_id: str
    sign: Signer | None = None
    source: str = ""

    def headers_now(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", **self.headers}
        if self.sign is not None:
            headers.update(self.sign(self.body))
        return headers


@dataclass(frozen=True)
class Attempt:
    event_id: str
    copy: int
    attempt: int
    status: int  # 0: no HTTP answer (connection refused, reset, timeout)
    at: float


@dataclass
class DeliveryReport:
    events: int = 0
    sent: int = 0
    unique: int = 0
    duplicates: int = 0
    duplicated_events: int = 0
    retries: int = 0
    by_status: dict[int, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def all_acknowledged(self) -> bool:
        return self.unique == self.events

    def summary(self) -> str:
        statuses = ", ".join(f"{s or 'conn'}: {n}" for s, n in sorted(self.by_status.items()))
        return (
            f"{self.events} events, {self.sent} requests ({self.duplicates} duplicate copies, "
            f"{self.retries} retries), {self.unique} acknowledged, {len(self.failed)} failed; "
            f"{statuses} in {self.elapsed_s:.2f}s"
        )


@dataclass(frozen=True)
class _Job:
    delivery: Delivery
    copy: int
    delay: float
    jitter_seed: int


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect could lead off loopback; a provider would count it as a failure anyway.
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Deliverer:
    """Sends deliveries with the chaos a real provider brings.

    - ``duplicate_rate``: share of events sent more than once (1 to ``max_extra_copies`` extra);
    - ``reorder``: ``"none"``, ``"window"`` (each send drifts up to ``reorder_window`` places)
      or ``"full"`` (a shuffle);
    - ``delay``: (min, max) seconds slept before each send, at most 1 s each;
    - ``retry_statuses``: the statuses retried (default: every non-2xx and no answer), with
      exponential backoff from ``backoff_initial`` to ``backoff_max`` for ``max_attempts``;
    - ``concurrency``: sender threads; ``deadline``: the whole run's bound in seconds.
    """

    def __init__(
        self,
        *,
        duplicate_rate: float = 0.0,
        max_extra_copies: int = 2,
        reorder: Reorder = "none",
        reorder_window: int = 8,
        delay: tuple[float, float] = (0.0, 0.0),
        retry_statuses: Container[int] | None = None,
        max_attempts: int = 5,
        backoff_initial: float = 0.005,
        backoff_max: float = 0.1,
        concurrency: int = 4,
        timeout: float = 10.0,
        deadline: float = 120.0,
        seed: int | None = None,
    ) -> None:
        if not 0.0 <= duplicate_rate <= 1.0:
            raise ValueError("duplicate_rate is a share between 0 and 1")
        if not 1 <= max_extra_copies <= 10:
            raise ValueError("max_extra_copies is between 1 and 10")
        if reorder not in ("none", "window", "full"):
            raise ValueError("reorder is 'none', 'window' or 'full'")
        if not 0.0 <= delay[0] <= delay[1] <= MAX_SLEEP_S:
            raise ValueError(f"delay is (min, max) with 0 <= min <= max <= {MAX_SLEEP_S}")
        if not 1 <= max_attempts <= 20:
            raise ValueError("max_attempts is between 1 and 20")
        if not 0.0 <= backoff_initial <= backoff_max <= MAX_SLEEP_S:
            raise ValueError(f"backoff is 0 <= initial <= max <= {MAX_SLEEP_S}")
        if not 1 <= concurrency <= 32:
            raise ValueError("concurrency is between 1 and 32")
        if not 0.0 < deadline <= MAX_DEADLINE_S:
            raise ValueError(f"deadline is at most {MAX_DEADLINE_S}s")
        self.duplicate_rate = duplicate_rate
        self.max_extra_copies = max_extra_copies
        self.reorder = reorder
        self.reorder_window = max(1, reorder_window)
        self.delay = delay
        self.retry_statuses = retry_statuses
        self.max_attempts = max_attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.concurrency = concurrency
        self.timeout = timeout
        self.deadline = deadline
        self.seed = seed
        self._opener = urllib.request.build_opener(
            # Loopback must never go through a proxy from the environment.
            urllib.request.ProxyHandler({}),
            _NoRedirect(),
        )

    def plan(self, deliveries: Sequence[Delivery]) -> list[_Job]:
        """The sends in order: originals and their copies, each with its delay."""
        rng = random.Random(self.seed)  # noqa: S311 - chaos for tests, not secrets
        keyed: list[tuple[float, int, _Job]] = []
        sequence = 0
        for index, delivery in enumerate(deliveries):
            copies = 0
            if self.duplicate_rate and rng.random() < self.duplicate_rate:
                copies = rng.randint(1, self.max_extra_copies)
            for copy in range(copies + 1):
                position = float(index)
                if copy:
                    # A copy comes after its original: a provider resends what it sent.
                    position += rng.uniform(0.5, 3.0 * self.reorder_window)
                if self.reorder == "window":
                    position += rng.uniform(0.0, float(self.reorder_window))
                delay = rng.uniform(*self.delay) if self.delay[1] else 0.0
                job = _Job(delivery, copy, delay, rng.getrandbits(32))
                keyed.append((position, sequence, job))
                sequence += 1
        if self.reorder == "full":
            rng.shuffle(keyed)
            return [job for _, _, job in keyed]
        return [job for _, _, job in sorted(keyed, key=lambda k: (k[0], k[1]))]

    def deliver(self, deliveries: Sequence[Delivery]) -> DeliveryReport:
        for delivery in deliveries:
            require_loopback(delivery.url)
        jobs = self.plan(deliveries)
        report = DeliveryReport(events=len({d.event_id for d in deliveries}))
        report.duplicates = sum(1 for j in jobs if j.copy)
        report.duplicated_events = len({j.delivery.event_id for j in jobs if j.copy})
        acknowledged: set[str] = set()
        lock = threading.Lock()
        started = time.monotonic()
        ends = started + self.deadline

        def run(job: _Job) -> None:
            jitter = random.Random(job.jitter_seed)  # noqa: S311
            if job.delay:
                time.sleep(min(job.delay, max(0.0, ends - time.monotonic())))
            for attempt in range(1, self.max_attempts + 1):
                if time.monotonic() >= ends:
                    return
                status = self._send(job.delivery)
                with lock:
                    report.sent += 1
                    report.retries += int(attempt > 1)
                    report.by_status[status] = report.by_status.get(status, 0) + 1
                    report.attempts.append(
                        Attempt(job.delivery.event_id, job.copy, attempt, status, time.monotonic())
                    )
                    if 200 <= status < 300:
                        acknowledged.add(job.delivery.event_id)
                if 200 <= status < 300 or not self._retryable(status):
                    return
                if attempt < self.max_attempts:
                    backoff = min(self.backoff_max, self.backoff_initial * 2 ** (attempt - 1))
                    pause = backoff * jitter.uniform(0.5, 1.0)
                    time.sleep(min(pause, max(0.0, ends - time.monotonic())))

        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="deliver") as pool:
            for future in [pool.submit(run, job) for job in jobs]:
                future.result()
        report.unique = len(acknowledged)
        seen: set[str] = set()
        for delivery in deliveries:
            if delivery.event_id not in acknowledged and delivery.event_id not in seen:
                report.failed.append(delivery.event_id)
            seen.add(delivery.event_id)
        report.elapsed_s = time.monotonic() - started
        return report

    def _retryable(self, status: int) -> bool:
        if self.retry_statuses is None:
            return True
        return status in self.retry_statuses

    def _send(self, delivery: Delivery) -> int:
        request = urllib.request.Request(  # noqa: S310 - the URL was checked to be loopback http
            delivery.url, data=delivery.body, headers=delivery.headers_now(), method="POST"
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                answer.read(MAX_RESPONSE_BYTES)
                return int(answer.status)
        except urllib.error.HTTPError as error:
            error.read(MAX_RESPONSE_BYTES)
            error.close()
            return int(error.code)
        except (urllib.error.URLError, OSError, TimeoutError):
            return 0
