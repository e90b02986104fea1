"""The shape of a tenant's secrets document and how it splits into the three parameters'
documents (``shared.tenant_secrets`` stores and reads them; this part is pure, so domains may
check a document without importing the adapter)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

# The standard tier's limit on a parameter's value.
MAX_VALUE_BYTES = 4096

PARTS = ("webhooks", "links", "api")

# Where each field of the document is stored: source -> field -> part. A list field holds
# non-empty strings (newest first); ``api_key`` is one string.
LAYOUT: dict[str, dict[str, str]] = {
    "stripe": {"webhook_secrets": "webhooks", "api_key": "api"},
    # api_key: the carrier account that buys return labels (EasyPost ``is_return`` shipments).
    "easypost": {"webhook_secrets": "webhooks", "api_key": "api"},
    "aftership": {"webhook_secrets": "webhooks"},
    # token_only: true accepts Shippo's URL token without an X-Shippo-Signature; off unless
    # a tenant switches it on (the token alone would let anyone who saw the URL post scans).
    "shippo": {"tokens": "webhooks", "webhook_secrets": "webhooks", "token_only": "webhooks"},
    "shop": {"webhook_secrets": "webhooks"},
    "shopify": {"webhook_secrets": "webhooks"},
    "links": {"signing_keys": "links"},
}
SINGLE_VALUES = frozenset({("stripe", "api_key"), ("easypost", "api_key")})
FLAGS = frozenset({("shippo", "token_only")})


class InvalidSecrets(ValueError):
    """A secrets document that does not fit the layout."""


def split(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The three parts' documents of a tenant's secrets document (each part present, maybe
    empty), after checking it against ``LAYOUT``: unknown sources and fields are refused by
    name, so a misspelt key cannot silently leave a secret out."""
    if not isinstance(document, Mapping):
        raise InvalidSecrets("tenant secrets must be an object")
    parts: dict[str, dict[str, Any]] = {part: {} for part in PARTS}
    for source, fields in document.items():
        if source not in LAYOUT:
            raise InvalidSecrets(
                f"unknown key {source!r} in tenant secrets (known: {', '.join(LAYOUT)})"
            )
        if not isinstance(fields, Mapping):
            raise InvalidSecrets(f"{source!r} in tenant secrets must be an object")
        for name, value in fields.items():
            part = LAYOUT[source].get(name)
            if part is None:
                raise InvalidSecrets(
                    f"unknown key {source}.{name!r} in tenant secrets "
                    f"(known: {', '.join(LAYOUT[source])})"
                )
            if (source, name) in FLAGS:
                if not isinstance(value, bool):
                    raise InvalidSecrets(f"{source}.{name} in tenant secrets must be true or false")
            else:
                _check_value(f"{source}.{name}", value, single=(source, name) in SINGLE_VALUES)
            parts[part].setdefault(source, {})[name] = value
    for part, value in parts.items():
        size = len(encode(value).encode())
        if size > MAX_VALUE_BYTES:
            raise InvalidSecrets(
                f"the {part!r} part of tenant secrets is {size} bytes; a parameter holds "
                f"at most {MAX_VALUE_BYTES}"
            )
    return parts


def _check_value(key: str, value: Any, *, single: bool) -> None:
    if single:
        if not isinstance(value, str) or not value:
            raise InvalidSecrets(f"{key} in tenant secrets must be a non-empty string")
    elif not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InvalidSecrets(f"{key} in tenant secrets must be a list of non-empty strings")


def encode(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def merge(documents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Parts' documents into one (the inverse of ``split``)."""
    merged: dict[str, Any] = {}
    for document in documents:
        for source, fields in document.items():
            merged.setdefault(source, {}).update(fields)
    return merged
