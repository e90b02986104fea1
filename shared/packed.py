"""Bulky text attributes kept zlib-packed when that makes the item smaller.

DynamoDB bills writes per started kilobyte of the whole item (and again for every index that
projects it) and storage per byte, so the attributes that make items big — a raw webhook's
body, an order's aggregate and the event each timeline entry keeps — are kept packed from
``PACK_FROM`` bytes: ``<name>_z``, binary, instead of ``<name>``, text. Readers take either
form (items written before stay readable); the stream hands binary values as base64 text, the
SDK as bytes.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Mapping
from typing import Any

PACK_FROM = 512  # below this, zlib's header and the binary attribute gain nothing


def packed_attribute(name: str, data: bytes) -> tuple[str, dict[str, Any], int]:
    """The attribute ``data`` is kept in (``name`` or ``name_z``), its value, its stored size."""
    if len(data) >= PACK_FROM:
        packed = zlib.compress(data, 6)
        if len(packed) < len(data):
            return f"{name}_z", {"B": packed}, len(packed)
    return name, {"S": data.decode("utf-8")}, len(data)


def binary(value: Any) -> bytes | None:
    """A binary attribute's bytes: bytes from the SDK, base64 text in a stream record."""
    if not isinstance(value, Mapping) or "B" not in value:
        return None
    data = value["B"]
    return data if isinstance(data, bytes) else base64.b64decode(data)


def unpacked(item: Mapping[str, Any], name: str) -> bytes | None:
    """``name``'s bytes whichever form the item keeps them in; None if it has neither."""
    packed = binary(item.get(f"{name}_z"))
    if packed is not None:
        return zlib.decompress(packed)
    text = item.get(name)
    if isinstance(text, Mapping) and "S" in text:
        return str(text["S"]).encode("utf-8")
    return None
