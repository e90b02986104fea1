"""DynamoDB item sizes and capacity units, by the rules DynamoDB bills with.

An item's size is the sum of its attribute names and values: strings and binaries by their
bytes, a number about one byte per two significant digits plus one, booleans and nulls one byte,
lists and maps three bytes plus one per element plus their elements (and a map's keys). A write
costs one unit per started kilobyte of the larger of the item before and after, twice in a
transaction; every global secondary index whose keys the item has is written too, with the
projected part of the item (twice when the write moves the item between index keys). A read
costs one unit per started 4 KB (half when eventually consistent), a query or scan per started
4 KB of everything it read.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Item = Mapping[str, Any]  # DynamoDB JSON: {"name": {"S": "…"}, …}

KB = 1024
READ_UNIT_BYTES = 4 * KB


def _number_size(text: str) -> int:
    digits = text.lstrip("+-").replace(".", "").lstrip("0").rstrip("0")
    if "e" in digits.lower():
        digits = digits.lower().split("e")[0]
    return max(1, math.ceil(len(digits) / 2)) + 1


def value_size(value: Mapping[str, Any]) -> int:
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        return _number_size(str(inner))
    if kind == "B":
        return len(inner) if isinstance(inner, bytes) else len(base64.b64decode(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum(_number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(b) if isinstance(b, bytes) else len(base64.b64decode(b)) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in inner.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: Item | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


@dataclass(frozen=True)
class Index:
    """A global secondary index as it bills: its key attributes and what it projects."""

    name: str
    keys: tuple[str, ...]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    table_keys: tuple[str, ...]
    include: tuple[str, ...] = ()

    def holds(self, item: Item | None) -> bool:
        return bool(item) and all(k in item for k in self.keys)  # type: ignore[operator]

    def project(self, item: Item) -> dict[str, Any]:
        if self.projection == "ALL":
            return dict(item)
        kept = set(self.keys) | set(self.table_keys)
        if self.projection == "INCLUDE":
            kept |= set(self.include)
        return {k: v for k, v in item.items() if k in kept}


@dataclass(frozen=True)
class StoredSize:
    """What one item takes, as DynamoDB bills storage (the item and its copy in each index that
    holds it, each with the per-item overhead) and continuous backups (the table's own items
    only: point-in-time recovery is priced on the table's data and its local secondary
    indexes, not its global ones)."""

    with_indexes: int
    table: int


def stored_size(item: Item, indexes: Sequence[Index], overhead: int) -> StoredSize:
    table = item_size(item) + overhead
    copies = sum(item_size(i.project(item)) + overhead for i in indexes if i.holds(item))
    return StoredSize(with_indexes=table + copies, table=table)


def write_units(size: int, transactional: bool = False) -> int:
    return max(1, math.ceil(size / KB)) * (2 if transactional else 1)


@dataclass(frozen=True)
class WriteCost:
    table: int
    indexes: dict[str, int]

    @property
    def total(self) -> int:
        return self.table + sum(self.indexes.values())


def write_cost(
    before: Item | None,
    after: Item | None,
    indexes: Sequence[Index],
    transactional: bool = False,
) -> WriteCost:
    """Units one write consumes on the table and on each index it touches."""
    table = write_units(max(item_size(before), item_size(after)), transactional)
    spent: dict[str, int] = {}
    for index in indexes:
        was, now = index.holds(before), index.holds(after)
        if not was and not now:
            continue
        old = index.project(before) if was and before else None
        new = index.project(after) if now and after else None
        if old is not None and new is not None:
            moved = any(before[k] != after[k] for k in index.keys)  # type: ignore[index]
            if moved:
                units = write_units(item_size(old), transactional) + write_units(
                    item_size(new), transactional
                )
            elif old == new:
                continue
            else:
                units = write_units(max(item_size(old), item_size(new)), transactional)
        else:
            units = write_units(item_size(old or new), transactional)
        spent[index.name] = units
    return WriteCost(table=table, indexes=spent)


def read_units(total_bytes: int, consistent: bool, transactional: bool = False) -> float:
    """Units one read request consumes for ``total_bytes`` read (at least one unit's worth)."""
    units = max(1, math.ceil(total_bytes / READ_UNIT_BYTES))
    if transactional:
        return units * 2.0
    return float(units) if consistent else units / 2
