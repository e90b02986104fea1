"""Faults on demand: the next requests fail (500/502/503, 409 ``lock_timeout``, 429), or a token
bucket answers 429 ``rate_limit_error``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from local.sandboxes.stripe_sandbox.account import Account
from local.sandboxes.stripe_sandbox.errors import StripeAPIError


def fault_error(status: int) -> StripeAPIError:
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


@dataclass
class Fault:
    path_prefix: str
    status: int
    remaining: int
    method: str | None
    take_effect: bool


@dataclass
class Bucket:
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


class Faults(Account):
    """``fail_next`` and ``rate_limit``: what a request meets before it runs."""

    _faults: list[Fault]
    _bucket: Bucket | None

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
                Fault(path_prefix, status, times, method.upper() if method else None, take_effect)
            )

    def rate_limit(self, requests_per_second: float | None, burst: int = 5) -> None:
        """Answer 429 once more than ``requests_per_second`` arrive (token bucket); None: off."""
        with self._lock:
            self._bucket = (
                None
                if requests_per_second is None
                else Bucket(requests_per_second, float(burst), float(burst))
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._bucket = None

    def _take_fault(self, method: str, path: str) -> Fault | None:
        if self._bucket is not None and not self._bucket.take():
            return Fault(path, 429, 0, method, take_effect=False)
        for fault in self._faults:
            if path.startswith(fault.path_prefix) and fault.method in (None, method):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None
