"""Each tenant's webhook secrets, link signing keys and API keys, from SSM Parameter Store.

A tenant's secrets are split by use into three SecureString parameters under
``<prefix><tenant>/`` (the prefix is ``TENANT_SECRET_PREFIX``, ``/ecomops/<stage>/tenants/``
deployed), each a JSON document::

    /ecomops/<stage>/tenants/<tenant>/webhooks   what verifying inbound webhooks needs
        {"stripe":    {"webhook_secrets": ["whsec_…"]},
         "easypost":  {"webhook_secrets": ["…"]},
         "aftership": {"webhook_secrets": ["…"]},
         "shippo":    {"tokens": ["…"], "webhook_secrets": ["…"], "token_only": false},
         "shop":      {"webhook_secrets": ["…"]},
         "shopify":   {"webhook_secrets": ["…"]}}
    /ecomops/<stage>/tenants/<tenant>/links      what signs and verifies one-click review links
        {"links": {"signing_keys": ["…"]}}
    /ecomops/<stage>/tenants/<tenant>/api        what calls the gateway or carrier for the tenant
        {"stripe": {"api_key": "sk_…"}, "easypost": {"api_key": "…"}}

Each function's role may read only the parts it uses (``infra/constructs/tenant_secrets.py``),
so the public functions cannot read a tenant's gateway API key:

============  =====================================================================
part          read by
============  =====================================================================
``webhooks``  ingress (``functions/webhooks/handlers/ingress.py``, public)
``links``     links (``functions/api/handlers/links.py``, public); lifecycle steps (sign links)
``api``       processor, lifecycle steps, refund steps, operator API (return labels from
              the tenant's EasyPost account), ``ecomops events replay``, payout cycles
              (Stripe Connect transfers)
============  =====================================================================

``TenantSecrets(parts)`` reads its parts in one ``GetParameters`` call and merges them into one
document of the shape a tenants file's ``secrets`` has (``split`` is the inverse)::

    {"stripe": {"webhook_secrets": ["whsec_…"], "api_key": "sk_…"}, …, "links": {…}}

Lists hold more than one value while a secret is being rotated, the newest first: rotating is
putting a new version of the parameter; readers see it once their cache (5 minutes) expires.
Parameters are standard tier (no charge, values up to 4 KB) and encrypted with the AWS-managed
key ``aws/ssm``. A tenant none of whose requested parameters exists is unknown, and that answer
is remembered for the cache period too (for at most ``MAX_MISSES`` tenant ids), so a flood of
requests for made-up tenants costs no SSM call each.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from shared import aws
from shared.secrets_layout import (
    LAYOUT,
    MAX_VALUE_BYTES,
    PARTS,
    InvalidSecrets,
    encode,
    merge,
    split,
)

__all__ = [
    "API",
    "LAYOUT",
    "LINKS",
    "MAX_VALUE_BYTES",
    "PARTS",
    "WEBHOOKS",
    "InvalidSecrets",
    "TenantSecrets",
    "UnknownTenant",
    "merge",
    "parameter_name",
    "put_tenant_secrets",
    "split",
]

CACHE_SECONDS = 300
MAX_MISSES = 10_000
DEFAULT_PREFIX = "/ecomops/dev/tenants/"
WEBHOOKS = ("webhooks",)
LINKS = ("links",)
API = ("api",)

_TENANT = re.compile(r"[a-z0-9][a-z0-9-]{1,38}[a-z0-9]")


class UnknownTenant(LookupError):
    pass


def parameter_name(prefix: str, tenant: str, part: str) -> str:
    return f"{prefix}{tenant}/{part}"


def put_tenant_secrets(
    client: Any, tenant: str, document: Mapping[str, Any], prefix: str = DEFAULT_PREFIX
) -> list[str]:
    """Store a tenant's secrets document as its three parameters (a new version of each),
    with ``client`` an SSM client; returns the parameters' names. Every part is written, empty
    or not, so a value left out of the document is removed from its part too."""
    if not _TENANT.fullmatch(tenant):
        raise InvalidSecrets(f"{tenant!r} is not a tenant id")
    names = []
    for part, value in split(document).items():
        name = parameter_name(prefix, tenant, part)
        client.put_parameter(
            Name=name, Value=encode(value), Type="SecureString", Tier="Standard", Overwrite=True
        )
        names.append(name)
    return names


def _normalise_parts(parts: Iterable[str]) -> tuple[str, ...]:
    if isinstance(parts, str):
        raise TypeError(f"parts must be a tuple of part names, not the string {parts!r}")
    given = tuple(parts)
    if not given or any(p not in PARTS for p in given):
        raise ValueError(f"parts must be some of {PARTS}, not {given!r}")
    return tuple(dict.fromkeys(given))


class TenantSecrets:
    """The ``parts`` of tenants' secrets that one function may read, merged, cached per process.

    ``monotonic`` is the clock the cache expires by (tests pass their own)."""

    def __init__(
        self,
        parts: Iterable[str],
        prefix: str | None = None,
        client: Any = None,
        cache_seconds: float = CACHE_SECONDS,
        *,
        max_misses: int = MAX_MISSES,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.parts = _normalise_parts(parts)
        self._prefix = prefix
        self._client = client
        self.cache_seconds = cache_seconds
        self.max_misses = max_misses
        self._monotonic = monotonic
        # Keyed by (prefix, tenant): the prefix is read on use.
        self._cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._misses: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def prefix(self) -> str:
        # Read on use: one process (the local stack, a test run) may host several deployments.
        if self._prefix is not None:
            return self._prefix
        return os.environ.get("TENANT_SECRET_PREFIX", DEFAULT_PREFIX)

    @property
    def client(self) -> Any:
        return self._client or aws.client("ssm")

    def get(self, tenant: str) -> dict[str, Any]:
        if not isinstance(tenant, str) or not _TENANT.fullmatch(tenant):
            raise UnknownTenant(f"{tenant!r} is not a tenant id")
        key = (self.prefix, tenant)
        now = self._monotonic()
        with self._lock:
            cached = self._cache.get(key)
            if cached and cached[0] > now:
                return cached[1]
            missed = self._misses.get(key)
            if missed is not None:
                if missed > now:
                    raise UnknownTenant(f"unknown tenant {tenant!r}")
                del self._misses[key]
        names = [parameter_name(key[0], tenant, part) for part in self.parts]
        answer = self.client.get_parameters(Names=names, WithDecryption=True)
        values = {p["Name"]: p["Value"] for p in answer.get("Parameters", [])}
        if not values:
            self._remember_miss(key, now)
            raise UnknownTenant(f"unknown tenant {tenant!r}")
        document = merge(json.loads(values[name]) for name in names if name in values)
        with self._lock:
            self._cache[key] = (now + self.cache_seconds, document)
        return document

    def _remember_miss(self, key: tuple[str, str], now: float) -> None:
        with self._lock:
            self._misses.pop(key, None)
            self._misses[key] = now + self.cache_seconds
            while len(self._misses) > self.max_misses:
                self._misses.popitem(last=False)

    def forget(self, tenant: str | None = None) -> None:
        """Drop what is cached (found or missed) for ``tenant``, or for every tenant."""
        with self._lock:
            if tenant is None:
                self._cache.clear()
                self._misses.clear()
            else:
                key = (self.prefix, tenant)
                self._cache.pop(key, None)
                self._misses.pop(key, None)
